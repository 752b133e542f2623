package httpapi_test

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/testdb"
)

// slowRefill refills a bucket by one request every 100 s: within a test,
// a shop gets its burst and not one request more.
const slowRefill = 0.01

// startLimitedServer starts a server of the test's own whose shops each have
// limit as their budget, stopped at cleanup.
func startLimitedServer(t testing.TB, limit httpapi.RateLimit) *harness {
	t.Helper()
	srv, err := startServerLimited(testdb.Pool(t), checkout.Config{InventoryMode: checkoutd.ModeReserveTTL}, limit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
	})
	return srv
}

// expectRateLimited fails the test unless r is the contract's 429
// rate_limited: a body of exactly error, message and retryAfter (ms, at
// most maxWait), and a Retry-After header in whole seconds, rounded up from
// retryAfter. It returns retryAfter.
func expectRateLimited(t testing.TB, r *response, maxWait time.Duration) time.Duration {
	t.Helper()
	expect(t, r, http.StatusTooManyRequests, "rate_limited")
	m := r.Obj(t)
	assertKeys(t, m, "error", "message", "retryAfter")
	ms := num(t, m, "retryAfter")
	if ms < 1 || ms > maxWait.Milliseconds() {
		t.Errorf("retryAfter %d ms, want 1-%d", ms, maxWait.Milliseconds())
	}
	want := strconv.FormatInt(int64(math.Ceil(float64(ms)/1000)), 10)
	if got := r.Header.Get("Retry-After"); got != want {
		t.Errorf("Retry-After %q, want %q (retryAfter %d ms rounded up to seconds)", got, want, ms)
	}
	return time.Duration(ms) * time.Millisecond
}

func TestRateLimitBurstThen429(t *testing.T) {
	t.Parallel()
	h := startLimitedServer(t, httpapi.RateLimit{PerSecond: slowRefill, Burst: 3})
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)

	for range 3 {
		r := h.svc(t, http.MethodGet, shopPath(shop, "/stock/SKU-1"), nil)
		expect(t, r, http.StatusOK, "")
	}
	r := h.svc(t, http.MethodGet, shopPath(shop, "/stock/SKU-1"), nil)
	expectRateLimited(t, r, 100*time.Second)

	// A refused change changes nothing.
	before := h.snapshot(t, shop)
	r = h.svc(t, http.MethodPost, shopPath(shop, "/holds"), map[string]any{"items": []any{item("SKU-1", "", 1)}})
	expectRateLimited(t, r, 100*time.Second)
	h.assertUnchanged(t, shop, before)

	// The server's own routes spend no shop's budget.
	for _, path := range []string{"/healthz", "/readyz", "/api/inventory/health", "/metrics"} {
		expect(t, h.do(t, req{Method: http.MethodGet, Path: path}), http.StatusOK, "")
	}

	// Counted by route template: never a shop id, a SKU or a hold id.
	metrics := string(h.do(t, req{Method: http.MethodGet, Path: "/metrics"}).Raw)
	for route, want := range map[string]int{
		"/api/inventory/shops/{shopId}/stock/{sku}": 1,
		"/api/inventory/shops/{shopId}/holds":       1,
	} {
		line := regexp.MustCompile(`(?m)^checkoutd_rate_limited_total\{route="` + regexp.QuoteMeta(route) + `"\} (\d+)$`).FindStringSubmatch(metrics)
		if line == nil || line[1] != strconv.Itoa(want) {
			t.Errorf("checkoutd_rate_limited_total{route=%q} = %v, want %d", route, line, want)
		}
	}
	if strings.Contains(metrics, shop) {
		t.Errorf("/metrics names shop %s", shop)
	}
}

