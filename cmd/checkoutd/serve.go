package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/httpapi"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/migrations"
	"github.com/checkoutd/checkoutd/webhooks"
)

// runServe serves the HTTP API until ctx is cancelled by a signal.
func runServe(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("serve", "",
		"Serve the HTTP API on HTTP_ADDR until SIGINT or SIGTERM, then let\n"+
			"in-flight requests finish and exit. The database schema must be\n"+
			"up to date: run 'checkoutd migrate' first.")
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
	return serve(ctx, a, pool)
}

// serve runs the HTTP server on pool until ctx is cancelled.
func serve(ctx context.Context, a *app, pool *pgxpool.Pool) error {
	// Serving against an older schema would fail request by request; refuse
	// up front instead, while the deploy can still be stopped.
	current, err := migrations.Current(ctx, pool)
	if err != nil {
		return fmt.Errorf("check database schema: %w", err)
	}
	if !current {
		return errors.New("database schema is not up to date: run 'checkoutd migrate' first")
	}

	a.logger.InfoContext(ctx, "checkoutd starting",
		"http_addr", a.cfg.HTTPAddr,
		"inventory_backend", a.cfg.InventoryBackend,
		"inventory_mode", string(a.cfg.InventoryMode),
		"hold_ttl", a.cfg.HoldTTL().String(),
		"lock_timeout", a.cfg.LockTimeout().String(),
		"skip_inventory_validation", a.cfg.SkipInventoryValidation,
		"database_max_conns", a.cfg.DatabaseMaxConns,
	)
	if a.cfg.InventoryAuthorityToken == "" {
		a.logger.WarnContext(ctx, "INVENTORY_AUTHORITY_TOKEN is not set: only shop API keys can use the inventory API")
	}
	registry := httpserver.NewRegistry()
	database.RegisterPoolMetrics(registry, pool)
	ledger := inventory.NewLedger(pool, inventory.Config{
		DefaultLowStockThreshold: a.cfg.LowStockDefaultThreshold,
		Logger:                   a.logger,
		Metrics:                  inventory.NewMetrics(registry),
	})
	srv := httpserver.New(httpserver.Options{
		Addr:     a.cfg.HTTPAddr,
		Pool:     pool,
		Registry: registry,
		Logger:   a.logger,
	})
	api := httpapi.New(ledger, apikey.NewStore(pool), httpapi.Config{
		ServiceToken:   a.cfg.InventoryAuthorityToken,
		DefaultHoldTTL: a.cfg.HoldTTL(),
	}, a.logger)
	api.Mount(srv.Router())
	if a.cfg.StripeSecretKey == "" {
		a.logger.WarnContext(ctx, "STRIPE_SECRET_KEY is not set: checkout sessions will fail with payment_provider_error")
	}
	if a.cfg.SkipInventoryValidation {
		a.logger.WarnContext(ctx, "SKIP_INVENTORY_VALIDATION=1: checkouts are created without any inventory check")
	}
	if a.cfg.StripeWebhookSecret == "" {
		a.logger.WarnContext(ctx, "STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused")
	}
	// This client only enqueues; the jobs' workers run with issue 6's
	// 'checkoutd work'.
	jobClient, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: a.logger})
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	api.MountWebhooks(srv.Router(),
		webhooks.NewVerifier(a.cfg.StripeWebhookSecret, webhooks.DefaultTolerance),
		webhooks.NewProcessor(pool, ledger, webhooks.Config{
			AsyncPaymentHold: a.cfg.AsyncPaymentHold(),
			Jobs:             jobClient,
			RefundOversold:   a.cfg.StripeRefundOversold,
			Logger:           a.logger,
		}))
	api.MountOversold(srv.Router(), pool)
	api.MountCheckout(srv.Router(), checkout.NewService(pool, ledger, checkout.NewStripeSessions(checkout.StripeConfig{
		SecretKey: a.cfg.StripeSecretKey,
		APIBase:   a.cfg.StripeAPIBase,
	}), checkout.Config{
		InventoryMode:           checkout.InventoryMode(a.cfg.InventoryMode),
		HoldTTL:                 a.cfg.HoldTTL(),
		SkipInventoryValidation: a.cfg.SkipInventoryValidation,
		Logger:                  a.logger,
	}))
	return srv.Run(ctx)
}
