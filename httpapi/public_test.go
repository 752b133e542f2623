package httpapi_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/inventory"
)

// publicItemKeys are every key a public item has: nothing about on-hand,
// reserved, safety stock, holds or locations.
var publicItemKeys = []string{"sku", "variantKey", "available", "lowStock", "backorderAllowed"}

// getPublic fetches path with the headers and, for a 200, checks that the
// body is exactly {"items": [public item...]}.
func getPublic(t *testing.T, s *publicServer, path string, header map[string]string) *response {
	t.Helper()
	r := s.do(t, req{Method: http.MethodGet, Path: path, Header: header})
	if r.Status == http.StatusOK {
		body := r.Obj(t)
		assertKeys(t, body, "items")
		for _, it := range objs(t, body, "items") {
			assertKeys(t, it, publicItemKeys...)
		}
	}
	return r
}

func TestPublicAvailability(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.location(t, shop, "berlin", 5)
	s.stock(t, shop, "TEE", "size:M", "", 3)
	s.stock(t, shop, "TEE", "size:M", "berlin", 2)
	s.stock(t, shop, "TEE", "size:S", "", 40)
	s.stock(t, shop, "CAP", "", "", 0)
	limit := int64(5)
	if _, err := s.ledger.UpdateSettings(context.Background(), shop, "CAP", "", inventory.StockSettings{BackorderLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	s.stock(t, shop, "OTHER", "", "", 9)

	r := getPublic(t, s, availabilityPath(shop, "TEE", "CAP", "NEVER-STOCKED", "TEE"), nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"items": []map[string]any{
		{"sku": "CAP", "variantKey": "", "available": 0, "lowStock": true, "backorderAllowed": true},
		{"sku": "TEE", "variantKey": "size:M", "available": 5, "lowStock": true, "backorderAllowed": false},
		{"sku": "TEE", "variantKey": "size:S", "available": 40, "lowStock": false, "backorderAllowed": false},
	}})
	if got := r.Header.Get("Cache-Control"); got != "public, max-age=1" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	etag := r.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
		t.Errorf("ETag %q is not a strong entity tag", etag)
	}

	// A hold placed through the API shows within the stream's latency,
	// whatever the answer cached before.
	s.hold(t, shop, map[string]any{"items": []any{item("TEE", "size:M", 2)}})
	want := float64(3)
	waitFor(t, time.Second, func() bool {
		r = getPublic(t, s, availabilityPath(shop, "TEE"), nil)
		return r.Status == http.StatusOK && objs(t, r.Obj(t), "items")[0]["available"] == want
	})
	if r.Header.Get("ETag") == etag {
		t.Errorf("the ETag did not change with the stock")
	}

	// Safety stock and thresholds change what is shown, and are never shown.
	safety, threshold := int64(1), int64(2)
	if _, err := s.ledger.UpdateSettings(context.Background(), shop, "TEE", "size:M", inventory.StockSettings{SafetyStock: &safety, LowStockThreshold: &threshold}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool {
		r = getPublic(t, s, availabilityPath(shop, "TEE"), nil)
		it := objs(t, r.Obj(t), "items")[0]
		return it["available"] == float64(2) && it["lowStock"] == true
	})
	raw := string(r.Raw)
	for _, private := range []string{"onHand", "reserved", "safetyStock", "hold", "location", "berlin"} {
		if strings.Contains(raw, private) {
			t.Errorf("the public body mentions %q: %s", private, raw)
		}
	}

	// HEAD: the same headers, no body.
	head := s.do(t, req{Method: http.MethodHead, Path: availabilityPath(shop, "TEE")})
	expect(t, head, http.StatusOK, "")
	if len(head.Raw) != 0 || head.Header.Get("ETag") != r.Header.Get("ETag") || head.Header.Get("Cache-Control") != "public, max-age=1" {
		t.Errorf("HEAD: body %q, headers %v; GET had ETag %s", head.Raw, head.Header, r.Header.Get("ETag"))
	}

	// A shop none of whose SKUs are known answers an empty list.
	r = getPublic(t, s, availabilityPath(shop, "NOPE"), nil)
	expect(t, r, http.StatusOK, "")
	assertJSON(t, r, map[string]any{"items": []any{}})
}

