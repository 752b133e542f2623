package httpapi_test

// Tests of POST /api/checkout/sessions as HTTP: the answer to a new
// session, to a replay and to a reused key, per mode. How the route answers
// checkout's errors is in checkout_errors_test.go; decoding, checking and
// authenticating requests in checkout_requests_test.go. What a checkout does
// (holds, Stripe's parameters, releases, resuming after a crash) is
// checkout's to test (checkout/*_test.go). The shared server runs in
// reserve_ttl mode; tests of another mode, of lock contention and of a
// database that does not answer start servers of their own. Stripe is
// fakeSessions.

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/internal/testkit"
)

const checkoutPath = "/api/checkout/sessions"

// stripeSecretInError is in the error the fake Stripe returns when failing:
// it must never reach a response body.
const stripeSecretInError = "sk_test_fake_secret"

// fakeSessions is the test kit's fake Stripe, read shop by shop (the
// shared server's tests each work under a shop of their own) and told to
// fail for a shop.
type fakeSessions struct {
	*testkit.FakeStripe
	mu       sync.Mutex
	failShop map[string]bool
}

var _ stripeclient.Sessions = (*fakeSessions)(nil)

func newFakeSessions() *fakeSessions {
	f := &fakeSessions{FakeStripe: testkit.NewFakeStripe(), failShop: map[string]bool{}}
	f.BeforeNew(func(_ int, p *stripe.CheckoutSessionParams) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failShop[p.Metadata["shop_id"]] {
			return &stripe.Error{HTTPStatusCode: http.StatusInternalServerError, Type: stripe.ErrorTypeAPI,
				Msg: "fake Stripe is down (key " + stripeSecretInError + ")"}
		}
		return nil
	})
	return f
}

// callsFor returns the session requests made for shop.
func (f *fakeSessions) callsFor(shop string) []*stripe.CheckoutSessionParams {
	var out []*stripe.CheckoutSessionParams
	for _, p := range f.NewCalls() {
		if p.Metadata["shop_id"] == shop {
			out = append(out, p)
		}
	}
	return out
}

// fail makes New fail for shop (or succeed again).
func (f *fakeSessions) fail(shop string, fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failShop[shop] = fail
}

// assertCalls fails the test unless the fake got n session requests for shop.
func (f *fakeSessions) assertCalls(t testing.TB, shop string, n int) []*stripe.CheckoutSessionParams {
	t.Helper()
	calls := f.callsFor(shop)
	if len(calls) != n {
		t.Errorf("Stripe got %d session requests for %s, want %d", len(calls), shop, n)
	}
	return calls
}

// checkoutItem is a checkout line priced inline.
func checkoutItem(sku, variantKey string, quantity int64) map[string]any {
	return map[string]any{"sku": sku, "variantKey": variantKey, "quantity": quantity,
		"name": "Linen shirt (M)", "unitAmount": 4500, "currency": "eur"}
}

// checkoutBody is a valid sale request for shop.
func checkoutBody(shop string, items ...map[string]any) map[string]any {
	lines := make([]any, len(items))
	for i, it := range items {
		lines[i] = it
	}
	return map[string]any{
		"shopId": shop, "mode": "sale", "items": lines,
		"successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/cart",
	}
}

