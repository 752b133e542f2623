package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/migrations"
)

// devDatabase is where checkoutd dev keeps its data when DATABASE_URL names a
// server's maintenance database, as scripts/with-postgres does.
const devDatabase = "checkoutd_dev"

// devShop is the demo shop checkoutd dev stocks.
const devShop = "demo"

// devToken and devWebhookSecret are what checkoutd dev uses unless
// INVENTORY_AUTHORITY_TOKEN and STRIPE_WEBHOOK_SECRET are set.
const (
	devToken         = "dev-token"
	devWebhookSecret = "whsec_dev"
)

const devBanner = `checkoutd dev: database %s, demo shop %q stocked
  Stripe:  %s (stripe-mock unless STRIPE_SECRET_KEY is set)
Try:
  TOKEN=%s
  curl -s %s/healthz
  curl -s -H "Authorization: Bearer $TOKEN" '%s/api/inventory/shops/%s/stock/SHIRT-LINEN?variantKey=size:M'
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' %s/api/checkout/sessions \
    -d '{"shopId":"%s","mode":"sale","items":[{"sku":"MUG-LOGO","quantity":1,"name":"Mug","unitAmount":1200,"currency":"eur"}],"successUrl":"https://shop.example/ok","cancelUrl":"https://shop.example/cart"}'
  # then pay for the session it returned, as Stripe would tell us:
  DATABASE_URL=%s STRIPE_WEBHOOK_SECRET=%s \
    go run ./cmd/checkoutd stripe send-event --type checkout.session.completed --session cs_... --url %s/webhooks/stripe
  DATABASE_URL=%s go run ./cmd/checkoutd ledger check --shop %s
`

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
	if err := seedDemoShop(ctx, a.ledger(pool, nil)); err != nil {
		return err
	}
	if err := prepareStorefront(ctx, a, a.ledger(pool, nil)); err != nil {
		return err
	}
	if a.cfg.StripeSecretKey == "" {
		base, err := startStripeMock(ctx)
		if err != nil {
			return err
		}
		a.cfg.StripeSecretKey, a.cfg.StripeAPIBase = "sk_test_dev", base
	}
	if a.cfg.InventoryAuthorityToken == "" {
		a.cfg.InventoryAuthorityToken = devToken
	}
	if a.cfg.StripeWebhookSecret == "" {
		a.cfg.StripeWebhookSecret = devWebhookSecret
	}
	base := "http://" + a.cfg.HTTPAddr
	if strings.HasPrefix(a.cfg.HTTPAddr, ":") {
		base = "http://localhost" + a.cfg.HTTPAddr
	}
	fmt.Fprintf(a.stdout, devBanner, devDatabase, devShop, a.cfg.StripeAPIBase, a.cfg.InventoryAuthorityToken,
		base, base, devShop, base, devShop, redactedURL(dbURL), a.cfg.StripeWebhookSecret, base, redactedURL(dbURL), devShop)
	fmt.Fprintf(a.stdout, storefrontBanner, base, storefrontPath)
	return serveWith(ctx, a, pool, true, true, mountStorefront)
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
	return database.EnsureDatabase(ctx, serverURL, devDatabase)
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
	if _, err := ledger.CreateShop(ctx, devShop, "Demo shop"); err != nil && !errors.Is(err, inventory.ErrShopExists) {
		return fmt.Errorf("create demo shop: %w", err)
	}
	if _, err := ledger.AddLocation(ctx, devShop, "warehouse", "Warehouse", 1); err != nil && !errors.Is(err, inventory.ErrLocationExists) {
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
