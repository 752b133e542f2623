package httpapi_test

import (
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// change is one line of an adjustment.
func change(sku, variantKey, op string, quantity int64) map[string]any {
	return map[string]any{"sku": sku, "variantKey": variantKey, "locationId": "default", "op": op, "quantity": quantity}
}

func TestAdjustments(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-123", "size:M", "", 10)

	r := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{
		"reference": "count-2026-11", "createdBy": "ops@example.com",
		"changes": []any{map[string]any{
			"sku": "SKU-123", "variantKey": "size:M", "locationId": "default",
			"op": "set", "quantity": 40, "type": "ADJUSTMENT", "notes": "cycle count",
		}},
	})
	expect(t, r, http.StatusOK, "")
	m := r.Obj(t)
	assertKeys(t, m, "applied", "movements")
	if num(t, m, "applied") != 1 {
		t.Errorf("applied: %s", r.Raw)
	}
	moves := objs(t, m, "movements")
	if len(moves) != 1 {
		t.Fatalf("movements: %s", r.Raw)
	}
	mv := moves[0]
	for _, k := range []string{"id", "sku", "variantKey", "locationId", "type", "quantity", "reference", "createdAt"} {
		if _, ok := mv[k]; !ok {
			t.Errorf("movement has no %s: %v", k, mv)
		}
	}
	if str(t, mv, "id") == "" || str(t, mv, "sku") != "SKU-123" || str(t, mv, "variantKey") != "size:M" ||
		str(t, mv, "locationId") != "default" || str(t, mv, "type") != "ADJUSTMENT" ||
		num(t, mv, "quantity") != 30 || str(t, mv, "reference") != "count-2026-11" {
		t.Errorf("movement: %v", mv)
	}
	timeField(t, mv, "createdAt")

	// increment and decrement; the type defaults to ADJUSTMENT; unknown lines
	// are created by set and increment.
	r = h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{
		"reference": "r2",
		"changes": []any{
			map[string]any{"sku": "SKU-123", "variantKey": "size:M", "op": "decrement", "quantity": 5, "type": "DAMAGE"},
			map[string]any{"sku": "NEW-1", "op": "increment", "quantity": 7},
			map[string]any{"sku": "NEW-2", "variantKey": "c:red", "op": "set", "quantity": 0, "type": "RETURN"},
		},
	})
	expect(t, r, http.StatusOK, "")
	m = r.Obj(t)
	if num(t, m, "applied") != 3 {
		t.Errorf("applied: %s", r.Raw)
	}
	got := map[string][2]any{}
	for _, mv := range objs(t, m, "movements") {
		got[str(t, mv, "sku")] = [2]any{str(t, mv, "type"), num(t, mv, "quantity")}
	}
	want := map[string][2]any{"SKU-123": {"DAMAGE", int64(-5)}, "NEW-1": {"ADJUSTMENT", int64(7)}, "NEW-2": {"RETURN", int64(0)}}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("movement of %s: %v, want %v", k, got[k], w)
		}
	}
	if info := h.stockInfo(t, shop, "SKU-123", "size:M"); info.OnHand != 35 {
		t.Errorf("SKU-123 on hand %d, want 35", info.OnHand)
	}
	if info := h.stockInfo(t, shop, "NEW-1", ""); info.OnHand != 7 {
		t.Errorf("NEW-1 on hand %d, want 7", info.OnHand)
	}
	if info := h.stockInfo(t, shop, "NEW-2", "c:red"); info.OnHand != 0 {
		t.Errorf("NEW-2 on hand %d, want 0", info.OnHand)
	}

	before := h.snapshot(t, shop)
	for _, tc := range []struct {
		name  string
		ch    map[string]any
		field string
	}{
		{"bad op", map[string]any{"sku": "SKU-123", "op": "add", "quantity": 1}, "changes[0].op"},
		{"bad type", map[string]any{"sku": "SKU-123", "op": "set", "quantity": 1, "type": "SALE"}, "changes[0].type"},
		{"increment 0", map[string]any{"sku": "SKU-123", "op": "increment", "quantity": 0}, "changes[0].quantity"},
		{"set negative", map[string]any{"sku": "SKU-123", "op": "set", "quantity": -1}, "changes[0].quantity"},
		{"unknown location", map[string]any{"sku": "SKU-123", "op": "set", "quantity": 1, "locationId": "nowhere"}, "changes[0].locationId"},
	} {
		r := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"changes": []any{tc.ch}})
		expectInvalid(t, r, tc.field)
	}
	expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"changes": []any{}}), "changes")
	h.assertUnchanged(t, shop, before)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestAdjustmentStockConflict(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	h.stock(t, shop, "SKU-2", "", "", 5)
	h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 3)}})
	before := h.snapshot(t, shop)

	// All or nothing: the valid change to SKU-2 is not applied either.
	for _, changes := range [][]any{
		{change("SKU-2", "", "increment", 1), change("SKU-1", "", "decrement", 3)},
		{change("SKU-1", "", "set", 2), change("SKU-2", "", "set", 9)},
	} {
		r := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"reference": "x", "changes": changes})
		expect(t, r, http.StatusConflict, "stock_conflict")
	}
	h.assertUnchanged(t, shop, before)

	// Down to what is reserved is fine.
	r := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"changes": []any{change("SKU-1", "", "set", 3)}})
	expect(t, r, http.StatusOK, "")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestAdjustmentIdempotency(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	body := map[string]any{"reference": "count-1", "idempotencyKey": "adj-1", "changes": []any{change("SKU-1", "", "increment", 5)}}

	first := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), body)
	expect(t, first, http.StatusOK, "")
	afterFirst := h.snapshot(t, shop)

	replay := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), body)
	expect(t, replay, http.StatusOK, "")
	assertJSON(t, replay, first.JSON)
	h.assertUnchanged(t, shop, afterFirst)
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 15 {
		t.Errorf("on hand %d after a replay, want 15", info.OnHand)
	}

	conflicting := map[string]any{"reference": "count-1", "idempotencyKey": "adj-1", "changes": []any{change("SKU-1", "", "increment", 6)}}
	r := h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), conflicting)
	expect(t, r, http.StatusConflict, "idempotency_conflict")
	assertKeys(t, r.Obj(t), "error", "message")
	h.assertUnchanged(t, shop, afterFirst)

	// Keys are per kind of request: a receipt may use the same one.
	r = h.svc(t, http.MethodPost, shopPath(shop, "/receipts"), map[string]any{"purchaseOrderId": "PO-1", "idempotencyKey": "adj-1", "items": []any{item("SKU-1", "", 1)}})
	expect(t, r, http.StatusOK, "")

	// And per shop.
	otherShop := h.newShop(t)
	h.stock(t, otherShop, "SKU-1", "", "", 10)
	r = h.svc(t, http.MethodPost, shopPath(otherShop, "/adjustments"), conflicting)
	expect(t, r, http.StatusOK, "")

	// A conflict rolls the key back: it can be used once the stock allows.
	h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 16)}})
	fail := map[string]any{"idempotencyKey": "adj-2", "changes": []any{change("SKU-1", "", "decrement", 1)}}
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), fail), http.StatusConflict, "stock_conflict")
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"idempotencyKey": "adj-2", "changes": []any{change("SKU-1", "", "increment", 1)}}), http.StatusOK, "")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestReceipts(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.location(t, shop, "warehouse", 1)
	h.stock(t, shop, "SKU-1", "", "", 2)

	r := h.svc(t, http.MethodPost, shopPath(shop, "/receipts"), map[string]any{
		"purchaseOrderId": "PO-7",
		"items": []any{
			map[string]any{"sku": "SKU-1", "variantKey": "", "locationId": "default", "quantity": 5},
			map[string]any{"sku": "SKU-2", "variantKey": "size:S", "locationId": "warehouse", "quantity": 3},
			map[string]any{"sku": "SKU-3", "quantity": 1},
		},
	})
	expect(t, r, http.StatusOK, "")
	m := r.Obj(t)
	if num(t, m, "applied") != 3 {
		t.Errorf("applied: %s", r.Raw)
	}
	for _, mv := range objs(t, m, "movements") {
		if str(t, mv, "type") != "PURCHASE_ORDER" || str(t, mv, "reference") != "PO-7" {
			t.Errorf("movement %v", mv)
		}
	}
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 7 {
		t.Errorf("SKU-1 on hand %d, want 7", info.OnHand)
	}
	info := h.stockInfo(t, shop, "SKU-2", "size:S")
	if info.OnHand != 3 || len(info.Locations) != 1 || info.Locations[0].LocationID != "warehouse" {
		t.Errorf("SKU-2: %+v", info)
	}
	if info := h.stockInfo(t, shop, "SKU-3", ""); info.OnHand != 1 || info.Locations[0].LocationID != "default" {
		t.Errorf("SKU-3: %+v", info)
	}

	before := h.snapshot(t, shop)
	expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/receipts"), map[string]any{"items": []any{item("SKU-1", "", 1)}}), "purchaseOrderId")
	expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/receipts"), map[string]any{"purchaseOrderId": "PO-8"}), "items")
	expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/receipts"), map[string]any{"purchaseOrderId": "PO-8", "items": []any{
		item("SKU-1", "", 1), map[string]any{"sku": "SKU-1", "locationId": "nowhere", "quantity": 1},
	}}), "items[1].locationId")
	h.assertUnchanged(t, shop, before)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestTransfers(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.location(t, shop, "store-2", 1)
	h.stock(t, shop, "SKU-1", "size:M", "", 10)
	// 4 held at the default location, which comes first.
	h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "size:M", 4)}})

	r := h.svc(t, http.MethodPost, shopPath(shop, "/transfers"), map[string]any{
		"fromLocationId": "default", "toLocationId": "store-2", "reference": "TR-1",
		"items": []any{item("SKU-1", "size:M", 6)},
	})
	expect(t, r, http.StatusOK, "")
	m := r.Obj(t)
	moves := objs(t, m, "movements")
	if num(t, m, "applied") != 2 || len(moves) != 2 {
		t.Fatalf("a transfer of one line is a pair of movements: %s", r.Raw)
	}
	byLocation := map[string]int64{}
	for _, mv := range moves {
		if str(t, mv, "type") != "TRANSFER" || str(t, mv, "reference") != "TR-1" {
			t.Errorf("movement %v", mv)
		}
		byLocation[str(t, mv, "locationId")] = num(t, mv, "quantity")
	}
	if byLocation["default"] != -6 || byLocation["store-2"] != 6 {
		t.Errorf("movements by location %v", byLocation)
	}
	info := h.stockInfo(t, shop, "SKU-1", "size:M")
	if info.OnHand != 10 || info.Reserved != 4 || len(info.Locations) != 2 ||
		info.Locations[0].OnHand != 4 || info.Locations[1].OnHand != 6 {
		t.Errorf("after transfer: %+v", info)
	}

	// The default location has 4 on hand, all 4 reserved.
	before := h.snapshot(t, shop)
	r = h.svc(t, http.MethodPost, shopPath(shop, "/transfers"), map[string]any{
		"fromLocationId": "default", "toLocationId": "store-2", "items": []any{item("SKU-1", "size:M", 1)},
	})
	expect(t, r, http.StatusConflict, "stock_conflict")
	// Nor from a location that never had the line.
	h.location(t, shop, "store-3", 2)
	r = h.svc(t, http.MethodPost, shopPath(shop, "/transfers"), map[string]any{
		"fromLocationId": "store-3", "toLocationId": "store-2", "items": []any{item("SKU-1", "size:M", 1)},
	})
	expect(t, r, http.StatusConflict, "stock_conflict")
	h.assertUnchanged(t, shop, before)

	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"fromLocationId": "default", "toLocationId": "default", "items": []any{item("SKU-1", "size:M", 1)}}, "toLocationId"},
		{map[string]any{"fromLocationId": "Default", "toLocationId": "store-2", "items": []any{item("SKU-1", "size:M", 1)}}, "fromLocationId"},
		{map[string]any{"fromLocationId": "store-2", "toLocationId": "nowhere", "items": []any{item("SKU-1", "size:M", 1)}}, "toLocationId"},
		{map[string]any{"fromLocationId": "store-2", "toLocationId": "default"}, "items"},
	} {
		expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/transfers"), tc.body), tc.field)
	}
	h.assertUnchanged(t, shop, before)

	// Back again, from the location with free stock.
	r = h.svc(t, http.MethodPost, shopPath(shop, "/transfers"), map[string]any{
		"fromLocationId": "store-2", "toLocationId": "default", "items": []any{item("SKU-1", "size:M", 6)},
	})
	expect(t, r, http.StatusOK, "")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestMovements(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	// Six movements, oldest first: A set, A[size:M] set, B set, a
	// reservation on A, A increment, B decrement.
	h.stock(t, shop, "A", "", "", 10)
	h.stock(t, shop, "A", "size:M", "", 3)
	h.stock(t, shop, "B", "", "", 4)
	h.hold(t, shop, map[string]any{"items": []any{item("A", "", 2)}, "reference": "cart-1"})
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"reference": "inc", "changes": []any{change("A", "", "increment", 1)}}), http.StatusOK, "")
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), map[string]any{"reference": "dec", "changes": []any{change("B", "", "decrement", 1)}}), http.StatusOK, "")

	type mv struct {
		sku, variantKey, typ string
		quantity             int64
	}
	read := func(t *testing.T, query string) ([]mv, []int64, *string) {
		t.Helper()
		r := h.svc(t, http.MethodGet, shopPath(shop, "/movements"+query), nil)
		expect(t, r, http.StatusOK, "")
		m := r.Obj(t)
		assertKeys(t, m, "items", "nextCursor")
		var out []mv
		var ids []int64
		for _, it := range objs(t, m, "items") {
			out = append(out, mv{str(t, it, "sku"), str(t, it, "variantKey"), str(t, it, "type"), num(t, it, "quantity")})
			id, err := strconv.ParseInt(str(t, it, "id"), 10, 64)
			if err != nil {
				t.Fatalf("movement id %v", it["id"])
			}
			ids = append(ids, id)
			timeField(t, it, "createdAt")
		}
		var next *string
		if m["nextCursor"] != nil {
			s := str(t, m, "nextCursor")
			next = &s
		}
		return out, ids, next
	}
	equal := func(t *testing.T, got, want []mv) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("movements %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("movements %v, want %v", got, want)
			}
		}
	}
	all := []mv{
		{"B", "", "ADJUSTMENT", -1},
		{"A", "", "ADJUSTMENT", 1},
		{"A", "", "RESERVATION", 2},
		{"B", "", "ADJUSTMENT", 4},
		{"A", "size:M", "ADJUSTMENT", 3},
		{"A", "", "ADJUSTMENT", 10},
	}

	t.Run("newest first", func(t *testing.T) {
		t.Parallel()
		got, ids, next := read(t, "")
		equal(t, got, all)
		for i := 1; i < len(ids); i++ {
			if ids[i] >= ids[i-1] {
				t.Errorf("ids not descending: %v", ids)
			}
		}
		if next != nil {
			t.Errorf("nextCursor on the only page")
		}
	})

	t.Run("filters", func(t *testing.T) {
		t.Parallel()
		got, _, _ := read(t, "?sku=A")
		equal(t, got, []mv{all[1], all[2], all[4], all[5]})
		got, _, _ = read(t, "?sku=A&variantKey=")
		equal(t, got, []mv{all[1], all[2], all[5]})
		got, _, _ = read(t, "?sku=A&variantKey=size:M")
		equal(t, got, []mv{all[4]})
		got, _, _ = read(t, "?sku=NOPE")
		equal(t, got, nil)
	})

	t.Run("cursor", func(t *testing.T) {
		t.Parallel()
		var got []mv
		query := "?limit=4"
		for page := 0; ; page++ {
			if page > 3 {
				t.Fatal("too many pages")
			}
			items, _, next := read(t, query)
			got = append(got, items...)
			if next == nil {
				break
			}
			query = "?limit=4&cursor=" + url.QueryEscape(*next)
		}
		equal(t, got, all)

		got = nil
		query = "?sku=A&limit=1"
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatal("too many pages")
			}
			items, _, next := read(t, query)
			got = append(got, items...)
			if next == nil {
				break
			}
			query = "?sku=A&limit=1&cursor=" + url.QueryEscape(*next)
		}
		equal(t, got, []mv{all[1], all[2], all[4], all[5]})
	})

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ query, field string }{
			{"?limit=0", "limit"},
			{"?limit=x", "limit"},
			{"?limit=501", "limit"},
			{"?cursor=%21%21", "cursor"},
			{"?variantKey=size:M", "variantKey"},
			{"?sku=bad%20sku", "sku"},
		} {
			expectInvalid(t, h.svc(t, http.MethodGet, shopPath(shop, "/movements"+tc.query), nil), tc.field)
		}
	})
}

// TestAdjustmentIdempotencyConcurrent sends one adjustment many times at once:
// it is applied once, and every answer is its result.
func TestAdjustmentIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	body := map[string]any{"idempotencyKey": "adj-retry", "changes": []any{change("SKU-1", "", "increment", 5)}}

	const n = 20
	answers := make([]*response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i] = h.svc(t, http.MethodPost, shopPath(shop, "/adjustments"), body) })
	}
	wg.Wait()
	for _, r := range answers {
		if r.Status != http.StatusOK {
			t.Fatalf("answer %d %s", r.Status, r.Raw)
		}
		if !jsonEqual(r.JSON, answers[0].JSON) {
			t.Errorf("answers differ:\n%s\n%s", r.Raw, answers[0].Raw)
		}
	}
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 15 {
		t.Errorf("on hand %d, want 15", info.OnHand)
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}
