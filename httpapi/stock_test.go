package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestStockInfo(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-123", "size:M", "", 10)
	h.hold(t, shop, map[string]any{"items": []any{item("SKU-123", "size:M", 3)}})

	t.Run("exact fields", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodGet, shopPath(shop, "/stock/SKU-123?variantKey=size:M"), nil)
		expect(t, r, http.StatusOK, "")
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		// The contract's own example, field for field.
		assertJSON(t, r, map[string]any{
			"sku": "SKU-123", "variantKey": "size:M", "onHand": 10, "reserved": 3, "available": 7,
			"safetyStock": 0, "lowStockThreshold": 10, "lowStock": true,
			"backorderAllowed": false, "backorderLimit": 0, "maxPerOrder": 0, "maxPerCustomer": 0,
			"locations": []any{map[string]any{"locationId": "default", "onHand": 10, "reserved": 3, "available": 7}},
		})
	})

	t.Run("unknown line", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{
			"/stock/SKU-123",                   // the product itself was never stocked
			"/stock/SKU-123?variantKey=size:L", // nor this variant
			"/stock/NOPE",
		} {
			r := h.svc(t, http.MethodGet, shopPath(shop, path), nil)
			expect(t, r, http.StatusNotFound, "not_found")
			assertKeys(t, r.Obj(t), "error", "message")
		}
	})

	t.Run("unknown shop", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodGet, shopPath("no-such-"+shop[2:20], "/stock/SKU-123"), nil)
		expect(t, r, http.StatusNotFound, "not_found")
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		expectInvalid(t, h.svc(t, http.MethodGet, shopPath(shop, "/stock/bad%20sku"), nil), "sku")
		expectInvalid(t, h.svc(t, http.MethodGet, shopPath(shop, "/stock/SKU-123?variantKey=%07"), nil), "variantKey")
	})
}

func TestStockInfoSlashInSKU(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "A/B/C", "", "", 4)
	h.stock(t, shop, "A", "", "", 9)

	r := h.svc(t, http.MethodGet, shopPath(shop, "/stock/A%2FB%2FC"), nil)
	expect(t, r, http.StatusOK, "")
	m := r.Obj(t)
	if str(t, m, "sku") != "A/B/C" || num(t, m, "onHand") != 4 {
		t.Errorf("got %s", r.Raw)
	}

	r = h.svc(t, http.MethodPut, shopPath(shop, "/stock/A%2FB%2FC/settings"), map[string]any{"lowStockThreshold": 2})
	expect(t, r, http.StatusOK, "")
	if m := r.Obj(t); str(t, m, "sku") != "A/B/C" || num(t, m, "lowStockThreshold") != 2 || m["lowStock"] != false {
		t.Errorf("got %s", r.Raw)
	}
	if got := h.stockInfo(t, shop, "A", ""); got.LowStockThreshold != lowStockDefault {
		t.Errorf("settings of A/B/C reached A: %+v", got)
	}

	// Unencoded, the slashes are path separators: no such route.
	r = h.svc(t, http.MethodGet, shopPath(shop, "/stock/A/B/C"), nil)
	expect(t, r, http.StatusNotFound, "not_found")
}

func TestStockAvailability(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 4)}})

	// Safety stock comes off available, which never goes below 0.
	r := h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings"), map[string]any{"safetyStock": 2, "lowStockThreshold": 3})
	expect(t, r, http.StatusOK, "")
	m := r.Obj(t)
	if num(t, m, "available") != 4 || num(t, m, "safetyStock") != 2 || m["lowStock"] != false {
		t.Errorf("safety stock 2: %s", r.Raw)
	}
	r = h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings"), map[string]any{"safetyStock": 50})
	expect(t, r, http.StatusOK, "")
	m = r.Obj(t)
	if num(t, m, "available") != 0 || m["lowStock"] != true || num(t, m, "lowStockThreshold") != 3 {
		t.Errorf("safety stock 50: %s", r.Raw)
	}
	// The location view is on hand less reserved.
	if loc := objs(t, m, "locations"); len(loc) != 1 || num(t, loc[0], "available") != 6 {
		t.Errorf("locations: %s", r.Raw)
	}
}

