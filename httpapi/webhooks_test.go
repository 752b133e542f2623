package httpapi_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

const webhookPath = "/webhooks/stripe"

// webhookCheckout is a reserve_ttl checkout created through the API, and
// the metadata its Stripe session got.
type webhookCheckout struct {
	session  string
	hold     string
	metadata map[string]string
}

// newWebhookCheckout creates a checkout for qty of sku in shop.
func (h *harness) newWebhookCheckout(t testing.TB, shop, sku string, qty int64) webhookCheckout {
	t.Helper()
	r := h.createCheckout(t, checkoutBody(shop, checkoutItem(sku, "", qty)))
	expect(t, r, http.StatusCreated, "")
	m := r.Obj(t)
	c := webhookCheckout{session: str(t, m, "id"), hold: str(t, m, "reservationId")}
	s, err := h.sessions.Get(c.session, nil)
	if err != nil {
		t.Fatalf("the fake Stripe has no session %s: %v", c.session, err)
	}
	c.metadata = s.Metadata
	return c
}

// stripeEvent renders an event about a Checkout Session as Stripe sends it.
func stripeEvent(id string, typ stripe.EventType, apiVersion, session, paymentStatus string, metadata map[string]string) []byte {
	obj, err := json.Marshal(map[string]any{
		"id": session, "object": "checkout.session", "mode": "payment", "status": "complete",
		"payment_status": paymentStatus, "payment_intent": "pi_" + id, "metadata": metadata,
	})
	if err != nil {
		panic(err)
	}
	payload, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": apiVersion, "livemode": false,
		"created": time.Now().Unix(), "data": map[string]any{"object": json.RawMessage(obj)},
	})
	if err != nil {
		panic(err)
	}
	return payload
}

// paidEvent is checkout.session.completed, paid, for c.
func paidEvent(id string, c webhookCheckout) []byte {
	return stripeEvent(id, stripe.EventTypeCheckoutSessionCompleted, stripe.APIVersion, c.session, "paid", c.metadata)
}