// TestRateLimitRefill waits as long as a 429 says and is let in again.
func TestRateLimitRefill(t *testing.T) {
	t.Parallel()
	h := startLimitedServer(t, httpapi.RateLimit{PerSecond: 20, Burst: 1})
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	path := shopPath(shop, "/stock/SKU-1")

	// With one request in the bucket and 50 ms to refill it, back-to-back
	// requests soon find it empty, however slow the machine.
	var wait time.Duration
	for i := 0; wait == 0; i++ {
		if i == 100 {
			t.Fatal("100 back-to-back requests were never refused")
		}
		if r := h.svc(t, http.MethodGet, path, nil); r.Status != http.StatusOK {
			wait = expectRateLimited(t, r, 50*time.Millisecond)
		}
	}
	time.Sleep(wait)
	expect(t, h.svc(t, http.MethodGet, path, nil), http.StatusOK, "")
}

// TestRateLimitShopsIndependent hammers shop A from 20 clients at once
// while shop B makes its requests: A gets exactly its burst, B everything.
func TestRateLimitShopsIndependent(t *testing.T) {
	t.Parallel()
	const burst = 5
	h := startLimitedServer(t, httpapi.RateLimit{PerSecond: slowRefill, Burst: burst})
	shopA, shopB := h.newShop(t), h.newShop(t)
	h.stock(t, shopA, "SKU-1", "", "", 5)
	h.stock(t, shopB, "SKU-1", "", "", 5)
	keyA, _ := h.shopKey(t, shopA)

	var (
		mu       sync.Mutex
		statusA  = map[int]int{}
		statusB  = map[int]int{}
		wg       sync.WaitGroup
		requestA = func() {
			defer wg.Done()
			for range 5 {
				r := h.do(t, req{Method: http.MethodGet, Path: shopPath(shopA, "/stock/SKU-1"), Token: keyA})
				mu.Lock()
				statusA[r.Status]++
				mu.Unlock()
			}
		}
		requestB = func() {
			defer wg.Done()
			r := h.svc(t, http.MethodGet, shopPath(shopB, "/stock/SKU-1"), nil)
			mu.Lock()
			statusB[r.Status]++
			mu.Unlock()
		}
	)
	for range 20 {
		wg.Add(1)
		go requestA()
	}
	for range burst {
		wg.Add(1)
		go requestB()
	}
	wg.Wait()

	if statusA[http.StatusOK] != burst || statusA[http.StatusTooManyRequests] != 100-burst {
		t.Errorf("shop A got %v, want %d × 200 and %d × 429", statusA, burst, 100-burst)
	}
	if statusB[http.StatusOK] != burst {
		t.Errorf("shop B got %v, want %d × 200", statusB, burst)
	}
}

// TestRateLimitServiceTokenSpendsShopBudget: the service token and a shop's
// key draw on one budget, the shop's, on every route naming it, in the path
// or in the body; other shops keep theirs.
func TestRateLimitServiceTokenSpendsShopBudget(t *testing.T) {
	t.Parallel()
	h := startLimitedServer(t, httpapi.RateLimit{PerSecond: slowRefill, Burst: 4})
	shop, other := h.newShop(t), h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	h.stock(t, other, "SKU-1", "", "", 5)
	key, _ := h.shopKey(t, shop)
	validate := map[string]any{"shopId": shop, "items": []any{item("SKU-1", "", 1)}}

	expect(t, h.do(t, req{Method: http.MethodGet, Path: shopPath(shop, "/stock/SKU-1"), Token: key}), http.StatusOK, "")
	expect(t, h.do(t, req{Method: http.MethodPost, Path: "/api/inventory/validate", Token: key, Body: validate}), http.StatusOK, "")
	expect(t, h.svc(t, http.MethodGet, shopPath(shop, "/stock/SKU-1"), nil), http.StatusOK, "")
	expect(t, h.svc(t, http.MethodPost, "/api/inventory/validate", validate), http.StatusOK, "")

	for _, r := range []*response{
		h.svc(t, http.MethodGet, shopPath(shop, "/movements"), nil),
		h.svc(t, http.MethodPost, "/api/inventory/validate", validate),
		h.createCheckout(t, checkoutBody(shop, checkoutItem("SKU-1", "", 1))),
		h.do(t, req{Method: http.MethodGet, Path: shopPath(shop, "/alerts"), Token: key}),
		h.do(t, req{Method: http.MethodPost, Path: "/api/inventory/validate", Token: key, Body: validate}),
	} {
		expectRateLimited(t, r, 100*time.Second)
	}
	h.sessions.assertCalls(t, shop, 0)

	// The service token has no budget of its own to run out of.
	expect(t, h.svc(t, http.MethodGet, shopPath(other, "/stock/SKU-1"), nil), http.StatusOK, "")
	r := h.createCheckout(t, checkoutBody(other, checkoutItem("SKU-1", "", 1)))
	expect(t, r, http.StatusCreated, "")
}

