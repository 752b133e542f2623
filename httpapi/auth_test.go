package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

func TestAuthMissingOrWrongToken(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	path := shopPath(shop, "/stock/SKU-1")

	for _, tc := range []struct {
		name          string
		authorization string
	}{
		{"missing", ""},
		{"empty bearer", "Bearer "},
		{"wrong token", "Bearer not-the-token"},
		{"service token prefix", "Bearer " + serviceToken[:len(serviceToken)-1]},
		{"service token longer", "Bearer " + serviceToken + "x"},
		{"not bearer", "Basic " + serviceToken},
		{"token without scheme", serviceToken},
		{"malformed shop key", "Bearer ckd_" + shop},
		{"unknown shop key", "Bearer ckd_" + shop + ".abcdef012345.c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hdr := map[string]string{}
			if tc.authorization != "" {
				hdr["Authorization"] = tc.authorization
			}
			r := h.do(t, req{Method: http.MethodGet, Path: path, Header: hdr})
			expect(t, r, http.StatusUnauthorized, "unauthorized")
			assertKeys(t, r.Obj(t), "error", "message")
		})
	}

	t.Run("holds too", func(t *testing.T) {
		t.Parallel()
		before := h.snapshot(t, shop)
		r := h.do(t, req{Method: http.MethodPost, Path: shopPath(shop, "/holds"), Token: "nope",
			Body: map[string]any{"items": []any{item("SKU-1", "", 1)}}})
		expect(t, r, http.StatusUnauthorized, "unauthorized")
		h.assertUnchanged(t, shop, before)
	})
}

func TestAuthShopKey(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	other := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	h.stock(t, other, "SKU-1", "", "", 5)
	key, _ := h.shopKey(t, shop)

	t.Run("own shop", func(t *testing.T) {
		t.Parallel()
		r := h.do(t, req{Method: http.MethodGet, Path: shopPath(shop, "/stock/SKU-1"), Token: key})
		expect(t, r, http.StatusOK, "")
		if got := num(t, r.Obj(t), "onHand"); got != 5 {
			t.Errorf("onHand %d, want 5", got)
		}
		// 4, not 5: the parallel subtest below may hold one unit meanwhile.
		r = h.do(t, req{Method: http.MethodPost, Path: "/api/inventory/validate", Token: key,
			Body: map[string]any{"shopId": shop, "items": []any{item("SKU-1", "", 4)}}})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"ok": true})
	})

	t.Run("own shop holds", func(t *testing.T) {
		t.Parallel()
		r := h.do(t, req{Method: http.MethodPost, Path: shopPath(shop, "/holds"), Token: key,
			Body: map[string]any{"items": []any{item("SKU-1", "", 1)}}})
		expect(t, r, http.StatusCreated, "")
		id := str(t, r.Obj(t), "id")
		r = h.do(t, req{Method: http.MethodPost, Path: shopPath(shop, "/holds/"+id+"/release"), Token: key})
		expect(t, r, http.StatusOK, "")
	})

	// A shop key naming another shop, existing or not, must not be able to
	// tell which: every route answers exactly as for an unknown shop.
	t.Run("other shop is unknown", func(t *testing.T) {
		t.Parallel()
		unknown := testdb.ShopID(t)
		before := h.snapshot(t, other)
		hold := map[string]any{"items": []any{item("SKU-1", "", 1)}}
		adjust := map[string]any{"changes": []any{map[string]any{"sku": "SKU-1", "op": "set", "quantity": 50}}}
		for _, rt := range []struct {
			method, rest string
			body         any
		}{
			{http.MethodGet, "/stock", nil},
			{http.MethodGet, "/stock/SKU-1", nil},
			{http.MethodPut, "/stock/SKU-1/settings", map[string]any{"safetyStock": 1}},
			{http.MethodPost, "/adjustments", adjust},
			{http.MethodPost, "/receipts", map[string]any{"purchaseOrderId": "PO-1", "items": []any{item("SKU-1", "", 1)}}},
			{http.MethodPost, "/transfers", map[string]any{"fromLocationId": "default", "toLocationId": "x", "items": []any{item("SKU-1", "", 1)}}},
			{http.MethodGet, "/movements", nil},
			{http.MethodPost, "/holds", hold},
			{http.MethodGet, "/holds/hold_x", nil},
			{http.MethodPost, "/holds/hold_x/commit", nil},
			{http.MethodPost, "/holds/hold_x/release", nil},
			{http.MethodPost, "/holds/hold_x/extend", map[string]any{"ttlSeconds": 60}},
		} {
			existing := h.do(t, req{Method: rt.method, Path: shopPath(other, rt.rest), Token: key, Body: rt.body})
			missing := h.do(t, req{Method: rt.method, Path: shopPath(unknown, rt.rest), Token: key, Body: rt.body})
			expect(t, existing, http.StatusNotFound, "not_found")
			assertKeys(t, existing.Obj(t), "error", "message")
			if existing.Status != missing.Status || !bytes.Equal(existing.Raw, missing.Raw) {
				t.Errorf("%s %s: other shop answers %d %s, unknown shop %d %s",
					rt.method, rt.rest, existing.Status, existing.Raw, missing.Status, missing.Raw)
			}
		}
		// The service token on a shop that does not exist gets the same.
		for _, rest := range []string{"/stock", "/stock/SKU-1", "/movements"} {
			byKey := h.do(t, req{Method: http.MethodGet, Path: shopPath(other, rest), Token: key})
			bySvc := h.svc(t, http.MethodGet, shopPath(unknown, rest), nil)
			if byKey.Status != bySvc.Status || !bytes.Equal(byKey.Raw, bySvc.Raw) {
				t.Errorf("GET %s: other shop by key %d %s, unknown shop by service token %d %s",
					rest, byKey.Status, byKey.Raw, bySvc.Status, bySvc.Raw)
			}
		}
		r := h.svc(t, http.MethodPost, shopPath(unknown, "/holds"), hold)
		byKey := h.do(t, req{Method: http.MethodPost, Path: shopPath(other, "/holds"), Token: key, Body: hold})
		if r.Status != byKey.Status || !bytes.Equal(r.Raw, byKey.Raw) {
			t.Errorf("POST /holds: other shop by key %d %s, unknown shop by service token %d %s",
				byKey.Status, byKey.Raw, r.Status, r.Raw)
		}
		h.assertUnchanged(t, other, before)
	})

	t.Run("validate naming another shop", func(t *testing.T) {
		t.Parallel()
		body := func(s string) map[string]any {
			return map[string]any{"shopId": s, "items": []any{item("SKU-1", "", 1)}}
		}
		existing := h.do(t, req{Method: http.MethodPost, Path: "/api/inventory/validate", Token: key, Body: body(other)})
		expect(t, existing, http.StatusNotFound, "not_found")
		missing := h.do(t, req{Method: http.MethodPost, Path: "/api/inventory/validate", Token: key, Body: body(testdb.ShopID(t))})
		bySvc := h.svc(t, http.MethodPost, "/api/inventory/validate", body(testdb.ShopID(t)))
		for _, r := range []*response{missing, bySvc} {
			if r.Status != existing.Status || !bytes.Equal(r.Raw, existing.Raw) {
				t.Errorf("validate: other shop %d %s, unknown shop %d %s", existing.Status, existing.Raw, r.Status, r.Raw)
			}
		}
	})

	t.Run("service token acts on every shop", func(t *testing.T) {
		t.Parallel()
		for _, s := range []string{shop, other} {
			r := h.svc(t, http.MethodGet, shopPath(s, "/stock/SKU-1"), nil)
			expect(t, r, http.StatusOK, "")
		}
	})
}

