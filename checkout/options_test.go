package checkout_test

import (
	"context"
	"errors"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
)

// adjustableItem is an inline-priced line the customer may resize on
// Stripe's page between minimum and maximum.
func adjustableItem(sku string, quantity, minimum, maximum int64) checkout.Item {
	it := item(sku, "", quantity)
	it.AdjustableQuantity = &checkout.AdjustableQuantity{Enabled: true, Minimum: &minimum, Maximum: &maximum}
	return it
}

// embedded turns r into an embedded Checkout request.
func embedded(r *checkout.Request) {
	r.UIMode, r.ReturnURL = checkout.UIModeEmbedded, "https://shop.example/return?session_id={CHECKOUT_SESSION_ID}"
	r.SuccessURL, r.CancelURL = "", ""
}

// Every combination Stripe would refuse is a 400 naming each field, before
// any checkout is recorded, any stock held or Stripe called.
func TestRefusedOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 50)
	f.stock(t, "B", "", 50)
	long := strings.Repeat("k", 41)
	tooMany := func(n int, prefix string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = prefix + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		mutate func(*checkout.Request)
		fields []string
	}{
		{"unknown uiMode", func(r *checkout.Request) { r.UIMode = "popup" }, []string{"uiMode"}},
		{"embedded without returnUrl", func(r *checkout.Request) { embedded(r); r.ReturnURL = "" }, []string{"returnUrl"}},
		{"embedded with a relative returnUrl", func(r *checkout.Request) { embedded(r); r.ReturnURL = "/return" }, []string{"returnUrl"}},
		{"embedded with successUrl", func(r *checkout.Request) { embedded(r); r.SuccessURL = "https://shop.example/ok" }, []string{"successUrl"}},
		{"embedded with cancelUrl", func(r *checkout.Request) { embedded(r); r.CancelURL = "https://shop.example/cart" }, []string{"cancelUrl"}},
		{"hosted with returnUrl", func(r *checkout.Request) { r.ReturnURL = "https://shop.example/return" }, []string{"returnUrl"}},
		{"hosted without successUrl", func(r *checkout.Request) { r.SuccessURL = "" }, []string{"successUrl"}},
		{"hosted without either URL", func(r *checkout.Request) { r.SuccessURL, r.CancelURL = "", "" }, []string{"successUrl", "cancelUrl"}},
		{"unknown locale", func(r *checkout.Request) { r.Locale = "de-DE" }, []string{"locale"}},
		{"customer not an id", func(r *checkout.Request) { r.CustomerEmail = ""; r.Customer = "bob" }, []string{"customer"}},
		{"customer with customerEmail", func(r *checkout.Request) { r.Customer = "cus_123" }, []string{"customer"}},
		{"promotion codes with discounts", func(r *checkout.Request) {
			r.AllowPromotionCodes, r.Discounts = true, []checkout.Discount{{Coupon: "SUMMER"}}
		}, []string{"discounts"}},
		{"two discounts", func(r *checkout.Request) {
			r.Discounts = []checkout.Discount{{Coupon: "SUMMER"}, {PromotionCode: "promo_1"}}
		}, []string{"discounts"}},
		{"discount with both", func(r *checkout.Request) {
			r.Discounts = []checkout.Discount{{Coupon: "SUMMER", PromotionCode: "promo_1"}}
		}, []string{"discounts[0]"}},
		{"empty discount", func(r *checkout.Request) { r.Discounts = []checkout.Discount{{}} }, []string{"discounts[0]"}},
		{"promotion code not an id", func(r *checkout.Request) {
			r.Discounts = []checkout.Discount{{PromotionCode: "SUMMER"}}
		}, []string{"discounts[0].promotionCode"}},
		{"no allowed countries", func(r *checkout.Request) {
			r.ShippingAddressCollection = &checkout.ShippingAddressCollection{}
		}, []string{"shippingAddressCollection.allowedCountries"}},
		{"a country Stripe does not ship to", func(r *checkout.Request) {
			r.ShippingAddressCollection = &checkout.ShippingAddressCollection{AllowedCountries: []string{"DE", "de", "KP"}}
		}, []string{"shippingAddressCollection.allowedCountries[1]", "shippingAddressCollection.allowedCountries[2]"}},
		{"a country twice", func(r *checkout.Request) {
			r.ShippingAddressCollection = &checkout.ShippingAddressCollection{AllowedCountries: []string{"DE", "DE"}}
		}, []string{"shippingAddressCollection.allowedCountries[1]"}},
		{"six shipping rates", func(r *checkout.Request) { r.ShippingRates = tooMany(6, "shr_") }, []string{"shippingRates"}},
		{"shipping rate not an id", func(r *checkout.Request) { r.ShippingRates = []string{"express"} }, []string{"shippingRates[0]"}},
		{"billing address collection", func(r *checkout.Request) { r.BillingAddressCollection = "always" }, []string{"billingAddressCollection"}},
		{"payment method type", func(r *checkout.Request) { r.PaymentMethodTypes = []string{"card", "Klarna"} }, []string{"paymentMethodTypes[1]"}},
		{"21 payment method types", func(r *checkout.Request) { r.PaymentMethodTypes = tooMany(21, "pm") }, []string{"paymentMethodTypes"}},
		{"payment method type twice", func(r *checkout.Request) { r.PaymentMethodTypes = []string{"card", "card"} }, []string{"paymentMethodTypes[1]"}},
		{"metadata shop_id", func(r *checkout.Request) { r.Metadata = map[string]string{"shop_id": "other"} }, []string{"metadata.shop_id"}},
		{"metadata inventory_ key", func(r *checkout.Request) {
			r.Metadata = map[string]string{"inventory_reservation_id": "hold_x", "order": "1"}
		}, []string{"metadata.inventory_reservation_id"}},
		{"metadata checkout_ and checkoutd_ keys", func(r *checkout.Request) {
			r.Metadata = map[string]string{"checkout_id": "x", "checkoutd_x": "y"}
		}, []string{"metadata.checkout_id", "metadata.checkoutd_x"}},
		{"metadata key too long", func(r *checkout.Request) { r.Metadata = map[string]string{long: "v"} }, []string{"metadata"}},
		{"metadata key with brackets", func(r *checkout.Request) { r.Metadata = map[string]string{"a[b]": "v"} }, []string{"metadata"}},
		{"metadata value too long", func(r *checkout.Request) {
			r.Metadata = map[string]string{"note": strings.Repeat("v", 501)}
		}, []string{"metadata.note"}},
		{"21 metadata keys", func(r *checkout.Request) {
			r.Metadata = map[string]string{}
			for _, k := range tooMany(21, "k") {
				r.Metadata[k] = "v"
			}
		}, []string{"metadata"}},
		{"description on a price id", func(r *checkout.Request) {
			r.Items[0] = pricedItem("A", "", 1, "price_1AbcDEF")
			r.Items[0].Description = "Soft linen"
		}, []string{"items[0].price"}},
		{"nine images", func(r *checkout.Request) { r.Items[0].Images = tooMany(9, "https://img.example/") }, []string{"items[0].images"}},
		{"an http image", func(r *checkout.Request) { r.Items[0].Images = []string{"http://img.example/a.png"} }, []string{"items[0].images[0]"}},
		{"adjustable without maximum", func(r *checkout.Request) {
			r.Items[0].AdjustableQuantity = &checkout.AdjustableQuantity{Enabled: true}
		}, []string{"items[0].adjustableQuantity.maximum"}},
		{"adjustable maximum over 999", func(r *checkout.Request) { r.Items[0] = adjustableItem("A", 1, 0, 1000) }, []string{"items[0].adjustableQuantity.maximum"}},
		{"adjustable maximum below quantity", func(r *checkout.Request) { r.Items[0] = adjustableItem("A", 3, 0, 2) }, []string{"items[0].adjustableQuantity.maximum"}},
		{"adjustable minimum above quantity", func(r *checkout.Request) { r.Items[0] = adjustableItem("A", 1, 2, 5) }, []string{"items[0].adjustableQuantity.minimum"}},
		{"adjustable negative minimum", func(r *checkout.Request) { r.Items[0] = adjustableItem("A", 1, -1, 5) }, []string{"items[0].adjustableQuantity.minimum"}},
		{"limits without enabled", func(r *checkout.Request) {
			m := int64(5)
			r.Items[0].AdjustableQuantity = &checkout.AdjustableQuantity{Maximum: &m}
		}, []string{"items[0].adjustableQuantity.enabled"}},
		{"adjustable line repeated", func(r *checkout.Request) {
			r.Items = []checkout.Item{adjustableItem("A", 1, 0, 5), item("A", "", 1)}
		}, []string{"items[1]"}},
		{"two currencies", func(r *checkout.Request) {
			b := item("B", "", 1)
			b.Currency = "usd"
			r.Items = append(r.Items, b)
		}, []string{"items[1].currency"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := f.request("refused-"+tt.name, item("A", "", 1))
			tt.mutate(&req)
			_, _, err := f.svc.Create(context.Background(), req)
			var verr *checkoutd.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Create: %v, want *checkoutd.ValidationError", err)
			}
			var got []string
			for _, d := range verr.Details {
				got = append(got, d.Field)
			}
			if !equalSets(got, tt.fields) {
				t.Errorf("details name %q, want one entry per field %q: %+v", got, tt.fields, verr.Details)
			}
		})
	}
	if n := len(f.stripe.NewCalls()); n != 0 {
		t.Errorf("Stripe was asked for %d sessions, want none", n)
	}
	if list := f.checkouts(t); len(list) != 0 {
		t.Errorf("checkout records: %+v, want none", list)
	}
	if holds := f.holdIDs(t, ""); len(holds) != 0 {
		t.Errorf("holds %v, want none", holds)
	}
	f.assertReserved(t, "A", "", 0)
}

