package checkout_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/internal/stripemock"
)

// Against the real stripe-mock, which validates every request against
// Stripe's OpenAPI schema: the sessions checkoutd asks for, in every mode,
// are requests Stripe's API accepts.
func TestStripeMock(t *testing.T) {
	t.Parallel()
	baseURL := stripemock.Start(t)
	wire := recordRequests(t, baseURL)
	sessions := stripeclient.NewSessions(stripeclient.Config{SecretKey: "sk_test_123", APIBase: wire.URL, Timeout: 5 * time.Second})

	withEmailAndRef := func(r *checkout.Request) {}
	anonymous := func(r *checkout.Request) { r.CustomerEmail, r.ClientReferenceID = "", "" }
	rental := func(r *checkout.Request) { r.Mode = "rental" }
	for _, tt := range []struct {
		name   string
		cfg    checkout.Config
		items  []checkout.Item
		mutate func(*checkout.Request)
	}{
		{"validate_only price_data", checkout.Config{InventoryMode: checkoutd.ModeValidateOnly},
			[]checkout.Item{item("A", "size:M", 2)}, withEmailAndRef},
		{"reserve_ttl price id", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL},
			[]checkout.Item{pricedItem("A", "", 1, "price_1PgafyB7WZ01zgkW")}, withEmailAndRef},
		{"reserve_ttl rental mixed", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: time.Hour},
			[]checkout.Item{item("A", "size:M", 1), pricedItem("B", "", 3, "price_1PgafyB7WZ01zgkW"), item("C", "", 1)}, rental},
		{"reserve_ttl anonymous max TTL", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 24 * time.Hour},
			[]checkout.Item{item("A", "", 1)}, anonymous},
		{"bypass", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, SkipInventoryValidation: true},
			[]checkout.Item{item("NEVER-STOCKED", "", 1)}, withEmailAndRef},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.cfg)
			for _, sku := range []string{"A", "B", "C"} {
				f.stock(t, sku, "", 5)
			}
			f.stock(t, "A", "size:M", 5)
			svc := f.serviceWith(sessions)
			req := f.request("cart-1", tt.items...)
			tt.mutate(&req)

			before := time.Now()
			sess, created, err := svc.Create(context.Background(), req)
			if err != nil {
				t.Fatalf("stripe-mock refused the session: %v", err)
			}
			if !created || !strings.HasPrefix(sess.ID, "cs_") || !strings.HasPrefix(deref(sess.URL), "https://") {
				t.Errorf("session %+v, created %v; want a new cs_ session with an https URL", sess, created)
			}
			// stripe-mock echoes expires_at: it is what was sent.
			if sess.ExpiresAt.Before(before.Add(30*time.Minute)) || sess.ExpiresAt.After(before.Add(24*time.Hour)) {
				t.Errorf("session expires at %v, outside Stripe's 30 minutes to 24 hours", sess.ExpiresAt)
			}
			// What went over the wire, as stripe-mock accepted it.
			sent := wire.last(t, f.shopID)
			checkoutID := f.onlyCheckout(t).ID
			wantKey := "checkoutd-session-" + checkoutID
			if sess.ReservationID != nil {
				wantKey = "checkoutd-session-" + *sess.ReservationID
			}
			if sent.key != wantKey {
				t.Errorf("Idempotency-Key header %q, want %q", sent.key, wantKey)
			}
			for _, prefix := range []string{"metadata", "payment_intent_data[metadata]"} {
				for k, v := range map[string]string{
					"shop_id": f.shopID, "checkout_id": checkoutID, "checkout_mode": req.Mode,
					"inventory_reservation_id": deref(sess.ReservationID),
				} {
					if got := sent.form.Get(prefix + "[" + k + "]"); got != v {
						t.Errorf("sent %s[%s] = %q, want %q", prefix, k, got, v)
					}
				}
			}
			if got := sent.form.Get("line_items[0][quantity]"); got != strconv.FormatInt(req.Items[0].Quantity, 10) {
				t.Errorf("sent line_items[0][quantity] = %q", got)
			}

			inventoryMode := string(tt.cfg.InventoryMode)
			if tt.cfg.SkipInventoryValidation {
				inventoryMode = "bypass"
			}
			assertSessionRecorded(t, f.onlyCheckout(t), sess, req.Mode, inventoryMode)
			if (sess.ReservationID != nil) != (inventoryMode == "reserve_ttl") {
				t.Errorf("reservation %v in %s mode", strPtr(sess.ReservationID), inventoryMode)
			}
			if sess.ReservationID != nil {
				if h := f.hold(t, *sess.ReservationID); strPtr(h.CheckoutSessionID) != sess.ID || strPtr(h.CheckoutMode) != req.Mode {
					t.Errorf("hold: session %v, mode %v; want %s, %s", strPtr(h.CheckoutSessionID), strPtr(h.CheckoutMode), sess.ID, req.Mode)
				}
			}
			again, created, err := svc.Create(context.Background(), req)
			if err != nil || created || again.ID != sess.ID {
				t.Errorf("replay: %+v, created %v, %v; want %s", again, created, err, sess.ID)
			}
			f.shop.RequireLedgerClean(t)
		})
	}

	// stripe-mock takes any currency and any amount (the request
	// validation is ours), but refuses a key that is not a secret test key,
	// a real misconfiguration (the publishable key in STRIPE_SECRET_KEY).
	t.Run("refused request", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
		f.stock(t, "A", "", 5)
		svc := f.serviceWith(stripeclient.NewSessions(stripeclient.Config{SecretKey: "pk_test_123", APIBase: baseURL, Timeout: 5 * time.Second}))
		req := f.request("cart-1", item("A", "", 2))

		_, _, err := svc.Create(context.Background(), req)
		if !errors.Is(err, checkout.ErrPaymentProvider) {
			t.Fatalf("create with a refused key: %v, want checkout.ErrPaymentProvider", err)
		}
		var serr *stripe.Error
		if !errors.As(err, &serr) || serr.HTTPStatusCode != 401 || serr.Type != stripe.ErrorTypeInvalidRequest {
			t.Errorf("error %v does not carry stripe-mock's 401 invalid_request_error", err)
		}
		holds := f.holdIDs(t, "")
		if len(holds) != 1 {
			t.Fatalf("holds %v, want the one placed and released", holds)
		}
		if h := f.hold(t, holds[0]); h.Status != "released" {
			t.Errorf("hold of the refused checkout is %s, want released", h.Status)
		}
		f.assertReserved(t, "A", "", 0)
		if list := f.checkouts(t); len(list) != 0 {
			t.Errorf("checkout records after the refusal: %+v", list)
		}
		f.shop.RequireLedgerClean(t)

		// The same request through a correctly keyed client succeeds.
		if _, created, err := f.serviceWith(sessions).Create(context.Background(), req); err != nil || !created {
			t.Errorf("retry with the secret key: created %v, %v", created, err)
		}
		f.assertReserved(t, "A", "", 2)
	})
}

