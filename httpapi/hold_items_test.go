package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// PUT .../holds/{holdId}/items makes the hold's lines the body's; every
// refusal is its own code and changes nothing.
func TestSetHoldItems(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	h.stock(t, shop, "SKU-2", "size:M", "", 5)
	hold := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}, "ttlSeconds": 60})
	id := str(t, hold, "id")
	path := shopPath(shop, "/holds/"+id+"/items")

	r := h.svc(t, http.MethodPut, path, map[string]any{
		"items":       []any{item("SKU-1", "", 2), item("SKU-2", "size:M", 1), item("SKU-1", "", 1)},
		"ttlSeconds":  600,
		"customerKey": "customer-7",
	})
	expect(t, r, http.StatusOK, "")
	got := r.Obj(t)
	items := objs(t, got, "items")
	if len(items) != 2 || items[0]["sku"] != "SKU-1" || num(t, items[0], "quantity") != 3 || items[1]["sku"] != "SKU-2" || num(t, items[1], "quantity") != 1 {
		t.Errorf("items: %s", r.Raw)
	}
	if exp := timeField(t, got, "expiresAt"); !exp.After(timeField(t, hold, "expiresAt").Add(9 * time.Minute)) {
		t.Errorf("expiresAt %v, want extended by 600 s from %v", exp, timeField(t, hold, "expiresAt"))
	}
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.Reserved != 3 {
		t.Errorf("SKU-1 reserved %d, want 3", info.Reserved)
	}

	before := h.snapshot(t, shop)
	short := h.svc(t, http.MethodPut, path, map[string]any{"items": []any{item("SKU-1", "", 6)}})
	expect(t, short, http.StatusConflict, "insufficient_stock")
	if lines := objs(t, short.Obj(t), "items"); len(lines) != 1 || num(t, lines[0], "requested") != 6 || num(t, lines[0], "available") != 5 {
		t.Errorf("shortfall: %s", short.Raw)
	}
	expectInvalid(t, h.svc(t, http.MethodPut, path, map[string]any{"items": []any{}}), "items")
	expectInvalid(t, h.svc(t, http.MethodPut, path, map[string]any{"items": []any{item("SKU-1", "", 1)}, "ttlSeconds": 0}), "ttlSeconds")
	expect(t, h.svc(t, http.MethodPut, shopPath(shop, "/holds/hold_nope/items"), map[string]any{"items": []any{item("SKU-1", "", 1)}}), http.StatusNotFound, "not_found")
	h.assertUnchanged(t, shop, before)

	bound := h.hold(t, shop, map[string]any{"items": []any{item("SKU-2", "size:M", 1)}})
	if err := h.ledger.AttachSession(context.Background(), shop, str(t, bound, "id"), "cs_test_bound", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	before = h.snapshot(t, shop)
	expect(t, h.svc(t, http.MethodPut, shopPath(shop, "/holds/"+str(t, bound, "id")+"/items"), map[string]any{"items": []any{item("SKU-2", "size:M", 2)}}), http.StatusConflict, "hold_in_checkout")
	h.assertUnchanged(t, shop, before)

	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/commit"), nil), http.StatusOK, "")
	before = h.snapshot(t, shop)
	done := h.svc(t, http.MethodPut, path, map[string]any{"items": []any{item("SKU-1", "", 1)}})
	expect(t, done, http.StatusConflict, "hold_not_active")
	if done.Obj(t)["status"] != "committed" {
		t.Errorf("status: %s", done.Raw)
	}
	h.assertUnchanged(t, shop, before)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}