// An unknown shop, a shop that has not turned publicAvailability on and an
// id no shop can have answer alike: the same status, bytes and headers.
func TestPublicNotFoundIsIndistinguishable(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	private := s.newShop(t)
	s.stock(t, private, "TEE", "", "", 5)
	public := s.publicShop(t)
	s.stock(t, public, "TEE", "", "", 5)

	header := map[string]string{"Origin": testOrigin}
	var answers []*response
	for _, shop := range []string{private, "no-such-shop-" + private[len(private)-6:], "Not_A_Shop"} {
		for _, path := range []string{availabilityPath(shop, "TEE"), streamPath(shop, "TEE")} {
			r := s.do(t, req{Method: http.MethodGet, Path: path, Header: header})
			expect(t, r, http.StatusNotFound, "not_found")
			answers = append(answers, r)
		}
	}
	first := answers[0]
	for _, r := range answers[1:] {
		if string(r.Raw) != string(first.Raw) {
			t.Errorf("bodies differ:\n%s\n%s", first.Raw, r.Raw)
		}
		if a, b := headerShape(first.Header), headerShape(r.Header); a != b {
			t.Errorf("headers differ:\n%s\n%s", a, b)
		}
	}

	// Turning it on and off through the API takes effect at once here.
	on := s.svc(t, http.MethodPatch, shopPath(private, ""), map[string]any{"publicAvailability": true})
	expect(t, on, http.StatusOK, "")
	expect(t, getPublic(t, s, availabilityPath(private, "TEE"), nil), http.StatusOK, "")
	off := s.svc(t, http.MethodPatch, shopPath(private, ""), map[string]any{"publicAvailability": false})
	expect(t, off, http.StatusOK, "")
	r := getPublic(t, s, availabilityPath(private, "TEE"), header)
	expect(t, r, http.StatusNotFound, "not_found")
	if string(r.Raw) != string(first.Raw) || headerShape(r.Header) != headerShape(first.Header) {
		t.Errorf("a shop turned private answers\n%s %s\nnot\n%s %s", r.Raw, headerShape(r.Header), first.Raw, headerShape(first.Header))
	}
	expect(t, getPublic(t, s, availabilityPath(public, "TEE"), nil), http.StatusOK, "")
}

// headerShape is a response's headers without the ones that differ per
// request (the request id, the date).
func headerShape(h http.Header) string {
	var b strings.Builder
	c := h.Clone()
	c.Del("X-Request-Id")
	c.Del("Date")
	_ = c.Write(&b)
	return b.String()
}

func TestPublicAvailabilityValidation(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	many := make([]string, 51)
	for i := range many {
		many[i] = "S" + strings.Repeat("x", i%5)
	}
	for _, base := range []string{"/api/public/shops/" + shop + "/availability", "/api/public/shops/" + shop + "/availability/stream"} {
		for _, query := range []string{"", "?sku=", "?sku=has%20space", "?sku=A&sku=" + strings.Repeat("x", 65), "?sku=" + strings.Join(many, "&sku="), "?other=1"} {
			r := s.do(t, req{Method: http.MethodGet, Path: base + query})
			expectInvalid(t, r, "sku")
		}
		r := s.do(t, req{Method: http.MethodGet, Path: base + "?sku=A&sku=%zz"})
		expectInvalid(t, r, "query")
	}
	// 50 SKUs are fine.
	expect(t, getPublic(t, s, availabilityPath(shop, many[:50]...), nil), http.StatusOK, "")
}