// withFields returns a copy of body with the fields of extra set (nil deletes).
func withFields(body map[string]any, extra map[string]any) map[string]any {
	out := make(map[string]any, len(body)+len(extra))
	for k, v := range body {
		out[k] = v
	}
	for k, v := range extra {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// createCheckout posts body with the service token.
func (h *harness) createCheckout(t testing.TB, body any) *response {
	t.Helper()
	return h.svc(t, http.MethodPost, checkoutPath, body)
}

// assertSession checks a checkout session body: exactly the contract's keys,
// a cs_ id, an https URL, inventoryMode mode, a hold_ reservationId when
// reserved (null otherwise) and an RFC 3339 UTC expiresAt that Stripe
// accepts. It returns the body.
func assertSession(t testing.TB, r *response, mode checkoutd.InventoryMode, reserved bool) map[string]any {
	t.Helper()
	m := r.Obj(t)
	assertKeys(t, m, "id", "url", "inventoryMode", "reservationId", "expiresAt", "uiMode", "clientSecret")
	if m["uiMode"] != "hosted" || m["clientSecret"] != nil {
		t.Errorf("uiMode %v, clientSecret %v; want hosted and null", m["uiMode"], m["clientSecret"])
	}
	if id := str(t, m, "id"); !strings.HasPrefix(id, "cs_") {
		t.Errorf("id %q does not start with cs_", id)
	}
	if u := str(t, m, "url"); !strings.HasPrefix(u, "https://") {
		t.Errorf("url %q is not https", u)
	}
	if got := str(t, m, "inventoryMode"); got != string(mode) {
		t.Errorf("inventoryMode %q, want %q", got, mode)
	}
	switch res := m["reservationId"]; {
	case reserved:
		if s, _ := res.(string); !strings.HasPrefix(s, "hold_") {
			t.Errorf("reservationId %v, want hold_...", res)
		}
	case res != nil:
		t.Errorf("reservationId %v, want null", res)
	}
	exp := timeField(t, m, "expiresAt")
	if d := time.Until(exp); d < 29*time.Minute || d > 24*time.Hour {
		t.Errorf("expiresAt %s is %s away; Stripe wants 30 minutes to 24 hours", exp, d)
	}
	return m
}

// startCheckoutServer starts a server of the test's own over the package
// database, its checkout route configured by cfg, stopped at cleanup.
func startCheckoutServer(t testing.TB, pool *pgxpool.Pool, cfg checkout.Config) *harness {
	t.Helper()
	srv, err := startServerWith(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
	})
	return srv
}

// TestCheckoutCreated: a new session is 201 with exactly the contract's
// fields, a replay of its idempotency key 200 with the same body, and the
// key reused for another request 409 idempotency_conflict.
func TestCheckoutCreated(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-123", "size:M", "", 5)

	body := withFields(checkoutBody(shop, checkoutItem("SKU-123", "size:M", 2)), map[string]any{"idempotencyKey": "cart-42"})
	r := h.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	sess := assertSession(t, r, checkoutd.ModeReserveTTL, true)
	calls := h.sessions.assertCalls(t, shop, 1)
	if len(calls) == 1 && (calls[0].ExpiresAt == nil || *calls[0].ExpiresAt != timeField(t, sess, "expiresAt").Unix()) {
		t.Errorf("Stripe expires_at %v, response expiresAt %v", calls[0].ExpiresAt, sess["expiresAt"])
	}
	before := h.snapshot(t, shop)

	r = h.createCheckout(t, body)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, sess)

	r = h.createCheckout(t, withFields(body, map[string]any{"items": []any{checkoutItem("SKU-123", "size:M", 1)}}))
	expect(t, r, http.StatusConflict, "idempotency_conflict")
	assertKeys(t, r.Obj(t), "error", "message")
	h.sessions.assertCalls(t, shop, 1)
	h.assertUnchanged(t, shop, before)
}

// TestCheckoutModes: the answer names the configured inventory mode, with a
// null reservationId when nothing is held; the SKIP_INVENTORY_VALIDATION
// bypass is not a mode of the contract, so it reports the configured one.
func TestCheckoutModes(t *testing.T) {
	t.Parallel()
	h := env(t)
	for _, tc := range []struct {
		name string
		cfg  checkout.Config
		want checkoutd.InventoryMode
	}{
		{"validate_only", checkout.Config{InventoryMode: checkoutd.ModeValidateOnly}, checkoutd.ModeValidateOnly},
		{"bypass", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, SkipInventoryValidation: true}, checkoutd.ModeReserveTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startCheckoutServer(t, h.pool, tc.cfg)
			shop := h.newShop(t)
			h.stock(t, shop, "SKU-1", "", "", 5)
			r := srv.createCheckout(t, checkoutBody(shop, checkoutItem("SKU-1", "", 1)))
			expect(t, r, http.StatusCreated, "")
			assertSession(t, r, tc.want, false)
			if !strings.Contains(string(r.Raw), `"reservationId":null`) {
				t.Errorf("reservationId is not null: %s", r.Raw)
			}
		})
	}
}

// TestCheckoutIdempotencyConcurrent: requests racing with one key make one
// session and one hold.
func TestCheckoutIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	body := withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 2)), map[string]any{"idempotencyKey": "cart-race"})

	const n = 8
	results := make([]*response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = h.createCheckout(t, body) })
	}
	wg.Wait()

	var created map[string]any
	var replays []*response
	for _, r := range results {
		switch r.Status {
		case http.StatusCreated:
			if created != nil {
				t.Errorf("two 201s: %v and %s", created, r.Raw)
			}
			created = assertSession(t, r, checkoutd.ModeReserveTTL, true)
		case http.StatusOK:
			replays = append(replays, r)
		case http.StatusConflict:
			// The first request was still creating the session.
			expect(t, r, http.StatusConflict, "conflict")
		default:
			t.Errorf("status %d: %s", r.Status, r.Raw)
		}
	}
	if created == nil {
		t.Fatal("no request created the session")
	}
	for _, r := range replays {
		assertJSON(t, r, created)
	}
	h.sessions.assertCalls(t, shop, 1)
	// One hold of two units, not one per request.
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.Reserved != 2 {
		t.Errorf("reserved %d, want 2", info.Reserved)
	}

	// After the race every replay answers the session.
	r := h.createCheckout(t, body)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, created)
}
