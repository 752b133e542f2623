package checkout_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/checkout/checkouttest"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
)

var _ stripeclient.Sessions = (*testkit.FakeStripe)(nil)

// assertMetadata checks the metadata of the session and of its payment
// intent: exactly want, on both.
func assertMetadata(t *testing.T, p *stripe.CheckoutSessionParams, want map[string]string) {
	t.Helper()
	if !maps.Equal(p.Metadata, want) {
		t.Errorf("session metadata = %v, want %v", p.Metadata, want)
	}
	if p.PaymentIntentData == nil {
		t.Errorf("no payment_intent_data: the payment intent carries no metadata")
	} else if !maps.Equal(p.PaymentIntentData.Metadata, want) {
		t.Errorf("payment_intent_data.metadata = %v, want %v", p.PaymentIntentData.Metadata, want)
	}
}

func assertIdempotencyKey(t *testing.T, p *stripe.CheckoutSessionParams, want string) {
	t.Helper()
	if p.IdempotencyKey == nil || *p.IdempotencyKey != want {
		t.Errorf("Stripe idempotency key = %v, want %q", strPtr(p.IdempotencyKey), want)
	}
}

func strPtr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// assertSessionRecorded checks the checkout record of a created session.
func assertSessionRecorded(t *testing.T, rec checkouttest.StoredCheckout, sess *checkout.Session, mode, inventoryMode string) {
	t.Helper()
	if rec.Status != "open" || rec.Mode != mode || rec.InventoryMode != inventoryMode {
		t.Errorf("checkout record: status %q, mode %q, inventory_mode %q; want open, %s, %s", rec.Status, rec.Mode, rec.InventoryMode, mode, inventoryMode)
	}
	if strPtr(rec.StripeSessionID) != sess.ID || strPtr(rec.StripeURL) != deref(sess.URL) {
		t.Errorf("checkout record: session %v at %v, want %s at %s", strPtr(rec.StripeSessionID), strPtr(rec.StripeURL), sess.ID, deref(sess.URL))
	}
	if rec.ExpiresAt == nil || !rec.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("checkout record expires at %v, session at %v", rec.ExpiresAt, sess.ExpiresAt)
	}
}

