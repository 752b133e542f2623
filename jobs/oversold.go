package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// OversoldAlertArgs asks for the people running a shop to be told that a
// paid order could not be covered by stock. Enqueued by checkout (through
// Enqueuer) in the transaction that records the oversold order.
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

// JobInserter enqueues River jobs in a transaction; *river.Client[pgx.Tx]
// is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Enqueuer enqueues, through River, the jobs the domain asks for inside its
// own transactions. It implements checkout.OversoldJobs.
type Enqueuer struct {
	jobs JobInserter
}

// NewEnqueuer returns an Enqueuer that inserts through jobs.
func NewEnqueuer(jobs JobInserter) *Enqueuer { return &Enqueuer{jobs: jobs} }

// EnqueueOversoldAlert enqueues an OversoldAlertArgs job in tx.
func (e *Enqueuer) EnqueueOversoldAlert(ctx context.Context, tx pgx.Tx, shopID, oversoldID, checkoutID string) error {
	_, err := e.jobs.InsertTx(ctx, tx, OversoldAlertArgs{ShopID: shopID, OversoldID: oversoldID, CheckoutID: checkoutID}, nil)
	return err
}

// EnqueueOversoldRefund enqueues a RefundOversoldArgs job in tx.
func (e *Enqueuer) EnqueueOversoldRefund(ctx context.Context, tx pgx.Tx, shopID, oversoldID, paymentIntentID, sessionID, eventID string) error {
	_, err := e.jobs.InsertTx(ctx, tx, RefundOversoldArgs{
		ShopID: shopID, OversoldID: oversoldID, PaymentIntentID: paymentIntentID, SessionID: sessionID, EventID: eventID,
	}, nil)
	return err
}
