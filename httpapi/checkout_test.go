package httpapi_test

// Tests of POST /api/checkout/sessions. The shared server runs the route in
// reserve_ttl mode; tests of the other modes, of lock contention and of a
// database that does not answer start servers of their own. Stripe is
// fakeSessions, which records what it is asked per shop and can be told to
// fail for a shop.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/form"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

const checkoutPath = "/api/checkout/sessions"

// stripeSecretInError is in the error the fake Stripe returns when failing:
// it must never reach a response body.
const stripeSecretInError = "sk_test_fake_secret"

// fakeSessions is an in-process stripeclient.Sessions. Like Stripe, it answers a
// repeated idempotency key with the session it created for it, and with an
// idempotency_error if the parameters differ from the first request's
// (https://docs.stripe.com/changelog/2015-09-03/reuse-idempotency-tokens-alter-error).
type fakeSessions struct {
	mu       sync.Mutex
	calls    map[string][]*stripe.CheckoutSessionParams // by metadata.shop_id
	byKey    map[string]keyedSession
	byID     map[string]*stripe.CheckoutSession
	failShop map[string]bool
}

// keyedSession is what Stripe keeps of an idempotent request.
type keyedSession struct {
	body    string // the request's form encoding, as sent to Stripe
	session *stripe.CheckoutSession
}

// stripeBody is the form body stripe-go would send for p.
func stripeBody(p *stripe.CheckoutSessionParams) string {
	var body form.Values
	form.AppendTo(&body, p)
	return body.Encode()
}

var _ stripeclient.Sessions = (*fakeSessions)(nil)

func newFakeSessions() *fakeSessions {
	return &fakeSessions{
		calls:    map[string][]*stripe.CheckoutSessionParams{},
		byKey:    map[string]keyedSession{},
		byID:     map[string]*stripe.CheckoutSession{},
		failShop: map[string]bool{},
	}
}

