package httpapi_test

// Tests of how POST /api/checkout/sessions answers checkout.Service's
// errors: each becomes the status and body of the contract, and Stripe is
// not asked for a session it must not make. Helpers are in
// checkout_test.go.

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

// TestCheckoutInsufficient: the 409 is the holds route's, body and all.
func TestCheckoutInsufficient(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "size:M", "", 3)
	h.stock(t, shop, "SKU-2", "", "", 10)
	before := h.snapshot(t, shop)

	lines := []map[string]any{checkoutItem("SKU-1", "size:M", 2), checkoutItem("SKU-2", "", 1), checkoutItem("SKU-1", "size:M", 2), checkoutItem("SKU-9", "", 1)}
	r := h.createCheckout(t, checkoutBody(shop, lines...))
	expect(t, r, http.StatusConflict, "insufficient_stock")
	m := r.Obj(t)
	assertKeys(t, m, "error", "message", "code", "items")
	if code := str(t, m, "code"); code != "inventory_insufficient" {
		t.Errorf("code %q", code)
	}
	for _, it := range objs(t, m, "items") {
		assertKeys(t, it, "sku", "variantKey", "requested", "available")
	}
	want := []any{
		map[string]any{"sku": "SKU-1", "variantKey": "size:M", "requested": 4, "available": 3},
		map[string]any{"sku": "SKU-9", "variantKey": "", "requested": 1, "available": 0},
	}
	if !jsonEqual(jsonOf(t, m["items"]), jsonOf(t, want)) {
		t.Errorf("items %v, want %v", m["items"], want)
	}

	holdLines := make([]any, len(lines))
	for i, l := range lines {
		holdLines[i] = item(l["sku"].(string), l["variantKey"].(string), l["quantity"].(int64))
	}
	hr := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": holdLines})
	expect(t, hr, http.StatusConflict, "insufficient_stock")
	if !jsonEqual(hr.JSON, r.JSON) {
		t.Errorf("checkout 409 %s, holds 409 %s", r.Raw, hr.Raw)
	}
	h.sessions.assertCalls(t, shop, 0)
	h.assertUnchanged(t, shop, before)
}

// TestCheckoutBusy: a transaction holds the stock row locked while a server
// whose pool has a 200ms lock timeout tries to reserve it: 429 with a
// Retry-After.
func TestCheckoutBusy(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "size:M", "", 5)

	ctx := context.Background()
	pool, err := database.Open(ctx, testdb.URL(t), database.PoolConfig{MaxConns: 4, LockTimeout: 200 * time.Millisecond, ApplicationName: "checkoutd-test-checkout-busy"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	busy := startCheckoutServer(t, pool, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})

	tx, err := h.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT 1 FROM stock_levels WHERE shop_id = $1 FOR UPDATE", shop); err != nil {
		t.Fatal(err)
	}

	r := busy.createCheckout(t, checkoutBody(shop, checkoutItem("SKU-1", "size:M", 1)))
	expect(t, r, http.StatusTooManyRequests, "inventory_busy")
	m := r.Obj(t)
	assertKeys(t, m, "error", "message", "retryAfter")
	if ms := num(t, m, "retryAfter"); ms != 1000 {
		t.Errorf("retryAfter %d ms, want 1000", ms)
	}
	if got := r.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want \"1\"", got)
	}
	busy.sessions.assertCalls(t, shop, 0)
}

// TestCheckoutPaymentProviderError: Stripe failing is 502, and nothing of
// Stripe's error reaches the body.
func TestCheckoutPaymentProviderError(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "size:M", "", 5)
	h.sessions.fail(shop, true)

	body := checkoutBody(shop, checkoutItem("SKU-1", "size:M", 2))
	r := h.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: serviceToken, Body: body, ServerError: true})
	expect(t, r, http.StatusBadGateway, "payment_provider_error")
	assertKeys(t, r.Obj(t), "error", "message")
	for _, leak := range []string{stripeSecretInError, "fake Stripe"} {
		if strings.Contains(string(r.Raw), leak) {
			t.Errorf("body carries Stripe's error %q: %s", leak, r.Raw)
		}
	}
	h.sessions.assertCalls(t, shop, 1)
}

// TestCheckoutDatabaseUnavailable: with no database to check stock against,
// no session is created (fail closed).
func TestCheckoutDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	before := h.snapshot(t, shop)
	t.Cleanup(func() { h.assertUnchanged(t, shop, before) })

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	base, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		change func(cfg *pgxpool.Config)
	}{
		{"closed port", func(cfg *pgxpool.Config) { cfg.ConnConfig.Port = uint16(closedPort) }},
		{"missing database", func(cfg *pgxpool.Config) {
			cfg.ConnConfig.Database = "checkoutd_test_missing_" + strings.ReplaceAll(shop, "-", "_")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := base.Copy()
			cfg.ConnConfig.ConnectTimeout = 2 * time.Second
			cfg.MaxConns = 2
			tc.change(cfg)
			// Lazy: pgxpool connects on first use.
			pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			for _, mode := range []checkoutd.InventoryMode{checkoutd.ModeReserveTTL, checkoutd.ModeValidateOnly} {
				srv := startCheckoutServer(t, pool, checkout.Config{InventoryMode: mode})
				r := srv.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: serviceToken, ServerError: true,
					Body: checkoutBody(shop, checkoutItem("SKU-1", "", 1))})
				if r.Status != http.StatusServiceUnavailable {
					t.Errorf("%s: status %d, want 503: %s", mode, r.Status, r.Raw)
					continue
				}
				expect(t, r, http.StatusServiceUnavailable, "inventory_unavailable")
				assertKeys(t, r.Obj(t), "error", "message")
				srv.sessions.assertCalls(t, shop, 0)
			}
			// A shop key cannot even be checked without the database: that
			// too is unavailable, not an internal error, nor a 401.
			srv := startCheckoutServer(t, pool, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
			r := srv.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: "ckd_" + shop + ".abcdef012345.c2VjcmV0c2VjcmV0", ServerError: true,
				Body: checkoutBody(shop, checkoutItem("SKU-1", "", 1))})
			expect(t, r, http.StatusServiceUnavailable, "inventory_unavailable")
		})
	}
}
