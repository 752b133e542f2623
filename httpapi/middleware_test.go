package httpapi_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 1)

	for _, tc := range []struct {
		name string
		r    req
	}{
		{"ok", req{Method: http.MethodGet, Path: shopPath(shop, "/stock/SKU-1"), Token: serviceToken}},
		{"error", req{Method: http.MethodGet, Path: shopPath(shop, "/stock/NOPE"), Token: serviceToken}},
		{"unauthorized", req{Method: http.MethodGet, Path: shopPath(shop, "/stock/SKU-1")}},
		{"no route", req{Method: http.MethodGet, Path: "/api/inventory/nope"}},
		{"health", req{Method: http.MethodGet, Path: "/api/inventory/health"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.r
			r.Header = map[string]string{"X-Request-Id": "edge-req.42:abc_DEF"}
			if got := h.do(t, r).Header.Get("X-Request-Id"); got != "edge-req.42:abc_DEF" {
				t.Errorf("sent id answered as %q", got)
			}

			generated := regexp.MustCompile(`^[0-9a-f]{24}$`)
			a := h.do(t, tc.r).Header.Get("X-Request-Id")
			b := h.do(t, tc.r).Header.Get("X-Request-Id")
			if !generated.MatchString(a) || !generated.MatchString(b) || a == b {
				t.Errorf("generated ids %q and %q", a, b)
			}

			// An id that could inject into logs or headers is replaced.
			for _, bad := range []string{"has space", strings.Repeat("x", 129), "a\"b", "<script>"} {
				r.Header = map[string]string{"X-Request-Id": bad}
				if got := h.do(t, r).Header.Get("X-Request-Id"); !generated.MatchString(got) {
					t.Errorf("id %q answered as %q", bad, got)
				}
			}
		})
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)

	for _, tc := range []struct {
		method, path string
		token        string
	}{
		{http.MethodGet, "/nope", ""},
		{http.MethodGet, "/api/inventory/nope", serviceToken},
		{http.MethodGet, "/api/inventory/nope", ""},
		{http.MethodGet, shopPath(shop, "/nope"), serviceToken},
		{http.MethodGet, shopPath(shop, "/holds/a/b/c"), serviceToken},
	} {
		r := h.do(t, req{Method: tc.method, Path: tc.path, Token: tc.token})
		if r.Status != http.StatusNotFound {
			t.Errorf("%s %s: %d %s, want 404", tc.method, tc.path, r.Status, r.Raw)
			continue
		}
		expect(t, r, http.StatusNotFound, "not_found")
		assertKeys(t, r.Obj(t), "error", "message")
	}

	for _, tc := range []struct {
		method, path string
		token        string
	}{
		{http.MethodPost, "/metrics", ""},
		{http.MethodDelete, "/healthz", ""},
		{http.MethodGet, "/api/inventory/validate", serviceToken},
		{http.MethodDelete, shopPath(shop, "/holds/hold_x"), serviceToken},
		{http.MethodGet, shopPath(shop, "/holds"), serviceToken},
		{http.MethodPost, shopPath(shop, "/stock/SKU-1"), serviceToken},
		{http.MethodGet, shopPath(shop, "/holds/hold_x/commit"), ""},
		{http.MethodPost, "/api/inventory/health", ""},
		{http.MethodGet, "/api/inventory/shops", serviceToken},
	} {
		r := h.do(t, req{Method: tc.method, Path: tc.path, Token: tc.token})
		if r.Status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s, want 405", tc.method, tc.path, r.Status, r.Raw)
			continue
		}
		expect(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
		assertKeys(t, r.Obj(t), "error", "message")
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "MetricSKU-1", "", "", 1)
	expect(t, h.svc(t, http.MethodGet, shopPath(shop, "/stock/MetricSKU-1"), nil), http.StatusOK, "")
	expect(t, h.svc(t, http.MethodGet, shopPath(shop, "/stock/MetricSKU-2"), nil), http.StatusNotFound, "not_found")
	expect(t, h.svc(t, http.MethodGet, "/api/inventory/metric-nope-"+shop, nil), http.StatusNotFound, "not_found")

	resp, err := h.client.Get(h.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		`checkoutd_http_requests_total{method="GET",route="/api/inventory/shops/{shopId}/stock/{sku}",status="200"}`,
		`checkoutd_http_requests_total{method="GET",route="/api/inventory/shops/{shopId}/stock/{sku}",status="404"}`,
		`checkoutd_http_requests_total{method="GET",route="unmatched",status="404"}`,
		`checkoutd_http_request_duration_seconds_bucket{method="GET",route="/api/inventory/shops/{shopId}/stock/{sku}",`,
		// The hold counters the commit and expiry rates are derived from,
		// and the pool's statistics.
		"\ncheckoutd_holds_created_total ",
		"\ncheckoutd_holds_committed_total ",
		"\ncheckoutd_holds_released_total ",
		"\ncheckoutd_holds_expired_total ",
		"\ncheckoutd_insufficient_stock_rejections_total ",
		"\ncheckoutd_db_pool_acquired_connections ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	// Labels carry route templates, never raw paths.
	for _, raw := range []string{shop, "MetricSKU"} {
		if strings.Contains(text, raw) {
			t.Errorf("/metrics contains the raw path element %q", raw)
		}
	}
}
