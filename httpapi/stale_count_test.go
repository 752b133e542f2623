package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// countedSet is a set of sku at default from a count that found expected.
func countedSet(sku string, quantity, expected int64) map[string]any {
	ch := change(sku, "", "set", quantity)
	ch["expectedOnHand"] = expected
	return ch
}

func TestAdjustmentExpectedOnHand(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	h.stock(t, shop, "SKU-2", "", "", 5)
	h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 3)}})
	before := h.snapshot(t, shop)

	// One stale set of several: nothing of any line is written, and the
	// answer names the stale row with what it had.
	r := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"idempotencyKey": "count-1", "changes": []any{
		change("SKU-2", "", "increment", 1),
		countedSet("SKU-1", 8, 9),
		countedSet("SKU-2", 7, 6),
	}})
	expect(t, r, http.StatusConflict, "stale_count")
	assertJSON(t, r, map[string]any{"error": "stale_count", "message": r.Obj(t)["message"], "items": []any{
		map[string]any{"sku": "SKU-1", "variantKey": "", "locationId": "default", "expectedOnHand": 9, "onHand": 10},
	}})
	h.assertUnchanged(t, shop, before)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)

	for _, tc := range []struct {
		name  string
		ch    map[string]any
		field string
	}{
		{"on an increment", map[string]any{"sku": "SKU-1", "op": "increment", "quantity": 1, "expectedOnHand": 10}, "changes[0].expectedOnHand"},
		{"on a decrement", map[string]any{"sku": "SKU-1", "op": "decrement", "quantity": 1, "expectedOnHand": 10}, "changes[0].expectedOnHand"},
		{"negative", map[string]any{"sku": "SKU-1", "op": "set", "quantity": 1, "expectedOnHand": -1}, "changes[0].expectedOnHand"},
		{"not an integer", map[string]any{"sku": "SKU-1", "op": "set", "quantity": 1, "expectedOnHand": "10"}, "changes[0].expectedOnHand"},
	} {
		expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"changes": []any{tc.ch}}), tc.field)
	}
	h.assertUnchanged(t, shop, before)

	// The refused request claimed no key: with a fresh count it applies,
	// and its replay is the first answer.
	fresh := map[string]any{"idempotencyKey": "count-1", "changes": []any{countedSet("SKU-1", 8, 10)}}
	first := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), fresh)
	expect(t, first, http.StatusOK, "")
	if mv := objs(t, first.Obj(t), "movements"); len(mv) != 1 || num(t, mv[0], "quantity") != -2 {
		t.Errorf("movements: %s", first.Raw)
	}
	replay := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), fresh)
	expect(t, replay, http.StatusOK, "")
	assertJSON(t, replay, first.JSON)
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 8 {
		t.Errorf("on hand %d, want 8", info.OnHand)
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}
