package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestReturns(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "MUG", "", "", 10)
	hold := h.hold(t, shop, map[string]any{"items": []any{item("MUG", "", 3)}})
	holdID := hold["id"].(string)
	path := shopPath(shop, "/holds/"+holdID+"/returns")

	// An active hold has sold nothing: 409 hold_not_active, nothing changes.
	before := h.snapshot(t, shop)
	r := h.svc(t, http.MethodPost, path, map[string]any{"items": []any{item("MUG", "", 1)}})
	expect(t, r, http.StatusConflict, "hold_not_active")
	h.assertUnchanged(t, shop, before)
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+holdID+"/commit"), map[string]any{}), http.StatusOK, "")

	// restock left out means true: 201, on hand back up.
	body := map[string]any{"items": []any{item("MUG", "", 2)}, "reason": "wrong colour", "idempotencyKey": "rma-1"}
	r = h.svc(t, http.MethodPost, path, body)
	expect(t, r, http.StatusCreated, "")
	m := r.Obj(t)
	assertKeys(t, m, "id", "holdId", "items", "restock", "reason", "createdAt")
	if !strings.HasPrefix(str(t, m, "id"), "ret_") || m["restock"] != true || m["holdId"] != holdID {
		t.Fatalf("return: %s", r.Raw)
	}
	items := objs(t, m, "items")
	assertKeys(t, items[0], "sku", "variantKey", "quantity", "locationId")
	if items[0]["locationId"] != "default" || num(t, items[0], "quantity") != 2 {
		t.Fatalf("items: %s", r.Raw)
	}
	if info := h.stockInfo(t, shop, "MUG", ""); info.OnHand != 9 {
		t.Fatalf("on hand after return = %d, want 9", info.OnHand)
	}

	// Replay: 200, the same return, nothing more restocked.
	before = h.snapshot(t, shop)
	replay := h.svc(t, http.MethodPost, path, body)
	expect(t, replay, http.StatusOK, "")
	assertJSON(t, replay, r.JSON)
	other := map[string]any{"items": []any{item("MUG", "", 1)}, "idempotencyKey": "rma-1"}
	expect(t, h.svc(t, http.MethodPost, path, other), http.StatusConflict, "idempotency_conflict")

	// Over the sale: 409 with what may still come back.
	over := h.svc(t, http.MethodPost, path, map[string]any{"items": []any{item("MUG", "", 2)}, "restock": false})
	expect(t, over, http.StatusConflict, "return_exceeds_sale")
	e := over.Obj(t)
	if num(t, e, "returnable") != 1 || num(t, e, "requested") != 2 || e["locationId"] != nil || e["sku"] != "MUG" {
		t.Fatalf("return_exceeds_sale body: %s", over.Raw)
	}
	expectInvalid(t, h.svc(t, http.MethodPost, path, map[string]any{"items": []any{}}), "items")
	expectInvalid(t, h.svc(t, http.MethodPost, path, map[string]any{"items": []any{item("MUG", "", 1)}, "restock": "yes"}), "restock")
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/hold_none/returns"), map[string]any{"items": []any{item("MUG", "", 1)}}), http.StatusNotFound, "not_found")
	h.assertUnchanged(t, shop, before)

	// Without restock: recorded, no stock change.
	r2 := h.svc(t, http.MethodPost, path, map[string]any{"items": []any{item("MUG", "", 1)}, "restock": false})
	expect(t, r2, http.StatusCreated, "")
	h.assertUnchanged(t, shop, before)

	list := h.svc(t, http.MethodGet, path, nil)
	expect(t, list, http.StatusOK, "")
	rets := objs(t, list.Obj(t), "items")
	if len(rets) != 2 || rets[0]["id"] != m["id"] || rets[1]["restock"] != false {
		t.Fatalf("list: %s", list.Raw)
	}
	expect(t, h.svc(t, http.MethodGet, shopPath(shop, "/holds/hold_none/returns"), nil), http.StatusNotFound, "not_found")
}

func TestRentalsList(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	r := h.svc(t, http.MethodGet, shopPath(shop, "/rentals"), nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"items": []any{}, "nextCursor": nil})
	expectInvalid(t, h.svc(t, http.MethodGet, shopPath(shop, "/rentals?status=lost"), nil), "status")
	expectInvalid(t, h.svc(t, http.MethodGet, shopPath(shop, "/rentals?limit=0"), nil), "limit")
	expect(t, h.svc(t, http.MethodGet, shopPath("no-such-shop", "/rentals"), nil), http.StatusNotFound, "not_found")
}