func (f *fakeSessions) New(p *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	shop := p.Metadata["shop_id"]
	f.calls[shop] = append(f.calls[shop], p)
	if f.failShop[shop] {
		return nil, &stripe.Error{HTTPStatusCode: http.StatusInternalServerError, Type: stripe.ErrorTypeAPI,
			Msg: "fake Stripe is down (key " + stripeSecretInError + ")"}
	}
	body := stripeBody(p)
	if p.IdempotencyKey != nil {
		if k, ok := f.byKey[*p.IdempotencyKey]; ok {
			if k.body != body {
				return nil, &stripe.Error{HTTPStatusCode: http.StatusBadRequest, Type: stripe.ErrorTypeIdempotency,
					Msg: "Keys for idempotent requests can only be used with the same parameters they were first used with."}
			}
			return k.session, nil
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := "cs_test_" + hex.EncodeToString(b[:])
	s := &stripe.CheckoutSession{
		ID:       id,
		Object:   "checkout.session",
		URL:      "https://checkout.stripe.test/c/pay/" + id,
		Metadata: p.Metadata,
		Mode:     stripe.CheckoutSessionModePayment,
		Status:   stripe.CheckoutSessionStatusOpen,
	}
	if p.ExpiresAt != nil {
		s.ExpiresAt = *p.ExpiresAt
	}
	if p.IdempotencyKey != nil {
		f.byKey[*p.IdempotencyKey] = keyedSession{body: body, session: s}
	}
	f.byID[id] = s
	return s, nil
}

func (f *fakeSessions) Get(id string, _ *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.byID[id]; ok {
		return s, nil
	}
	return nil, &stripe.Error{HTTPStatusCode: http.StatusNotFound, Type: stripe.ErrorTypeInvalidRequest, Msg: "no such checkout session"}
}

func (f *fakeSessions) Expire(id string, _ *stripe.CheckoutSessionExpireParams) (*stripe.CheckoutSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.byID[id]; ok {
		s.Status = stripe.CheckoutSessionStatusExpired
		return s, nil
	}
	return nil, &stripe.Error{HTTPStatusCode: http.StatusNotFound, Type: stripe.ErrorTypeInvalidRequest, Msg: "no such checkout session"}
}

// forgetKeys makes Stripe forget the idempotency keys of shop's sessions,
// as if their requests had never reached it.
func (f *fakeSessions) forgetKeys(shop string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range f.byKey {
		if v.session.Metadata["shop_id"] == shop {
			delete(f.byKey, k)
		}
	}
}

// callsFor returns the session requests made for shop.
func (f *fakeSessions) callsFor(shop string) []*stripe.CheckoutSessionParams {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*stripe.CheckoutSessionParams(nil), f.calls[shop]...)
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
	assertKeys(t, m, "id", "url", "inventoryMode", "reservationId", "expiresAt")
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

// assertStripeRequest checks what Stripe was asked for a session answered
// with sess.
func assertStripeRequest(t testing.TB, p *stripe.CheckoutSessionParams, shop, mode string, sess map[string]any) {
	t.Helper()
	reservation, _ := sess["reservationId"].(string)
	for what, md := range map[string]map[string]string{"metadata": p.Metadata, "payment_intent_data.metadata": paymentIntentMetadata(p)} {
		if md["shop_id"] != shop {
			t.Errorf("%s.shop_id %q, want %q", what, md["shop_id"], shop)
		}
		if md["checkout_mode"] != mode {
			t.Errorf("%s.checkout_mode %q, want %q", what, md["checkout_mode"], mode)
		}
		if !strings.HasPrefix(md["checkout_id"], "chk_") {
			t.Errorf("%s.checkout_id %q, want chk_...", what, md["checkout_id"])
		}
		got, ok := md["inventory_reservation_id"]
		switch {
		case reservation == "" && ok:
			t.Errorf("%s.inventory_reservation_id %q without a reservation", what, got)
		case reservation != "" && got != reservation:
			t.Errorf("%s.inventory_reservation_id %q, want %q", what, got, reservation)
		}
	}
	if p.Mode == nil || *p.Mode != string(stripe.CheckoutSessionModePayment) {
		t.Errorf("Stripe mode %v, want payment", p.Mode)
	}
	if p.SuccessURL == nil || *p.SuccessURL != "https://shop.example/ok" {
		t.Errorf("success_url %v", p.SuccessURL)
	}
	if p.CancelURL == nil || *p.CancelURL != "https://shop.example/cart" {
		t.Errorf("cancel_url %v", p.CancelURL)
	}
	if p.IdempotencyKey == nil || *p.IdempotencyKey == "" {
		t.Error("no Stripe idempotency key")
	}
	exp := timeField(t, sess, "expiresAt")
	if p.ExpiresAt == nil || *p.ExpiresAt != exp.Unix() {
		t.Errorf("Stripe expires_at %v, response expiresAt %s", p.ExpiresAt, exp)
	}
}

func paymentIntentMetadata(p *stripe.CheckoutSessionParams) map[string]string {
	if p.PaymentIntentData == nil {
		return nil
	}
	return p.PaymentIntentData.Metadata
}

// holdStatuses returns the statuses of the shop's holds, as stored.
func (h *harness) holdStatuses(t testing.TB, shop string) []string {
	t.Helper()
	rows, err := h.pool.Query(context.Background(), "SELECT status FROM holds WHERE shop_id = $1 ORDER BY created_at", shop)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertReserved fails the test unless the line has reserved units held.
func (h *harness) assertReserved(t testing.TB, shop, sku, variantKey string, reserved int64) {
	t.Helper()
	if info := h.stockInfo(t, shop, sku, variantKey); info.Reserved != reserved {
		t.Errorf("%s[%s] reserved %d, want %d", sku, variantKey, info.Reserved, reserved)
	}
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

func TestCheckoutReserveTTL(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-123", "size:M", "", 5)

	body := withFields(checkoutBody(shop, checkoutItem("SKU-123", "size:M", 2)), map[string]any{
		"idempotencyKey": "cart-42", "customerEmail": "a@b.example", "clientReferenceId": "cart-42",
	})
	r := h.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	sess := assertSession(t, r, checkoutd.ModeReserveTTL, true)
	holdID := str(t, sess, "reservationId")

	calls := h.sessions.assertCalls(t, shop, 1)
	if len(calls) == 1 {
		p := calls[0]
		assertStripeRequest(t, p, shop, "sale", sess)
		if p.CustomerEmail == nil || *p.CustomerEmail != "a@b.example" {
			t.Errorf("customer_email %v", p.CustomerEmail)
		}
		if p.ClientReferenceID == nil || *p.ClientReferenceID != "cart-42" {
			t.Errorf("client_reference_id %v", p.ClientReferenceID)
		}
		if len(p.LineItems) != 1 {
			t.Fatalf("%d line items, want 1", len(p.LineItems))
		}
		li := p.LineItems[0]
		if li.Quantity == nil || *li.Quantity != 2 || li.Price != nil || li.PriceData == nil {
			t.Fatalf("line item %+v", li)
		}
		pd := li.PriceData
		if *pd.Currency != "eur" || *pd.UnitAmount != 4500 || *pd.ProductData.Name != "Linen shirt (M)" {
			t.Errorf("price data %s %d %q", *pd.Currency, *pd.UnitAmount, *pd.ProductData.Name)
		}
		if md := pd.ProductData.Metadata; md["sku"] != "SKU-123" || md["variant_key"] != "size:M" {
			t.Errorf("product metadata %v", md)
		}
	}

	// The hold holds the items, for the checkout and its session.
	h.assertReserved(t, shop, "SKU-123", "size:M", 2)
	hr := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+holdID), nil)
	expect(t, hr, http.StatusOK, "")
	hold := hr.Obj(t)
	if s := str(t, hold, "status"); s != "active" {
		t.Errorf("hold status %q", s)
	}
	if got := hold["checkoutSessionId"]; got != sess["id"] {
		t.Errorf("hold checkoutSessionId %v, want %v", got, sess["id"])
	}
	if len(calls) == 1 {
		if ref := hold["reference"]; ref != calls[0].Metadata["checkout_id"] {
			t.Errorf("hold reference %v, want the checkout id %q", ref, calls[0].Metadata["checkout_id"])
		}
	}
	holdItems := objs(t, hold, "items")
	if len(holdItems) != 1 || holdItems[0]["sku"] != "SKU-123" || num(t, holdItems[0], "quantity") != 2 {
		t.Errorf("hold items %v", holdItems)
	}
	holdExpires := timeField(t, hold, "expiresAt")
	if d := time.Until(holdExpires); d < defaultHoldTTL-time.Minute || d > defaultHoldTTL {
		t.Errorf("hold expires in %s, want the %s hold TTL", d, defaultHoldTTL)
	}

	before := h.snapshot(t, shop)

	t.Run("replay", func(t *testing.T) {
		r := h.createCheckout(t, body)
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, sess)
		h.sessions.assertCalls(t, shop, 1)
		h.assertUnchanged(t, shop, before)
	})

	t.Run("same key, other request", func(t *testing.T) {
		for name, other := range map[string]map[string]any{
			"quantity":   withFields(body, map[string]any{"items": []any{checkoutItem("SKU-123", "size:M", 1)}}),
			"successUrl": withFields(body, map[string]any{"successUrl": "https://shop.example/other"}),
			"mode":       withFields(body, map[string]any{"mode": "rental"}),
		} {
			r := h.createCheckout(t, other)
			if r.Status != http.StatusConflict {
				t.Errorf("other %s: status %d, want 409: %s", name, r.Status, r.Raw)
				continue
			}
			expect(t, r, http.StatusConflict, "idempotency_conflict")
			assertKeys(t, r.Obj(t), "error", "message")
		}
		h.sessions.assertCalls(t, shop, 1)
		h.assertUnchanged(t, shop, before)
	})

	t.Run("another key", func(t *testing.T) {
		r := h.createCheckout(t, withFields(body, map[string]any{"idempotencyKey": "cart-43"}))
		expect(t, r, http.StatusCreated, "")
		other := assertSession(t, r, checkoutd.ModeReserveTTL, true)
		if other["id"] == sess["id"] || other["reservationId"] == sess["reservationId"] {
			t.Errorf("a new key got the same session or hold: %v and %v", other, sess)
		}
		h.assertReserved(t, shop, "SKU-123", "size:M", 4)
	})

	t.Run("no key", func(t *testing.T) {
		r := h.createCheckout(t, withFields(body, map[string]any{"idempotencyKey": nil, "items": []any{checkoutItem("SKU-123", "size:M", 1)}}))
		expect(t, r, http.StatusCreated, "")
		assertSession(t, r, checkoutd.ModeReserveTTL, true)
		h.assertReserved(t, shop, "SKU-123", "size:M", 5)
	})
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// TestCheckoutStripePrice: a Stripe price id replaces name, unitAmount and
// currency.
func TestCheckoutStripePrice(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 3)

	r := h.createCheckout(t, checkoutBody(shop,
		map[string]any{"sku": "SKU-1", "variantKey": "", "quantity": 3, "price": "price_1PxYz"}))
	expect(t, r, http.StatusCreated, "")
	sess := assertSession(t, r, checkoutd.ModeReserveTTL, true)
	calls := h.sessions.assertCalls(t, shop, 1)
	if len(calls) == 1 {
		assertStripeRequest(t, calls[0], shop, "sale", sess)
		li := calls[0].LineItems
		if len(li) != 1 || li[0].Price == nil || *li[0].Price != "price_1PxYz" || li[0].PriceData != nil || *li[0].Quantity != 3 {
			t.Errorf("line items %+v", li)
		}
	}
	h.assertReserved(t, shop, "SKU-1", "", 3)
}

// TestCheckoutRental: a rental says so in the session's metadata.
func TestCheckoutRental(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "TENT-4", "", "", 2)

	r := h.createCheckout(t, withFields(checkoutBody(shop, checkoutItem("TENT-4", "", 1)), map[string]any{"mode": "rental"}))
	expect(t, r, http.StatusCreated, "")
	sess := assertSession(t, r, checkoutd.ModeReserveTTL, true)
	calls := h.sessions.assertCalls(t, shop, 1)
	if len(calls) == 1 {
		assertStripeRequest(t, calls[0], shop, "rental", sess)
		if got := calls[0].Metadata["checkout_mode"]; got != "rental" {
			t.Errorf("metadata.checkout_mode %q, want rental", got)
		}
	}
	var holdMode *string
	if err := h.pool.QueryRow(context.Background(), "SELECT checkout_mode FROM holds WHERE shop_id = $1 AND id = $2",
		shop, str(t, sess, "reservationId")).Scan(&holdMode); err != nil {
		t.Fatal(err)
	}
	if holdMode == nil || *holdMode != "rental" {
		t.Errorf("hold checkout_mode %v, want rental", holdMode)
	}
}

