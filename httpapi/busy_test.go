package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// TestBusy provokes lock contention for real: a transaction holds the stock
// row locked while a server whose pool has a 200ms lock timeout tries to
// place a hold on it.
func TestBusy(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "size:M", "", 5)
	placed := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "size:M", 2)}})
	placedPath := shopPath(shop, "/holds/"+str(t, placed, "id"))

	ctx := context.Background()
	pool, err := database.Open(ctx, testdb.URL(t), database.PoolConfig{MaxConns: 4, LockTimeout: 200 * time.Millisecond, ApplicationName: "checkoutd-test-busy"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	busy, err := startServer(pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := busy.stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
	})

	tx, err := h.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var onHand int64
	if err := tx.QueryRow(ctx,
		"SELECT on_hand FROM stock_levels WHERE shop_id = $1 AND sku = $2 AND variant_key = $3 AND location_id = 'default' FOR UPDATE",
		shop, "SKU-1", "size:M").Scan(&onHand); err != nil {
		t.Fatal(err)
	}
	before := h.snapshot(t, shop)

	body := map[string]any{"items": []any{item("SKU-1", "size:M", 1)}, "idempotencyKey": "cart-busy"}
	start := time.Now()
	r := busy.svc(t, http.MethodPost, shopPath(shop, "/holds"), body)
	expect(t, r, http.StatusTooManyRequests, "inventory_busy")
	m := r.Obj(t)
	assertKeys(t, m, "error", "message", "retryAfter")
	if ms := num(t, m, "retryAfter"); ms != 1000 {
		t.Errorf("retryAfter %d ms, want 1000", ms)
	}
	if got := r.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want \"1\"", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("busy answer took %s with a 200ms lock budget", d)
	}

	// Committing or releasing a hold on the row is busy as well.
	for _, action := range []string{"/commit", "/release"} {
		r := busy.svc(t, http.MethodPost, placedPath+action, nil)
		expect(t, r, http.StatusTooManyRequests, "inventory_busy")
		if r.Header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q", action, r.Header.Get("Retry-After"))
		}
	}
	h.assertUnchanged(t, shop, before)

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	h.assertUnchanged(t, shop, before)

	// Once the lock is gone, the same request goes through.
	r = busy.svc(t, http.MethodPost, shopPath(shop, "/holds"), body)
	expect(t, r, http.StatusCreated, "")
	expect(t, busy.svc(t, http.MethodPost, placedPath+"/commit", nil), http.StatusOK, "")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}
