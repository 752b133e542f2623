package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

func TestHoldCreate(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-123", "size:M", "", 10)

	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{
		"items":      []any{item("SKU-123", "size:M", 2)},
		"ttlSeconds": 1200, "idempotencyKey": "cart-42", "reference": "cart-42",
	})
	expect(t, r, http.StatusCreated, "")
	m := r.Obj(t)
	assertKeys(t, m, "id", "shopId", "status", "expiresAt", "createdAt", "checkoutSessionId", "checkoutSessionExpiresAt", "reference", "items")
	id := str(t, m, "id")
	if !strings.HasPrefix(id, "hold_") {
		t.Errorf("id %q", id)
	}
	if v, ok := m["checkoutSessionId"]; !ok || v != nil {
		t.Errorf("checkoutSessionId must be present and null: %s", r.Raw)
	}
	created, expires := timeField(t, m, "createdAt"), timeField(t, m, "expiresAt")
	if d := expires.Sub(created); d != 1200*time.Second {
		t.Errorf("expiresAt - createdAt = %s, want 20m", d)
	}
	if d := time.Since(created); d < -time.Minute || d > time.Minute {
		t.Errorf("createdAt %s is not now", created)
	}
	items := objs(t, m, "items")
	if len(items) != 1 {
		t.Fatalf("items: %s", r.Raw)
	}
	assertKeys(t, items[0], "sku", "variantKey", "quantity", "allocations")
	allocs := objs(t, items[0], "allocations")
	if len(allocs) != 1 {
		t.Fatalf("allocations: %s", r.Raw)
	}
	assertKeys(t, allocs[0], "locationId", "quantity", "backordered")
	assertJSON(t, r, map[string]any{
		"id": id, "shopId": shop, "status": "active", "expiresAt": m["expiresAt"], "createdAt": m["createdAt"],
		"checkoutSessionId": nil, "checkoutSessionExpiresAt": nil, "reference": "cart-42",
		"items": []any{map[string]any{"sku": "SKU-123", "variantKey": "size:M", "quantity": 2,
			"allocations": []any{map[string]any{"locationId": "default", "quantity": 2, "backordered": 0}}}},
	})
	if info := h.stockInfo(t, shop, "SKU-123", "size:M"); info.Reserved != 2 || info.Available != 8 {
		t.Errorf("after hold: %+v", info)
	}

	// GET answers the same hold.
	got := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+id), nil)
	expect(t, got, http.StatusOK, "")
	assertJSON(t, got, r.JSON)

	// The same idempotency key again: 200, the same hold, nothing more held.
	before := h.snapshot(t, shop)
	replay := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{
		"items":      []any{item("SKU-123", "size:M", 2)},
		"ttlSeconds": 1200, "idempotencyKey": "cart-42", "reference": "cart-42",
	})
	expect(t, replay, http.StatusOK, "")
	assertJSON(t, replay, r.JSON)
	// Different items under the key: 409.
	for _, items := range [][]any{
		{item("SKU-123", "size:M", 3)},
		{item("SKU-123", "size:L", 2)},
		{item("SKU-123", "size:M", 2), item("SKU-9", "", 1)},
	} {
		c := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": items, "idempotencyKey": "cart-42"})
		expect(t, c, http.StatusConflict, "idempotency_conflict")
		assertKeys(t, c.Obj(t), "error", "message")
	}
	h.assertUnchanged(t, shop, before)

	// Without a key, each request is a new hold.
	a := h.hold(t, shop, map[string]any{"items": []any{item("SKU-123", "size:M", 1)}})
	b := h.hold(t, shop, map[string]any{"items": []any{item("SKU-123", "size:M", 1)}})
	if a["id"] == b["id"] {
		t.Errorf("two holds with one id")
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestHoldReplayAfterStockIsGone(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "B", "", "", 1)
	h.stock(t, shop, "A", "x", "", 3)
	// Lines in any order, one repeated: the replay still matches.
	body := map[string]any{"items": []any{item("B", "", 1), item("A", "x", 1), item("A", "x", 2)}, "idempotencyKey": "k1"}
	first := h.hold(t, shop, body)
	// Everything is held now; a replay returns the hold rather than a shortfall.
	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), body)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, first)
	items := objs(t, first, "items")
	if len(items) != 2 || str(t, items[0], "sku") != "A" || num(t, items[0], "quantity") != 3 || str(t, items[1], "sku") != "B" {
		t.Errorf("items: %v", items)
	}
	// Replayed after the hold is released, it is still the same hold.
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+str(t, first, "id")+"/release"), nil), http.StatusOK, "")
	r = h.svc(t, http.MethodPost, shopPath(shop, "/holds"), body)
	expect(t, r, http.StatusOK, "")
	if m := r.Obj(t); m["id"] != first["id"] || m["status"] != "released" {
		t.Errorf("replay after release: %s", r.Raw)
	}
}