func TestCheckoutValidateOnly(t *testing.T) {
	t.Parallel()
	h := env(t)
	srv := startCheckoutServer(t, h.pool, checkout.Config{InventoryMode: checkoutd.ModeValidateOnly})
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "size:M", "", 5)
	before := h.snapshot(t, shop)

	body := withFields(checkoutBody(shop, checkoutItem("SKU-1", "size:M", 3), checkoutItem("SKU-1", "size:M", 2)),
		map[string]any{"idempotencyKey": "cart-v"})
	r := srv.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	sess := assertSession(t, r, checkoutd.ModeValidateOnly, false)
	if !strings.Contains(string(r.Raw), `"reservationId":null`) {
		t.Errorf("reservationId is not null: %s", r.Raw)
	}
	calls := srv.sessions.assertCalls(t, shop, 1)
	if len(calls) == 1 {
		assertStripeRequest(t, calls[0], shop, "sale", sess)
	}
	h.assertUnchanged(t, shop, before) // nothing held, nothing moved
	h.assertReserved(t, shop, "SKU-1", "size:M", 0)

	// A replay answers the same session.
	r = srv.createCheckout(t, body)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, sess)
	srv.sessions.assertCalls(t, shop, 1)

	// The lines are summed: 3 + 3 > 5.
	r = srv.createCheckout(t, checkoutBody(shop, checkoutItem("SKU-1", "size:M", 3), checkoutItem("SKU-1", "size:M", 3), checkoutItem("SKU-9", "", 1)))
	expect(t, r, http.StatusConflict, "insufficient_stock")
	m := r.Obj(t)
	assertKeys(t, m, "error", "message", "code", "items")
	if code := str(t, m, "code"); code != "inventory_insufficient" {
		t.Errorf("code %q", code)
	}
	want := []any{
		map[string]any{"sku": "SKU-1", "variantKey": "size:M", "requested": 6, "available": 5},
		map[string]any{"sku": "SKU-9", "variantKey": "", "requested": 1, "available": 0},
	}
	if !jsonEqual(m["items"], jsonOf(t, want)) {
		t.Errorf("items %v, want %v", m["items"], want)
	}
	srv.sessions.assertCalls(t, shop, 1)
	h.assertUnchanged(t, shop, before)
}

