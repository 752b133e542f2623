package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

const shopsPath = "/api/inventory/shops"

// defaultLocation is the location every shop is created with, as the API
// shows it.
var defaultLocation = map[string]any{"id": "default", "name": "Default", "priority": 0}

func TestCreateShop(t *testing.T) {
	t.Parallel()
	h := env(t)
	id := testdb.ShopID(t)

	before := time.Now()
	r := h.svc(t, http.MethodPost, shopsPath, map[string]any{"id": id, "name": "Acme"})
	expect(t, r, http.StatusCreated, "")
	m := r.Obj(t)
	assertKeys(t, m, "id", "name", "publicAvailability", "restockOnRefund", "createdAt", "locations")
	if created := timeField(t, m, "createdAt"); created.Before(before.Add(-time.Minute)) || created.After(time.Now().Add(time.Minute)) {
		t.Errorf("createdAt %v, want about now", created)
	}
	want := map[string]any{"id": id, "name": "Acme", "publicAvailability": false, "restockOnRefund": false, "createdAt": m["createdAt"], "locations": []any{defaultLocation}}
	assertJSON(t, r, want)

	r = h.svc(t, http.MethodGet, shopsPath+"/"+id, nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, want)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	t.Run("existing id", func(t *testing.T) {
		t.Parallel()
		r := h.svc(t, http.MethodPost, shopsPath, map[string]any{"id": id, "name": "Impostor"})
		expect(t, r, http.StatusConflict, "conflict")
		assertKeys(t, r.Obj(t), "error", "message")
		if got := str(t, h.svc(t, http.MethodGet, shopsPath+"/"+id, nil).Obj(t), "name"); got != "Acme" {
			t.Errorf("a refused create renamed the shop to %q", got)
		}
	})

	t.Run("without a name", func(t *testing.T) {
		t.Parallel()
		id := testdb.ShopID(t)
		r := h.svc(t, http.MethodPost, shopsPath, map[string]any{"id": id})
		expect(t, r, http.StatusCreated, "")
		if got := str(t, r.Obj(t), "name"); got != id {
			t.Errorf("name %q, want the id", got)
		}
	})

	t.Run("usable at once", func(t *testing.T) {
		t.Parallel()
		h.stock(t, id, "SKU-1", "", "", 2)
		hold := h.hold(t, id, map[string]any{"items": []any{item("SKU-1", "", 1)}})
		if got := str(t, objs(t, objs(t, hold, "items")[0], "allocations")[0], "locationId"); got != "default" {
			t.Errorf("held at %s, want default", got)
		}
	})
}

func TestCreateShopInvalid(t *testing.T) {
	t.Parallel()
	h := env(t)
	id := testdb.ShopID(t)
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no id", map[string]any{"name": "Acme"}, "id"},
		{"empty body", map[string]any{}, "id"},
		{"bad id", map[string]any{"id": "Acme Shop", "name": "Acme"}, "id"},
		{"id too long", map[string]any{"id": strings.Repeat("a", 65)}, "id"},
		{"id not a string", map[string]any{"id": 5}, "id"},
		{"null id", map[string]any{"id": nil}, "id"},
		{"null name", map[string]any{"id": id, "name": nil}, "name"},
		{"name not a string", map[string]any{"id": id, "name": []any{"Acme"}}, "name"},
		{"name too long", map[string]any{"id": id, "name": strings.Repeat("ß", 256)}, "name"},
		{"NUL in name", `{"id": "` + id + `", "name": "a\u0000b"}`, "name"},
		{"unknown field", map[string]any{"id": id, "name": "Acme", "publicAvailability": true}, "publicAvailability"},
		{"field in another case", map[string]any{"ID": id}, "ID"},
		{"not an object", []any{id}, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expectInvalid(t, h.svc(t, http.MethodPost, shopsPath, tt.body), tt.field)
		})
	}
	// Runs once the parallel subtests are done.
	t.Cleanup(func() {
		expect(t, h.svc(t, http.MethodGet, shopsPath+"/"+id, nil), http.StatusNotFound, "not_found")
	})
}