func TestHoldInsufficient(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-123", "size:M", "", 1)
	h.stock(t, shop, "SKU-9", "", "", 10)
	before := h.snapshot(t, shop)

	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{
		item("SKU-9", "", 5), item("SKU-123", "size:M", 2),
	}})
	expect(t, r, http.StatusConflict, "insufficient_stock")
	m := r.Obj(t)
	assertKeys(t, m, "error", "message", "code", "items")
	assertJSON(t, r, map[string]any{
		"error": "insufficient_stock", "message": m["message"], "code": "inventory_insufficient",
		"items": []any{map[string]any{"sku": "SKU-123", "variantKey": "size:M", "requested": 2, "available": 1}},
	})

	// Repeated lines are summed; unknown lines have 0.
	r = h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{
		item("SKU-9", "", 6), item("SKU-9", "", 5), item("GHOST", "", 1),
	}})
	expect(t, r, http.StatusConflict, "insufficient_stock")
	assertJSON(t, r, map[string]any{
		"error": "insufficient_stock", "message": r.Obj(t)["message"], "code": "inventory_insufficient",
		"items": []any{
			map[string]any{"sku": "GHOST", "variantKey": "", "requested": 1, "available": 0},
			map[string]any{"sku": "SKU-9", "variantKey": "", "requested": 11, "available": 10},
		},
	})
	// All lines or none.
	h.assertUnchanged(t, shop, before)
}

func TestHoldAllocations(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.location(t, shop, "store-2", 1)
	h.stock(t, shop, "SPLIT", "", "", 2)
	h.stock(t, shop, "SPLIT", "", "store-2", 3)
	h.stock(t, shop, "PRE", "", "", 1)
	expect(t, h.svc(t, http.MethodPut, shopPath(shop, "/stock/PRE/settings"), map[string]any{"backorderLimit": 5}), http.StatusOK, "")

	hold := h.hold(t, shop, map[string]any{"items": []any{item("SPLIT", "", 4), item("PRE", "", 4)}})
	assertJSON(t, &response{JSON: jsonOf(t, hold["items"])}, []any{
		map[string]any{"sku": "PRE", "variantKey": "", "quantity": 4, "allocations": []any{
			map[string]any{"locationId": "default", "quantity": 4, "backordered": 3},
		}},
		map[string]any{"sku": "SPLIT", "variantKey": "", "quantity": 4, "allocations": []any{
			map[string]any{"locationId": "default", "quantity": 2, "backordered": 0},
			map[string]any{"locationId": "store-2", "quantity": 2, "backordered": 0},
		}},
	})
	got := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+str(t, hold, "id")), nil)
	expect(t, got, http.StatusOK, "")
	assertJSON(t, got, hold)
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestHoldTTL(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)

	for _, tc := range []struct {
		ttl  any
		want time.Duration
	}{
		{nil, defaultHoldTTL},
		{1, time.Second},
		{86400, 24 * time.Hour},
	} {
		body := map[string]any{"items": []any{item("SKU-1", "", 1)}}
		if tc.ttl != nil {
			body["ttlSeconds"] = tc.ttl
		}
		m := h.hold(t, shop, body)
		if d := timeField(t, m, "expiresAt").Sub(timeField(t, m, "createdAt")); d != tc.want {
			t.Errorf("ttlSeconds %v: expires after %s, want %s", tc.ttl, d, tc.want)
		}
	}
}

func TestHoldGet(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	other := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	hold := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}, "reference": "cart-1"})
	id := str(t, hold, "id")

	r := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+id), nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, hold)

	for _, path := range []string{
		shopPath(shop, "/holds/hold_doesnotexist"),
		shopPath(other, "/holds/"+id), // another shop's hold
	} {
		expect(t, h.svc(t, http.MethodGet, path, nil), http.StatusNotFound, "not_found")
	}
	for _, tc := range []struct {
		action string
		body   any
	}{{"/commit", nil}, {"/release", nil}, {"/extend", map[string]any{"ttlSeconds": 60}}} {
		r := h.svc(t, http.MethodPost, shopPath(other, "/holds/"+id+tc.action), tc.body)
		expect(t, r, http.StatusNotFound, "not_found")
	}
	// None of that touched the hold.
	r = h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+id), nil)
	assertJSON(t, r, hold)
}