func TestCheckoutBypass(t *testing.T) {
	t.Parallel()
	h := env(t)
	logs := &testkit.SyncBuffer{}
	srv := startCheckoutServer(t, h.pool, checkout.Config{
		InventoryMode:           checkoutd.ModeReserveTTL,
		SkipInventoryValidation: true,
		Logger:                  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	shop := h.newShop(t) // no stock at all
	before := h.snapshot(t, shop)

	body := withFields(checkoutBody(shop, checkoutItem("SKU-NONE", "", 1000)), map[string]any{"idempotencyKey": "cart-b"})
	r := srv.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	// The contract has no bypass mode: the configured one is reported, with
	// no reservation.
	sess := assertSession(t, r, checkoutd.ModeReserveTTL, false)
	calls := srv.sessions.assertCalls(t, shop, 1)
	if len(calls) == 1 {
		assertStripeRequest(t, calls[0], shop, "sale", sess)
	}
	h.assertUnchanged(t, shop, before)
	if n := len(h.holdStatuses(t, shop)); n != 0 {
		t.Errorf("%d holds, want none", n)
	}
	if out := logs.String(); !strings.Contains(out, `"level":"WARN"`) || !strings.Contains(out, "SKIP_INVENTORY_VALIDATION") || !strings.Contains(out, shop) {
		t.Errorf("no warning naming SKIP_INVENTORY_VALIDATION and the shop in the logs:\n%s", out)
	}

	r = srv.createCheckout(t, body)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, sess)
	srv.sessions.assertCalls(t, shop, 1)

	// An unknown shop is still unknown.
	missing := testdb.ShopID(t)
	r = srv.createCheckout(t, checkoutBody(missing, checkoutItem("SKU-NONE", "", 1)))
	expect(t, r, http.StatusNotFound, "not_found")
	srv.sessions.assertCalls(t, missing, 0)
}

// TestCheckoutInsufficient: the 409 is the holds route's, and nothing is held.
func TestCheckoutInsufficient(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "size:M", "", 3)
	h.stock(t, shop, "SKU-2", "", "", 10)
	before := h.snapshot(t, shop)

	lines := []map[string]any{checkoutItem("SKU-1", "size:M", 2), checkoutItem("SKU-2", "", 1), checkoutItem("SKU-1", "size:M", 2), checkoutItem("SKU-9", "", 1)}
	body := withFields(checkoutBody(shop, lines...), map[string]any{"idempotencyKey": "cart-short"})
	r := h.createCheckout(t, body)
	expect(t, r, http.StatusConflict, "insufficient_stock")
	m := r.Obj(t)
	assertKeys(t, m, "error", "message", "code", "items")
	if code := str(t, m, "code"); code != "inventory_insufficient" {
		t.Errorf("code %q", code)
	}
	items := objs(t, m, "items")
	for _, it := range items {
		assertKeys(t, it, "sku", "variantKey", "requested", "available")
	}
	want := []any{
		map[string]any{"sku": "SKU-1", "variantKey": "size:M", "requested": 4, "available": 3},
		map[string]any{"sku": "SKU-9", "variantKey": "", "requested": 1, "available": 0},
	}
	if !jsonEqual(jsonOf(t, m["items"]), jsonOf(t, want)) {
		t.Errorf("items %v, want %v", m["items"], want)
	}

	// The same lines on the holds route get the same body.
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

	// The failed attempt did not keep its idempotency key.
	h.stock(t, shop, "SKU-1", "size:M", "", 4)
	h.stock(t, shop, "SKU-9", "", "", 1)
	r = h.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	assertSession(t, r, checkoutd.ModeReserveTTL, true)
	h.assertReserved(t, shop, "SKU-1", "size:M", 4)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// TestCheckoutBusy: a transaction holds the stock row locked while a server
// whose pool has a 200ms lock timeout tries to reserve it.
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
	var onHand int64
	if err := tx.QueryRow(ctx,
		"SELECT on_hand FROM stock_levels WHERE shop_id = $1 AND sku = $2 AND variant_key = $3 AND location_id = 'default' FOR UPDATE",
		shop, "SKU-1", "size:M").Scan(&onHand); err != nil {
		t.Fatal(err)
	}
	before := h.snapshot(t, shop)

	body := withFields(checkoutBody(shop, checkoutItem("SKU-1", "size:M", 1)), map[string]any{"idempotencyKey": "cart-busy"})
	start := time.Now()
	r := busy.createCheckout(t, body)
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
	busy.sessions.assertCalls(t, shop, 0)
	h.assertUnchanged(t, shop, before)

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Once the lock is gone, the same request (same key) goes through.
	r = busy.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	assertSession(t, r, checkoutd.ModeReserveTTL, true)
	busy.sessions.assertCalls(t, shop, 1)
	h.assertReserved(t, shop, "SKU-1", "size:M", 1)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// TestCheckoutPaymentProviderError: when Stripe fails the hold is released at
// once and the idempotency key freed for a retry.
func TestCheckoutPaymentProviderError(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "size:M", "", 5)
	h.sessions.fail(shop, true)

	body := withFields(checkoutBody(shop, checkoutItem("SKU-1", "size:M", 2)), map[string]any{"idempotencyKey": "cart-502"})
	r := h.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: serviceToken, Body: body, ServerError: true})
	expect(t, r, http.StatusBadGateway, "payment_provider_error")
	assertKeys(t, r.Obj(t), "error", "message")
	for _, leak := range []string{stripeSecretInError, "fake Stripe"} {
		if strings.Contains(string(r.Raw), leak) {
			t.Errorf("body carries Stripe's error %q: %s", leak, r.Raw)
		}
	}
	calls := h.sessions.assertCalls(t, shop, 1)
	if len(calls) == 1 && calls[0].Metadata["inventory_reservation_id"] == "" {
		t.Error("Stripe was asked for a session without the reservation")
	}

	info := h.stockInfo(t, shop, "SKU-1", "size:M")
	if info.Reserved != 0 || info.Available != 5 {
		t.Errorf("after the failure reserved %d available %d, want 0 and 5", info.Reserved, info.Available)
	}
	if got := h.holdStatuses(t, shop); len(got) != 1 || got[0] != "released" {
		t.Errorf("hold statuses %v, want [released]", got)
	}

	// A retry once Stripe is back creates the session.
	h.sessions.fail(shop, false)
	r = h.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	assertSession(t, r, checkoutd.ModeReserveTTL, true)
	h.sessions.assertCalls(t, shop, 2)
	h.assertReserved(t, shop, "SKU-1", "size:M", 2)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
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

