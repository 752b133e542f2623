package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// items returns n distinct request lines of 1 unit each.
func items(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = item(fmt.Sprintf("SKU-%03d", i), "", 1)
	}
	return out
}

// TestBadInput sends requests that break one rule of the contract's
// conventions each. Every one must get its error code and a well-formed
// error body, and none may change anything: the requests are aimed at a
// shop with enough stock that they would place a hold or move stock if they
// got through.
func TestBadInput(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 1_000_000)
	h.stock(t, shop, "SKU-1", "size:M", "", 10)
	open := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}})
	holdID := str(t, open, "id")
	before := h.snapshot(t, shop)
	t.Cleanup(func() {
		h.assertUnchanged(t, shop, before)
		inventorytest.RequireLedgerClean(t, h.ledger, shop)
	})

	holds := shopPath(shop, "/holds")
	adjust := shopPath(shop, "/adjustments")
	one := []any{item("SKU-1", "", 1)}
	holdWith := func(it map[string]any) map[string]any { return map[string]any{"items": []any{it}} }
	adjustWith := func(ch map[string]any) map[string]any { return map[string]any{"changes": []any{ch}} }
	long := func(n int) string { return strings.Repeat("a", n) }
	valid := `{"items":[{"sku":"SKU-1","variantKey":"","quantity":1}]}`

	for _, tc := range []struct {
		name        string
		method      string
		path        string
		body        any
		contentType string
		status      int
		code        string
		field       string // a field the details must name ("" = any)
	}{
		// shopId
		{"shopId too long", "POST", shopPath(long(65), "/holds"), holdWith(item("SKU-1", "", 1)), "", 400, "invalid_request", "shopId"},
		{"shopId upper case", "POST", shopPath("Shop1", "/holds"), holdWith(item("SKU-1", "", 1)), "", 400, "invalid_request", "shopId"},
		{"shopId leading dash", "POST", shopPath("-shop", "/holds"), holdWith(item("SKU-1", "", 1)), "", 400, "invalid_request", "shopId"},
		{"shopId dot", "GET", shopPath("a.b", "/stock"), nil, "", 400, "invalid_request", "shopId"},
		{"shopId space", "GET", shopPath("a%20b", "/stock/SKU-1"), nil, "", 400, "invalid_request", "shopId"},
		{"validate shopId too long", "POST", validatePath, map[string]any{"shopId": long(65), "items": one}, "", 400, "invalid_request", "shopId"},
		{"validate shopId bad chars", "POST", validatePath, map[string]any{"shopId": "shop!", "items": one}, "", 400, "invalid_request", "shopId"},
		{"validate shopId empty", "POST", validatePath, map[string]any{"items": one}, "", 400, "invalid_request", "shopId"},

		// locationId
		{"locationId too long", "POST", adjust, adjustWith(map[string]any{"sku": "SKU-1", "op": "increment", "quantity": 1, "locationId": long(65)}), "", 400, "invalid_request", "changes[0].locationId"},
		{"locationId upper case", "POST", adjust, adjustWith(map[string]any{"sku": "SKU-1", "op": "increment", "quantity": 1, "locationId": "Default"}), "", 400, "invalid_request", "changes[0].locationId"},
		{"locationId leading underscore", "POST", adjust, adjustWith(map[string]any{"sku": "SKU-1", "op": "increment", "quantity": 1, "locationId": "_store"}), "", 400, "invalid_request", "changes[0].locationId"},
		{"receipt locationId bad chars", "POST", shopPath(shop, "/receipts"), map[string]any{"purchaseOrderId": "PO-1", "items": []any{map[string]any{"sku": "SKU-1", "locationId": "store/2", "quantity": 1}}}, "", 400, "invalid_request", "items[0].locationId"},
		{"transfer fromLocationId too long", "POST", shopPath(shop, "/transfers"), map[string]any{"fromLocationId": long(65), "toLocationId": "default", "items": one}, "", 400, "invalid_request", "fromLocationId"},

		// sku
		{"sku too long", "POST", holds, holdWith(item(strings.Repeat("S", 65), "", 1)), "", 400, "invalid_request", "items[0].sku"},
		{"sku empty", "POST", holds, holdWith(item("", "", 1)), "", 400, "invalid_request", "items[0].sku"},
		{"sku space", "POST", holds, holdWith(item("SKU 1", "", 1)), "", 400, "invalid_request", "items[0].sku"},
		{"sku hash", "POST", holds, holdWith(item("SKU#1", "", 1)), "", 400, "invalid_request", "items[0].sku"},
		{"sku non-ascii", "POST", holds, holdWith(item("SKÜ-1", "", 1)), "", 400, "invalid_request", "items[0].sku"},
		{"sku in adjustment", "POST", adjust, adjustWith(map[string]any{"sku": "a+b", "op": "set", "quantity": 1}), "", 400, "invalid_request", "changes[0].sku"},

		// variantKey
		{"variantKey too long", "POST", holds, holdWith(item("SKU-1", long(129), 1)), "", 400, "invalid_request", "items[0].variantKey"},
		{"variantKey too long multibyte", "POST", holds, holdWith(item("SKU-1", strings.Repeat("é", 129), 1)), "", 400, "invalid_request", "items[0].variantKey"},
		{"variantKey newline", "POST", holds, holdWith(item("SKU-1", "size:M\n", 1)), "", 400, "invalid_request", "items[0].variantKey"},
		{"variantKey NUL", "POST", holds, holdWith(item("SKU-1", "size:\x00M", 1)), "", 400, "invalid_request", "items[0].variantKey"},
		{"variantKey tab", "POST", validatePath, map[string]any{"shopId": shop, "items": []any{item("SKU-1", "a\tb", 1)}}, "", 400, "invalid_request", "items[0].variantKey"},
		{"variantKey in adjustment", "POST", adjust, adjustWith(map[string]any{"sku": "SKU-1", "variantKey": long(129), "op": "set", "quantity": 1}), "", 400, "invalid_request", "changes[0].variantKey"},

		// item counts and quantities
		{"101 items", "POST", holds, map[string]any{"items": items(101)}, "", 400, "invalid_request", "items"},
		{"101 items validate", "POST", validatePath, map[string]any{"shopId": shop, "items": items(101)}, "", 400, "invalid_request", "items"},
		{"101 changes", "POST", adjust, map[string]any{"changes": func() []any {
			out := make([]any, 101)
			for i := range out {
				out[i] = change(fmt.Sprintf("SKU-%03d", i), "", "set", 1)
			}
			return out
		}()}, "", 400, "invalid_request", "changes"},
		{"no items", "POST", holds, map[string]any{"items": []any{}}, "", 400, "invalid_request", "items"},
		{"quantity 0", "POST", holds, holdWith(item("SKU-1", "", 0)), "", 400, "invalid_request", "items[0].quantity"},
		{"quantity 1000001", "POST", holds, holdWith(item("SKU-1", "", 1_000_001)), "", 400, "invalid_request", "items[0].quantity"},
		{"summed quantity 1000001", "POST", holds, map[string]any{"items": []any{item("SKU-1", "", 600_000), item("SKU-9", "", 1), item("SKU-1", "", 400_001)}}, "", 400, "invalid_request", "items[2].quantity"},
		{"summed quantity 1000001 validate", "POST", validatePath, map[string]any{"shopId": shop, "items": []any{item("SKU-1", "", 1_000_000), item("SKU-1", "", 1)}}, "", 400, "invalid_request", "items[1].quantity"},
		{"quantity negative", "POST", holds, holdWith(item("SKU-1", "", -1)), "", 400, "invalid_request", "items[0].quantity"},
		{"quantity fraction", "POST", holds, `{"items":[{"sku":"SKU-1","variantKey":"","quantity":1.5}]}`, "", 400, "invalid_request", ""},
		{"quantity string", "POST", holds, `{"items":[{"sku":"SKU-1","variantKey":"","quantity":"1"}]}`, "", 400, "invalid_request", ""},
		{"quantity huge", "POST", holds, `{"items":[{"sku":"SKU-1","variantKey":"","quantity":1e30}]}`, "", 400, "invalid_request", ""},
		{"quantity 0 validate", "POST", validatePath, map[string]any{"shopId": shop, "items": []any{item("SKU-1", "", 0)}}, "", 400, "invalid_request", "items[0].quantity"},
		{"quantity 1000001 adjustment", "POST", adjust, adjustWith(change("SKU-1", "", "set", 1_000_001)), "", 400, "invalid_request", "changes[0].quantity"},
		{"quantity 1000001 receipt", "POST", shopPath(shop, "/receipts"), map[string]any{"purchaseOrderId": "PO-1", "items": []any{item("SKU-1", "", 1_000_001)}}, "", 400, "invalid_request", "items[0].quantity"},
		{"quantity 0 transfer", "POST", shopPath(shop, "/transfers"), map[string]any{"fromLocationId": "default", "toLocationId": "store", "items": []any{item("SKU-1", "", 0)}}, "", 400, "invalid_request", "items[0].quantity"},

		// ttlSeconds
		{"ttlSeconds 0", "POST", holds, map[string]any{"items": one, "ttlSeconds": 0}, "", 400, "invalid_request", "ttlSeconds"},
		{"ttlSeconds 86401", "POST", holds, map[string]any{"items": one, "ttlSeconds": 86401}, "", 400, "invalid_request", "ttlSeconds"},
		{"ttlSeconds negative", "POST", holds, map[string]any{"items": one, "ttlSeconds": -60}, "", 400, "invalid_request", "ttlSeconds"},
		{"ttlSeconds string", "POST", holds, map[string]any{"items": one, "ttlSeconds": "60"}, "", 400, "invalid_request", "ttlSeconds"},
		{"extend ttlSeconds 0", "POST", shopPath(shop, "/holds/"+holdID+"/extend"), map[string]any{"ttlSeconds": 0}, "", 400, "invalid_request", "ttlSeconds"},
		{"extend ttlSeconds 86401", "POST", shopPath(shop, "/holds/"+holdID+"/extend"), map[string]any{"ttlSeconds": 86401}, "", 400, "invalid_request", "ttlSeconds"},

		// text fields
		{"reference too long", "POST", holds, map[string]any{"items": one, "reference": long(256)}, "", 400, "invalid_request", "reference"},
		{"idempotencyKey too long", "POST", holds, map[string]any{"items": one, "idempotencyKey": long(256)}, "", 400, "invalid_request", "idempotencyKey"},
		{"commit reference too long", "POST", shopPath(shop, "/holds/"+holdID+"/commit"), map[string]any{"reference": long(256)}, "", 400, "invalid_request", "reference"},
		{"release reason too long", "POST", shopPath(shop, "/holds/"+holdID+"/release"), map[string]any{"reason": long(256)}, "", 400, "invalid_request", "reason"},

		// JSON
		{"malformed JSON", "POST", holds, `{"items": [`, "", 400, "invalid_request", "body"},
		{"not JSON", "POST", holds, `items=1`, "", 400, "invalid_request", "body"},
		{"unquoted key", "POST", holds, `{items: []}`, "", 400, "invalid_request", "body"},
		{"array body", "POST", holds, `[` + valid + `]`, "", 400, "invalid_request", "body"},
		{"string body", "POST", holds, `"hello"`, "", 400, "invalid_request", "body"},
		{"empty body", "POST", holds, "", "", 400, "invalid_request", "items"},
		{"null body", "POST", holds, "null", "", 400, "invalid_request", "items"},
		{"trailing object", "POST", holds, valid + ` {"items":[]}`, "", 400, "invalid_request", "body"},
		{"trailing garbage", "POST", holds, valid + `x`, "", 400, "invalid_request", "body"},
		{"trailing number", "POST", holds, valid + ` 1`, "", 400, "invalid_request", "body"},
		{"trailing brace", "POST", holds, valid + `}`, "", 400, "invalid_request", "body"},
		{"trailing bracket", "POST", holds, valid + `]`, "", 400, "invalid_request", "body"},
		{"trailing data on commit", "POST", shopPath(shop, "/holds/"+holdID+"/commit"), `{"reference":"a"}{"reference":"b"}`, "", 400, "invalid_request", "body"},
		{"unknown field", "POST", holds, map[string]any{"items": one, "colour": "red"}, "", 400, "invalid_request", "colour"},
		{"unknown item field", "POST", holds, holdWith(map[string]any{"sku": "SKU-1", "quantity": 1, "qty": 1}), "", 400, "invalid_request", "items[0].qty"},
		{"field name in another case", "POST", holds, holdWith(map[string]any{"SKU": "SKU-1", "quantity": 1}), "", 400, "invalid_request", "items[0].SKU"},
		{"top-level field name in another case", "POST", validatePath, map[string]any{"ShopId": shop, "items": []any{item("SKU-1", "", 1)}}, "", 400, "invalid_request", "ShopId"},
		{"unknown field validate", "POST", validatePath, map[string]any{"shopId": shop, "items": one, "mode": "strict"}, "", 400, "invalid_request", "mode"},
		{"unknown field commit", "POST", shopPath(shop, "/holds/"+holdID+"/commit"), map[string]any{"orderId": "o-1"}, "", 400, "invalid_request", "orderId"},
		{"unknown field release", "POST", shopPath(shop, "/holds/"+holdID+"/release"), map[string]any{"why": "x"}, "", 400, "invalid_request", "why"},
		{"unknown field adjustment", "POST", adjust, adjustWith(map[string]any{"sku": "SKU-1", "op": "set", "quantity": 5, "location": "default"}), "", 400, "invalid_request", "changes[0].location"},
		{"unknown field settings", "PUT", shopPath(shop, "/stock/SKU-1/settings"), map[string]any{"lowStock": 3}, "", 400, "invalid_request", "lowStock"},
		{"unknown field transfer", "POST", shopPath(shop, "/transfers"), map[string]any{"from": "default", "toLocationId": "store", "items": one}, "", 400, "invalid_request", "from"},
		{"unknown field receipt", "POST", shopPath(shop, "/receipts"), map[string]any{"purchaseOrderId": "PO-1", "po": "x", "items": one}, "", 400, "invalid_request", "po"},

		// size and media type
		{"2 MiB body", "POST", holds, map[string]any{"items": one, "reference": strings.Repeat("x", 2<<20)}, "", 413, "body_too_large", ""},
		{"2 MiB adjustment", "POST", adjust, map[string]any{"changes": []any{change("SKU-1", "", "set", 1)}, "reference": strings.Repeat("x", 2<<20)}, "", 413, "body_too_large", ""},
		{"text/plain", "POST", holds, valid, "text/plain", 415, "unsupported_media_type", ""},
		{"form", "POST", holds, valid, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
		{"no Content-Type", "POST", holds, valid, "-", 415, "unsupported_media_type", ""},
		{"bad Content-Type", "POST", holds, valid, "application/", 415, "unsupported_media_type", ""},
		{"json suffix type", "POST", holds, valid, "application/merge-patch+json", 415, "unsupported_media_type", ""},
		{"settings text/plain", "PUT", shopPath(shop, "/stock/SKU-1/settings"), `{"safetyStock":5}`, "text/plain", 415, "unsupported_media_type", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := h.do(t, req{Method: tc.method, Path: tc.path, Token: serviceToken, Body: tc.body, ContentType: tc.contentType})
			if tc.status == http.StatusBadRequest {
				expectInvalid(t, r, tc.field)
				return
			}
			expect(t, r, tc.status, tc.code)
			assertKeys(t, r.Obj(t), "error", "message")
		})
	}
}