func TestAuthRevokedKey(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	key, keyID := h.shopKey(t, shop)
	keep, _ := h.shopKey(t, shop)
	path := shopPath(shop, "/stock/SKU-1")

	r := h.do(t, req{Method: http.MethodGet, Path: path, Token: key})
	expect(t, r, http.StatusOK, "")

	if err := h.keys.Revoke(context.Background(), shop, keyID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	r = h.do(t, req{Method: http.MethodGet, Path: path, Token: key})
	expect(t, r, http.StatusUnauthorized, "unauthorized")
	assertKeys(t, r.Obj(t), "error", "message")

	// The shop's other keys keep working.
	r = h.do(t, req{Method: http.MethodGet, Path: path, Token: keep})
	expect(t, r, http.StatusOK, "")

	// A tampered secret is as bad as none.
	r = h.do(t, req{Method: http.MethodGet, Path: path, Token: keep + "x"})
	expect(t, r, http.StatusUnauthorized, "unauthorized")
}

func TestAuthHealthNeedsNoToken(t *testing.T) {
	t.Parallel()
	h := env(t)
	for _, path := range []string{"/api/inventory/health", "/healthz", "/readyz"} {
		r := h.do(t, req{Method: http.MethodGet, Path: path})
		expect(t, r, http.StatusOK, "")
		assertJSON(t, r, map[string]any{"status": "ok"})
	}
	// With a token (even a wrong one) it answers the same.
	r := h.do(t, req{Method: http.MethodGet, Path: "/api/inventory/health", Token: "wrong"})
	expect(t, r, http.StatusOK, "")
}
