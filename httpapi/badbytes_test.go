package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Bytes PostgreSQL's text cannot hold (NUL, invalid UTF-8) in a token, a
// text field, a path id, a query parameter or a cursor are answered with a
// 4xx (the harness fails any 5xx) and change nothing.
func TestBadBytesTokens(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	for _, token := range []string{
		"ckd_\xff.abc.def",
		"ckd_" + shop + ".\xff.def",
		"ckd_" + shop + ".abc.\xff",
		"ckd_\xc3\x28.abc.def",
		"ckd_" + strings.Repeat("a", 10_000) + ".abc.def",
		"\xff\xfe",
	} {
		r := h.do(t, req{Method: http.MethodGet, Path: shopPath(shop, "/stock"), Token: token})
		expect(t, r, http.StatusUnauthorized, "unauthorized")
	}
}

func TestBadBytesTextFields(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	h.location(t, shop, "east", 1)
	hold := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}})
	holdPath := shopPath(shop, "/holds/"+str(t, hold, "id"))
	before := h.snapshot(t, shop)

	adjustment := func(field, value string) map[string]any {
		ch := change("SKU-1", "", "increment", 1)
		body := map[string]any{"reference": "r", "changes": []any{ch}}
		if field == "notes" {
			ch["notes"] = value
		} else {
			body[field] = value
		}
		return body
	}
	receipt := func(field, value string) map[string]any {
		return map[string]any{"purchaseOrderId": "PO-1", "items": []any{map[string]any{"sku": "SKU-1", "quantity": 1}}, field: value}
	}
	transfer := func(field, value string) map[string]any {
		return map[string]any{"fromLocationId": "default", "toLocationId": "east", "items": []any{item("SKU-1", "", 1)}, field: value}
	}
	newHold := func(field, value string) map[string]any {
		return map[string]any{"items": []any{item("SKU-1", "", 1)}, field: value}
	}
	type request struct {
		path, field string
		body        func(field, value string) map[string]any
	}
	requests := []request{
		{shopPath(shop, "/adjustments"), "reference", adjustment},
		{shopPath(shop, "/adjustments"), "createdBy", adjustment},
		{shopPath(shop, "/adjustments"), "idempotencyKey", adjustment},
		{shopPath(shop, "/adjustments"), "notes", adjustment},
		{shopPath(shop, "/receipts"), "purchaseOrderId", receipt},
		{shopPath(shop, "/receipts"), "createdBy", receipt},
		{shopPath(shop, "/receipts"), "idempotencyKey", receipt},
		{shopPath(shop, "/transfers"), "reference", transfer},
		{shopPath(shop, "/transfers"), "createdBy", transfer},
		{shopPath(shop, "/transfers"), "idempotencyKey", transfer},
		{shopPath(shop, "/holds"), "reference", newHold},
		{shopPath(shop, "/holds"), "idempotencyKey", newHold},
		{holdPath + "/commit", "reference", func(f, v string) map[string]any { return map[string]any{f: v} }},
		{holdPath + "/release", "reason", func(f, v string) map[string]any { return map[string]any{f: v} }},
	}
	for _, rq := range requests {
		for _, value := range []string{"a\x00b", "\x00"} {
			r := h.svc(t, http.MethodPost, rq.path, rq.body(rq.field, value))
			expectInvalid(t, r, "")
			if !strings.Contains(string(r.Raw), rq.field) {
				t.Errorf("%s %s: the details do not name the field: %s", rq.path, rq.field, r.Raw)
			}
		}
		// Invalid UTF-8 is refused too, rather than silently replaced.
		body := strings.Replace(string(jsonBytes(t, rq.body(rq.field, "MARK"))), "MARK", "a\xffb", 1)
		expectInvalid(t, h.svc(t, http.MethodPost, rq.path, body), "body")
	}
	// A checkout session's text fields.
	for _, field := range []string{"idempotencyKey", "customerEmail", "clientReferenceId"} {
		body := checkoutBody(shop, checkoutItem("SKU-1", "", 1))
		body[field] = "x\x00y"
		r := h.createCheckout(t, body)
		expectInvalid(t, r, field)
	}
	body := checkoutBody(shop, checkoutItem("SKU-1", "", 1))
	body["items"].([]any)[0].(map[string]any)["name"] = "shirt\x00"
	expectInvalid(t, h.createCheckout(t, body), "items[0].name")

	h.assertUnchanged(t, shop, before)
	if status := str(t, h.svc(t, http.MethodGet, holdPath, nil).Obj(t), "status"); status != "active" {
		t.Errorf("hold %s, want active", status)
	}
}