// TestCheckoutDatabaseDropped: the database goes away under a pool that
// has open connections (a failover, a restart, pg_terminate_backend). The
// first request then meets a connection the server terminated rather than a
// failed connect; it is just as unavailable and must be answered the same
// way: 503 inventory_unavailable, not 500.
func TestCheckoutDatabaseDropped(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)

	ctx := context.Background()
	dbURL := testdb.EmptyURL(t)
	pool, err := database.Open(ctx, dbURL, database.PoolConfig{MaxConns: 2, ApplicationName: "checkoutd-test-checkout-dropped"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := startCheckoutServer(t, pool, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.pool.Exec(ctx, "DROP DATABASE "+pgx.Identifier{cfg.ConnConfig.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}

	for i := range 3 {
		r := srv.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: serviceToken, ServerError: true,
			Body: checkoutBody(shop, checkoutItem("SKU-1", "", 1))})
		if r.Status != http.StatusServiceUnavailable {
			t.Errorf("request %d after the drop: status %d, want 503 inventory_unavailable: %s", i+1, r.Status, r.Raw)
			continue
		}
		expect(t, r, http.StatusServiceUnavailable, "inventory_unavailable")
	}
	srv.sessions.assertCalls(t, shop, 0)
	h.assertReserved(t, shop, "SKU-1", "", 0)
}

func TestCheckoutBadRequests(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 1_000_000)
	before := h.snapshot(t, shop)
	t.Cleanup(func() {
		h.sessions.assertCalls(t, shop, 0)
		h.assertUnchanged(t, shop, before)
	})

	valid := checkoutBody(shop, checkoutItem("SKU-1", "", 1))
	withItem := func(extra map[string]any) map[string]any {
		it := checkoutItem("SKU-1", "", 1)
		for k, v := range extra {
			if v == nil {
				delete(it, k)
			} else {
				it[k] = v
			}
		}
		return withFields(valid, map[string]any{"items": []any{it}})
	}
	many := make([]any, 101)
	for i := range many {
		many[i] = checkoutItem(fmt.Sprintf("SKU-%03d", i), "", 1)
	}

	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"mode unknown", withFields(valid, map[string]any{"mode": "lease"}), "mode"},
		{"mode missing", withFields(valid, map[string]any{"mode": nil}), "mode"},
		{"mode upper case", withFields(valid, map[string]any{"mode": "SALE"}), "mode"},
		{"successUrl missing", withFields(valid, map[string]any{"successUrl": nil}), "successUrl"},
		{"cancelUrl missing", withFields(valid, map[string]any{"cancelUrl": nil}), "cancelUrl"},
		{"successUrl ftp", withFields(valid, map[string]any{"successUrl": "ftp://shop.example/ok"}), "successUrl"},
		{"successUrl javascript", withFields(valid, map[string]any{"successUrl": "javascript:alert(1)"}), "successUrl"},
		{"cancelUrl relative", withFields(valid, map[string]any{"cancelUrl": "/cart"}), "cancelUrl"},
		{"successUrl too long", withFields(valid, map[string]any{"successUrl": "https://shop.example/" + strings.Repeat("a", 2048)}), "successUrl"},
		{"unitAmount negative", withItem(map[string]any{"unitAmount": -1}), "items[0].unitAmount"},
		{"unitAmount too large", withItem(map[string]any{"unitAmount": 100_000_000}), "items[0].unitAmount"},
		{"unitAmount missing", withItem(map[string]any{"unitAmount": nil}), "items[0].unitAmount"},
		{"unitAmount fraction", withItem(map[string]any{"unitAmount": 4500.5}), ""},
		{"unitAmount string", withItem(map[string]any{"unitAmount": "4500"}), ""},
		{"currency upper case", withItem(map[string]any{"currency": "EUR"}), "items[0].currency"},
		{"currency missing", withItem(map[string]any{"currency": nil}), "items[0].currency"},
		{"currency too long", withItem(map[string]any{"currency": "euro"}), "items[0].currency"},
		{"name missing", withItem(map[string]any{"name": nil}), "items[0].name"},
		{"name too long", withItem(map[string]any{"name": strings.Repeat("n", 251)}), "items[0].name"},
		{"price with name", withItem(map[string]any{"price": "price_123"}), "items[0].price"},
		{"price with currency", withItem(map[string]any{"price": "price_123", "name": nil, "unitAmount": nil}), "items[0].price"},
		{"price not a price id", withItem(map[string]any{"price": "prod_123", "name": nil, "unitAmount": nil, "currency": nil}), "items[0].price"},
		{"101 items", withFields(valid, map[string]any{"items": many}), "items"},
		{"no items", withFields(valid, map[string]any{"items": []any{}}), "items"},
		{"items missing", withFields(valid, map[string]any{"items": nil}), "items"},
		{"quantity 0", withItem(map[string]any{"quantity": 0}), "items[0].quantity"},
		{"quantity negative", withItem(map[string]any{"quantity": -2}), "items[0].quantity"},
		{"quantity too large", withItem(map[string]any{"quantity": 1_000_001}), "items[0].quantity"},
		{"sku invalid", withItem(map[string]any{"sku": "bad sku"}), "items[0].sku"},
		{"shopId missing", withFields(valid, map[string]any{"shopId": nil}), "shopId"},
		{"shopId upper case", withFields(valid, map[string]any{"shopId": "Shop1"}), "shopId"},
		{"customerEmail invalid", withFields(valid, map[string]any{"customerEmail": "not-an-email"}), "customerEmail"},
		{"idempotencyKey too long", withFields(valid, map[string]any{"idempotencyKey": strings.Repeat("k", 256)}), "idempotencyKey"},
		{"clientReferenceId too long", withFields(valid, map[string]any{"clientReferenceId": strings.Repeat("c", 201)}), "clientReferenceId"},
		{"unknown field", withFields(valid, map[string]any{"amount": 4500}), "amount"},
		{"unknown item field", withItem(map[string]any{"discount": 5}), ""},
		{"empty body", "", "shopId"},
		{"not an object", "[]", "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := h.createCheckout(t, tc.body)
			expectInvalid(t, r, tc.field)
		})
	}

	t.Run("every problem is named", func(t *testing.T) {
		t.Parallel()
		body := withFields(valid, map[string]any{"mode": "lease", "successUrl": nil,
			"items": []any{map[string]any{"sku": "SKU-1", "variantKey": "", "quantity": 0, "name": "x", "unitAmount": 1, "currency": "EUR"}}})
		r := h.createCheckout(t, body)
		expectInvalid(t, r, "mode")
		for _, field := range []string{"successUrl", "items[0].currency", "items[0].quantity"} {
			expectInvalid(t, r, field)
		}
	})

	t.Run("unitAmount fraction names the field", func(t *testing.T) {
		t.Parallel()
		r := h.createCheckout(t, withItem(map[string]any{"unitAmount": 4500.5}))
		expectInvalid(t, r, "")
		if !strings.Contains(string(r.Raw), "unitAmount") {
			t.Errorf("details do not name unitAmount: %s", r.Raw)
		}
	})

	t.Run("not JSON", func(t *testing.T) {
		t.Parallel()
		r := h.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: serviceToken, Body: "shopId=" + shop, ContentType: "application/x-www-form-urlencoded"})
		expect(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})
}

