// Package webhooks applies Stripe's checkout events to the inventory.
//
// Stripe delivers each event at least once, retries for days and keeps no
// order; a customer can even pay after the hold lapsed. So every event is
// applied in one transaction together with its record in the inbox
// (stripe_events): a redelivery finds the record and changes nothing, and a
// crash before the commit leaves no trace, so Stripe's retry applies it once.
// Events for one session are applied one at a time (the checkout row is
// locked), and a checkout only ever moves forward: a stale event never undoes
// a later state.
//
//   - checkout.session.completed, paid or no_payment_required: commit the
//     hold (SALE movements); without a hold (validate_only, bypass), or with
//     one released before the payment arrived, sell the recorded lines at
//     once. If the stock is gone, the order is recorded as oversold, never
//     dropped.
//   - checkout.session.completed, unpaid (a delayed payment method): the hold
//     keeps its stock as pending_payment for AsyncPaymentHold.
//   - checkout.session.async_payment_succeeded: as completed and paid.
//   - checkout.session.async_payment_failed and checkout.session.expired:
//     release the hold.
//
// Events for sessions checkoutd did not create (unknown session, or a
// metadata shop_id that does not match the record) are acknowledged and
// change nothing.
package webhooks
