package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// oversoldEnv serves the API with the oversold route mounted, as
// cmd/checkoutd's serve does, for the length of the test; the shared

// insertOversold records an oversold order of shop by SQL, with the
// checkout row it refers to, created at createdAt.
func insertOversold(t *testing.T, h *harness, shop, id string, createdAt time.Time, paymentIntent *string) {
	t.Helper()
	ctx := context.Background()
	_, err := h.pool.Exec(ctx, `INSERT INTO checkouts (shop_id, id, mode, inventory_mode, request_hash, lines, stripe_session_id, status)
		VALUES ($1, $2, 'sale', 'reserve_ttl', '\x00', '[{"sku":"SKU-1","variantKey":"size:M","quantity":3}]', $3, 'oversold')`,
		shop, "chk_"+id, "cs_test_"+id)
	if err != nil {
		t.Fatalf("insert checkout: %v", err)
	}
	_, err = h.pool.Exec(ctx, `INSERT INTO oversold_orders (shop_id, id, checkout_id, stripe_session_id, payment_intent_id, event_id, lines, shortfall, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, '[{"sku":"SKU-1","variantKey":"size:M","quantity":3}]',
		        '[{"sku":"SKU-1","variantKey":"size:M","requested":3,"available":1}]', $7)`,
		shop, id, "chk_"+id, "cs_test_"+id, paymentIntent, "evt_"+id, createdAt)
	if err != nil {
		t.Fatalf("insert oversold order: %v", err)
	}
}

func TestListOversoldOrders(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	base := time.Date(2026, 2, 3, 4, 5, 6, 789000000, time.UTC)
	pi := "pi_3"
	insertOversold(t, h, shop, "ovs_1", base, nil)
	insertOversold(t, h, shop, "ovs_2", base.Add(time.Minute), nil)
	insertOversold(t, h, shop, "ovs_3", base.Add(2*time.Minute), &pi)
	path := shopPath(shop, "/oversold")

	r := h.svc(t, http.MethodGet, path+"?limit=2", nil)
	expect(t, r, http.StatusOK, "")
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	page := r.Obj(t)
	assertKeys(t, page, "items", "nextCursor")
	items := objs(t, page, "items")
	if len(items) != 2 {
		t.Fatalf("first page has %d items, want 2: %s", len(items), r.Raw)
	}
	want := map[string]any{
		"id": "ovs_3", "checkoutId": "chk_ovs_3", "stripeSessionId": "cs_test_ovs_3", "paymentIntentId": "pi_3",
		"eventId": "evt_ovs_3", "refundRequested": false, "createdAt": "2026-02-03T04:07:06Z",
		"lines":     []any{map[string]any{"sku": "SKU-1", "variantKey": "size:M", "quantity": 3}},
		"shortfall": []any{map[string]any{"sku": "SKU-1", "variantKey": "size:M", "requested": 3, "available": 1}},
	}
	if got := items[0]; !jsonEqual(got, jsonOf(t, want)) {
		t.Errorf("newest order\n got  %v\n want %v", got, want)
	}
	timeField(t, items[1], "createdAt")
	if id := str(t, items[1], "id"); id != "ovs_2" {
		t.Errorf("second item %q, want ovs_2", id)
	}
	if items[1]["paymentIntentId"] != nil {
		t.Errorf("paymentIntentId %v, want null", items[1]["paymentIntentId"])
	}

	r = h.svc(t, http.MethodGet, path+"?limit=2&cursor="+url.QueryEscape(str(t, page, "nextCursor")), nil)
	expect(t, r, http.StatusOK, "")
	page = r.Obj(t)
	items = objs(t, page, "items")
	if len(items) != 1 || str(t, items[0], "id") != "ovs_1" || page["nextCursor"] != nil {
		t.Errorf("second page %s, want ovs_1 and no next cursor", r.Raw)
	}

	// A shop's own key reads its orders; another shop's is answered as if the
	// shop did not exist.
	token, _ := h.shopKey(t, shop)
	r = h.do(t, req{Method: http.MethodGet, Path: path, Token: token})
	expect(t, r, http.StatusOK, "")
	if n := len(objs(t, r.Obj(t), "items")); n != 3 {
		t.Errorf("shop key: %d items, want 3", n)
	}
	other := h.newShop(t)
	otherToken, _ := h.shopKey(t, other)
	expect(t, h.do(t, req{Method: http.MethodGet, Path: path, Token: otherToken}), http.StatusNotFound, "not_found")

	// The other shop has none.
	r = h.svc(t, http.MethodGet, shopPath(other, "/oversold"), nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"items": []any{}, "nextCursor": nil})
}
