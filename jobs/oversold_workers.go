package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
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
	sessions stripeclient.Sessions
	refunds  Refunds
	log      *slog.Logger
}

// NewRefundOversoldWorker returns the worker.
func NewRefundOversoldWorker(sessions stripeclient.Sessions, refunds Refunds, logger *slog.Logger) *RefundOversoldWorker {
	return &RefundOversoldWorker{sessions: sessions, refunds: refunds, log: logger}
}

// errForeignPayment is an oversold order whose event named a payment that
// Stripe's copy of the session does not carry.
var errForeignPayment = errors.New("the event's payment is not the session's")

// Work refunds the payment; the idempotency key comes from the event that
// found the order oversold, so retries never refund twice.
//
// The payment to refund is the one Stripe's own copy of the session
// carries, not merely the one the event names: whoever holds the webhook
// signing secret can sign any event, and must not be able to refund another
// order's payment by naming it. A mismatch is cancelled, never retried.
func (w *RefundOversoldWorker) Work(ctx context.Context, job *river.Job[RefundOversoldArgs]) error {
	a := job.Args
	log := w.log.With("shop_id", a.ShopID, "oversold_id", a.OversoldID, "stripe_session_id", a.SessionID)
	get := &stripe.CheckoutSessionParams{}
	get.Context = ctx
	sess, err := w.sessions.Get(a.SessionID, get)
	if err != nil {
		return fmt.Errorf("read session %s of oversold order %s: %w", a.SessionID, a.OversoldID, err)
	}
	if sess.PaymentIntent == nil || sess.PaymentIntent.ID != a.PaymentIntentID {
		log.ErrorContext(ctx, "oversold order not refunded: the event named a payment the Stripe session does not carry",
			"event_payment_intent", a.PaymentIntentID, "event_id", a.EventID)
		return river.JobCancel(fmt.Errorf("refund oversold order %s: %w", a.OversoldID, errForeignPayment))
	}
	params := &stripe.RefundParams{PaymentIntent: stripe.String(a.PaymentIntentID)}
	params.Context = ctx
	params.SetIdempotencyKey("checkoutd-refund-" + a.EventID)
	params.AddMetadata("shop_id", a.ShopID)
	params.AddMetadata("oversold_id", a.OversoldID)
	r, err := w.refunds.New(params)
	if err != nil {
		return fmt.Errorf("refund oversold order %s: %w", a.OversoldID, err)
	}
	log.InfoContext(ctx, "oversold order refunded", "refund_id", r.ID)
	return nil
}