// wireRecorder is a reverse proxy in front of stripe-mock that keeps every
// session request as sent.
type wireRecorder struct {
	URL  string
	mu   sync.Mutex
	sent []sentRequest
}

type sentRequest struct {
	key  string
	form url.Values
}

func recordRequests(t *testing.T, target string) *wireRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	w := &wireRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions" {
			form, _ := url.ParseQuery(string(body))
			w.mu.Lock()
			w.sent = append(w.sent, sentRequest{key: r.Header.Get("Idempotency-Key"), form: form})
			w.mu.Unlock()
			body = []byte(toMockVersion(form).Encode())
			r.ContentLength = int64(len(body))
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// toMockVersion rewrites what API versions name differently: stripe-go v79
// sends Stripe-Version 2024-06-20, in which embedded Checkout is
// ui_mode=embedded, while the pinned stripe-mock checks against the newest
// schema (2026-08-26.dahlia), which renamed it embedded_page. Every other
// parameter goes to stripe-mock as sent.
func toMockVersion(form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	if out.Get("ui_mode") == "embedded" {
		out.Set("ui_mode", "embedded_page")
	}
	return out
}

// last returns the last session request sent for the shop (the subtests
// share the recorder).
func (w *wireRecorder) last(t *testing.T, shopID string) sentRequest {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.sent) - 1; i >= 0; i-- {
		if s := w.sent[i]; s.form.Get("metadata[shop_id]") == shopID {
			return s
		}
	}
	t.Fatalf("no session request for shop %s went out", shopID)
	return sentRequest{}
}

