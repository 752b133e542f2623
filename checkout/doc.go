// Package checkout owns the whole checkout lifecycle and its tables
// (checkouts, oversold_orders): it creates Stripe Checkout Sessions for
// shops, settles them as Stripe reports on them, and lists the paid orders
// the stock could not cover. Sessions are created with the inventory
// handled the way ops chose:
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
//
// Settler moves a checkout on as its session's events arrive, inside the
// caller's transaction (the webhooks' inbox): the checkout row is locked
// first, then its hold, and a checkout only ever moves forward (Status):
//
//   - completed, paid or no_payment_required: commit the hold (SALE
//     movements); without a hold (validate_only, bypass), or with one
//     released before the payment arrived, sell the recorded lines at once.
//     Of a checkout with adjustable lines, what the session's line items
//     say was bought, the rest of the hold given back: Prepare reads them
//     from Stripe before the transaction opens.
//     If the stock is gone, the order is recorded as oversold, never
//     dropped, and its alert and refund jobs enqueued (OversoldJobs).
//   - completed, unpaid (a delayed payment method): the hold keeps its
//     stock as pending_payment for AsyncPaymentHold.
//   - async_payment_succeeded: as completed and paid.
//   - async_payment_failed and expired: release the hold.
//
// checkout never writes the inventory's tables itself: it calls
// inventory.Ledger, bound to its transaction where atomicity needs it.
package checkout