func TestCheckoutAuth(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	other := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	h.stock(t, other, "SKU-1", "", "", 5)
	key, _ := h.shopKey(t, shop)
	otherBefore := h.snapshot(t, other)
	shopBefore := h.snapshot(t, shop)

	for _, tc := range []struct {
		name  string
		token string
	}{
		{"no token", ""},
		{"wrong token", "not-the-token"},
		{"unknown shop key", "ckd_" + shop + ".abcdef012345.c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
	} {
		r := h.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: tc.token, Body: checkoutBody(shop, checkoutItem("SKU-1", "", 1))})
		expect(t, r, http.StatusUnauthorized, "unauthorized")
		assertKeys(t, r.Obj(t), "error", "message")
	}
	// Invalid requests too: authentication comes first.
	r := h.do(t, req{Method: http.MethodPost, Path: checkoutPath, Body: "{"})
	expect(t, r, http.StatusUnauthorized, "unauthorized")
	h.assertUnchanged(t, shop, shopBefore)
	h.sessions.assertCalls(t, shop, 0)

	// A shop key on another shop, or on a shop that does not exist: 404 alike.
	for _, target := range []string{other, testdb.ShopID(t)} {
		r := h.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: key, Body: checkoutBody(target, checkoutItem("SKU-1", "", 1))})
		expect(t, r, http.StatusNotFound, "not_found")
		assertKeys(t, r.Obj(t), "error", "message")
		h.sessions.assertCalls(t, target, 0)
	}
	h.assertUnchanged(t, other, otherBefore)

	// The service token on an unknown shop: 404, and no session.
	missing := testdb.ShopID(t)
	r = h.createCheckout(t, checkoutBody(missing, checkoutItem("SKU-1", "", 1)))
	expect(t, r, http.StatusNotFound, "not_found")
	h.sessions.assertCalls(t, missing, 0)

	// The shop key on its own shop.
	r = h.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: key, Body: checkoutBody(shop, checkoutItem("SKU-1", "", 1))})
	expect(t, r, http.StatusCreated, "")
	assertSession(t, r, checkoutd.ModeReserveTTL, true)
	h.assertReserved(t, shop, "SKU-1", "", 1)
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
	h.assertReserved(t, shop, "SKU-1", "", 2)
	if got := h.holdStatuses(t, shop); len(got) != 1 {
		t.Errorf("holds %v, want one", got)
	}

	// After the race every replay answers the session.
	r := h.createCheckout(t, body)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, created)
}