func TestShopKeyOnShops(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	other := h.newShop(t)
	key, _ := h.shopKey(t, shop)

	t.Run("cannot create", func(t *testing.T) {
		t.Parallel()
		id := testdb.ShopID(t)
		r := h.do(t, req{Method: http.MethodPost, Path: shopsPath, Token: key, Body: map[string]any{"id": id, "name": "Mine"}})
		expect(t, r, http.StatusNotFound, "not_found")
		assertKeys(t, r.Obj(t), "error", "message")
		// Answered as a route that does not exist.
		none := h.do(t, req{Method: http.MethodPost, Path: "/api/inventory/nothing-here", Token: key, Body: map[string]any{"id": id}})
		if !bytes.Equal(r.Raw, none.Raw) {
			t.Errorf("POST /shops by a shop key: %s; an unknown route: %s", r.Raw, none.Raw)
		}
		expect(t, h.svc(t, http.MethodGet, shopsPath+"/"+id, nil), http.StatusNotFound, "not_found")
	})

	t.Run("reads and changes its own", func(t *testing.T) {
		t.Parallel()
		r := h.do(t, req{Method: http.MethodGet, Path: shopsPath + "/" + shop, Token: key})
		expect(t, r, http.StatusOK, "")
		if m := r.Obj(t); str(t, m, "id") != shop || m["publicAvailability"] != false {
			t.Errorf("GET own shop: %s", r.Raw)
		}
		r = h.do(t, req{Method: http.MethodPatch, Path: shopsPath + "/" + shop, Token: key, Body: map[string]any{"publicAvailability": true}})
		expect(t, r, http.StatusOK, "")
		if m := r.Obj(t); m["publicAvailability"] != true || str(t, m, "name") != "Test shop" {
			t.Errorf("PATCH own shop: %s", r.Raw)
		}
		if got, err := h.ledger.GetShop(context.Background(), shop); err != nil || !got.PublicAvailability {
			t.Errorf("GetShop after the PATCH = %+v, %v; want public", got, err)
		}
		r = h.do(t, req{Method: http.MethodPost, Path: shopPath(shop, "/locations"), Token: key, Body: map[string]any{"id": "backroom", "priority": 3}})
		expect(t, r, http.StatusCreated, "")
		r = h.do(t, req{Method: http.MethodPatch, Path: shopPath(shop, "/locations/backroom"), Token: key, Body: map[string]any{"name": "Back room"}})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"id": "backroom", "name": "Back room", "priority": 3})
		r = h.do(t, req{Method: http.MethodGet, Path: shopPath(shop, "/locations"), Token: key})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"items": []any{defaultLocation, map[string]any{"id": "backroom", "name": "Back room", "priority": 3}}})
	})

	// Another shop, existing or not, is unknown to the key: every route
	// answers exactly as for a shop that does not exist, and changes nothing.
	t.Run("other shop is unknown", func(t *testing.T) {
		t.Parallel()
		unknown := testdb.ShopID(t)
		for _, rt := range []struct {
			method, rest string
			body         any
		}{
			{http.MethodGet, "", nil},
			{http.MethodPatch, "", map[string]any{"name": "Taken over", "publicAvailability": true}},
			{http.MethodGet, "/locations", nil},
			{http.MethodPost, "/locations", map[string]any{"id": "mine", "priority": -5}},
			{http.MethodPatch, "/locations/default", map[string]any{"priority": 7}},
		} {
			existing := h.do(t, req{Method: rt.method, Path: shopsPath + "/" + other + rt.rest, Token: key, Body: rt.body})
			missing := h.do(t, req{Method: rt.method, Path: shopsPath + "/" + unknown + rt.rest, Token: key, Body: rt.body})
			bySvc := h.svc(t, rt.method, shopsPath+"/"+unknown+rt.rest, rt.body)
			expect(t, existing, http.StatusNotFound, "not_found")
			assertKeys(t, existing.Obj(t), "error", "message")
			for _, r := range []*response{missing, bySvc} {
				if r.Status != existing.Status || !bytes.Equal(r.Raw, existing.Raw) {
					t.Errorf("%s %s: other shop answers %d %s, unknown shop %d %s",
						rt.method, rt.rest, existing.Status, existing.Raw, r.Status, r.Raw)
				}
			}
		}
		got, err := h.ledger.GetShop(context.Background(), other)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Test shop" || got.PublicAvailability || len(got.Locations) != 1 || got.Locations[0].Priority != 0 {
			t.Errorf("the key changed another shop: %+v", got)
		}
	})
}

