package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/inventory"
)

// Config configures the River client that runs checkoutd's jobs.
type Config struct {
	// Workers is how many jobs of the default queue run at once (JOB_WORKERS).
	Workers int
	// ReaperInterval is how often lapsed holds are reaped (REAPER_INTERVAL).
	ReaperInterval time.Duration
	// Sessions reaches Stripe's Checkout Sessions: the expiry job expires
	// those of expiring holds, whose stock stays held until Stripe says a
	// session is expired (or paid), and the refund job reads an oversold
	// order's. Refunds refunds oversold orders.
	Sessions stripeclient.Sessions
	Refunds  Refunds
	// PaidSessions settles a session the expiry job finds paid; with none,
	// its webhook does.
	PaidSessions PaidSessions
	// LowStockCheckInterval is how often requested low-stock checks are run
	// (LOW_STOCK_CHECK_INTERVAL, default 5s).
	LowStockCheckInterval time.Duration
	// LowStockAlertInterval is the least time between two low-stock alerts
	// of one line (LOW_STOCK_ALERT_INTERVAL, default 24h).
	LowStockAlertInterval time.Duration
	// AlertChannels are where alerts are delivered; with none, alerts are
	// recorded and sent nowhere.
	AlertChannels alerts.Channels
	// AlertBudget caps one shop's low-stock alerts on the channels
	// (ALERT_BUDGET_PER_SHOP per ALERT_BUDGET_WINDOW).
	AlertBudget alerts.Budget
	// Logger receives structured logs: our jobs' at every level, River's own
	// from WARN up (see riverLogLevel).
	Logger *slog.Logger
	// JobTimeout is how long any job may run before its context is
	// cancelled and it is retried (default 30s). The reaper and the
	// low-stock check stop well within it and continue in their next run.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River takes it
	// for the orphan of a killed process and retries it (default 1m). It
	// must exceed JobTimeout: a job still running on a live process is not
	// to be run twice.
	RescueAfter time.Duration
}

const (
	// DefaultJobTimeout is Config.JobTimeout's default: Stripe requests
	// (10 s each) and alert deliveries (10 s, and 10 s to record them) fit,
	// and the reaper's and low-stock check's 10 s budgets with room.
	DefaultJobTimeout = 30 * time.Second
	// DefaultRescueAfter is Config.RescueAfter's default: the timeout, River's
	// 10 s before it calls a job stuck, and as much again for a worker slow
	// to see its context cancelled.
	DefaultRescueAfter = time.Minute
)

// NewInsertOnlyClient returns a River client that enqueues jobs and runs
// none: for processes that serve the API without workers.
func NewInsertOnlyClient(db *pgxpool.Pool, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	if logger == nil {
		logger = slog.Default()
	}
	client, err := river.NewClient(riverpgxv5.New(db), &river.Config{Logger: riverLogger(logger)})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// NewWorkerClient returns a River client that runs every checkoutd job, the
// periodic reaper and low-stock check included. Start it with Start, and
// stop it with Stop (let running jobs finish) then StopAndCancel:
// interrupted jobs are retried.
func NewWorkerClient(db *pgxpool.Pool, ledger *inventory.Ledger, cfg Config) (*river.Client[pgx.Tx], error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LowStockCheckInterval == 0 {
		cfg.LowStockCheckInterval = 5 * time.Second
	}
	if cfg.JobTimeout == 0 {
		cfg.JobTimeout = DefaultJobTimeout
	}
	if cfg.RescueAfter == 0 {
		cfg.RescueAfter = DefaultRescueAfter
	}
	if cfg.JobTimeout < 0 || cfg.RescueAfter <= cfg.JobTimeout {
		return nil, fmt.Errorf("jobs: RescueAfter (%s) must exceed JobTimeout (%s), and both be positive", cfg.RescueAfter, cfg.JobTimeout)
	}
	alerter := alerts.New(ledger, alerts.Config{
		Interval: cfg.LowStockAlertInterval, Channels: cfg.AlertChannels, Budget: cfg.AlertBudget, Logger: cfg.Logger,
	})
	workers := river.NewWorkers()
	river.AddWorker(workers, NewReapWorker(db, ledger))
	river.AddWorker(workers, NewExpireSessionWorker(ledger, cfg.Sessions, cfg.PaidSessions, cfg.Logger))
	river.AddWorker(workers, NewOversoldAlertWorker(db, alerter, cfg.Logger))
	river.AddWorker(workers, NewRefundOversoldWorker(cfg.Sessions, cfg.Refunds, cfg.Logger))
	river.AddWorker(workers, NewCheckStockWorker(db, alerter))
	river.AddWorker(workers, NewDeliverAlertWorker(db, alerter))
	river.AddWorker(workers, NewAlertDigestWorker(db, alerter, cfg.Logger))
	client, err := river.NewClient(riverpgxv5.New(db), &river.Config{
		Logger:  riverLogger(cfg.Logger),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers: workers,
		// Every kind runs within JobTimeout; a job running longer than
		// RescueAfter was fetched by a process that died, and is retried.
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.ReaperInterval), func() (river.JobArgs, *river.InsertOpts) {
				return ReapArgs{}, nil
			}, &river.PeriodicJobOpts{ID: "reap_holds", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(cfg.LowStockCheckInterval), func() (river.JobArgs, *river.InsertOpts) {
				return CheckStockArgs{}, nil
			}, &river.PeriodicJobOpts{ID: "check_low_stock", RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}

// ExportMetrics counts the client's jobs by kind and outcome
// (checkoutd_jobs_total{kind, outcome}: completed, retried, discarded,
// cancelled) until ctx is done.
func ExportMetrics(ctx context.Context, client *river.Client[pgx.Tx], reg prometheus.Registerer) {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "checkoutd", Name: "jobs_total",
		Help: "Background jobs finished, by kind and outcome (completed, retried, discarded, cancelled).",
	}, []string{"kind", "outcome"})
	reg.MustRegister(total)
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				total.WithLabelValues(kindLabel(ev.Job.Kind), outcome(ev)).Inc()
			}
		}
	}()
}

// kinds are checkoutd's job kinds. A row of any other kind in river_job
// (whoever put it there) is counted as "other", so the metric's label set
// stays fixed.
var kinds = map[string]bool{
	ReapArgs{}.Kind(): true, ExpireSessionArgs{}.Kind(): true, OversoldAlertArgs{}.Kind(): true,
	RefundOversoldArgs{}.Kind(): true, CheckStockArgs{}.Kind(): true, DeliverAlertArgs{}.Kind(): true,
}

func kindLabel(kind string) string {
	if kinds[kind] {
		return kind
	}
	return "other"
}

func outcome(ev *river.Event) string {
	switch {
	case ev.Kind == river.EventKindJobCompleted:
		return "completed"
	case ev.Kind == river.EventKindJobCancelled:
		return "cancelled"
	case ev.Job.State == rivertype.JobStateDiscarded:
		return "discarded"
	}
	return "retried"
}