func TestHoldCommit(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	hold := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 3)}, "reference": "cart-1"})
	id := str(t, hold, "id")

	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/commit"), map[string]any{"reference": "order-123"})
	expect(t, r, http.StatusOK, "")
	want := hold
	want["status"] = "committed"
	assertJSON(t, r, want)
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 7 || info.Reserved != 0 || info.Available != 7 {
		t.Errorf("after commit: %+v", info)
	}
	afterCommit := h.snapshot(t, shop)

	// Again: 200, unchanged, and nothing sold twice.
	again := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/commit"), map[string]any{"reference": "order-123"})
	expect(t, again, http.StatusOK, "")
	assertJSON(t, again, r.JSON)
	get := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+id), nil)
	assertJSON(t, get, r.JSON)
	h.assertUnchanged(t, shop, afterCommit)

	// Releasing a committed hold: 409 hold_not_active.
	rel := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/release"), map[string]any{"reason": "cart_abandoned"})
	expect(t, rel, http.StatusConflict, "hold_not_active")
	assertKeys(t, rel.Obj(t), "error", "message", "status")
	if rel.Obj(t)["status"] != "committed" {
		t.Errorf("status: %s", rel.Raw)
	}
	// Extending one: 409 too.
	ext := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/extend"), map[string]any{"ttlSeconds": 600})
	expect(t, ext, http.StatusConflict, "hold_not_active")
	h.assertUnchanged(t, shop, afterCommit)

	// The SALE movement references the order.
	mv := h.svc(t, http.MethodGet, shopPath(shop, "/movements?sku=SKU-1&limit=1"), nil)
	if items := objs(t, mv.Obj(t), "items"); len(items) != 1 || items[0]["type"] != "SALE" || num(t, items[0], "quantity") != -3 || items[0]["reference"] != "order-123" {
		t.Errorf("last movement: %s", mv.Raw)
	}
	// Commit without a body works too.
	other := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}})
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+str(t, other, "id")+"/commit"), nil), http.StatusOK, "")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestHoldRelease(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	hold := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 4)}})
	id := str(t, hold, "id")

	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/release"), map[string]any{"reason": "cart_abandoned"})
	expect(t, r, http.StatusOK, "")
	want := hold
	want["status"] = "released"
	assertJSON(t, r, want)
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.OnHand != 10 || info.Reserved != 0 {
		t.Errorf("after release: %+v", info)
	}
	afterRelease := h.snapshot(t, shop)

	// Idempotent.
	again := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/release"), map[string]any{"reason": "cart_abandoned"})
	expect(t, again, http.StatusOK, "")
	assertJSON(t, again, r.JSON)
	h.assertUnchanged(t, shop, afterRelease)

	// A released hold cannot be committed or extended.
	c := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/commit"), map[string]any{"reference": "order-1"})
	expect(t, c, http.StatusConflict, "hold_not_active")
	assertKeys(t, c.Obj(t), "error", "message", "status")
	if c.Obj(t)["status"] != "released" {
		t.Errorf("status: %s", c.Raw)
	}
	e := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/extend"), map[string]any{"ttlSeconds": 600})
	expect(t, e, http.StatusConflict, "hold_not_active")
	if e.Obj(t)["status"] != "released" {
		t.Errorf("status: %s", e.Raw)
	}
	h.assertUnchanged(t, shop, afterRelease)

	// Release without a body works too.
	other := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}})
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+str(t, other, "id")+"/release"), nil), http.StatusOK, "")
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// A change a stock row's CHECK refuses is a conflict, never a 500: here the
// row was edited behind the ledger's back to reserve less than the hold.
func TestHoldCommitRefusedByStockCheck(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	id := str(t, h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 3)}}), "id")
	edit := func(reserved int) {
		t.Helper()
		if _, err := h.pool.Exec(context.Background(),
			"UPDATE stock_levels SET reserved = $2 WHERE shop_id = $1 AND sku = 'SKU-1'", shop, reserved); err != nil {
			t.Fatal(err)
		}
	}
	edit(1)
	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/commit"), map[string]any{"reference": "order-1"})
	expect(t, r, http.StatusConflict, "stock_conflict")
	edit(3)
	if got := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+id), nil); got.Obj(t)["status"] != "active" {
		t.Errorf("a refused commit changed the hold: %s", got.Raw)
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

func TestHoldExtend(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)
	hold := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 1)}, "ttlSeconds": 60})
	id := str(t, hold, "id")
	expires := timeField(t, hold, "expiresAt")

	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/extend"), map[string]any{"ttlSeconds": 600})
	expect(t, r, http.StatusOK, "")
	m := r.Obj(t)
	if later := timeField(t, m, "expiresAt"); !later.After(expires) {
		t.Errorf("expiresAt %s not after %s", later, expires)
	}
	if m["status"] != "active" || m["id"] != id {
		t.Errorf("extended: %s", r.Raw)
	}
	get := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+id), nil)
	assertJSON(t, get, r.JSON)

	// However often it is extended, a hold expires at most 86,400 s after
	// the request.
	for range 2 {
		r = h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/extend"), map[string]any{"ttlSeconds": 86400})
		expect(t, r, http.StatusOK, "")
		if capped := timeField(t, r.Obj(t), "expiresAt"); capped.After(time.Now().Add(86400 * time.Second)) {
			t.Errorf("expiresAt %s is more than 86,400 s from now", capped)
		}
	}

	before := h.snapshot(t, shop)
	for _, body := range []any{
		map[string]any{"ttlSeconds": 0},
		map[string]any{"ttlSeconds": 86401},
		map[string]any{"ttlSeconds": -1},
		map[string]any{},
		nil,
	} {
		expectInvalid(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/extend"), body), "ttlSeconds")
	}
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/hold_nope/extend"), map[string]any{"ttlSeconds": 60}), http.StatusNotFound, "not_found")
	h.assertUnchanged(t, shop, before)
	if after := h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+id), nil); !jsonEqual(after.JSON, r.JSON) {
		t.Errorf("a rejected extend changed the hold: %s", after.Raw)
	}
}