func TestUpdateShop(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	path := shopsPath + "/" + shop

	r := h.svc(t, http.MethodPatch, path, map[string]any{"publicAvailability": true})
	expect(t, r, http.StatusOK, "")
	created := r.Obj(t)["createdAt"]
	assertJSON(t, r, map[string]any{"id": shop, "name": "Test shop", "publicAvailability": true, "restockOnRefund": false, "createdAt": created, "locations": []any{defaultLocation}})

	r = h.svc(t, http.MethodPatch, path, map[string]any{"name": "Renamed", "restockOnRefund": true})
	expect(t, r, http.StatusOK, "")
	want := map[string]any{"id": shop, "name": "Renamed", "publicAvailability": true, "restockOnRefund": true, "createdAt": created, "locations": []any{defaultLocation}}
	assertJSON(t, r, want)

	// Stripe-like: a PATCH that names nothing changes nothing and answers
	// with the shop as it is.
	for _, body := range []any{map[string]any{}, nil} {
		r = h.svc(t, http.MethodPatch, path, body)
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, want)
	}

	r = h.svc(t, http.MethodPatch, path, map[string]any{"name": "Both", "publicAvailability": false})
	expect(t, r, http.StatusOK, "")
	want["name"], want["publicAvailability"] = "Both", false
	assertJSON(t, r, want)
	assertJSON(t, h.svc(t, http.MethodGet, path, nil), want)

	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"null name", map[string]any{"name": nil}, "name"},
		{"empty name", map[string]any{"name": ""}, "name"},
		{"long name", map[string]any{"name": strings.Repeat("x", 256)}, "name"},
		{"NUL in name", `{"name": "\u0000"}`, "name"},
		{"null publicAvailability", map[string]any{"publicAvailability": nil}, "publicAvailability"},
		{"string publicAvailability", map[string]any{"publicAvailability": "true"}, "publicAvailability"},
		{"number publicAvailability", map[string]any{"publicAvailability": 1}, "publicAvailability"},
		{"unknown field", map[string]any{"public": true}, "public"},
		{"id is not settable", map[string]any{"id": "other"}, "id"},
		{"locations are not settable here", map[string]any{"locations": []any{}}, "locations"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			expectInvalid(t, h.svc(t, http.MethodPatch, path, tt.body), tt.field)
		})
	}
	assertJSON(t, h.svc(t, http.MethodGet, path, nil), want)

	unknown := shopsPath + "/" + testdb.ShopID(t)
	expect(t, h.svc(t, http.MethodGet, unknown, nil), http.StatusNotFound, "not_found")
	expect(t, h.svc(t, http.MethodPatch, unknown, map[string]any{"name": "x"}), http.StatusNotFound, "not_found")
	expect(t, h.svc(t, http.MethodPatch, unknown, map[string]any{}), http.StatusNotFound, "not_found")
	expectInvalid(t, h.svc(t, http.MethodGet, shopsPath+"/Bad_Shop", nil), "shopId")
	expectInvalid(t, h.svc(t, http.MethodPatch, shopsPath+"/-x", map[string]any{"name": "x"}), "shopId")

	expect(t, h.svc(t, http.MethodDelete, path, nil), http.StatusMethodNotAllowed, "method_not_allowed")
}