// crashCheckout rewinds the checkout of session sessionID to what a process that
// died right after Stripe answered leaves behind (a checkout still
// "creating", its hold placed, no session recorded), started long enough ago
// for a replay to take it over.
func (h *harness) crashCheckout(t testing.TB, shop, sessionID string) {
	t.Helper()
	ctx := context.Background()
	tag, err := h.pool.Exec(ctx, `
		UPDATE checkouts SET status = 'creating', stripe_session_id = NULL, stripe_url = NULL, expires_at = NULL,
		       updated_at = now() - interval '2 minutes'
		WHERE shop_id = $1 AND stripe_session_id = $2`, shop, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("no checkout with session %s", sessionID)
	}
	if _, err := h.pool.Exec(ctx, `
		UPDATE holds SET checkout_session_id = NULL, checkout_session_expires_at = NULL
		WHERE shop_id = $1 AND checkout_session_id = $2`, shop, sessionID); err != nil {
		t.Fatal(err)
	}
}

// waitNextSecond waits until the wall clock is past the second of since: a
// session expiry computed from "now" then differs from one computed before.
func waitNextSecond(since time.Time) {
	for time.Now().Unix() <= since.Unix() {
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCheckoutResumeAfterCrash: the process died after Stripe created the
// session and before it was recorded. A replay of the request resumes the
// checkout, and Stripe's idempotency must give back the session it made
// (checkout/doc.go). Stripe answers a reused idempotency key whose
// parameters differ with an idempotency_error, so the resumed request must
// send exactly the parameters of the first.
func TestCheckoutResumeAfterCrash(t *testing.T) {
	t.Parallel()
	h := env(t)
	for _, tc := range []struct {
		name string
		cfg  checkout.Config
	}{
		{"reserve_ttl, hold shorter than Stripe's 30 minutes", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: defaultHoldTTL}},
		{"reserve_ttl, hold longer than Stripe's 30 minutes", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: time.Hour}},
		{"validate_only", checkout.Config{InventoryMode: checkoutd.ModeValidateOnly}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startCheckoutServer(t, h.pool, tc.cfg)
			shop := h.newShop(t)
			h.stock(t, shop, "SKU-1", "", "", 5)
			reserved := tc.cfg.InventoryMode == checkoutd.ModeReserveTTL

			body := withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 2)), map[string]any{"idempotencyKey": "cart-crash"})
			r := srv.createCheckout(t, body)
			expect(t, r, http.StatusCreated, "")
			answered := time.Now()
			sess := assertSession(t, r, tc.cfg.InventoryMode, reserved)
			h.crashCheckout(t, shop, str(t, sess, "id"))
			waitNextSecond(answered)

			r = srv.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: serviceToken, Body: body, ServerError: true})
			if r.Status != http.StatusOK && r.Status != http.StatusCreated {
				t.Fatalf("replay after the crash: status %d, want the session Stripe made: %s", r.Status, r.Raw)
			}
			resumed := assertSession(t, r, tc.cfg.InventoryMode, reserved)
			if resumed["id"] != sess["id"] || resumed["reservationId"] != sess["reservationId"] {
				t.Errorf("resumed %v, want the session and hold of %v", resumed, sess)
			}
			if reserved {
				h.assertReserved(t, shop, "SKU-1", "", 2)
			}
			// Now recorded: a replay is a plain replay.
			r = srv.createCheckout(t, body)
			expect(t, r, http.StatusOK, "")
			assertJSON(t, r, resumed)
		})
	}
}