// validate_only checks the stock, holds nothing, and says so with a null
// reservationId; the session still has a checkout record for the webhooks.
func TestValidateOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeValidateOnly})
	f.stock(t, "A", "size:M", 5)

	sess, created := f.create(t, f.request("cart-1", item("A", "size:M", 2)))
	if !created || !strings.HasPrefix(sess.ID, "cs_") || deref(sess.URL) == "" {
		t.Fatalf("create: session %+v, created %v; want a new cs_ session with a URL", sess, created)
	}
	if sess.InventoryMode != checkoutd.ModeValidateOnly || sess.ReservationID != nil {
		t.Errorf("session: inventoryMode %q, reservationId %v; want validate_only and none", sess.InventoryMode, strPtr(sess.ReservationID))
	}
	body, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"reservationId":null`) {
		t.Errorf("session JSON %s lacks \"reservationId\":null", body)
	}
	if ids := f.holdIDs(t, ""); len(ids) != 0 {
		t.Errorf("validate_only placed holds %v", ids)
	}
	f.assertReserved(t, "A", "size:M", 0)

	rec := f.onlyCheckout(t)
	assertSessionRecorded(t, rec, sess, "sale", "validate_only")
	if rec.HoldID != nil {
		t.Errorf("checkout record has hold %s", *rec.HoldID)
	}
	p := f.stripe.LastCall(t)
	assertMetadata(t, p, map[string]string{"shop_id": f.shopID, "checkout_id": rec.ID, "checkout_mode": "sale"})
	assertIdempotencyKey(t, p, "checkoutd-session-"+rec.ID)
	f.shop.RequireLedgerClean(t)
}

// validate_only refuses a checkout the stock cannot cover, without calling
// Stripe, and forgets it so the key can be used again.
func TestValidateOnlyInsufficientStock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeValidateOnly})
	f.stock(t, "A", "", 1)
	req := f.request("cart-1", item("A", "", 2), item("NEVER-STOCKED", "", 1))

	_, _, err := f.svc.Create(ctx, req)
	var short *inventory.InsufficientStockError
	if !errors.As(err, &short) {
		t.Fatalf("create beyond the stock: %v, want *inventory.InsufficientStockError", err)
	}
	want := []inventory.Shortfall{
		{SKU: "A", Requested: 2, Available: 1},
		{SKU: "NEVER-STOCKED", Requested: 1, Available: 0},
	}
	if len(short.Lines) != len(want) || short.Lines[0] != want[0] || short.Lines[1] != want[1] {
		t.Errorf("shortfall = %+v, want %+v", short.Lines, want)
	}
	if n := len(f.stripe.NewCalls()); n != 0 {
		t.Errorf("Stripe was called %d times for a checkout the stock cannot cover", n)
	}
	if list := f.checkouts(t); len(list) != 0 {
		t.Errorf("checkout records after the refusal: %+v", list)
	}

	f.stock(t, "A", "", 2)
	f.stock(t, "NEVER-STOCKED", "", 1)
	if _, created := f.create(t, req); !created {
		t.Error("retry with the same key once stocked: not created")
	}
}

// reserve_ttl holds the stock first and names the hold in the session's
// metadata and the payment intent's; the hold learns its session.
func TestReserveTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "size:M", 5)

	sess, created := f.create(t, f.request("cart-1", item("A", "size:M", 2)))
	if !created || sess.InventoryMode != checkoutd.ModeReserveTTL || sess.ReservationID == nil {
		t.Fatalf("create: session %+v, created %v; want a new reserve_ttl session with a reservation", sess, created)
	}
	holdID := *sess.ReservationID
	hold, err := f.ledger.GetHold(ctx, f.shopID, holdID)
	if err != nil {
		t.Fatalf("get hold: %v", err)
	}
	if hold.Status != inventory.HoldActive || len(hold.Items) != 1 || hold.Items[0].SKU != "A" || hold.Items[0].VariantKey != "size:M" || hold.Items[0].Quantity != 2 {
		t.Errorf("hold = %+v, want an active hold on 2 × A[size:M]", hold)
	}
	if strPtr(hold.CheckoutSessionID) != sess.ID {
		t.Errorf("hold's checkout session = %v, want %s", strPtr(hold.CheckoutSessionID), sess.ID)
	}
	f.assertReserved(t, "A", "size:M", 2)

	rec := f.onlyCheckout(t)
	assertSessionRecorded(t, rec, sess, "sale", "reserve_ttl")
	if strPtr(rec.HoldID) != holdID {
		t.Errorf("checkout record's hold = %v, want %s", strPtr(rec.HoldID), holdID)
	}
	p := f.stripe.LastCall(t)
	assertMetadata(t, p, map[string]string{
		"shop_id": f.shopID, "checkout_id": rec.ID, "checkout_mode": "sale", "inventory_reservation_id": holdID,
	})
	assertIdempotencyKey(t, p, "checkoutd-session-"+holdID)

	h := f.hold(t, holdID)
	if strPtr(h.CheckoutMode) != "sale" {
		t.Errorf("holds.checkout_mode = %v, want sale", strPtr(h.CheckoutMode))
	}
	if strPtr(h.CheckoutSessionID) != sess.ID {
		t.Errorf("holds.checkout_session_id = %v, want %s", strPtr(h.CheckoutSessionID), sess.ID)
	}
	if h.CheckoutSessionExpiresAt == nil || !h.CheckoutSessionExpiresAt.Equal(sess.ExpiresAt) {
		t.Errorf("holds.checkout_session_expires_at = %v, want the session's expiry %v", h.CheckoutSessionExpiresAt, sess.ExpiresAt)
	}
	f.shop.RequireLedgerClean(t)
}

// A rental says so in the metadata, and its hold records the mode.
func TestRentalMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []checkoutd.InventoryMode{checkoutd.ModeReserveTTL, checkoutd.ModeValidateOnly} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkout.Config{InventoryMode: mode})
			f.stock(t, "TENT", "", 3)
			req := f.request("rent-1", item("TENT", "", 1))
			req.Mode = "rental"
			sess, _ := f.create(t, req)

			rec := f.onlyCheckout(t)
			assertSessionRecorded(t, rec, sess, "rental", string(mode))
			p := f.stripe.LastCall(t)
			if p.Metadata["checkout_mode"] != "rental" || p.PaymentIntentData.Metadata["checkout_mode"] != "rental" {
				t.Errorf("checkout_mode metadata: session %q, payment intent %q; want rental",
					p.Metadata["checkout_mode"], p.PaymentIntentData.Metadata["checkout_mode"])
			}
			if mode != checkoutd.ModeReserveTTL {
				return
			}
			if h := f.hold(t, *sess.ReservationID); strPtr(h.CheckoutMode) != "rental" {
				t.Errorf("holds.checkout_mode = %v, want rental", strPtr(h.CheckoutMode))
			}
			if p.Metadata["inventory_reservation_id"] != *sess.ReservationID {
				t.Errorf("inventory_reservation_id = %q, want %s", p.Metadata["inventory_reservation_id"], *sess.ReservationID)
			}
		})
	}
}

// The SKIP_INVENTORY_VALIDATION bypass checks nothing, even stock that is
// not there, holds nothing, warns, and records the checkout as bypassed
// while answering with the configured mode.
func TestSkipInventoryValidation(t *testing.T) {
	t.Parallel()
	for _, mode := range []checkoutd.InventoryMode{checkoutd.ModeReserveTTL, checkoutd.ModeValidateOnly} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkout.Config{InventoryMode: mode, SkipInventoryValidation: true})
			f.stock(t, "A", "", 0)

			sess, created := f.create(t, f.request("cart-1", item("A", "", 3), item("NEVER-STOCKED", "", 1)))
			if !created || sess.ReservationID != nil || sess.InventoryMode != mode {
				t.Errorf("bypassed create: session %+v, created %v; want a new session, no reservation, inventoryMode %s", sess, created, mode)
			}
			if ids := f.holdIDs(t, ""); len(ids) != 0 {
				t.Errorf("the bypass placed holds %v", ids)
			}
			f.assertReserved(t, "A", "", 0)
			rec := f.onlyCheckout(t)
			assertSessionRecorded(t, rec, sess, "sale", "bypass")
			p := f.stripe.LastCall(t)
			assertMetadata(t, p, map[string]string{"shop_id": f.shopID, "checkout_id": rec.ID, "checkout_mode": "sale"})
			assertIdempotencyKey(t, p, "checkoutd-session-"+rec.ID)
			if logs := f.logs.String(); !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, "SKIP_INVENTORY_VALIDATION") {
				t.Errorf("no warning naming SKIP_INVENTORY_VALIDATION in the logs:\n%s", logs)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}

// What Stripe is sent: URLs, customer, line items priced inline (integer
// minor units) or by price id, metadata on the session and its payment
// intent, and an idempotency key derived from the hold.
func TestSessionParams(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "size:M", 5)
	f.stock(t, "B", "", 5)
	req := f.request("cart-42", item("A", "size:M", 2), pricedItem("B", "", 1, "price_1AbcDEF"))
	req.CustomerEmail, req.ClientReferenceID = "buyer@shop.example", "cart-42"
	sess, _ := f.create(t, req)
	holdID := *sess.ReservationID
	rec := f.onlyCheckout(t)

	p := f.stripe.LastCall(t)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"mode", strPtr(p.Mode), "payment"},
		{"success_url", strPtr(p.SuccessURL), "https://shop.example/ok?cart=cart-42"},
		{"cancel_url", strPtr(p.CancelURL), "https://shop.example/cart"},
		{"client_reference_id", strPtr(p.ClientReferenceID), "cart-42"},
		{"customer_email", strPtr(p.CustomerEmail), "buyer@shop.example"},
		{"line item count", len(p.LineItems), 2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(p.LineItems) == 2 {
		inline, byID := p.LineItems[0], p.LineItems[1]
		if inline.Price != nil || inline.PriceData == nil || deref(inline.Quantity) != 2 {
			t.Errorf("line item 0: price %v, price_data %v, quantity %d; want price_data and 2", strPtr(inline.Price), inline.PriceData, deref(inline.Quantity))
		} else {
			pd := inline.PriceData
			if strPtr(pd.Currency) != "eur" || pd.UnitAmount == nil || *pd.UnitAmount != 4500 || pd.UnitAmountDecimal != nil {
				t.Errorf("price_data: currency %v, unit_amount %v, unit_amount_decimal %v; want eur, integer 4500, none",
					strPtr(pd.Currency), pd.UnitAmount, pd.UnitAmountDecimal)
			}
			if pd.ProductData == nil || strPtr(pd.ProductData.Name) != "Linen shirt A" {
				t.Errorf("product_data = %+v, want the name Linen shirt A", pd.ProductData)
			} else if want := map[string]string{"sku": "A", "variant_key": "size:M"}; !maps.Equal(pd.ProductData.Metadata, want) {
				t.Errorf("product_data.metadata = %v, want %v", pd.ProductData.Metadata, want)
			}
		}
		if strPtr(byID.Price) != "price_1AbcDEF" || byID.PriceData != nil || deref(byID.Quantity) != 1 {
			t.Errorf("line item 1: price %v, price_data %+v, quantity %d; want price_1AbcDEF alone and 1", strPtr(byID.Price), byID.PriceData, deref(byID.Quantity))
		}
	}
	want := map[string]string{"shop_id": f.shopID, "checkout_id": rec.ID, "checkout_mode": "sale", "inventory_reservation_id": holdID}
	assertMetadata(t, p, want)
	assertIdempotencyKey(t, p, "checkoutd-session-"+holdID)

	// The form stripe-go sends carries all of it, the amount as an integer.
	form, err := url.ParseQuery(testkit.FormBody(p))
	if err != nil {
		t.Fatalf("parse encoded params: %v", err)
	}
	for key, value := range map[string]string{
		"line_items[0][price_data][unit_amount]":                  "4500",
		"line_items[0][price_data][currency]":                     "eur",
		"line_items[0][price_data][product_data][name]":           "Linen shirt A",
		"line_items[1][price]":                                    "price_1AbcDEF",
		"metadata[inventory_reservation_id]":                      holdID,
		"metadata[shop_id]":                                       f.shopID,
		"payment_intent_data[metadata][inventory_reservation_id]": holdID,
		"payment_intent_data[metadata][shop_id]":                  f.shopID,
		"client_reference_id":                                     "cart-42",
	} {
		if got := form.Get(key); got != value {
			t.Errorf("encoded %s = %q, want %q", key, got, value)
		}
	}

	// Optional fields stay out of the request when not given.
	req = f.request("cart-43", pricedItem("B", "", 1, "price_1AbcDEF"))
	req.CustomerEmail, req.ClientReferenceID = "", ""
	f.create(t, req)
	if p := f.stripe.LastCall(t); p.CustomerEmail != nil || p.ClientReferenceID != nil {
		t.Errorf("customer_email %v, client_reference_id %v sent though not given", strPtr(p.CustomerEmail), strPtr(p.ClientReferenceID))
	}
}

// The session expires with the hold when Stripe allows it, and never sooner
// than Stripe's 30 minutes or later than its 24 hours.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  checkout.Config
		// withHold: the session must expire with the hold, to the second.
		withHold bool
	}{
		{"hold 20m", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 20 * time.Minute}, false},
		{"hold 60m", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: time.Hour}, true},
		{"hold 24h", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 24 * time.Hour}, false},
		{"validate_only", checkout.Config{InventoryMode: checkoutd.ModeValidateOnly}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, tt.cfg)
			f.stock(t, "A", "", 5)
			before := time.Now()
			sess, _ := f.create(t, f.request("cart-1", item("A", "", 1)))
			after := time.Now()

			p := f.stripe.LastCall(t)
			if p.ExpiresAt == nil {
				t.Fatal("no expires_at sent to Stripe")
			}
			exp := time.Unix(*p.ExpiresAt, 0)
			if earliest := after.Add(30 * time.Minute); exp.Before(earliest) {
				t.Errorf("expires_at %v is less than Stripe's 30 minutes after the request (%v)", exp, earliest)
			}
			if latest := before.Add(24 * time.Hour); exp.After(latest) {
				t.Errorf("expires_at %v is more than Stripe's 24 hours after the request (%v)", exp, latest)
			}
			if !sess.ExpiresAt.Equal(exp) {
				t.Errorf("session expiresAt %v, sent %v", sess.ExpiresAt, exp)
			}
			if tt.cfg.InventoryMode != checkoutd.ModeReserveTTL {
				return
			}
			hold, err := f.ledger.GetHold(ctx, f.shopID, *sess.ReservationID)
			if err != nil {
				t.Fatalf("get hold: %v", err)
			}
			if tt.withHold && *p.ExpiresAt != hold.ExpiresAt.Unix() {
				t.Errorf("expires_at %v, want the hold's expiry %v to the second", exp, hold.ExpiresAt)
			}
			if exp.After(hold.ExpiresAt) && !exp.Before(after.Add(33*time.Minute)) {
				t.Errorf("session outlives the hold (%v) by more than Stripe's minimum requires: %v", hold.ExpiresAt, exp)
			}
			if h := f.hold(t, hold.ID); h.CheckoutSessionExpiresAt == nil || !h.CheckoutSessionExpiresAt.Equal(exp) {
				t.Errorf("holds.checkout_session_expires_at = %v, want %v", h.CheckoutSessionExpiresAt, exp)
			}
		})
	}
}

// A malformed request is refused before anything is recorded or sent.
func TestCreateRejectsInvalidRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 5)
	for name, mutate := range map[string]func(*checkout.Request){
		"mode":            func(r *checkout.Request) { r.Mode = "lease" },
		"success url":     func(r *checkout.Request) { r.SuccessURL = "/ok" },
		"negative amount": func(r *checkout.Request) { r.Items[0].UnitAmount = amount(-1) },
		"price and name":  func(r *checkout.Request) { r.Items[0].Price = "price_1" },
		"currency":        func(r *checkout.Request) { r.Items[0].Currency = "EUR" },
		"no items":        func(r *checkout.Request) { r.Items = nil },
		"quantity":        func(r *checkout.Request) { r.Items[0].Quantity = 0 },
	} {
		req := f.request("cart-"+strings.ReplaceAll(name, " ", "-"), item("A", "", 1))
		mutate(&req)
		var verr *checkoutd.ValidationError
		if _, _, err := f.svc.Create(context.Background(), req); !errors.As(err, &verr) {
			t.Errorf("%s: %v, want *checkoutd.ValidationError", name, err)
		}
	}
	if n := len(f.stripe.NewCalls()); n != 0 {
		t.Errorf("Stripe was called %d times for invalid requests", n)
	}
	if list := f.checkouts(t); len(list) != 0 {
		t.Errorf("checkout records for invalid requests: %+v", list)
	}
}

// A shop that does not exist is ErrShopNotFound in every mode.
func TestCreateUnknownShop(t *testing.T) {
	t.Parallel()
	for _, cfg := range unavailableModes {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, cfg.cfg)
			req := f.request("cart-1", item("A", "", 1))
			req.ShopID = f.shopID + "-missing"
			if _, _, err := f.svc.Create(context.Background(), req); !errors.Is(err, checkoutd.ErrShopNotFound) {
				t.Errorf("create for an unknown shop: %v, want checkoutd.ErrShopNotFound", err)
			}
			if n := len(f.stripe.NewCalls()); n != 0 {
				t.Errorf("Stripe was called %d times for an unknown shop", n)
			}
		})
	}
}