// TestLimitsAccepted checks the edges of every rule from the inside: what is
// just within a limit is accepted.
func TestLimitsAccepted(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	sku64 := strings.Repeat("S", 60) + "/.:_"
	vk128 := strings.Repeat("v", 128)
	vkWide := strings.Repeat("é", 128) // 128 characters, 256 bytes
	vkText := "size:M,color:red (Größe 40½) ✓"
	loc64 := "l" + strings.Repeat("-", 62) + "9"
	h.location(t, shop, loc64, 1)

	// Lines at the edges can be stocked, held and read back.
	r := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"changes": []any{
		change(sku64, "", "set", 1_000_000),
		change("X", vk128, "set", 5),
		change("X", vkWide, "set", 5),
		change("X", vkText, "set", 5),
		map[string]any{"sku": "X", "locationId": loc64, "op": "set", "quantity": 0},
	}})
	expect(t, r, http.StatusOK, "")

	r = h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{
		"items":      []any{item(sku64, "", 1_000_000), item("X", vk128, 5), item("X", vkWide, 5), item("X", vkText, 5)},
		"ttlSeconds": 86400, "reference": strings.Repeat("r", 255), "idempotencyKey": strings.Repeat("k", 255),
	})
	expect(t, r, http.StatusCreated, "")
	got := map[string]int64{}
	for _, it := range objs(t, r.Obj(t), "items") {
		got[str(t, it, "sku")+"|"+str(t, it, "variantKey")] = num(t, it, "quantity")
	}
	for _, k := range []string{sku64 + "|", "X|" + vk128, "X|" + vkWide, "X|" + vkText} {
		if got[k] == 0 {
			t.Errorf("hold has no line %q: %v", k, got)
		}
	}
	r = h.svc(t, http.MethodGet, shopPath(shop, "/stock/X?variantKey="+url.QueryEscape(vkWide)), nil)
	expect(t, r, http.StatusOK, "")
	if m := r.Obj(t); m["variantKey"] != vkWide || num(t, m, "reserved") != 5 {
		t.Errorf("wide variant: %s", r.Raw)
	}

	// 100 items, a charset parameter, and variant keys compared byte for byte.
	r = h.do(t, req{Method: http.MethodPost, Path: validatePath, Token: serviceToken, ContentType: "application/json; charset=utf-8",
		Body: map[string]any{"shopId": shop, "items": items(100)}})
	expect(t, r, http.StatusOK, "")
	if m := r.Obj(t); m["ok"] != false || len(objs(t, m, "insufficient")) != 100 {
		t.Errorf("100 unknown lines: %s", r.Raw)
	}
	r = h.svc(t, http.MethodPost, validatePath, map[string]any{"shopId": shop, "items": []any{item("X", strings.ToUpper(vk128), 1)}})
	expect(t, r, http.StatusOK, "")
	if r.Obj(t)["ok"] != false {
		t.Errorf("variant keys are compared byte for byte: %s", r.Raw)
	}

	// A body of exactly the limit is read whole.
	body, _ := json.Marshal(map[string]any{"shopId": shop, "items": []any{item("X", vk128, 1)}})
	body = append(body[:len(body)-1], `,"pad":"`...)
	body = append(body, strings.Repeat("x", 1<<20-len(body)-2)+`"}`...)
	if len(body) != 1<<20 {
		t.Fatalf("body of %d bytes", len(body))
	}
	r = h.do(t, req{Method: http.MethodPost, Path: validatePath, Token: serviceToken, Body: body})
	// The unknown field is rejected, which shows the body was read whole.
	expectInvalid(t, r, "pad")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}
