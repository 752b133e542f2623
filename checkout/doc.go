// Package checkout creates Stripe Checkout Sessions for shops, with the
// inventory handled the way ops chose:
//
//   - validate_only checks the stock and holds nothing: the safe default for
//     a first rollout, where a rare oversell is acceptable;
//   - reserve_ttl holds the stock first and puts the hold's id in the
//     session's metadata (inventory_reservation_id), so the webhooks commit
//     it when the customer pays and release it otherwise;
//   - the SKIP_INVENTORY_VALIDATION bypass checks nothing, for emergencies,
//     and says so in a warning on every use.
//
// Every session gets a checkout record, in every mode, so what was sold is
// known without trusting a webhook's payload.
//
// The order of work is what keeps stock and sessions consistent: record the
// checkout (claiming the idempotency key), hold the stock, call Stripe with an
// idempotency key derived from the checkout, then record the session. If
// Stripe fails, the hold is released at once and the record forgotten, so a
// retry starts afresh. If the process dies between the hold and the record,
// the hold simply expires, and a replay of the request resumes the same
// checkout: Stripe's idempotency returns the session it may already have made.
package checkout
