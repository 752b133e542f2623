package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
)

// A shop's paged lists refuse what every list refuses, the same way.
func TestShopListsRefuse(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	for _, list := range []string{"/alerts", "/oversold"} {
		t.Run(list[1:], func(t *testing.T) {
			t.Parallel()
			path := shopPath(shop, list)
			expect(t, h.do(t, req{Method: http.MethodGet, Path: path}), http.StatusUnauthorized, "unauthorized")
			expect(t, h.do(t, req{Method: http.MethodGet, Path: path, Token: "wrong"}), http.StatusUnauthorized, "unauthorized")
			expect(t, h.do(t, req{Method: http.MethodPost, Path: path, Token: serviceToken, Body: map[string]any{}}), http.StatusMethodNotAllowed, "")
			expect(t, h.svc(t, http.MethodGet, shopPath(testdb.ShopID(t), list), nil), http.StatusNotFound, "not_found")

			for query, field := range map[string]string{
				"limit=0":     "limit",
				"limit=-3":    "limit",
				"limit=ten":   "limit",
				"limit=501":   "limit",
				"cursor=%21":  "cursor",
				"cursor=abcd": "cursor",
			} {
				expectInvalid(t, h.svc(t, http.MethodGet, path+"?"+query, nil), field)
			}
			expectInvalid(t, h.svc(t, http.MethodGet, shopPath("Shop1", list), nil), "shopId")
		})
	}
}
