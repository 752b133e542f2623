package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/migrations"
)

// devDatabase is where checkoutd dev keeps its data when DATABASE_URL names a
// server's maintenance database, as scripts/with-postgres does.
const devDatabase = "checkoutd_dev"

// devShop is the demo shop checkoutd dev stocks.
const devShop = "demo"

// devRunDir is where checkoutd dev records what it runs, for make stop and
// for the commands its banner shows.
const devRunDir = ".dev"

// devToken and devWebhookSecret are what checkoutd dev uses unless
// INVENTORY_AUTHORITY_TOKEN and STRIPE_WEBHOOK_SECRET are set.
const (
	devToken         = "dev-token"
	devWebhookSecret = "whsec_dev"
)

// devMode is the inventory mode checkoutd dev runs in unless INVENTORY_MODE
// is set: the one production should use, so that development shows holds.
const devMode = checkoutd.ModeReserveTTL

// runDev prepares a local database and serves: what make dev runs.
func runDev(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("dev", "[--preflight] [--database name] [--run-dir dir]",
		"Run checkoutd for local development: check that HTTP_ADDR is free, use\n"+
			"(and create) the database --database when DATABASE_URL names the\n"+
			"server's postgres database, migrate it, stock a demo shop '"+devShop+"',\n"+
			"start stripe-mock unless STRIPE_SECRET_KEY is set, then serve like\n"+
			"'checkoutd serve' in INVENTORY_MODE "+string(devMode)+" (unless INVENTORY_MODE\n"+
			"is set), printing a walk-through: checkout, hold, payment, committed.\n"+
			"Safe to run again: the demo stock is booked once.\n\n"+
			"While it runs, --run-dir holds checkoutd.pid and stripe-mock.pid (for\n"+
			"'make stop', which runs scripts/dev-stop) and env (DATABASE_URL and\n"+
			"STRIPE_WEBHOOK_SECRET for 'checkoutd --env-file "+devRunDir+"/env ...').\n"+
			"It stops on SIGINT or SIGTERM, and when the process that started it exits.")
	preflight := fs.Bool("preflight", false, "only check that HTTP_ADDR's port is free, then exit (make dev runs\nthis before it starts PostgreSQL)")
	dbName := fs.String("database", devDatabase, "the database `name` to use on the server DATABASE_URL names")
	runDir := fs.String("run-dir", devRunDir, "the `dir`ectory for the pid files and env")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noMoreArgs(fs); err != nil {
		return err
	}
	if err := checkPortFree(a.cfg.HTTPAddr, *runDir); err != nil {
		fmt.Fprintln(a.stderr, err)
		return errReported
	}
	if *preflight {
		return nil
	}
	if err := a.cfg.RequireDatabaseURL(); err != nil {
		return err
	}
	dbURL, err := devDatabaseURL(ctx, a.cfg.DatabaseURL, *dbName)
	if err != nil {
		return err
	}
	a.cfg.DatabaseURL = dbURL
	if _, set := os.LookupEnv("INVENTORY_MODE"); !set {
		a.cfg.InventoryMode = devMode
	}
	if a.cfg.InventoryAuthorityToken == "" {
		a.cfg.InventoryAuthorityToken = devToken
	}
	if a.cfg.StripeWebhookSecret == "" {
		a.cfg.StripeWebhookSecret = devWebhookSecret
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go stopWhenOrphaned(ctx, cancel, a.logger)
	run, err := newDevRun(*runDir)
	if err != nil {
		return err
	}
	defer run.close()
	if err := run.writeEnv(map[string]string{
		"DATABASE_URL":          a.cfg.DatabaseURL,
		"STRIPE_WEBHOOK_SECRET": a.cfg.StripeWebhookSecret,
	}); err != nil {
		return err
	}

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
	stripeNote := "Stripe's test mode (STRIPE_SECRET_KEY is set)"
	if a.cfg.StripeSecretKey == "" {
		base, pid, exited, err := startStripeMock(ctx)
		if err != nil {
			return err
		}
		defer func() {
			cancel() // stops stripe-mock
			<-exited
		}()
		if err := run.writePID("stripe-mock", pid); err != nil {
			return err
		}
		a.cfg.StripeSecretKey, a.cfg.StripeAPIBase = "sk_test_dev", base
		stripeNote = "stripe-mock at " + base + ": it answers every checkout session with the\n" +
			"             same canned url, which is no payment page; step 4 plays Stripe's part"
	}
	a.cfg.ConsoleEnabled = true

	fmt.Fprint(a.stdout, devBanner(devBannerInfo{
		database: redactedURL(dbURL), stripe: stripeNote, mode: a.cfg.InventoryMode, runDir: *runDir,
		walk: walkthrough{base: baseURL(a.cfg.HTTPAddr), token: a.cfg.InventoryAuthorityToken, bin: displayName(os.Args[0]), runDir: *runDir},
	}))
	return serveWith(ctx, a, pool, true, true, mountStorefront)
}

// devBannerInfo is what the banner reports.
type devBannerInfo struct {
	database string
	stripe   string
	mode     checkoutd.InventoryMode
	runDir   string
	walk     walkthrough
}

// devBanner is what checkoutd dev prints once it is ready to serve.
func devBanner(b devBannerInfo) string {
	var s strings.Builder
	fmt.Fprintf(&s, "checkoutd dev: serving %s, demo shop %q stocked\n", b.walk.base, devShop)
	fmt.Fprintf(&s, "  Database:  %s\n", b.database)
	fmt.Fprintf(&s, "  Stripe:    %s\n", b.stripe)
	switch b.mode {
	case checkoutd.ModeReserveTTL:
		fmt.Fprintf(&s, "  Inventory: reserve_ttl: a checkout holds its stock until paid or expired\n"+
			"             (INVENTORY_MODE=validate_only make dev only checks it)\n")
	default:
		fmt.Fprintf(&s, "  Inventory: %s: a checkout checks stock and holds none, so the hold\n"+
			"             steps below find nothing; unset INVENTORY_MODE (or set it to\n"+
			"             reserve_ttl) to see holds\n", b.mode)
	}
	fmt.Fprintf(&s, "  Token:     %s (Authorization: Bearer ...)\n", b.walk.token)
	fmt.Fprintf(&s, "  Console:   %s/console/ (sign in with the token)\n", b.walk.base)
	fmt.Fprintf(&s, "  Storefront: %s%s (live stock badges)\n", b.walk.base, storefrontPath)
	fmt.Fprintf(&s, "  Stop:      Ctrl-C here, or make stop (scripts/dev-stop %s)\n\n", b.runDir)
	s.WriteString(walkthroughStart + "\n")
	s.WriteString(b.walk.script())
	s.WriteString(walkthroughEnd + "\n")
	return s.String()
}

// devDatabaseURL returns serverURL itself unless it names the maintenance
// database postgres; then it creates database name if needed and points
// there.
func devDatabaseURL(ctx context.Context, serverURL, name string) (string, error) {
	cfg, err := pgx.ParseConfig(serverURL)
	if err != nil {
		return "", fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if cfg.Database != "postgres" {
		return serverURL, nil
	}
	return database.EnsureDatabase(ctx, serverURL, name)
}

func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return s
	}
	return u.Redacted()
}

// baseURL is the URL a browser or curl on this machine reaches the server
// listening on addr at.
func baseURL(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "http://localhost" + addr
	}
	return "http://" + localAddr(addr)
}

// displayName is how the banner tells the user to run this binary again: as
// it was started, unless go run built it somewhere temporary.
func displayName(arg0 string) string {
	if strings.Contains(arg0, "go-build") {
		return "go run ./cmd/checkoutd"
	}
	if filepath.IsAbs(arg0) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, arg0); err == nil && !strings.HasPrefix(rel, "..") {
				return rel
			}
		}
	}
	return arg0
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
