package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// Transient database failures answer the same everywhere: the connection
// failing is 503 inventory_unavailable on every route, contention is 429
// inventory_busy with Retry-After on the API, and the Stripe webhook, which
// can only ask for a retry with a 5xx, answers 503 for both. Never 500.

var transientApp atomic.Int64

// transientServer serves the API on a pool of its own over the package's
// database, opened like the service's, with lockTimeout, and returns it with
// the pool's application name (to find its sessions in pg_stat_activity).
func transientServer(t *testing.T, lockTimeout time.Duration) (*harness, string) {
	t.Helper()
	app := fmt.Sprintf("checkoutd-test-transient-%d", transientApp.Add(1))
	pool, err := database.Open(context.Background(), testdb.URL(t), database.PoolConfig{MaxConns: 4, LockTimeout: lockTimeout, ApplicationName: app})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return startCheckoutServer(t, pool, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL}), app
}

// holdOpen begins a transaction on h's pool that stays open until the test
// ends, running stmt in it: another session holding a lock.
func (h *harness) holdOpen(t *testing.T, stmt string, args ...any) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, stmt, args...); err != nil {
		t.Fatal(err)
	}
	return tx
}

func expectTransient503(t *testing.T, r *response) {
	t.Helper()
	expect(t, r, http.StatusServiceUnavailable, "inventory_unavailable")
	assertKeys(t, r.Obj(t), "error", "message")
}

// A lock timeout (55P03) while the event is recorded or its checkout
// locked: 503, nothing recorded, and the retry applies the event.
func TestWebhookLockTimeout(t *testing.T) {
	t.Parallel()
	h := env(t)
	srv, _ := transientServer(t, 100*time.Millisecond)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)

	for _, tc := range []struct {
		name string
		lock func(id string, c webhookCheckout) pgx.Tx
	}{
		// Another delivery of the same event is being applied and has not
		// committed: the inbox insert waits for it.
		{"inbox row", func(id string, c webhookCheckout) pgx.Tx {
			return h.holdOpen(t, "INSERT INTO stripe_events (shop_id, id, type, outcome) VALUES ($1, $2, 'checkout.session.completed', 'ignored')", shop, id)
		}},
		// An event about the same session is being applied.
		{"checkout row", func(_ string, c webhookCheckout) pgx.Tx {
			return h.holdOpen(t, "SELECT 1 FROM checkouts WHERE shop_id = $1 AND stripe_session_id = $2 FOR UPDATE", shop, c.session)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.newWebhookCheckout(t, shop, "SKU-1", 1)
			id := "evt_locked_" + shop + "_" + c.session
			payload := paidEvent(id, c)
			before := h.webhookState(t, shop)
			locker := tc.lock(id, c)

			r := srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), true)
			expectTransient503(t, r)
			if r.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			h.assertWebhookStateUnchanged(t, shop, before)

			if err := locker.Rollback(context.Background()); err != nil {
				t.Fatal(err)
			}
			expectWebhook(t, srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), false), "committed")
		})
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// The server process of the webhook's connection is terminated while the
// event's transaction waits for its checkout (a crash, a failover, an
// operator): 503, and the retry applies the event.
func TestWebhookConnectionTerminated(t *testing.T) {
	t.Parallel()
	h := env(t)
	srv, app := transientServer(t, time.Minute)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	c := h.newWebhookCheckout(t, shop, "SKU-1", 2)
	id := "evt_terminated_" + shop
	payload := paidEvent(id, c)
	before := h.webhookState(t, shop)
	locker := h.holdOpen(t, "SELECT 1 FROM checkouts WHERE shop_id = $1 AND stripe_session_id = $2 FOR UPDATE", shop, c.session)

	answered := make(chan *response, 1)
	go func() {
		answered <- srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), true)
	}()
	h.terminateWaiting(t, app)
	expectTransient503(t, <-answered)
	h.assertWebhookStateUnchanged(t, shop, before)

	if err := locker.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	expectWebhook(t, srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), false), "committed")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// terminateWaiting waits until a session of application app waits for a