// stripeSignature signs payload with secret at the time at, as Stripe does.
func stripeSignature(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

// postWebhook posts payload with the Stripe-Signature header (none when
// signature is ""), and no bearer token.
func (h *harness) postWebhook(t testing.TB, payload []byte, signature string, serverError bool) *response {
	t.Helper()
	r := req{Method: http.MethodPost, Path: webhookPath, Body: payload, ServerError: serverError}
	if signature != "" {
		r.Header = map[string]string{"Stripe-Signature": signature}
	}
	return h.do(t, r)
}

// expectWebhook fails the test unless the answer is 200
// {"received": true, "outcome": outcome}, with a "reason" when ignored.
func expectWebhook(t testing.TB, r *response, outcome string) {
	t.Helper()
	expect(t, r, http.StatusOK, "")
	want := map[string]any{"received": true, "outcome": outcome}
	if outcome == "ignored" {
		reason, _ := r.Obj(t)["reason"].(string)
		if reason == "" {
			t.Errorf("ignored without a reason: %s", r.Raw)
		}
		want["reason"] = reason
	}
	assertJSON(t, r, want)
}

// webhookState is everything an event could change in shop apart from the
// inbox: stock and movements (snapshot), and the holds' and checkouts'
// states.
func (h *harness) webhookState(t testing.TB, shop string) string {
	t.Helper()
	var s string
	err := h.pool.QueryRow(context.Background(), `
		SELECT json_build_object(
			'holds', (SELECT json_agg(x ORDER BY x.id) FROM (SELECT id, status, expires_at FROM holds WHERE shop_id = $1) x),
			'checkouts', (SELECT json_agg(x ORDER BY x.id) FROM (SELECT id, status, hold_id, payment_intent_id FROM checkouts WHERE shop_id = $1) x),
			'oversold', (SELECT count(*) FROM oversold_orders WHERE shop_id = $1)
		)::text`, shop).Scan(&s)
	if err != nil {
		t.Fatalf("webhook state: %v", err)
	}
	return h.snapshot(t, shop) + s
}

// assertWebhookStateUnchanged fails the test if shop changed since before.
func (h *harness) assertWebhookStateUnchanged(t testing.TB, shop, before string) {
	t.Helper()
	if after := h.webhookState(t, shop); after != before {
		t.Errorf("shop %s changed:\nbefore %s\nafter  %s", shop, before, after)
	}
}

// inboxRows counts the rows of event id in stripe_events, under any shop.
func (h *harness) inboxRows(t testing.TB, id string) int {
	t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), "SELECT count(*) FROM stripe_events WHERE id = $1", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkoutStatus reads the status of the checkout behind a Stripe session.
func (h *harness) checkoutStatus(t testing.TB, shop, session string) string {
	t.Helper()
	var status string
	if err := h.pool.QueryRow(context.Background(), "SELECT status FROM checkouts WHERE shop_id = $1 AND stripe_session_id = $2",
		shop, session).Scan(&status); err != nil {
		t.Fatal(err)
	}
	return status
}

// A body the signature does not verify is refused with 400
// invalid_signature, whatever is wrong with the signature, and changes
// nothing: not even the inbox.
func TestWebhookBadSignatures(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	c := h.newWebhookCheckout(t, shop, "SKU-1", 2)
	id := "evt_badsig_" + shop
	payload := paidEvent(id, c)
	other := paidEvent(id+"_other", c)
	now := time.Now()
	valid := stripeSignature(payload, "whsec_new", now)
	v1 := valid[strings.Index(valid, "v1="):]
	before := h.webhookState(t, shop)

	for _, tc := range []struct{ name, signature string }{
		{"missing", ""},
		{"not a header", "nonsense"},
		{"no v1 signature", fmt.Sprintf("t=%d", now.Unix())},
		{"only a v0 signature", fmt.Sprintf("t=%d,v0=%s", now.Unix(), hex.EncodeToString(webhook.ComputeSignature(now, payload, "whsec_new")))},
		{"malformed timestamp", "t=yesterday," + v1},
		{"no timestamp", v1},
		{"an unknown secret", stripeSignature(payload, "whsec_unknown", now)},
		{"the secret's prefix only", stripeSignature(payload, "whsec_", now)},
		{"both secrets joined", stripeSignature(payload, webhookSecrets, now)},
		{"another body's signature", stripeSignature(other, "whsec_new", now)},
		{"the signature of another time", fmt.Sprintf("t=%d,", now.Unix()-1) + v1},
		{"stale: 301 s old", stripeSignature(payload, "whsec_new", now.Add(-301*time.Second))},
		{"stale: an hour old", stripeSignature(payload, "whsec_old", now.Add(-time.Hour))},
		// Well past the 300 s tolerance: time passes between now and the
		// request, bringing a signature from the future closer.
		{"from the future: 330 s ahead", stripeSignature(payload, "whsec_new", now.Add(330*time.Second))},
		{"from the future: a year ahead, both secrets", stripeSignature(payload, "whsec_old", now.AddDate(1, 0, 0)) + "," +
			strings.SplitN(stripeSignature(payload, "whsec_new", now.AddDate(1, 0, 0)), ",", 2)[1]},
		{"stale: a day old, both secrets", stripeSignature(payload, "whsec_old", now.Add(-24*time.Hour)) + "," +
			strings.SplitN(stripeSignature(payload, "whsec_new", now.Add(-24*time.Hour)), ",", 2)[1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.postWebhook(t, payload, tc.signature, false)
			expect(t, r, http.StatusBadRequest, "invalid_signature")
			assertKeys(t, r.Obj(t), "error", "message")
		})
	}
	// A tampered body under a valid signature.
	tampered := []byte(strings.Replace(string(payload), `"paid"`, `"unpaid"`, 1))
	expect(t, h.postWebhook(t, tampered, valid, false), http.StatusBadRequest, "invalid_signature")

	h.assertWebhookStateUnchanged(t, shop, before)
	if n := h.inboxRows(t, id); n != 0 {
		t.Errorf("a refused event is in the inbox (%d rows)", n)
	}
	if got := h.checkoutStatus(t, shop, c.session); got != "open" {
		t.Errorf("checkout %q, want open", got)
	}

	// A signature within the tolerance passes, either way (clocks differ).
	expectWebhook(t, h.postWebhook(t, payload, stripeSignature(payload, "whsec_new", now.Add(-240*time.Second)), false), "committed")
	expectWebhook(t, h.postWebhook(t, payload, stripeSignature(payload, "whsec_new", now.Add(240*time.Second)), false), "duplicate")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// During a rotation the server has the old and the new secret: a body
// signed with either, or with both as Stripe does while both are live,
// verifies.
func TestWebhookRotatedSecret(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	old, current, both := h.newWebhookCheckout(t, shop, "SKU-1", 1), h.newWebhookCheckout(t, shop, "SKU-1", 2), h.newWebhookCheckout(t, shop, "SKU-1", 3)

	p := paidEvent("evt_old", old)
	expectWebhook(t, h.postWebhook(t, p, stripeSignature(p, "whsec_old", time.Time{}), false), "committed")
	// The same event again, now signed with the new secret: a duplicate.
	expectWebhook(t, h.postWebhook(t, p, stripeSignature(p, "whsec_new", time.Time{}), false), "duplicate")

	p = paidEvent("evt_new", current)
	expectWebhook(t, h.postWebhook(t, p, stripeSignature(p, "whsec_new", time.Time{}), false), "committed")

	p = paidEvent("evt_both", both)
	now := time.Now()
	header := stripeSignature(p, "whsec_unknown", now) + "," +
		strings.SplitN(stripeSignature(p, "whsec_new", now), ",", 2)[1]
	expectWebhook(t, h.postWebhook(t, p, header, false), "committed")

	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 4 || info.Reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 4 and 0", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// An event rendered in another API version than stripe-go's is processed:
// checkoutd reads only fields every version has, and keeps the version in
// the inbox.
func TestWebhookOtherAPIVersion(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	for i, version := range []string{"2020-08-27", "2025-03-31.basil", ""} {
		c := h.newWebhookCheckout(t, shop, "SKU-1", 1)
		id := fmt.Sprintf("evt_version_%d", i)
		p := stripeEvent(id, stripe.EventTypeCheckoutSessionCompleted, version, c.session, "paid", c.metadata)
		expectWebhook(t, h.postWebhook(t, p, stripeSignature(p, "whsec_new", time.Time{}), false), "committed")
		var recorded string
		if err := h.pool.QueryRow(context.Background(), "SELECT api_version FROM stripe_events WHERE shop_id = $1 AND id = $2",
			shop, id).Scan(&recorded); err != nil || recorded != version {
			t.Errorf("inbox api_version %q (%v), want %q", recorded, err, version)
		}
	}
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 2 || info.Reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 2 and 0", info.OnHand, info.Reserved)
	}
}

// Every outcome answers 200 {"received": true, "outcome": ...}.
func TestWebhookOutcomes(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	paid, async, expired := h.newWebhookCheckout(t, shop, "SKU-1", 2), h.newWebhookCheckout(t, shop, "SKU-1", 1), h.newWebhookCheckout(t, shop, "SKU-1", 3)
	send := func(id string, typ stripe.EventType, c webhookCheckout, paymentStatus, want string) {
		t.Helper()
		p := stripeEvent(id, typ, stripe.APIVersion, c.session, paymentStatus, c.metadata)
		expectWebhook(t, h.postWebhook(t, p, stripeSignature(p, "whsec_new", time.Time{}), false), want)
	}
	send("evt_1", stripe.EventTypeCheckoutSessionCompleted, paid, "paid", "committed")
	send("evt_1", stripe.EventTypeCheckoutSessionCompleted, paid, "paid", "duplicate")
	send("evt_2", stripe.EventTypeCheckoutSessionExpired, paid, "unpaid", "unchanged")
	send("evt_3", stripe.EventTypeCheckoutSessionCompleted, async, "unpaid", "awaiting_payment")
	send("evt_4", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, async, "paid", "committed")
	send("evt_5", stripe.EventTypeCheckoutSessionExpired, expired, "unpaid", "released")
	send("evt_6", "checkout.session.some_future_event", expired, "unpaid", "ignored")
	send("evt_7", stripe.EventTypeCheckoutSessionCompleted, webhookCheckout{session: "cs_test_unknown", metadata: paid.metadata}, "paid", "ignored")
	send("evt_unknown_type_"+shop, "customer.created", webhookCheckout{}, "", "ignored")

	for session, want := range map[string]string{paid.session: "completed", async.session: "completed", expired.session: "expired"} {
		if got := h.checkoutStatus(t, shop, session); got != want {
			t.Errorf("checkout %s: %q, want %q", session, got, want)
		}
	}
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 7 || info.Reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 7 and 0", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// A body over the limit is refused with 413 before anything else, even
// when signed.
func TestWebhookBodyTooLarge(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	c := h.newWebhookCheckout(t, shop, "SKU-1", 2)
	md := map[string]string{"padding": strings.Repeat("x", 2<<20)}
	for k, v := range c.metadata {
		md[k] = v
	}
	id := "evt_large_" + shop
	p := stripeEvent(id, stripe.EventTypeCheckoutSessionCompleted, stripe.APIVersion, c.session, "paid", md)
	before := h.webhookState(t, shop)
	r := h.postWebhook(t, p, stripeSignature(p, "whsec_new", time.Time{}), false)
	expect(t, r, http.StatusRequestEntityTooLarge, "body_too_large")
	assertKeys(t, r.Obj(t), "error", "message")
	h.assertWebhookStateUnchanged(t, shop, before)
	if n := h.inboxRows(t, id); n != 0 {
		t.Errorf("the refused event is in the inbox (%d rows)", n)
	}
}

// A signed body that is not a Stripe event is refused with 400.
func TestWebhookNotAnEvent(t *testing.T) {
	t.Parallel()
	h := env(t)
	for _, body := range []string{
		`{}`,
		`{"object": "event"}`,
		`{"hello": "world"}`,
		`{"id": "evt_no_type", "object": "event", "data": {"object": {}}}`,
		`{"type": "checkout.session.completed", "object": "event", "data": {"object": {}}}`,
		`{"id": "", "type": ""}`,
		`{"id": 5, "type": "checkout.session.completed"}`,
		`{"id": "evt_bad_data", "type": "checkout.session.completed", "data": {"object": []}}`,
		`{"id": "evt_bad_data2", "type": "checkout.session.completed", "data": "x"}`,
		`null`,
		`[]`,
		`"evt_1"`,
		`42`,
		`not json`,
		``,
	} {
		r := h.postWebhook(t, []byte(body), stripeSignature([]byte(body), "whsec_new", time.Time{}), false)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", body, r.Status, r.Raw)
			continue
		}
		expect(t, r, http.StatusBadRequest, "invalid_signature")
	}
	for _, id := range []string{"evt_no_type", "evt_bad_data", "evt_bad_data2"} {
		if n := h.inboxRows(t, id); n != 0 {
			t.Errorf("%s is in the inbox (%d rows)", id, n)
		}
	}
}

// With the database unavailable the event is answered 503, so Stripe
// retries it, and nothing is recorded; the retry, once the database is
// back, applies it.
func TestWebhookDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	c := h.newWebhookCheckout(t, shop, "SKU-1", 2)
	id := "evt_unavailable_" + shop
	payload := paidEvent(id, c)
	before := h.webhookState(t, shop)

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
	lazy := func(t *testing.T, change func(cfg *pgxpool.Config)) *pgxpool.Pool {
		cfg := base.Copy()
		cfg.ConnConfig.ConnectTimeout = 2 * time.Second
		cfg.MaxConns = 2
		change(cfg)
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return pool
	}
	for _, tc := range []struct {
		name string
		pool func(t *testing.T) *pgxpool.Pool
	}{
		{"closed port", func(t *testing.T) *pgxpool.Pool {
			return lazy(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.Port = uint16(closedPort) })
		}},
		{"missing database", func(t *testing.T) *pgxpool.Pool {
			return lazy(t, func(cfg *pgxpool.Config) {
				cfg.ConnConfig.Database = "checkoutd_test_missing_" + strings.ReplaceAll(shop, "-", "_")
			})
		}},
		// The database goes away under a pool with open connections (a
		// failover, a restart): the request meets a terminated connection.
		{"dropped database", func(t *testing.T) *pgxpool.Pool {
			ctx := context.Background()
			dbURL := testdb.EmptyURL(t)
			pool, err := database.Open(ctx, dbURL, database.PoolConfig{MaxConns: 2, ApplicationName: "checkoutd-test-webhook-dropped"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			cfg, err := pgxpool.ParseConfig(dbURL)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.pool.Exec(ctx, "DROP DATABASE "+pgx.Identifier{cfg.ConnConfig.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
				t.Fatal(err)
			}
			return pool
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startCheckoutServer(t, tc.pool(t), checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
			for i := range 2 {
				r := srv.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Time{}), true)
				if r.Status != http.StatusServiceUnavailable {
					t.Errorf("delivery %d: status %d, want 503 inventory_unavailable: %s", i+1, r.Status, r.Raw)
					continue
				}
				expect(t, r, http.StatusServiceUnavailable, "inventory_unavailable")
				assertKeys(t, r.Obj(t), "error", "message")
			}
		})
	}
	h.assertWebhookStateUnchanged(t, shop, before)
	if n := h.inboxRows(t, id); n != 0 {
		t.Errorf("the failed event is in the inbox (%d rows)", n)
	}

	// Stripe's retry reaches a server with its database.
	expectWebhook(t, h.postWebhook(t, payload, stripeSignature(payload, "whsec_old", time.Time{}), false), "committed")
	if got := h.checkoutStatus(t, shop, c.session); got != "completed" {
		t.Errorf("checkout %q after the retry, want completed", got)
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}