func TestLocations(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	locations := shopPath(shop, "/locations")

	r := h.svc(t, http.MethodPost, locations, map[string]any{"id": "berlin", "name": "Berlin", "priority": 10})
	expect(t, r, http.StatusCreated, "")
	assertJSON(t, r, map[string]any{"id": "berlin", "name": "Berlin", "priority": 10})
	r = h.svc(t, http.MethodPost, locations, map[string]any{"id": "annex"})
	expect(t, r, http.StatusCreated, "")
	assertJSON(t, r, map[string]any{"id": "annex", "name": "annex", "priority": 0})

	r = h.svc(t, http.MethodPost, locations, map[string]any{"id": "berlin", "name": "Other Berlin", "priority": 1})
	expect(t, r, http.StatusConflict, "conflict")
	assertKeys(t, r.Obj(t), "error", "message")
	r = h.svc(t, http.MethodPost, locations, map[string]any{"id": "default"})
	expect(t, r, http.StatusConflict, "conflict")

	all := []any{
		map[string]any{"id": "annex", "name": "annex", "priority": 0},
		defaultLocation,
		map[string]any{"id": "berlin", "name": "Berlin", "priority": 10},
	}
	r = h.svc(t, http.MethodGet, locations, nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"items": all})
	if got := objs(t, h.svc(t, http.MethodGet, shopsPath+"/"+shop, nil).Obj(t), "locations"); !jsonEqual(jsonOf(t, got), jsonOf(t, all)) {
		t.Errorf("the shop's locations %v, want %v", got, all)
	}

	r = h.svc(t, http.MethodPatch, locations+"/berlin", map[string]any{"name": "Berlin Mitte", "priority": -3})
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"id": "berlin", "name": "Berlin Mitte", "priority": -3})
	r = h.svc(t, http.MethodPatch, locations+"/berlin", map[string]any{})
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"id": "berlin", "name": "Berlin Mitte", "priority": -3})
	r = h.svc(t, http.MethodGet, locations, nil)
	assertJSON(t, r, map[string]any{"items": []any{
		map[string]any{"id": "berlin", "name": "Berlin Mitte", "priority": -3},
		map[string]any{"id": "annex", "name": "annex", "priority": 0},
		defaultLocation,
	}})

	r = h.svc(t, http.MethodPatch, locations+"/paris", map[string]any{"priority": 1})
	expect(t, r, http.StatusNotFound, "not_found")
	if msg := str(t, r.Obj(t), "message"); msg != "location not found" {
		t.Errorf("message %q, want location not found", msg)
	}
	unknown := shopPath(testdb.ShopID(t), "/locations")
	for _, r := range []*response{
		h.svc(t, http.MethodGet, unknown, nil),
		h.svc(t, http.MethodPost, unknown, map[string]any{"id": "berlin"}),
		h.svc(t, http.MethodPatch, unknown+"/default", map[string]any{"priority": 1}),
	} {
		expect(t, r, http.StatusNotFound, "not_found")
		if msg := str(t, r.Obj(t), "message"); msg != "shop not found" {
			t.Errorf("message %q, want shop not found", msg)
		}
	}
}

func TestLocationsInvalid(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	locations := shopPath(shop, "/locations")

	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"no id", map[string]any{"name": "Berlin"}, "id"},
		{"bad id", map[string]any{"id": "Berlin"}, "id"},
		{"id not a string", map[string]any{"id": true}, "id"},
		{"null priority", map[string]any{"id": "berlin", "priority": nil}, "priority"},
		{"string priority", map[string]any{"id": "berlin", "priority": "10"}, "priority"},
		{"fractional priority", map[string]any{"id": "berlin", "priority": 1.5}, "priority"},
		{"priority too high", map[string]any{"id": "berlin", "priority": 1_000_001}, "priority"},
		{"priority too low", map[string]any{"id": "berlin", "priority": -1_000_001}, "priority"},
		{"priority past int32", map[string]any{"id": "berlin", "priority": int64(1) << 32}, "priority"},
		{"priority past int64", `{"id": "berlin", "priority": 99999999999999999999}`, "priority"},
		{"long name", map[string]any{"id": "berlin", "name": strings.Repeat("x", 256)}, "name"},
		{"unknown field", map[string]any{"id": "berlin", "shopId": shop}, "shopId"},
	} {
		t.Run("add: "+tt.name, func(t *testing.T) {
			t.Parallel()
			expectInvalid(t, h.svc(t, http.MethodPost, locations, tt.body), tt.field)
		})
	}
	for _, tt := range []struct {
		name, path string
		body       any
		field      string
	}{
		{"bad location id", "/Default", map[string]any{"priority": 1}, "locationId"},
		{"null name", "/default", map[string]any{"name": nil}, "name"},
		{"empty name", "/default", map[string]any{"name": ""}, "name"},
		{"null priority", "/default", map[string]any{"priority": nil}, "priority"},
		{"priority past int32", "/default", map[string]any{"priority": -(int64(1) << 40)}, "priority"},
		{"id is not settable", "/default", map[string]any{"id": "other"}, "id"},
	} {
		t.Run("update: "+tt.name, func(t *testing.T) {
			t.Parallel()
			expectInvalid(t, h.svc(t, http.MethodPatch, locations+tt.path, tt.body), tt.field)
		})
	}
	// Runs once the parallel subtests are done.
	t.Cleanup(func() {
		assertJSON(t, h.svc(t, http.MethodGet, locations, nil), map[string]any{"items": []any{defaultLocation}})
	})
}