// TestCheckoutResumeLapsedHold: the process died after placing the hold and
// before asking Stripe; the replay comes after the hold lapsed (a cart id as
// idempotency key, a customer back the next day). The lapsed hold no longer
// holds anything, so the resumed checkout must not sell against it: it has
// to hold the stock afresh (or answer 409 if there is none), never create a
// session whose inventory_reservation_id names a hold that cannot be
// committed.
func TestCheckoutResumeLapsedHold(t *testing.T) {
	t.Parallel()
	h := env(t)
	srv := startCheckoutServer(t, h.pool, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)

	body := withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 2)), map[string]any{"idempotencyKey": "cart-lapsed"})
	r := srv.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	sess := assertSession(t, r, checkoutd.ModeReserveTTL, true)
	oldHold := str(t, sess, "reservationId")
	h.crashCheckout(t, shop, str(t, sess, "id"))
	srv.sessions.forgetKeys(shop) // the dead process never reached Stripe
	if _, err := h.pool.Exec(context.Background(),
		"UPDATE holds SET expires_at = now() - interval '1 second' WHERE shop_id = $1 AND id = $2", shop, oldHold); err != nil {
		t.Fatal(err)
	}
	h.assertReserved(t, shop, "SKU-1", "", 0)

	r = srv.createCheckout(t, body)
	if r.Status == http.StatusConflict {
		return // refused: acceptable
	}
	if r.Status != http.StatusOK && r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Raw)
	}
	resumed := assertSession(t, r, checkoutd.ModeReserveTTL, true)
	holdID := str(t, resumed, "reservationId")
	hr := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+holdID), nil)
	expect(t, hr, http.StatusOK, "")
	if status := str(t, hr.Obj(t), "status"); status != "active" {
		t.Errorf("the resumed session %s was created for hold %s, which is %s: the customer can pay for stock nobody holds",
			resumed["id"], holdID, status)
	}
	h.assertReserved(t, shop, "SKU-1", "", 2)
}

// TestCheckoutOpenAPISchemas checks that docs/openapi.yaml describes the
// checkout request with exactly the JSON fields checkout.Request and
// checkout.Item decode, rejecting any other, and the session with exactly
// the fields checkout.Session encodes.
func TestCheckoutOpenAPISchemas(t *testing.T) {
	t.Parallel()
	spec := loadOpenAPI(t)
	for _, tc := range []struct {
		schema     string
		typ        reflect.Type
		additional bool
	}{
		{"CreateCheckoutSessionRequest", reflect.TypeFor[checkout.Request](), false},
		{"CheckoutItem", reflect.TypeFor[checkout.Item](), false},
		{"CheckoutSession", reflect.TypeFor[checkout.Session](), false},
	} {
		schema, ok := spec.deref(map[string]any{"$ref": "#/components/schemas/" + tc.schema})
		if !ok {
			t.Errorf("components.schemas.%s is missing", tc.schema)
			continue
		}
		if schema["additionalProperties"] != tc.additional {
			t.Errorf("%s: additionalProperties %v, want %v", tc.schema, schema["additionalProperties"], tc.additional)
		}
		props, _ := yamlMap(schema["properties"])
		var documented, fields []string
		for name := range props {
			documented = append(documented, name)
		}
		for f := range tc.typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields = append(fields, name)
			}
		}
		slices.Sort(documented)
		slices.Sort(fields)
		if !slices.Equal(documented, fields) {
			t.Errorf("%s documents %q; %s has JSON fields %q", tc.schema, documented, tc.typ, fields)
		}
		required, _ := schema["required"].([]any)
		for _, r := range required {
			if name, _ := r.(string); !slices.Contains(fields, name) {
				t.Errorf("%s requires %v, not a field of %s", tc.schema, r, tc.typ)
			}
		}
	}
}
