package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// A checkout with holdId adopts the cart's hold over HTTP; an unknown hold
// is 404, a closed one 409 hold_not_active, one another checkout has 409
// hold_in_checkout, and Stripe failing leaves the hold the cart's.
func TestCheckoutWithHoldID(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	cart := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}})
	cartID := str(t, cart, "id")

	h.sessions.fail(shop, true)
	failed := h.do(t, req{Method: http.MethodPost, Path: checkoutPath, Token: serviceToken, ServerError: true,
		Body: withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 2)), map[string]any{"holdId": cartID})})
	expect(t, failed, http.StatusBadGateway, "payment_provider_error")
	h.sessions.fail(shop, false)
	if got := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+cartID), nil).Obj(t); got["status"] != "active" {
		t.Errorf("the cart's hold after Stripe failed: %v", got)
	}

	body := withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 2)), map[string]any{"holdId": cartID, "idempotencyKey": "cart-1"})
	r := h.createCheckout(t, body)
	expect(t, r, http.StatusCreated, "")
	if got := r.Obj(t)["reservationId"]; got != cartID {
		t.Errorf("reservationId %v, want the cart's hold %s", got, cartID)
	}
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.Reserved != 2 {
		t.Errorf("reserved %d, want the checkout's 2", info.Reserved)
	}
	again := h.createCheckout(t, body)
	expect(t, again, http.StatusOK, "")
	assertJSON(t, again, r.JSON)

	before := h.snapshot(t, shop)
	other := h.createCheckout(t, withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 1)), map[string]any{"holdId": cartID}))
	expect(t, other, http.StatusConflict, "hold_in_checkout")
	expect(t, h.createCheckout(t, withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 1)), map[string]any{"holdId": "hold_nope"})), http.StatusNotFound, "not_found")
	h.assertUnchanged(t, shop, before)
	released := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}})
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+str(t, released, "id")+"/release"), nil), http.StatusOK, "")
	before = h.snapshot(t, shop)
	closed := h.createCheckout(t, withFields(checkoutBody(shop, checkoutItem("SKU-1", "", 1)), map[string]any{"holdId": str(t, released, "id")}))
	expect(t, closed, http.StatusConflict, "hold_not_active")
	h.assertUnchanged(t, shop, before)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}