func TestBadBytesPathsAndQueries(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	before := h.snapshot(t, shop)

	for _, id := range []string{"%00", "%ff", "%c3%28", "hold_%00", "a%00b"} {
		p := shopPath(shop, "/holds/"+id)
		expect(t, h.svc(t, http.MethodGet, p, nil), http.StatusNotFound, "not_found")
		expect(t, h.svc(t, http.MethodPost, p+"/commit", map[string]any{"reference": "x"}), http.StatusNotFound, "not_found")
		expect(t, h.svc(t, http.MethodPost, p+"/release", map[string]any{"reason": "x"}), http.StatusNotFound, "not_found")
		expect(t, h.svc(t, http.MethodPost, p+"/extend", map[string]any{"ttlSeconds": 60}), http.StatusNotFound, "not_found")
	}
	for _, bad := range []string{"%00", "%ff", "%c3%28"} {
		for _, p := range []string{
			"/stock/" + bad,
			"/stock/SKU-1?variantKey=" + bad,
			"/movements?sku=" + bad,
			"/movements?sku=SKU-1&variantKey=" + bad,
			"/stock?cursor=" + bad,
		} {
			r := h.svc(t, http.MethodGet, shopPath(shop, p), nil)
			if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 400 or 404: %s", p, r.Status, r.Raw)
			}
		}
		r := h.svc(t, http.MethodPut, shopPath(shop, "/stock/"+bad+"/settings"), map[string]any{"safetyStock": 1})
		if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
			t.Errorf("PUT settings of %s: %d, want 400 or 404: %s", bad, r.Status, r.Raw)
		}
		for _, p := range []string{"/stock", "/movements", "/alerts", "/oversold", "/holds/hold_x", "/stock/SKU-1"} {
			r = h.svc(t, http.MethodGet, "/api/inventory/shops/"+bad+p, nil)
			if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
				t.Errorf("shop id %s, %s: %d, want 400 or 404: %s", bad, p, r.Status, r.Raw)
			}
		}
		r = h.svc(t, http.MethodPost, "/api/inventory/shops/"+bad+"/holds", map[string]any{"items": []any{item("SKU-1", "", 1)}})
		if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
			t.Errorf("a hold in shop %s: %d, want 400 or 404: %s", bad, r.Status, r.Raw)
		}
		r = h.svc(t, http.MethodPost, "/api/inventory/validate", map[string]any{"shopId": shop + "\x00", "items": []any{item("SKU-1", "", 1)}})
		expectInvalid(t, r, "shopId")
	}
	h.assertUnchanged(t, shop, before)
}

// Cursors are opaque, but a client can craft one: strings in it that the
// database cannot hold are refused as not being a cursor of the endpoint.
func TestBadBytesCursors(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	cursor := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	for _, tc := range []struct{ list, cursor string }{
		{"/stock", cursor(`{"s":"SKU\u0000","v":""}`)},
		{"/stock", cursor(`{"s":"SKU-1","v":"\u0000"}`)},
		{"/stock", cursor("{\"s\":\"SKU-1\",\"v\":\"\xff\"}")},
		{"/alerts", cursor(`{"t":"2026-01-01T00:00:00Z","id":"al_\u0000"}`)},
		{"/alerts", cursor("{\"t\":\"2026-01-01T00:00:00Z\",\"id\":\"\xc3\x28\"}")},
		{"/oversold", cursor(`{"t":"2026-01-01T00:00:00Z","id":"\u0000"}`)},
		{"/movements", cursor(`"\u0000"`)},
	} {
		r := h.svc(t, http.MethodGet, shopPath(shop, tc.list+"?cursor="+tc.cursor), nil)
		expectInvalid(t, r, "cursor")
	}
}

func jsonBytes(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
