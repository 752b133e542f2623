package httpapi_test

// Tests of POST /api/checkout/sessions' requests: decoding and checking
// each field, authentication, and the schemas docs/openapi.yaml gives the
// request and the session. Helpers are in checkout_test.go.

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

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
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.Reserved != 1 {
		t.Errorf("reserved %d, want 1", info.Reserved)
	}
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