// equalSets reports whether a and b hold the same strings, counting
// repeats.
func equalSets(a, b []string) bool {
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// Every option reaches Stripe as the field API.md names, and the shop's
// metadata is merged into the session's and the PaymentIntent's beside
// checkoutd's own keys.
func TestOptionsReachStripe(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 20)
	f.stock(t, "B", "", 20)
	req := f.request("cart-options", adjustableItem("A", 2, 1, 6), item("B", "", 1))
	req.CustomerEmail = ""
	req.Items[1].Description = "Soft linen, washed"
	req.Items[1].Images = []string{"https://img.example/b1.png", "https://img.example/b2.png"}
	req.Locale = "pt-BR"
	req.Customer = "cus_Q1w2E3"
	req.Discounts = []checkout.Discount{{PromotionCode: "promo_1Abc"}}
	req.ShippingAddressCollection = &checkout.ShippingAddressCollection{AllowedCountries: []string{"DE", "AT"}}
	req.ShippingRates = []string{"shr_1Std", "shr_1Exp"}
	req.AutomaticTax = &checkout.Toggle{Enabled: true}
	req.BillingAddressCollection = "required"
	req.PhoneNumberCollection = &checkout.Toggle{Enabled: true}
	req.PaymentMethodTypes = []string{"card", "klarna"}
	req.Metadata = map[string]string{"order_id": "1042", "channel": "web"}
	sess, _ := f.create(t, req)
	rec := f.onlyCheckout(t)

	form, err := url.ParseQuery(testkit.FormBody(f.stripe.LastCall(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ui_mode":                      "",
		"success_url":                  req.SuccessURL,
		"cancel_url":                   req.CancelURL,
		"locale":                       "pt-BR",
		"customer":                     "cus_Q1w2E3",
		"customer_email":               "",
		"customer_update[address]":     "auto",
		"customer_update[shipping]":    "auto",
		"discounts[0][promotion_code]": "promo_1Abc",
		"allow_promotion_codes":        "",
		"shipping_address_collection[allowed_countries][0]":      "DE",
		"shipping_address_collection[allowed_countries][1]":      "AT",
		"shipping_options[0][shipping_rate]":                     "shr_1Std",
		"shipping_options[1][shipping_rate]":                     "shr_1Exp",
		"automatic_tax[enabled]":                                 "true",
		"billing_address_collection":                             "required",
		"phone_number_collection[enabled]":                       "true",
		"payment_method_types[0]":                                "card",
		"payment_method_types[1]":                                "klarna",
		"line_items[0][quantity]":                                "2",
		"line_items[0][adjustable_quantity][enabled]":            "true",
		"line_items[0][adjustable_quantity][minimum]":            "1",
		"line_items[0][adjustable_quantity][maximum]":            "6",
		"line_items[1][adjustable_quantity][enabled]":            "",
		"line_items[1][price_data][product_data][description]":   "Soft linen, washed",
		"line_items[1][price_data][product_data][images][0]":     "https://img.example/b1.png",
		"line_items[1][price_data][product_data][images][1]":     "https://img.example/b2.png",
		"line_items[1][price_data][product_data][metadata][sku]": "B",
	}
	for _, prefix := range []string{"metadata", "payment_intent_data[metadata]"} {
		for k, v := range map[string]string{
			"order_id": "1042", "channel": "web", "shop_id": f.shopID, "checkout_id": rec.ID,
			"checkout_mode": "sale", "inventory_reservation_id": *sess.ReservationID,
		} {
			want[prefix+"["+k+"]"] = v
		}
	}
	for key, value := range want {
		if got := form.Get(key); got != value {
			t.Errorf("sent %s = %q, want %q", key, got, value)
		}
	}
	// The adjustable line holds its maximum, whatever the customer starts
	// with.
	f.assertReserved(t, "A", "", 6)
	f.assertReserved(t, "B", "", 1)
	if deref(sess.URL) == "" || sess.ClientSecret != nil || sess.UIMode != checkout.UIModeHosted {
		t.Errorf("hosted session: url %v, clientSecret %v, uiMode %q", sess.URL, sess.ClientSecret, sess.UIMode)
	}

	// Promotion codes on their own.
	req = f.request("cart-promo", item("B", "", 1))
	req.AllowPromotionCodes = true
	f.create(t, req)
	if p := f.stripe.LastCall(t); p.AllowPromotionCodes == nil || !*p.AllowPromotionCodes || p.Discounts != nil {
		t.Errorf("allow_promotion_codes %v, discounts %v; want true and none", p.AllowPromotionCodes, p.Discounts)
	}
}

// Embedded Checkout sends ui_mode and return_url instead of the two URLs,
// and answers the client secret (no url), the same on a replay.
func TestEmbeddedCheckout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 5)
	req := f.request("cart-embedded", item("A", "", 2))
	embedded(&req)
	sess, created := f.create(t, req)
	if !created || sess.UIMode != checkout.UIModeEmbedded || sess.URL != nil || !strings.Contains(deref(sess.ClientSecret), "_secret_") {
		t.Fatalf("embedded session %+v (created %v): want uiMode embedded, no url, a client secret", sess, created)
	}
	p := f.stripe.LastCall(t)
	if deref(p.UIMode) != "embedded" || deref(p.ReturnURL) != req.ReturnURL || p.SuccessURL != nil || p.CancelURL != nil {
		t.Errorf("sent ui_mode %q, return_url %q, success_url %v, cancel_url %v", deref(p.UIMode), deref(p.ReturnURL), p.SuccessURL, p.CancelURL)
	}
	again, created, err := f.svc.Create(context.Background(), req)
	if err != nil || created || again.ID != sess.ID || deref(again.ClientSecret) != deref(sess.ClientSecret) || again.URL != nil || again.UIMode != checkout.UIModeEmbedded {
		t.Errorf("replay: %+v, created %v, %v; want the first session with its client secret", again, created, err)
	}
	f.assertReserved(t, "A", "", 2)
}