func TestPublicAvailabilityETag(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 5)
	path := availabilityPath(shop, "TEE")
	first := getPublic(t, s, path, nil)
	expect(t, first, http.StatusOK, "")
	etag := first.Header.Get("ETag")

	for _, inm := range []string{etag, "W/" + etag, `"nope", ` + etag, `"a",W/` + etag + ` , "b"`, "*"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			r := s.do(t, req{Method: method, Path: path, Header: map[string]string{"If-None-Match": inm}})
			if r.Status != http.StatusNotModified || len(r.Raw) != 0 {
				t.Errorf("%s If-None-Match %s: %d %q, want 304 without a body", method, inm, r.Status, r.Raw)
			}
			if r.Header.Get("ETag") != etag || r.Header.Get("Cache-Control") != "public, max-age=1" {
				t.Errorf("%s If-None-Match %s: 304 headers %v", method, inm, r.Header)
			}
		}
	}
	for _, inm := range []string{`"nope"`, `W/"nope"`, strings.Trim(etag, `"`), `"unterminated`, "garbage"} {
		r := s.do(t, req{Method: http.MethodGet, Path: path, Header: map[string]string{"If-None-Match": inm}})
		if r.Status != http.StatusOK || string(r.Raw) != string(first.Raw) {
			t.Errorf("If-None-Match %s: %d %s, want 200 and the body", inm, r.Status, r.Raw)
		}
	}

	// After a change, the old tag no longer matches.
	s.stock(t, shop, "TEE", "", "", 4)
	waitFor(t, time.Second, func() bool {
		r := s.do(t, req{Method: http.MethodGet, Path: path, Header: map[string]string{"If-None-Match": etag}})
		return r.Status == http.StatusOK && r.Header.Get("ETag") != etag
	})
}

func TestPublicCORS(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{public: httpapi.PublicConfig{CORSOrigins: []string{testOrigin, "http://localhost:3000"}}})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 5)

	for _, path := range []string{availabilityPath(shop, "TEE"), streamPath(shop, "TEE")} {
		// A preflight from an allowed origin.
		r := s.do(t, req{Method: http.MethodOptions, Path: path, Header: map[string]string{
			"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "last-event-id",
		}})
		if r.Status != http.StatusNoContent || len(r.Raw) != 0 {
			t.Fatalf("OPTIONS %s: %d %s", path, r.Status, r.Raw)
		}
		want := map[string]string{
			"Access-Control-Allow-Origin":  "http://localhost:3000",
			"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
			"Access-Control-Allow-Headers": "Last-Event-ID, If-None-Match, Cache-Control",
			"Access-Control-Max-Age":       "7200",
			"Vary":                         "Origin",
		}
		for k, v := range want {
			if got := r.Header.Get(k); got != v {
				t.Errorf("OPTIONS %s: %s %q, want %q", path, k, got, v)
			}
		}
		if r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("OPTIONS %s allows credentials", path)
		}
		// From an origin not listed: 204, without the allowance.
		r = s.do(t, req{Method: http.MethodOptions, Path: path, Header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}})
		if r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("OPTIONS %s from another origin: %d %v", path, r.Status, r.Header)
		}
	}

	// Answers, errors included, carry the allowance for a listed origin.
	ok := getPublic(t, s, availabilityPath(shop, "TEE"), map[string]string{"Origin": testOrigin})
	notFound := s.do(t, req{Method: http.MethodGet, Path: availabilityPath("no-such-shop", "TEE"), Header: map[string]string{"Origin": testOrigin}})
	for _, r := range []*response{ok, notFound} {
		if r.Header.Get("Access-Control-Allow-Origin") != testOrigin || r.Header.Get("Vary") != "Origin" ||
			!strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "ETag") {
			t.Errorf("%d: CORS headers %v", r.Status, r.Header)
		}
	}
	other := getPublic(t, s, availabilityPath(shop, "TEE"), map[string]string{"Origin": "https://evil.example"})
	if other.Header.Get("Access-Control-Allow-Origin") != "" || other.Header.Get("Vary") != "Origin" {
		t.Errorf("another origin: CORS headers %v", other.Header)
	}
	stream := s.openStream(t, streamPath(shop, "TEE"), map[string]string{"Origin": testOrigin})
	if stream.resp.Header.Get("Access-Control-Allow-Origin") != testOrigin {
		t.Errorf("stream: CORS headers %v", stream.resp.Header)
	}

	// "*" allows any origin, and needs no Vary.
	any := startPublic(t, publicOptions{public: httpapi.PublicConfig{CORSOrigins: []string{"*"}}})
	anyShop := any.publicShop(t)
	r := getPublic(t, any, availabilityPath(anyShop, "TEE"), map[string]string{"Origin": "https://anything.example"})
	if r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Vary") != "" {
		t.Errorf("*: CORS headers %v", r.Header)
	}
}