func TestStockSettings(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "size:M", "", 8)

	r := h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings?variantKey=size:M"),
		map[string]any{"lowStockThreshold": 5, "safetyStock": 1, "backorderLimit": 20, "maxPerOrder": 3, "maxPerCustomer": 4})
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{
		"sku": "SKU-1", "variantKey": "size:M", "onHand": 8, "reserved": 0, "available": 7,
		"safetyStock": 1, "lowStockThreshold": 5, "lowStock": false,
		"backorderAllowed": true, "backorderLimit": 20, "maxPerOrder": 3, "maxPerCustomer": 4,
		"locations": []any{map[string]any{"locationId": "default", "onHand": 8, "reserved": 0, "available": 8}},
	})

	// Fields left out are left as they are.
	r = h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings?variantKey=size:M"), map[string]any{"backorderLimit": 0})
	expect(t, r, http.StatusOK, "")
	m := r.Obj(t)
	if num(t, m, "lowStockThreshold") != 5 || num(t, m, "safetyStock") != 1 || m["backorderAllowed"] != false || num(t, m, "maxPerOrder") != 3 {
		t.Errorf("partial update: %s", r.Raw)
	}
	r = h.svc(t, http.MethodGet, shopPath(shop, "/stock/SKU-1?variantKey=size:M"), nil)
	expect(t, r, http.StatusOK, "")
	if num(t, r.Obj(t), "lowStockThreshold") != 5 {
		t.Errorf("GET after PUT: %s", r.Raw)
	}

	// A line not stocked yet can be configured (a pre-order line).
	r = h.svc(t, http.MethodPut, shopPath(shop, "/stock/PRE-1/settings"), map[string]any{"backorderLimit": 10})
	expect(t, r, http.StatusOK, "")
	if m := r.Obj(t); num(t, m, "onHand") != 0 || m["backorderAllowed"] != true {
		t.Errorf("pre-order line: %s", r.Raw)
	}

	before := h.snapshot(t, shop)
	expectInvalid(t, h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings?variantKey=size:M"), map[string]any{}), "body")
	expectInvalid(t, h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings?variantKey=size:M"), map[string]any{"safetyStock": -1}), "safetyStock")
	expectInvalid(t, h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings?variantKey=size:M"), map[string]any{"backorderLimit": 1_000_001}), "backorderLimit")
	expectInvalid(t, h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings?variantKey=size:M"), map[string]any{"maxPerCustomer": -1}), "maxPerCustomer")
	expectInvalid(t, h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings?variantKey=size:M"), map[string]any{"safety": 1}), "safety")
	expectInvalid(t, h.svc(t, http.MethodPut, shopPath(shop, "/stock/SKU-1/settings?variantKey=size:M"), map[string]any{"safetyStock": "1"}), "safetyStock")
	h.assertUnchanged(t, shop, before)
}

func TestStockList(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	// Lines sort by (sku, variant key); lowStock is available <= threshold
	// (the default threshold is 10).
	h.stock(t, shop, "A", "", "", 50)       // not low
	h.stock(t, shop, "A", "size:M", "", 10) // low: 10 <= 10
	h.stock(t, shop, "B", "", "", 11)       // not low
	h.stock(t, shop, "C", "", "", 0)        // low
	h.stock(t, shop, "D", "", "", 30)       // low once 25 are held
	h.hold(t, shop, map[string]any{"items": []any{item("D", "", 25)}})

	type line struct{ sku, variantKey string }
	list := func(t *testing.T, query string) ([]line, []map[string]any, *string) {
		t.Helper()
		r := h.svc(t, http.MethodGet, shopPath(shop, "/stock"+query), nil)
		expect(t, r, http.StatusOK, "")
		m := r.Obj(t)
		assertKeys(t, m, "items", "nextCursor")
		items := objs(t, m, "items")
		var lines []line
		for _, it := range items {
			lines = append(lines, line{str(t, it, "sku"), str(t, it, "variantKey")})
		}
		var next *string
		if m["nextCursor"] != nil {
			s := str(t, m, "nextCursor")
			next = &s
		}
		return lines, items, next
	}

	t.Run("all", func(t *testing.T) {
		t.Parallel()
		lines, items, next := list(t, "")
		want := []line{{"A", ""}, {"A", "size:M"}, {"B", ""}, {"C", ""}, {"D", ""}}
		if len(lines) != len(want) {
			t.Fatalf("lines %v, want %v", lines, want)
		}
		for i := range want {
			if lines[i] != want[i] {
				t.Errorf("lines %v, want %v", lines, want)
				break
			}
		}
		if next != nil {
			t.Errorf("nextCursor %q on the last page", *next)
		}
		// Each item is a full StockInfo.
		assertKeys(t, items[4], "sku", "variantKey", "onHand", "reserved", "available", "safetyStock",
			"lowStockThreshold", "lowStock", "backorderAllowed", "backorderLimit", "maxPerOrder", "maxPerCustomer", "locations")
		if num(t, items[4], "reserved") != 25 || num(t, items[4], "available") != 5 {
			t.Errorf("D: %v", items[4])
		}
	})

	t.Run("pages", func(t *testing.T) {
		t.Parallel()
		var all []line
		query := "?limit=2"
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatal("too many pages")
			}
			lines, _, next := list(t, query)
			if len(lines) > 2 {
				t.Fatalf("page of %d with limit 2", len(lines))
			}
			all = append(all, lines...)
			if next == nil {
				break
			}
			query = "?limit=2&cursor=" + url.QueryEscape(*next)
		}
		if len(all) != 5 || all[0] != (line{"A", ""}) || all[4] != (line{"D", ""}) {
			t.Errorf("paged through %v", all)
		}
		// Exactly limit lines left: no further page.
		if _, _, next := list(t, "?limit=5"); next != nil {
			t.Errorf("nextCursor with exactly limit lines")
		}
	})

	t.Run("lowStock", func(t *testing.T) {
		t.Parallel()
		lines, items, _ := list(t, "?lowStock=true")
		want := []line{{"A", "size:M"}, {"C", ""}, {"D", ""}}
		if len(lines) != len(want) || lines[0] != want[0] || lines[1] != want[1] || lines[2] != want[2] {
			t.Fatalf("low stock lines %v, want %v", lines, want)
		}
		for _, it := range items {
			if it["lowStock"] != true {
				t.Errorf("not low: %v", it)
			}
		}
		lines, _, next := list(t, "?lowStock=true&limit=1")
		if len(lines) != 1 || lines[0] != want[0] || next == nil {
			t.Fatalf("first low page %v next %v", lines, next)
		}
		lines, _, _ = list(t, "?lowStock=true&limit=5&cursor="+url.QueryEscape(*next))
		if len(lines) != 2 || lines[0] != want[1] {
			t.Errorf("second low page %v", lines)
		}
		if lines, _, _ := list(t, "?lowStock=false"); len(lines) != 5 {
			t.Errorf("lowStock=false: %v", lines)
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ query, field string }{
			{"?limit=abc", "limit"},
			{"?limit=0", "limit"},
			{"?limit=-1", "limit"},
			{"?limit=501", "limit"},
			{"?limit=1.5", "limit"},
			{"?lowStock=yes", "lowStock"},
			{"?lowStock=1", "lowStock"},
			{"?cursor=not-a-cursor", "cursor"},
		} {
			expectInvalid(t, h.svc(t, http.MethodGet, shopPath(shop, "/stock"+tc.query), nil), tc.field)
		}
	})

	t.Run("empty shop", func(t *testing.T) {
		t.Parallel()
		empty := h.newShop(t)
		r := h.svc(t, http.MethodGet, shopPath(empty, "/stock"), nil)
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"items": []any{}, "nextCursor": nil})
	})
}
