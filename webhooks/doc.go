// Package webhooks receives Stripe's checkout events: it verifies their
// signatures, decodes what every API version sends alike, records each in
// the inbox (stripe_events, the one table it owns) and hands it to the
// checkout lifecycle (checkout.Settler).
//
// Stripe delivers each event at least once, retries for days and keeps no
// order; a customer can even pay after the hold lapsed. So every event is
// applied in one transaction together with its record in the inbox: a
// redelivery finds the record and changes nothing, and a crash before the
// commit leaves no trace, so Stripe's retry applies it once. The checkout
// lifecycle decides what the event does to its checkout and its hold,
// inside that transaction, so the change, the event's record and the jobs
// it enqueues commit together; what it logs and counts waits for the
// commit.
//
// Events for sessions checkoutd did not create (unknown session, or a
// metadata shop_id that does not match the record) are acknowledged and
// change nothing.
package webhooks
