package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/alerts"
)

// OversoldAlertWorker tells people about an oversold order: it records the
// order's alert and, in the same transaction, enqueues a delivery job per
// alert channel. It also logs the order at error level, which alerting on
// logs picks up whether or not any channel is configured.
type OversoldAlertWorker struct {
	river.WorkerDefaults[OversoldAlertArgs]
	db      *pgxpool.Pool
	alerter *alerts.Alerter
	log     *slog.Logger
}

// NewOversoldAlertWorker returns the worker.
func NewOversoldAlertWorker(db *pgxpool.Pool, alerter *alerts.Alerter, logger *slog.Logger) *OversoldAlertWorker {
	return &OversoldAlertWorker{db: db, alerter: alerter, log: logger}
}

// Work raises the alert. The order has one alert however often the job
// runs: a run after the alert committed finds it and enqueues nothing.
func (w *OversoldAlertWorker) Work(ctx context.Context, job *river.Job[OversoldAlertArgs]) error {
	a := job.Args
	client := river.ClientFromContext[pgx.Tx](ctx)
	var raised *alerts.Raised
	err := pgx.BeginFunc(ctx, w.db, func(tx pgx.Tx) error {
		var err error
		if raised, err = w.alerter.RaiseOversold(ctx, tx, a.ShopID, a.OversoldID, a.CheckoutID); err != nil || raised == nil {
			return err
		}
		return enqueueDeliveries(ctx, client, tx, raised.Deliveries)
	})
	if err != nil {
		return fmt.Errorf("raise alert of oversold order %s: %w", a.OversoldID, err)
	}
	log := w.log.With("shop_id", a.ShopID, "oversold_id", a.OversoldID, "checkout_id", a.CheckoutID)
	if raised == nil {
		log.InfoContext(ctx, "oversold order already alerted")
		return nil
	}
	log.ErrorContext(ctx, "ALERT: a paid order was oversold; see checkoutd oversold list",
		"alert_id", raised.AlertID, "deliveries", len(raised.Deliveries))
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
