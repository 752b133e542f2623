package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v79"
)

// OversoldAlertWorker tells people about an oversold order. Until the alert
// channels exist it logs the order at error level, which alerting on logs
// picks up; the job records that the alert went out.
type OversoldAlertWorker struct {
	river.WorkerDefaults[OversoldAlertArgs]
	log *slog.Logger
}

// NewOversoldAlertWorker returns the worker.
func NewOversoldAlertWorker(logger *slog.Logger) *OversoldAlertWorker {
	return &OversoldAlertWorker{log: logger}
}

// Work raises the alert.
func (w *OversoldAlertWorker) Work(ctx context.Context, job *river.Job[OversoldAlertArgs]) error {
	w.log.ErrorContext(ctx, "ALERT: a paid order was oversold; see checkoutd oversold list",
		"shop_id", job.Args.ShopID, "oversold_id", job.Args.OversoldID, "checkout_id", job.Args.CheckoutID)
	return nil
}

// Refunds is the part of Stripe's Refunds API checkoutd uses;
// *refund.Client implements it.
type Refunds interface {
	New(params *stripe.RefundParams) (*stripe.Refund, error)
}

// RefundOversoldWorker refunds an oversold order's payment through Stripe.
type RefundOversoldWorker struct {
	river.WorkerDefaults[RefundOversoldArgs]
	refunds Refunds
	log     *slog.Logger
}

// NewRefundOversoldWorker returns the worker.
func NewRefundOversoldWorker(refunds Refunds, logger *slog.Logger) *RefundOversoldWorker {
	return &RefundOversoldWorker{refunds: refunds, log: logger}
}

// Work refunds the payment; the idempotency key comes from the event that
// found the order oversold, so retries never refund twice.
func (w *RefundOversoldWorker) Work(ctx context.Context, job *river.Job[RefundOversoldArgs]) error {
	a := job.Args
	params := &stripe.RefundParams{PaymentIntent: stripe.String(a.PaymentIntentID)}
	params.Context = ctx
	params.SetIdempotencyKey("checkoutd-refund-" + a.EventID)
	params.AddMetadata("shop_id", a.ShopID)
	params.AddMetadata("oversold_id", a.OversoldID)
	r, err := w.refunds.New(params)
	if err != nil {
		return fmt.Errorf("refund oversold order %s: %w", a.OversoldID, err)
	}
	w.log.InfoContext(ctx, "oversold order refunded", "shop_id", a.ShopID, "oversold_id", a.OversoldID, "refund_id", r.ID)
	return nil
}