// The shop's metadata never overrides checkoutd's keys: what the webhooks
// find the checkout and hold by is always checkoutd's.
func TestShopMetadataMerged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeValidateOnly})
	f.stock(t, "A", "", 5)
	req := f.request("cart-meta", item("A", "", 1))
	req.Metadata = map[string]string{"order_id": "1042"}
	f.create(t, req)
	p := f.stripe.LastCall(t)
	rec := f.onlyCheckout(t)
	want := map[string]string{"order_id": "1042", "shop_id": f.shopID, "checkout_id": rec.ID, "checkout_mode": "sale"}
	for name, got := range map[string]map[string]string{"session": p.Metadata, "payment intent": p.PaymentIntentData.Metadata} {
		if !maps.Equal(got, want) {
			t.Errorf("%s metadata %v, want %v", name, got, want)
		}
	}
	// The shop's map is its own: Create does not write into it.
	if len(req.Metadata) != 1 {
		t.Errorf("the request's metadata was changed: %v", req.Metadata)
	}
}

// validate_only checks an adjustable line's maximum: the customer may buy
// that many.
func TestAdjustableQuantityChecksMaximum(t *testing.T) {
	t.Parallel()
	for _, mode := range []checkoutd.InventoryMode{checkoutd.ModeValidateOnly, checkoutd.ModeReserveTTL} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkout.Config{InventoryMode: mode})
			f.stock(t, "A", "", 4)
			_, _, err := f.svc.Create(context.Background(), f.request("cart-max", adjustableItem("A", 1, 0, 5)))
			var short *inventory.InsufficientStockError
			if !errors.As(err, &short) || len(short.Lines) != 1 || short.Lines[0].Requested != 5 {
				t.Fatalf("Create with maximum 5 of 4: %v, want insufficient stock for 5", err)
			}
			if n := len(f.stripe.NewCalls()); n != 0 {
				t.Errorf("Stripe was called %d times", n)
			}
			f.create(t, f.request("cart-fits", adjustableItem("A", 1, 0, 4)))
			p := f.stripe.LastCall(t)
			if a := p.LineItems[0].AdjustableQuantity; a == nil || deref(a.Maximum) != 4 || deref(p.LineItems[0].Quantity) != 1 {
				t.Errorf("line item %+v: want quantity 1 adjustable up to 4", p.LineItems[0])
			}
			if mode == checkoutd.ModeReserveTTL {
				f.assertReserved(t, "A", "", 4)
			}
		})
	}
}
