package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/checkoutd/checkoutd/alerts"
)

// CheckStockArgs asks for the requested low-stock checks to be run. It runs
// as a periodic job (every LOW_STOCK_CHECK_INTERVAL, and once on start);
// River's leader enqueues it and its uniqueness keeps one run at a time
// across replicas. The requests it drains are written by stock changes in
// their own transactions, one per line however many changes, so a flash
// sale costs one check per line per interval.
type CheckStockArgs struct{}

// Kind identifies the job.
func (CheckStockArgs) Kind() string { return "check_low_stock" }

// InsertOpts keeps a second check from queueing while one is waiting or
// running, within one singleton window, as for ReapArgs: neither a failed
// run waiting out its backoff nor the orphan of a killed process stops
// checking.
func (CheckStockArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: singletonOpts()}
}

const (
	// checkBatch is how many checks one transaction runs. Stock changes
	// asking for a line whose request is taken wait for the transaction, so
	// it stays small.
	checkBatch = 100
	// checkBudget is how long one run keeps draining before it hands the
	// rest to its next run, well within the job timeout.
	checkBudget = 10 * time.Second
)

// CheckStockWorker drains requested low-stock checks in batches until none
// are left. For each alert raised it enqueues, in the same transaction, a
// job per delivery, and for each shop over its alert budget the digest job
// of its window.
type CheckStockWorker struct {
	river.WorkerDefaults[CheckStockArgs]
	db      *pgxpool.Pool
	alerter *alerts.Alerter
}

// NewCheckStockWorker returns the worker.
func NewCheckStockWorker(db *pgxpool.Pool, alerter *alerts.Alerter) *CheckStockWorker {
	return &CheckStockWorker{db: db, alerter: alerter}
}

// Work checks until fewer than a batch were requested. When the budget is
// spent first, the job snoozes: its next run, at once, takes up the rest.
// Two runs at once (an orphan's retry beside a periodic run) take
// different requests and claim each line's alert once.
func (w *CheckStockWorker) Work(ctx context.Context, job *river.Job[CheckStockArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	deadline := time.Now().Add(checkBudget)
	for {
		var res alerts.CheckResult
		err := pgx.BeginFunc(ctx, w.db, func(tx pgx.Tx) error {
			var err error
			if res, err = w.alerter.CheckStock(ctx, tx, checkBatch); err != nil {
				return err
			}
			if err := enqueueDigests(ctx, client, tx, res.Digests); err != nil {
				return err
			}
			return enqueueDeliveries(ctx, client, tx, res.Deliveries)
		})
		if err != nil {
			return fmt.Errorf("check low stock: %w", err)
		}
		res.Committed()
		switch {
		case res.Checked < checkBatch:
			return nil
		case time.Now().After(deadline):
			return river.JobSnooze(0)
		}
	}
}

// DeliverAlertArgs asks for one alert to be delivered to one channel.
// Enqueued in the transaction that records the alert.
type DeliverAlertArgs struct {
	ShopID  string `json:"shop_id"`
	AlertID string `json:"alert_id"`
	Channel string `json:"channel"`
}

// Kind identifies the job.
func (DeliverAlertArgs) Kind() string { return "deliver_alert" }

// DeliverMaxAttempts is how often a delivery is tried. With River's backoff
// (attempt⁴ seconds) the tenth attempt comes some four and a half hours
// after the first.
const DeliverMaxAttempts = 10

// InsertOpts gives deliveries their own number of attempts.
func (DeliverAlertArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: DeliverMaxAttempts}
}

// DeliverAlertWorker sends one delivery of an alert. A failed attempt is
// recorded and retried with River's backoff; the last one marks the
// delivery failed. A delivery already made is not made again.
type DeliverAlertWorker struct {
	river.WorkerDefaults[DeliverAlertArgs]
	db      *pgxpool.Pool
	alerter *alerts.Alerter
}

// NewDeliverAlertWorker returns the worker.
func NewDeliverAlertWorker(db *pgxpool.Pool, alerter *alerts.Alerter) *DeliverAlertWorker {
	return &DeliverAlertWorker{db: db, alerter: alerter}
}

// Work delivers.
func (w *DeliverAlertWorker) Work(ctx context.Context, job *river.Job[DeliverAlertArgs]) error {
	a := job.Args
	err := w.alerter.Deliver(ctx, w.db, alerts.Delivery{ShopID: a.ShopID, AlertID: a.AlertID, Channel: a.Channel},
		job.Attempt >= job.MaxAttempts)
	if errors.Is(err, alerts.ErrNoDelivery) {
		// Nothing to deliver, now or later.
		return river.JobCancel(err)
	}
	return err
}

// AlertDigestArgs asks for the digest of a shop's held alerts: those over
// its alert budget. Enqueued, scheduled for the end of the budget's window,
// in the transaction that holds the window's first; a digest asked for
// twice is sent once, so it needs no uniqueness.
type AlertDigestArgs struct {
	ShopID string `json:"shop_id"`
}

// Kind identifies the job.
func (AlertDigestArgs) Kind() string { return "alert_digest" }

// AlertDigestWorker raises a shop's alert digest and, in the same
// transaction, enqueues a delivery job per channel.
type AlertDigestWorker struct {
	river.WorkerDefaults[AlertDigestArgs]
	db      *pgxpool.Pool
	alerter *alerts.Alerter
	log     *slog.Logger
}

// NewAlertDigestWorker returns the worker.
func NewAlertDigestWorker(db *pgxpool.Pool, alerter *alerts.Alerter, logger *slog.Logger) *AlertDigestWorker {
	return &AlertDigestWorker{db: db, alerter: alerter, log: logger}
}

// Work raises the digest, unless another run already carried every held
// alert.
func (w *AlertDigestWorker) Work(ctx context.Context, job *river.Job[AlertDigestArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	var raised *alerts.Raised
	err := pgx.BeginFunc(ctx, w.db, func(tx pgx.Tx) error {
		var err error
		if raised, err = w.alerter.RaiseDigest(ctx, tx, job.Args.ShopID); err != nil || raised == nil {
			return err
		}
		return enqueueDeliveries(ctx, client, tx, raised.Deliveries)
	})
	if err != nil {
		return fmt.Errorf("raise alert digest of shop %s: %w", job.Args.ShopID, err)
	}
	if raised != nil {
		w.log.WarnContext(ctx, "alert digest raised", "shop_id", job.Args.ShopID, "alert_id", raised.AlertID,
			"alerts", raised.Carries, "deliveries", len(raised.Deliveries))
	}
	return nil
}

// enqueueDigests enqueues, in tx, each digest job to run at its time.
func enqueueDigests(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, ds []alerts.Digest) error {
	if len(ds) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ds))
	for i, d := range ds {
		params[i] = river.InsertManyParams{Args: AlertDigestArgs{ShopID: d.ShopID}, InsertOpts: &river.InsertOpts{ScheduledAt: d.At}}
	}
	if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue alert digests: %w", err)
	}
	return nil
}

// enqueueDeliveries enqueues, in tx, a job per delivery.
func enqueueDeliveries(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, ds []alerts.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(ds))
	for i, d := range ds {
		params[i] = river.InsertManyParams{Args: DeliverAlertArgs{ShopID: d.ShopID, AlertID: d.AlertID, Channel: d.Channel}}
	}
	if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue alert deliveries: %w", err)
	}
	return nil
}
