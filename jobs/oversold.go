package jobs

// OversoldAlertArgs asks for the people running a shop to be told that a
// paid order could not be covered by stock. Enqueued by the webhooks in the
// transaction that records the oversold order.
type OversoldAlertArgs struct {
	ShopID     string `json:"shop_id"`
	OversoldID string `json:"oversold_id"`
	CheckoutID string `json:"checkout_id"`
}

// Kind identifies the job.
func (OversoldAlertArgs) Kind() string { return "oversold_alert" }

// RefundOversoldArgs asks for an oversold order's payment to be refunded
// through Stripe (STRIPE_REFUND_OVERSOLD=1). The refund's idempotency key is
// derived from EventID, so retries never refund twice.
type RefundOversoldArgs struct {
	ShopID          string `json:"shop_id"`
	OversoldID      string `json:"oversold_id"`
	PaymentIntentID string `json:"payment_intent_id"`
	// SessionID is the Checkout Session the event was about: the refund
	// goes ahead only if Stripe's own copy of it carries PaymentIntentID.
	SessionID string `json:"session_id"`
	EventID   string `json:"event_id"`
}

// Kind identifies the job.
func (RefundOversoldArgs) Kind() string { return "refund_oversold" }
