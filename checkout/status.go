package checkout

// Status is where a checkout stands. A checkout only ever moves to a status
// of a later rank: creating, then open, then pending_payment, then one of
// the final ones.
type Status string

// The checkout statuses.
const (
	// StatusCreating: recorded, its session not yet made.
	StatusCreating Status = "creating"
	// StatusOpen: its Stripe session awaits the customer.
	StatusOpen Status = "open"
	// StatusPendingPayment: completed with a delayed payment on its way;
	// the hold keeps its stock for it.
	StatusPendingPayment Status = "pending_payment"
	// StatusCompleted: paid, and the stock sold.
	StatusCompleted Status = "completed"
	// StatusOversold: paid, but the stock was gone (see OversoldOrder).
	StatusOversold Status = "oversold"
	// StatusPaymentFailed: the delayed payment failed; the stock went back.
	StatusPaymentFailed Status = "payment_failed"
	// StatusExpired: the session expired unpaid; the stock went back.
	StatusExpired Status = "expired"
)

// rank orders the statuses by how far along they are.
func (s Status) rank() int {
	switch s {
	case StatusOpen:
		return 1
	case StatusPendingPayment:
		return 2
	case StatusCompleted, StatusOversold, StatusPaymentFailed, StatusExpired:
		return 3
	}
	return 0
}

// Settled reports whether s is final: no event changes the checkout any more.
func (s Status) Settled() bool { return s.rank() >= 3 }

// Outcome says what a Stripe event did to its checkout.
type Outcome string

// The outcomes of settling an event.
const (
	// Ignored: not an event checkoutd acts on, or a session it did not
	// create; nothing changed.
	Ignored Outcome = "ignored"
	// Unchanged: the checkout had already moved past what the event says.
	Unchanged Outcome = "unchanged"
	// Committed: the sale took its stock.
	Committed Outcome = "committed"
	// Oversold: paid, but the stock was gone; recorded as an oversold order.
	Oversold Outcome = "oversold"
	// AwaitingPayment: the hold keeps its stock for a delayed payment.
	AwaitingPayment Outcome = "awaiting_payment"
	// Released: the hold gave its stock back.
	Released Outcome = "released"
)