// Against stripe-mock, each Checkout option and embedded mode: Stripe's
// schema accepts every request checkoutd sends for them.
func TestStripeMockOptions(t *testing.T) {
	t.Parallel()
	baseURL := stripemock.Start(t)
	wire := recordRequests(t, baseURL)
	sessions := stripeclient.NewSessions(stripeclient.Config{SecretKey: "sk_test_123", APIBase: wire.URL, Timeout: 5 * time.Second})
	minimum, maximum := int64(0), int64(5)
	for _, tt := range []struct {
		name   string
		mutate func(*checkout.Request)
		sent   map[string]string
	}{
		{"embedded", embedded, map[string]string{"ui_mode": "embedded", "return_url": "https://shop.example/return?session_id={CHECKOUT_SESSION_ID}", "success_url": ""}},
		{"locale", func(r *checkout.Request) { r.Locale = "fr-CA" }, map[string]string{"locale": "fr-CA"}},
		{"customer", func(r *checkout.Request) { r.CustomerEmail, r.Customer = "", "cus_Q1w2E3" }, map[string]string{"customer": "cus_Q1w2E3"}},
		{"promotion codes", func(r *checkout.Request) { r.AllowPromotionCodes = true }, map[string]string{"allow_promotion_codes": "true"}},
		{"coupon", func(r *checkout.Request) { r.Discounts = []checkout.Discount{{Coupon: "SUMMER-24"}} }, map[string]string{"discounts[0][coupon]": "SUMMER-24"}},
		{"promotion code", func(r *checkout.Request) { r.Discounts = []checkout.Discount{{PromotionCode: "promo_1Abc"}} }, map[string]string{"discounts[0][promotion_code]": "promo_1Abc"}},
		{"shipping", func(r *checkout.Request) {
			r.ShippingAddressCollection = &checkout.ShippingAddressCollection{AllowedCountries: []string{"DE", "AT"}}
			r.ShippingRates = []string{"shr_1Std", "shr_1Exp"}
		}, map[string]string{"shipping_address_collection[allowed_countries][1]": "AT", "shipping_options[1][shipping_rate]": "shr_1Exp"}},
		{"automatic tax", func(r *checkout.Request) { r.AutomaticTax = &checkout.Toggle{Enabled: true} }, map[string]string{"automatic_tax[enabled]": "true"}},
		{"automatic tax for a customer", func(r *checkout.Request) {
			r.CustomerEmail, r.Customer, r.AutomaticTax = "", "cus_Q1w2E3", &checkout.Toggle{Enabled: true}
			r.ShippingAddressCollection = &checkout.ShippingAddressCollection{AllowedCountries: []string{"DE"}}
		}, map[string]string{"customer_update[address]": "auto", "customer_update[shipping]": "auto"}},
		{"billing address", func(r *checkout.Request) { r.BillingAddressCollection = "required" }, map[string]string{"billing_address_collection": "required"}},
		{"phone number", func(r *checkout.Request) { r.PhoneNumberCollection = &checkout.Toggle{Enabled: true} }, map[string]string{"phone_number_collection[enabled]": "true"}},
		{"payment methods", func(r *checkout.Request) { r.PaymentMethodTypes = []string{"card", "klarna"} }, map[string]string{"payment_method_types[1]": "klarna"}},
		{"metadata", func(r *checkout.Request) { r.Metadata = map[string]string{"order_id": "1042"} }, map[string]string{"metadata[order_id]": "1042", "payment_intent_data[metadata][order_id]": "1042"}},
		{"description and images", func(r *checkout.Request) {
			r.Items[0].Description, r.Items[0].Images = "Soft linen", []string{"https://img.example/a.png"}
		}, map[string]string{"line_items[0][price_data][product_data][description]": "Soft linen", "line_items[0][price_data][product_data][images][0]": "https://img.example/a.png"}},
		{"adjustable quantity", func(r *checkout.Request) {
			r.Items[0].AdjustableQuantity = &checkout.AdjustableQuantity{Enabled: true, Minimum: &minimum, Maximum: &maximum}
		}, map[string]string{"line_items[0][adjustable_quantity][maximum]": "5", "line_items[0][adjustable_quantity][minimum]": "0"}},
		{"adjustable price id", func(r *checkout.Request) {
			r.Items[0] = pricedItem("A", "", 1, "price_1PgafyB7WZ01zgkW")
			r.Items[0].AdjustableQuantity = &checkout.AdjustableQuantity{Enabled: true, Maximum: &maximum}
		}, map[string]string{"line_items[0][adjustable_quantity][enabled]": "true", "line_items[0][price]": "price_1PgafyB7WZ01zgkW"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
			f.stock(t, "A", "", 5)
			req := f.request("cart-1", item("A", "", 1))
			tt.mutate(&req)
			sess, created, err := f.serviceWith(sessions).Create(context.Background(), req)
			if err != nil || !created {
				t.Fatalf("stripe-mock refused the session: created %v, %v", created, err)
			}
			sent := wire.last(t, f.shopID)
			for k, v := range tt.sent {
				if got := sent.form.Get(k); got != v {
					t.Errorf("sent %s = %q, want %q", k, got, v)
				}
			}
			// stripe-mock answers a fixture, with a url and no client
			// secret whatever the mode: only what checkoutd decides is
			// checked.
			isEmbedded := req.UIMode == checkout.UIModeEmbedded
			if (sess.URL == nil) != isEmbedded || !isEmbedded && sess.ClientSecret != nil {
				t.Errorf("session %+v: url and client secret do not fit uiMode %q", sess, req.UIMode)
			}
		})
	}
}
