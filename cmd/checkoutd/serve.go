package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v79/refund"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/jobs"
	"github.com/checkoutd/checkoutd/migrations"
	"github.com/checkoutd/checkoutd/webhooks"
)

// jobsSoftStop is how long a stopping process lets running jobs finish
// before it cancels them; River retries the ones it interrupted.
const jobsSoftStop = 20 * time.Second

// runServe serves the HTTP API, and by default runs the background jobs,
// until ctx is cancelled by a signal.
func runServe(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("serve", "[--workers=false]",
		"Serve the HTTP API on HTTP_ADDR, and run the background jobs, until\n"+
			"SIGINT or SIGTERM; then let in-flight requests and running jobs\n"+
			"finish and exit. With --workers=false the process serves the API\n"+
			"only, and 'checkoutd work' runs the jobs elsewhere, so the two scale\n"+
			"apart. The database schema must be up to date: run\n"+
			"'checkoutd migrate' first.")
	withWorkers := fs.Bool("workers", true, "also run the background jobs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	pool, err := a.openPool(ctx, "serve", a.cfg.DatabaseMaxConns)
	if err != nil {
		return err
	}
	defer pool.Close()
	return serve(ctx, a, pool, true, *withWorkers)
}

// runWork runs the background jobs without the API.
func runWork(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("work", "",
		"Run the background jobs (the reaper, Stripe session expiry, alerts,\n"+
			"refunds) until SIGINT or SIGTERM, with /healthz, /readyz and /metrics\n"+
			"on HTTP_ADDR. Any number of workers can run: River shares the jobs out.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	pool, err := a.openPool(ctx, "work", a.cfg.DatabaseMaxConns)
	if err != nil {
		return err
	}
	defer pool.Close()
	return serve(ctx, a, pool, false, true)
}

// serve runs the HTTP server on pool, with the API and/or the workers,
// until ctx is cancelled.
func serve(ctx context.Context, a *app, pool *pgxpool.Pool, withAPI, withWorkers bool) error {
	return serveWith(ctx, a, pool, withAPI, withWorkers, nil)
}

// serveWith is serve with mount, when not nil, adding routes of its own
// to the server (checkoutd dev's storefront example).
func serveWith(ctx context.Context, a *app, pool *pgxpool.Pool, withAPI, withWorkers bool, mount func(*mux.Router)) error {
	// Serving against an older schema would fail request by request; refuse
	// up front instead, while the deploy can still be stopped.
	current, err := migrations.Current(ctx, pool)
	if err != nil {
		return fmt.Errorf("check database schema: %w", err)
	}
	if !current {
		return errors.New("database schema is not up to date: run 'checkoutd migrate' first")
	}
	setGCPercent()
	if a.cfg.PprofAddr != "" {
		if _, err := startProfiling(ctx, a.cfg.PprofAddr, a.logger); err != nil {
			return err
		}
	}

	a.logger.InfoContext(ctx, "checkoutd starting",
		"http_addr", a.cfg.HTTPAddr,
		"api", withAPI,
		"workers", withWorkers,
		"inventory_backend", a.cfg.InventoryBackend,
		"inventory_mode", string(a.cfg.InventoryMode),
		"hold_ttl", a.cfg.HoldTTL().String(),
		"lock_timeout", a.cfg.LockTimeout().String(),
		"skip_inventory_validation", a.cfg.SkipInventoryValidation,
		"database_max_conns", a.cfg.DatabaseMaxConns,
		"low_stock_check_interval", a.cfg.LowStockCheckInterval.String(),
		"low_stock_alert_interval", a.cfg.LowStockAlertInterval.String(),
		"rate_limit_per_shop", a.cfg.RateLimitPerShop,
		"rate_limit_burst", a.cfg.RateLimitBurst,
		"alert_budget_per_shop", a.cfg.AlertBudgetPerShop,
		"alert_budget_window", a.cfg.AlertBudgetWindow.String(),
		"availability_feed", a.cfg.StockNotify,
		"availability_max_subscribers", a.cfg.AvailabilityMaxSubscribers,
		"public_cors_origins", a.cfg.PublicCORSOrigins,
		"public_rate_limit", a.cfg.PublicRateLimit,
		"public_rate_limit_burst", a.cfg.PublicRateLimitBurst,
		"public_streams_per_ip", a.cfg.PublicStreamsPerIP,
		"trusted_proxies", a.cfg.TrustedProxies,
		"inventory_group_size", a.cfg.GroupSize,
		"inventory_groups_in_flight", a.cfg.GroupsInFlight,
		"inventory_group_window", a.cfg.GroupWindow.String(),
		"inventory_read_group_size", a.cfg.ReadGroupSize,
		// Which channels are on, never their URLs: Slack's is a secret.
		"alert_channels", alertChannels(a).Names(),
	)
	registry := httpserver.NewRegistry()
	database.RegisterPoolMetrics(registry, pool)
	ledger := a.ledger(pool, inventory.NewMetrics(registry))
	stripeCfg := stripeclient.Config{SecretKey: a.cfg.StripeSecretKey, APIBase: a.cfg.StripeAPIBase}
	sessions := stripeclient.NewSessions(stripeCfg)

	// The settler enqueues an oversold order's jobs through an insert-only
	// client, so that it exists before the workers, whose session-expiry
	// job settles sessions it finds paid with it.
	jobClient, err := jobs.NewInsertOnlyClient(pool, a.logger)
	if err != nil {
		return err
	}
	settler := checkout.NewSettler(ledger, checkout.SettleConfig{
		AsyncPaymentHold: a.cfg.AsyncPaymentHold(),
		Jobs:             jobs.NewEnqueuer(jobClient),
		RefundOversold:   a.cfg.StripeRefundOversold,
		Sessions:         sessions,
	})
	if withWorkers {
		jobClient, err = jobs.NewWorkerClient(pool, ledger, jobs.Config{
			Workers:        a.cfg.JobWorkers,
			ReaperInterval: a.cfg.ReaperInterval,
			Sessions:       sessions,
			Refunds:        &refund.Client{B: stripeclient.Backend(stripeCfg), Key: a.cfg.StripeSecretKey},
			PaidSessions:   checkout.NewStripeSettler(pool, settler, a.logger),
			Logger:         a.logger,

			LowStockCheckInterval: a.cfg.LowStockCheckInterval,
			LowStockAlertInterval: a.cfg.LowStockAlertInterval,
			AlertChannels:         alertChannels(a),
			AlertBudget:           alerts.Budget{PerShop: a.cfg.AlertBudgetPerShop, Window: a.cfg.AlertBudgetWindow},
		})
		if err != nil {
			return err
		}
		jobs.ExportMetrics(ctx, jobClient, registry)
		if err := jobClient.Start(ctx); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		defer stopWorkers(ctx, a, jobClient)
	}

	// The live availability feed: one reader of the stock change log for
	// the process. A process that writes the log runs one even without the
	// API, because the readers are what prune it (docs/availability.md). It
	// stops with ctx, before the server has finished draining, so that the
	// streams it feeds end and let the drain finish.
	var feed *availability.Feed
	if a.cfg.StockNotify {
		feed = availability.NewFeed(ledger, availability.Config{
			MaxSubscribers: a.cfg.AvailabilityMaxSubscribers,
			Logger:         a.logger,
		})
		defer runFeed(ctx, a, feed)()
	}

	srv := httpserver.New(httpserver.Options{
		Addr:     a.cfg.HTTPAddr,
		Pool:     pool,
		Registry: registry,
		Logger:   a.logger,
	})
	if withAPI {
		mountAPI(ctx, a, srv, registry, pool, ledger, feed, sessions, settler)
		if a.cfg.ConsoleEnabled {
			if err := mountConsole(ctx, a, srv, pool, ledger, jobClient); err != nil {
				return err
			}
		}
	}
	if mount != nil {
		mount(srv.Router())
	}
	return srv.Run(ctx)
}

// mountAPI mounts every API route on srv.
func mountAPI(ctx context.Context, a *app, srv *httpserver.Server, registry prometheus.Registerer, pool *pgxpool.Pool, ledger *inventory.Ledger, feed *availability.Feed, sessions stripeclient.Sessions, settler *checkout.Settler) {
	if a.cfg.InventoryAuthorityToken == "" {
		a.logger.WarnContext(ctx, "INVENTORY_AUTHORITY_TOKEN is not set: only shop API keys can use the inventory API")
	}
	if a.cfg.StripeSecretKey == "" {
		a.logger.WarnContext(ctx, "STRIPE_SECRET_KEY is not set: checkout sessions will fail with payment_provider_error")
	}
	if a.cfg.SkipInventoryValidation {
		a.logger.WarnContext(ctx, "SKIP_INVENTORY_VALIDATION=1: checkouts are created without any inventory check")
	}
	if a.cfg.StripeWebhookSecret == "" {
		a.logger.WarnContext(ctx, "STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused")
	}
	api := httpapi.New(ledger, apikey.NewStore(pool), httpapi.Config{
		ServiceToken:   a.cfg.InventoryAuthorityToken,
		DefaultHoldTTL: a.cfg.HoldTTL(),
		RateLimit:      httpapi.RateLimit{PerSecond: float64(a.cfg.RateLimitPerShop), Burst: a.cfg.RateLimitBurst},
		Registerer:     registry,
		Feed:           feed,
		Public: httpapi.PublicConfig{
			CORSOrigins:      a.cfg.CORSOrigins(),
			RateLimit:        httpapi.RateLimit{PerSecond: float64(a.cfg.PublicRateLimit), Burst: a.cfg.PublicRateLimitBurst},
			StreamsPerClient: a.cfg.PublicStreamsPerIP,
			TrustedProxies:   a.cfg.TrustedProxyPrefixes(),
			Heartbeat:        a.cfg.PublicStreamHeartbeat,
		},
	}, a.logger)
	api.Mount(srv.Router())
	api.MountPublic(srv.Router())
	api.MountOversold(srv.Router(), pool)
	api.MountAlerts(srv.Router(), pool)
	api.MountWebhooks(srv.Router(),
		webhooks.NewVerifier(a.cfg.StripeWebhookSecret, webhooks.DefaultTolerance),
		webhooks.NewProcessor(pool, settler, webhooks.Config{Logger: a.logger}))
	api.MountCheckout(srv.Router(), checkout.NewService(pool, ledger, sessions, checkout.Config{
		InventoryMode:           a.cfg.InventoryMode,
		HoldTTL:                 a.cfg.HoldTTL(),
		SkipInventoryValidation: a.cfg.SkipInventoryValidation,
		Logger:                  a.logger,
	}))
}

// runFeed runs feed in the background until ctx is done or the returned
// stop is called; stop waits for it to end.
func runFeed(ctx context.Context, a *app, feed *availability.Feed) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := feed.Run(ctx); err != nil {
			a.logger.ErrorContext(ctx, "availability feed", "error", err.Error())
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// alertChannels are the alert channels the configuration turns on.
func alertChannels(a *app) alerts.Channels {
	return alerts.Channels{
		SlackWebhookURL: a.cfg.SlackWebhookURL,
		WebhookURL:      a.cfg.AlertWebhookURL,
		WebhookSecret:   a.cfg.AlertWebhookSecret,
	}
}

// stopWorkers lets running jobs finish for jobsSoftStop, then cancels the
// rest, which River makes available again for another worker to retry.
func stopWorkers(ctx context.Context, a *app, client *river.Client[pgx.Tx]) {
	soft, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobsSoftStop)
	defer cancel()
	if err := client.Stop(soft); err == nil {
		return
	}
	a.logger.WarnContext(ctx, "jobs still running after the soft stop; cancelling them", "soft_stop", jobsSoftStop.String())
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := client.StopAndCancel(hard); err != nil {
		a.logger.ErrorContext(ctx, "stopping workers", "error", err.Error())
	}
}

// serveGCPercent is the garbage collector's target when GOGC is unset. A
// server's live heap is small and its garbage is per request, so Go's
// default of 100 collects thousands of times a second under load; 400
// bought validate 12-19% more throughput on two cores
// (docs/benchmarks.md) for a heap a few times a small one.
const serveGCPercent = 400

// setGCPercent sets serveGCPercent unless GOGC says otherwise.
func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}
