package httpapi_test

import (
	"net/http"
	"testing"
)

const validatePath = "/api/inventory/validate"

func TestValidate(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-123", "size:M", "", 1)
	h.stock(t, shop, "SKU-9", "", "", 10)
	h.hold(t, shop, map[string]any{"items": []any{item("SKU-9", "", 4)}})
	before := h.snapshot(t, shop)

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": shop, "items": []any{
			item("SKU-123", "size:M", 1), item("SKU-9", "", 6),
		}})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"ok": true})
	})

	t.Run("insufficient", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": shop, "items": []any{
			item("SKU-123", "size:M", 2), item("SKU-9", "", 6),
		}})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"ok": false, "insufficient": []any{
			map[string]any{"sku": "SKU-123", "variantKey": "size:M", "requested": 2, "available": 1},
		}})
	})

	t.Run("held units are not available", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": shop, "items": []any{item("SKU-9", "", 7)}})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"ok": false, "insufficient": []any{
			map[string]any{"sku": "SKU-9", "variantKey": "", "requested": 7, "available": 6},
		}})
	})

	t.Run("repeated lines are summed", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": shop, "items": []any{
			item("SKU-9", "", 3), item("SKU-9", "", 4),
		}})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"ok": false, "insufficient": []any{
			map[string]any{"sku": "SKU-9", "variantKey": "", "requested": 7, "available": 6},
		}})
	})

	t.Run("unknown line is available 0", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": shop, "items": []any{
			item("NEVER-STOCKED", "size:XL", 1), item("SKU-123", "size:S", 1),
		}})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"ok": false, "insufficient": []any{
			map[string]any{"sku": "NEVER-STOCKED", "variantKey": "size:XL", "requested": 1, "available": 0},
			map[string]any{"sku": "SKU-123", "variantKey": "size:S", "requested": 1, "available": 0},
		}})
		// Nor does asking create the line.
		r = h.svc(t, http.MethodGet, shopPath(shop, "/stock/NEVER-STOCKED?variantKey=size:XL"), nil)
		expect(t, r, http.StatusNotFound, "not_found")
	})

	t.Run("unknown shop", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": "no-such-shop-" + shop[:8], "items": []any{item("SKU-9", "", 1)}})
		expect(t, r, http.StatusNotFound, "not_found")
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		expectInvalid(t, h.svc(t, http.MethodPost, validatePath, map[string]any{"items": []any{item("SKU-9", "", 1)}}), "shopId")
		expectInvalid(t, h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": shop}), "items")
		expectInvalid(t, h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": shop, "items": []any{item("SKU-9", "", 0)}}), "items[0].quantity")
	})

	t.Cleanup(func() { h.assertUnchanged(t, shop, before) })
}
