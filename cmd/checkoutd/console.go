package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/checkoutd/checkoutd/console"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/inventory"
)

// mountConsole serves the ops console under /console/ (CONSOLE_ENABLED=1).
func mountConsole(ctx context.Context, a *app, srv *httpserver.Server, pool *pgxpool.Pool, ledger *inventory.Ledger, jobClient *river.Client[pgx.Tx]) error {
	key, err := console.SessionKey(a.cfg.ConsoleSessionKey, a.cfg.InventoryAuthorityToken)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	c, err := console.New(ledger, pool, apikey.NewStore(pool), jobClient, console.Config{
		ServiceToken:            a.cfg.InventoryAuthorityToken,
		SessionKey:              key,
		InventoryMode:           a.cfg.InventoryMode,
		HoldTTL:                 a.cfg.HoldTTL(),
		SkipInventoryValidation: a.cfg.SkipInventoryValidation,
		Logger:                  a.logger,
	})
	if err != nil {
		return err
	}
	c.Mount(srv.Router())
	a.logger.InfoContext(ctx, "ops console served under /console/")
	return nil
}