// lock, and terminates it.
func (h *harness) terminateWaiting(t *testing.T, app string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var terminated bool
		err := h.pool.QueryRow(ctx, `
			SELECT coalesce(bool_or(pg_terminate_backend(pid, 5000)), false)
			FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&terminated)
		if err != nil {
			t.Fatal(err)
		}
		if terminated {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no session of the server waited for the lock")
}

// closingServer serves the API on a pool that, while broken is set, hands
// out connections pgx has already closed, as it does after a connection
// fails under a statement: the next use fails with pgx's "conn closed".
func closingServer(t *testing.T) (*harness, *atomic.Bool) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	broken := new(atomic.Bool)
	cfg.PrepareConn = func(ctx context.Context, conn *pgx.Conn) (bool, error) {
		if broken.Load() {
			_ = conn.PgConn().Close(ctx)
		}
		return true, nil
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return startCheckoutServer(t, pool, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL}), broken
}

// A connection pgx closed ("conn closed") is the database being
// unavailable: 503 on the webhook and on API routes, never 500.
func TestConnClosed(t *testing.T) {
	t.Parallel()
	h := env(t)
	srv, broken := closingServer(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	c := h.newWebhookCheckout(t, shop, "SKU-1", 2)
	payload := paidEvent("evt_closed_"+shop, c)
	before := h.webhookState(t, shop)

	broken.Store(true)
	expectTransient503(t, srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), true))
	for _, rq := range []req{
		{Method: http.MethodGet, Path: shopPath(shop, "/stock/SKU-1")},
		{Method: http.MethodPost, Path: shopPath(shop, "/holds"), Body: map[string]any{"items": []any{item("SKU-1", "", 1)}}},
		{Method: http.MethodPost, Path: checkoutPath, Body: checkoutBody(shop, checkoutItem("SKU-1", "", 1))},
	} {
		rq.Token, rq.ServerError = serviceToken, true
		expectTransient503(t, srv.do(t, rq))
	}
	// A shop key is looked up in the database too.
	token, _ := h.shopKey(t, shop)
	expectTransient503(t, srv.do(t, req{Method: http.MethodGet, Path: shopPath(shop, "/stock/SKU-1"), Token: token, ServerError: true}))
	h.assertWebhookStateUnchanged(t, shop, before)

	broken.Store(false)
	expectWebhook(t, srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), false), "committed")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// A checkout whose idempotency key another request is still claiming waits
// for it no longer than the lock timeout: 429 inventory_busy with
// Retry-After, as for any contention on the API, and nothing created.
func TestCheckoutIdempotencyKeyContended(t *testing.T) {
	t.Parallel()
	h := env(t)
	srv, _ := transientServer(t, 100*time.Millisecond)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	before := h.webhookState(t, shop)
	h.holdOpen(t, `INSERT INTO checkouts (shop_id, id, mode, inventory_mode, idempotency_key, request_hash, lines)
		VALUES ($1, 'chk_other', 'sale', 'reserve_ttl', 'cart-1', '\x00', '[]')`, shop)

	body := withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 1)), map[string]any{"idempotencyKey": "cart-1"})
	r := srv.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: serviceToken, Body: body})
	expect(t, r, http.StatusTooManyRequests, "inventory_busy")
	assertKeys(t, r.Obj(t), "error", "message", "retryAfter")
	if r.Header.Get("Retry-After") != "1" || num(t, r.Obj(t), "retryAfter") != 1000 {
		t.Errorf("Retry-After %q, retryAfter %v", r.Header.Get("Retry-After"), r.Obj(t)["retryAfter"])
	}
	h.assertWebhookStateUnchanged(t, shop, before)
}

// The webhook's contention answer is 503 even for an event whose hold's
// stock rows are locked (the ledger's BusyError), where the API says 429.
func TestWebhookStockRowsLocked(t *testing.T) {
	t.Parallel()
	h := env(t)
	srv, _ := transientServer(t, 100*time.Millisecond)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	c := h.newWebhookCheckout(t, shop, "SKU-1", 2)
	payload := stripeEvent("evt_rows_"+shop, stripe.EventTypeCheckoutSessionCompleted, stripe.APIVersion, c.session, "paid", c.metadata)
	before := h.webhookState(t, shop)
	locker := h.holdOpen(t, "SELECT 1 FROM stock_levels WHERE shop_id = $1 FOR UPDATE", shop)

	expectTransient503(t, srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), true))
	h.assertWebhookStateUnchanged(t, shop, before)
	// The API answers the same contention with 429.
	r := srv.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{item("SKU-1", "", 1)}})
	expect(t, r, http.StatusTooManyRequests, "inventory_busy")

	if err := locker.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	expectWebhook(t, srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), false), "committed")
}