// Lowering a location's priority below the default location's makes the
// next hold take its stock there first; holds placed before keep theirs.
func TestLocationPriorityOrdersHolds(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/locations"), map[string]any{"id": "berlin", "name": "Berlin", "priority": 10}), http.StatusCreated, "")
	h.stock(t, shop, "SKU-1", "", "", 3)
	h.stock(t, shop, "SKU-1", "", "berlin", 3)

	allocations := func(hold map[string]any) []any {
		t.Helper()
		return hold["items"].([]any)[0].(map[string]any)["allocations"].([]any)
	}
	alloc := func(loc string, qty int) map[string]any {
		return map[string]any{"locationId": loc, "quantity": qty, "backordered": 0}
	}

	first := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 4)}})
	if got, want := allocations(first), []any{alloc("default", 3), alloc("berlin", 1)}; !jsonEqual(jsonOf(t, got), jsonOf(t, want)) {
		t.Fatalf("first hold's allocations %v, want default first %v", got, want)
	}
	expect(t, h.svc(t, http.MethodPost, shopPath(shop, "/holds/"+str(t, first, "id")+"/release"), nil), http.StatusOK, "")

	r := h.svc(t, http.MethodPatch, shopPath(shop, "/locations/berlin"), map[string]any{"priority": -1})
	expect(t, r, http.StatusOK, "")
	second := h.hold(t, shop, map[string]any{"items": []any{item("SKU-1", "", 4)}})
	if got, want := allocations(second), []any{alloc("berlin", 3), alloc("default", 1)}; !jsonEqual(jsonOf(t, got), jsonOf(t, want)) {
		t.Errorf("second hold's allocations %v, want berlin first %v", got, want)
	}
	r = h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+str(t, second, "id")), nil)
	expect(t, r, http.StatusOK, "")
	if got, want := allocations(r.Obj(t)), []any{alloc("berlin", 3), alloc("default", 1)}; !jsonEqual(jsonOf(t, got), jsonOf(t, want)) {
		t.Errorf("GET hold: allocations %v, want %v", got, want)
	}
	// The earlier hold took its stock where it did; a hold lists its
	// allocations in the locations' current order.
	r = h.svc(t, http.MethodGet, shopPath(shop, "/holds/"+str(t, first, "id")), nil)
	if got, want := allocations(r.Obj(t)), []any{alloc("berlin", 1), alloc("default", 3)}; !jsonEqual(jsonOf(t, got), jsonOf(t, want)) {
		t.Errorf("the earlier hold's allocations changed to %v, want %v", got, want)
	}
}

// POST /shops names its shop in the body: the service token spends that
// shop's budget, a shop key its own (it gets 404 either way).
func TestCreateShopSpendsTheNamedShopsBudget(t *testing.T) {
	t.Parallel()
	h := startLimitedServer(t, httpapi.RateLimit{PerSecond: slowRefill, Burst: 1})
	id := testdb.ShopID(t)

	expect(t, h.svc(t, http.MethodPost, shopsPath, map[string]any{"id": id, "name": "Acme"}), http.StatusCreated, "")
	expectRateLimited(t, h.svc(t, http.MethodGet, shopsPath+"/"+id, nil), 100*time.Second)
	// Another shop's budget is its own.
	expect(t, h.svc(t, http.MethodPost, shopsPath, map[string]any{"id": testdb.ShopID(t)}), http.StatusCreated, "")

	keyed := h.newShop(t)
	key, _ := h.shopKey(t, keyed)
	r := h.do(t, req{Method: http.MethodPost, Path: shopsPath, Token: key, Body: map[string]any{"id": testdb.ShopID(t)}})
	expect(t, r, http.StatusNotFound, "not_found")
	expectRateLimited(t, h.do(t, req{Method: http.MethodGet, Path: shopsPath + "/" + keyed, Token: key}), 100*time.Second)
}
