package httpapi_test

import (
	"net/http"
	"testing"
)

func TestHoldPurchaseLimits(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "DROP", "", "", 20)
	expect(t, h.svc(t, http.MethodPut, shopPath(shop, "/stock/DROP/settings"), map[string]any{"maxPerOrder": 3, "maxPerCustomer": 4}), http.StatusOK, "")
	before := h.snapshot(t, shop)

	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{item("DROP", "", 4)}, "customerKey": "acct_1"})
	expect(t, r, http.StatusConflict, "limit_exceeded")
	assertJSON(t, r, map[string]any{
		"error": "limit_exceeded", "message": r.Obj(t)["message"],
		"items": []any{map[string]any{"sku": "DROP", "variantKey": "", "requested": 4, "limit": 3, "kind": "per_order"}},
	})
	// The line's per-customer limit needs a customer key, and a key must
	// be printable.
	expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{item("DROP", "", 1)}}), "customerKey")
	expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{item("DROP", "", 1)}, "customerKey": "a\nb"}), "customerKey")
	h.assertUnchanged(t, shop, before)

	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{item("DROP", "", 3)}, "customerKey": "acct_1"}), http.StatusCreated, "")
	r = h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{item("DROP", "", 2)}, "customerKey": "acct_1"})
	expect(t, r, http.StatusConflict, "limit_exceeded")
	assertJSON(t, r, map[string]any{
		"error": "limit_exceeded", "message": r.Obj(t)["message"],
		"items": []any{map[string]any{"sku": "DROP", "variantKey": "", "requested": 2, "limit": 4, "kind": "per_customer", "remaining": 1}},
	})
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{item("DROP", "", 2)}, "customerKey": "acct_2"}), http.StatusCreated, "")
}