// TestHoldLapsed covers a hold whose expiresAt has passed but that the reaper
// has not closed: it no longer counts as reserved and cannot be committed or
// extended. The expiry is moved into the past in the database rather than
// waited for.
func TestHoldLapsed(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	hold := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 5)}})
	id := str(t, hold, "id")
	if _, err := h.pool.Exec(context.Background(),
		"UPDATE holds SET expires_at = now() - interval '1 second' WHERE shop_id = $1 AND id = $2", shop, id); err != nil {
		t.Fatal(err)
	}

	r := h.svc(t, http.MethodGet, shopPath(shop, "/stock/SKU-1"), nil)
	expect(t, r, http.StatusOK, "")
	if m := r.Obj(t); num(t, m, "available") != 5 || num(t, m, "reserved") != 0 {
		t.Errorf("a lapsed hold still counts: %s", r.Raw)
	}
	r = h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+id), nil)
	expect(t, r, http.StatusOK, "")
	if r.Obj(t)["status"] != "expired" {
		t.Errorf("lapsed hold: %s", r.Raw)
	}
	c := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/commit"), map[string]any{"reference": "late"})
	expect(t, c, http.StatusConflict, "hold_not_active")
	if c.Obj(t)["status"] != "expired" {
		t.Errorf("commit of a lapsed hold: %s", c.Raw)
	}
	e := h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+id+"/extend"), map[string]any{"ttlSeconds": 60})
	expect(t, e, http.StatusConflict, "hold_not_active")
	// Its units can be held again.
	h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 5)}})
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}

// TestHoldIdempotencyConcurrent sends one request many times at once, as a
// client retrying over a flaky network might: one hold is placed, and every
// answer is that hold.
func TestHoldIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 1)
	body := map[string]any{"items": []any{item("SKU-1", "", 1)}, "idempotencyKey": "cart-retry"}

	const n = 20
	answers := make([]*response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i] = h.svc(t, http.MethodPost, shopPath(shop, "/holds"), body) })
	}
	wg.Wait()
	created := 0
	for _, r := range answers {
		switch r.Status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("answer %d %s", r.Status, r.Raw)
		}
		if !jsonEqual(r.JSON, answers[0].JSON) {
			t.Errorf("answers differ:\n%s\n%s", r.Raw, answers[0].Raw)
		}
	}
	if created != 1 {
		t.Errorf("%d answers were 201, want 1", created)
	}
	if info := h.stockInfo(t, shop, "SKU-1", ""); info.Reserved != 1 {
		t.Errorf("reserved %d, want 1", info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, h.ledger, shop)
}