// TestRateLimitShopKeyNamingOtherShops: a key naming other shops, real or
// not, gets 404 and spends its own shop's budget, never theirs, so it can
// neither drain another shop's budget nor make a bucket per id it names.
func TestRateLimitShopKeyNamingOtherShops(t *testing.T) {
	t.Parallel()
	const burst = 5
	h := startLimitedServer(t, httpapi.RateLimit{PerSecond: slowRefill, Burst: burst})
	shop, victim := h.newShop(t), h.newShop(t)
	h.stock(t, victim, "SKU-1", "", "", 5)
	key, _ := h.shopKey(t, shop)

	for i := range burst {
		named := victim
		if i%2 == 1 {
			named = fmt.Sprintf("%s-nope-%d", victim, i)
		}
		r := h.do(t, req{Method: http.MethodGet, Path: shopPath(named, "/stock/SKU-1"), Token: key})
		expect(t, r, http.StatusNotFound, "not_found")
	}
	// Naming other shops in the body is the same.
	r := h.do(t, req{Method: http.MethodPost, Path: "/api/inventory/validate", Token: key,
		Body: map[string]any{"shopId": victim, "items": []any{item("SKU-1", "", 1)}}})
	expectRateLimited(t, r, 100*time.Second)
	r = h.do(t, req{Method: http.MethodGet, Path: shopPath(victim, "/stock/SKU-1"), Token: key})
	expectRateLimited(t, r, 100*time.Second)

	for range burst {
		expect(t, h.svc(t, http.MethodGet, shopPath(victim, "/stock/SKU-1"), nil), http.StatusOK, "")
	}
}

// TestRateLimitSparesWebhooks: Stripe's deliveries about a shop that has
// spent its budget are still applied.
func TestRateLimitSparesWebhooks(t *testing.T) {
	t.Parallel()
	h := startLimitedServer(t, httpapi.RateLimit{PerSecond: slowRefill, Burst: 1})
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)

	c := h.newWebhookCheckout(t, shop, "SKU-1", 1)
	expectRateLimited(t, h.svc(t, http.MethodGet, shopPath(shop, "/stock/SKU-1"), nil), 100*time.Second)

	payload := paidEvent("evt_"+shop, c)
	r := h.postWebhook(t, payload, stripeSignature(payload, "whsec_new", time.Now()), false)
	expectWebhook(t, r, "committed")
}

// TestOpenAPIDocumentsRateLimited keeps docs/openapi.yaml saying that every
// authenticated route can answer 429 rate_limited with Retry-After.
func TestOpenAPIDocumentsRateLimited(t *testing.T) {
	spec := loadOpenAPI(t)
	ops := spec.operations(t)
	for key := range authenticatedRoutes(t) {
		op, ok := ops[key]
		if !ok {
			continue // TestOpenAPIMatchesRoutes reports it.
		}
		responses, _ := yamlMap(op.op["responses"])
		resp, ok := spec.deref(responses["429"])
		if !ok {
			t.Errorf("%s documents no 429 response", key)
			continue
		}
		if headers, _ := yamlMap(resp["headers"]); headers["Retry-After"] == nil {
			t.Errorf("%s: its 429 has no Retry-After header", key)
		}
		if !strings.Contains(fmt.Sprint(resp["content"]), "#/components/schemas/RateLimitedError") {
			t.Errorf("%s: its 429 does not include RateLimitedError", key)
		}
	}
}