// Only GET, HEAD and OPTIONS are allowed on the public routes.
func TestPublicMethods(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	for _, path := range []string{availabilityPath(shop, "TEE"), streamPath(shop, "TEE")} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r := s.do(t, req{Method: method, Path: path, Body: map[string]any{}})
			expect(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
		}
	}
}

func TestPublicRateLimit(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{public: httpapi.PublicConfig{RateLimit: httpapi.RateLimit{PerSecond: 0.5, Burst: 2}}})
	shop := s.publicShop(t)
	path := availabilityPath(shop, "TEE")
	for range 2 {
		expect(t, getPublic(t, s, path, nil), http.StatusOK, "")
	}
	// The peer is the client: X-Forwarded-For from an untrusted peer is
	// not believed, and does not buy a fresh budget.
	r := s.do(t, req{Method: http.MethodGet, Path: path, Header: map[string]string{"X-Forwarded-For": "203.0.113.9", "Origin": testOrigin}})
	expect(t, r, http.StatusTooManyRequests, "rate_limited")
	assertKeys(t, r.Obj(t), "error", "message", "retryAfter")
	if ms := num(t, r.Obj(t), "retryAfter"); ms < 1 || ms > 2000 {
		t.Errorf("retryAfter %d ms", ms)
	}
	if r.Header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q, want 2", r.Header.Get("Retry-After"))
	}
	if r.Header.Get("Access-Control-Allow-Origin") != testOrigin || r.Header.Get("Cache-Control") == "public, max-age=1" {
		t.Errorf("429 headers %v", r.Header)
	}
	// Unknown shops spend the budget too, and preflights do not.
	expect(t, s.do(t, req{Method: http.MethodGet, Path: streamPath("nope", "TEE")}), http.StatusTooManyRequests, "rate_limited")
	if r := s.do(t, req{Method: http.MethodOptions, Path: path, Header: map[string]string{"Origin": testOrigin}}); r.Status != http.StatusNoContent {
		t.Errorf("a preflight past the budget: %d", r.Status)
	}

	// Behind a trusted proxy, each client in X-Forwarded-For has its own.
	proxied := startPublic(t, publicOptions{public: httpapi.PublicConfig{
		RateLimit:      httpapi.RateLimit{PerSecond: 0.5, Burst: 1},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}})
	pshop := proxied.publicShop(t)
	ppath := availabilityPath(pshop, "TEE")
	for _, client := range []string{"203.0.113.1", "203.0.113.2", "198.51.100.7, 203.0.113.3"} {
		r := proxied.do(t, req{Method: http.MethodGet, Path: ppath, Header: map[string]string{"X-Forwarded-For": client}})
		expect(t, r, http.StatusOK, "")
	}
	// The client is the rightmost untrusted address: what it wrote further
	// left buys nothing.
	r = proxied.do(t, req{Method: http.MethodGet, Path: ppath, Header: map[string]string{"X-Forwarded-For": "192.0.2.99, 203.0.113.1"}})
	expect(t, r, http.StatusTooManyRequests, "rate_limited")
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not so within %s", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Reads racing writes never stay behind: once the writes stop, every read
// shows the last state within the stream's latency, through the cache.
func TestPublicReadsCatchUpWithWrites(t *testing.T) {
	t.Parallel()
	s := startPublic(t, publicOptions{})
	shop := s.publicShop(t)
	s.stock(t, shop, "TEE", "", "", 1000)
	s.stock(t, shop, "MUG", "", "", 1000)
	paths := []string{availabilityPath(shop, "TEE"), availabilityPath(shop, "TEE", "MUG"), availabilityPath(shop, "MUG", "TEE")}

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for i := range 8 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				expect(t, getPublic(t, s, paths[i%len(paths)], nil), http.StatusOK, "")
			}
		})
	}
	for range 40 {
		s.hold(t, shop, map[string]any{"items": []any{item("TEE", "", 1), item("MUG", "", 2)}})
	}
	close(stop)
	readers.Wait()
	for _, path := range paths {
		waitFor(t, time.Second, func() bool {
			for _, it := range objs(t, getPublic(t, s, path, nil).Obj(t), "items") {
				want := map[string]float64{"TEE": 960, "MUG": 920}[it["sku"].(string)]
				if it["available"] != want {
					return false
				}
			}
			return true
		})
	}
}
