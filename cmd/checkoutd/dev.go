package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/migrations"
)

// devDatabase is where checkoutd dev keeps its data when DATABASE_URL names a
// server's maintenance database, as scripts/with-postgres does.
const devDatabase = "checkoutd_dev"

// devShop is the demo shop checkoutd dev stocks.
const devShop = "demo"

// runDev prepares a local database and serves: what make dev runs.
func runDev(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("dev", "",
		"Run checkoutd for local development: use (and create) the database\n"+
			devDatabase+" when DATABASE_URL names the server's postgres database,\n"+
			"migrate it, stock a demo shop '"+devShop+"', then serve like\n"+
			"'checkoutd serve'. Safe to run again: the demo stock is booked once.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	if err := a.cfg.RequireDatabaseURL(); err != nil {
		return err
	}
	dbURL, err := devDatabaseURL(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	a.cfg.DatabaseURL = dbURL

	pool, err := a.openPool(ctx, "dev", max(a.cfg.DatabaseMaxConns, 2))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Migrate(ctx, pool, a.logger); err != nil {
		return err
	}
	ledger := inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: a.cfg.LowStockDefaultThreshold, Logger: a.logger})
	if err := seedDemoShop(ctx, ledger); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "checkoutd dev: database %s, demo shop %q stocked\n"+
		"  curl -s localhost%s/healthz\n"+
		"  checkoutd ledger check --shop %s   (with DATABASE_URL=%s)\n",
		devDatabase, devShop, a.cfg.HTTPAddr, devShop, redactedURL(dbURL))
	return serve(ctx, a, pool)
}

// devDatabaseURL returns serverURL itself unless it names the maintenance
// database postgres; then it creates devDatabase if needed and points there.
func devDatabaseURL(ctx context.Context, serverURL string) (string, error) {
	cfg, err := pgx.ParseConfig(serverURL)
	if err != nil {
		return "", fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if cfg.Database != "postgres" {
		return serverURL, nil
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", cfg.Host, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", devDatabase).Scan(&exists); err != nil {
		return "", fmt.Errorf("look for database %s: %w", devDatabase, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+devDatabase); err != nil {
			return "", fmt.Errorf("create database %s: %w", devDatabase, err)
		}
	}
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme == "" {
		return serverURL + " dbname=" + devDatabase, nil
	}
	u.Path = "/" + devDatabase
	return u.String(), nil
}

func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return s
	}
	return u.Redacted()
}

// seedDemoShop creates the demo shop with two locations and some stock, once:
// the stock goes in under an idempotency key.
func seedDemoShop(ctx context.Context, ledger *inventory.Ledger) error {
	if err := ledger.CreateShop(ctx, devShop, "Demo shop"); err != nil && !errors.Is(err, inventory.ErrShopExists) {
		return fmt.Errorf("create demo shop: %w", err)
	}
	if err := ledger.AddLocation(ctx, devShop, "warehouse", "Warehouse", 1); err != nil && !errors.Is(err, inventory.ErrLocationExists) {
		return fmt.Errorf("add demo location: %w", err)
	}
	_, err := ledger.Adjust(ctx, devShop, inventory.AdjustRequest{
		Reference:      "dev-seed",
		CreatedBy:      "checkoutd dev",
		IdempotencyKey: "dev-seed-v1",
		Changes: []inventory.StockChange{
			{SKU: "SHIRT-LINEN", VariantKey: "size:S", Op: inventory.OpSet, Quantity: 12},
			{SKU: "SHIRT-LINEN", VariantKey: "size:M", Op: inventory.OpSet, Quantity: 8},
			{SKU: "SHIRT-LINEN", VariantKey: "size:M", LocationID: "warehouse", Op: inventory.OpSet, Quantity: 20},
			{SKU: "SHIRT-LINEN", VariantKey: "size:L", Op: inventory.OpSet, Quantity: 3},
			{SKU: "MUG-LOGO", Op: inventory.OpSet, Quantity: 150},
			{SKU: "POSTER-A2", Op: inventory.OpSet, Quantity: 1},
		},
	})
	if err != nil {
		return fmt.Errorf("stock demo shop: %w", err)
	}
	return nil
}
