package httpapi_test

import (
	"net/http"
	"testing"
)

// A wrong method on any of the API's routes answers 405 method_not_allowed
// with an Allow header naming the route's methods, as API.md promises.
func TestMethodNotAllowedAllow(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	for _, tc := range []struct {
		method, path, token, allow string
	}{
		{http.MethodPost, "/healthz", "", "GET"},
		{http.MethodDelete, "/api/inventory/health", "", "GET"},
		{http.MethodPut, "/metrics", "", "GET"},
		{http.MethodGet, "/api/inventory/validate", serviceToken, "POST"},
		{http.MethodGet, "/api/checkout/sessions", serviceToken, "POST"},
		{http.MethodGet, "/webhooks/stripe", "", "POST"},
		{http.MethodPost, shopPath(shop, "/stock/SKU-1"), serviceToken, "GET"},
		{http.MethodGet, shopPath(shop, "/stock/SKU-1/settings"), serviceToken, "PUT"},
		{http.MethodGet, shopPath(shop, "/holds"), serviceToken, "POST"},
		{http.MethodDelete, shopPath(shop, "/holds/hold_x"), serviceToken, "GET"},
		{http.MethodGet, shopPath(shop, "/holds/hold_x/extend"), "", "POST"},
		{http.MethodPost, shopPath(shop, "/movements"), serviceToken, "GET"},
		{http.MethodGet, shopPath(shop, "/adjustments"), serviceToken, "POST"},
	} {
		r := h.do(t, req{Method: tc.method, Path: tc.path, Token: tc.token})
		if r.Status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s, want 405", tc.method, tc.path, r.Status, r.Raw)
			continue
		}
		if got := r.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}
