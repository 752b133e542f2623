package httpapi_test

// The harness serves the real HTTP stack (httpserver + httpapi over a real
// ledger on the package's test database) on a random loopback port, once per
// test binary. Tests keep out of each other's way by working under shops of
// their own, so they all share the one server and run in parallel.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/httpapi"
	"github.com/checkoutd/checkoutd/internal/apikey"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/httpserver"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/webhooks"
)

const (
	// serviceToken is the server's INVENTORY_AUTHORITY_TOKEN.
	serviceToken = "svc-token"
	// defaultHoldTTL is the server's INVENTORY_HOLD_TTL_SECONDS.
	defaultHoldTTL = 20 * time.Minute
	// lowStockDefault is the server's LOW_STOCK_DEFAULT_THRESHOLD.
	lowStockDefault = 10
	// webhookSecrets is the server's STRIPE_WEBHOOK_SECRET: two, as during a
	// rotation.
	webhookSecrets = "whsec_old,whsec_new"
)

// harness is one running server and what it runs on.
type harness struct {
	url    string
	pool   *pgxpool.Pool
	ledger *inventory.Ledger
	keys   *apikey.Store
	// sessions is the fake Stripe behind the server's checkout route.
	sessions *fakeSessions
	client   *http.Client
	stop     func() error
}

var (
	sharedOnce sync.Once
	shared     *harness
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			slog.Error("stop test server", "error", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// serverLogger keeps the server quiet unless something fails: every 5xx is
// logged at error level with its cause.
func serverLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// env returns the shared server, starting it on first use.
func env(t testing.TB) *harness {
	t.Helper()
	pool := testdb.Pool(t)
	sharedOnce.Do(func() { shared, sharedErr = startServer(pool) })
	if sharedErr != nil {
		t.Fatalf("start server: %v", sharedErr)
	}
	return shared
}

// startServer wires a server the way cmd/checkoutd's serve does, on pool,
// and serves it on a random loopback port until stop is called. Its checkout
// route runs in reserve_ttl mode over a fake Stripe.
func startServer(pool *pgxpool.Pool) (*harness, error) {
	return startServerWith(pool, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
}

// startServerWith is startServer with the checkout route configured by
// checkoutCfg (HoldTTL defaults to defaultHoldTTL, Logger to the server's).
func startServerWith(pool *pgxpool.Pool, checkoutCfg checkout.Config) (*harness, error) {
	return startServerLimited(pool, checkoutCfg, httpapi.RateLimit{})
}

// startServerLimited is startServerWith with each shop's request budget set
// to limit (the shared server has none, so tests need not ration requests).
func startServerLimited(pool *pgxpool.Pool, checkoutCfg checkout.Config, limit httpapi.RateLimit) (*harness, error) {
	logger := serverLogger()
	registry := httpserver.NewRegistry()
	database.RegisterPoolMetrics(registry, pool)
	ledger := inventory.NewLedger(pool, inventory.Config{
		DefaultLowStockThreshold: lowStockDefault,
		Logger:                   logger,
		Metrics:                  inventory.NewMetrics(registry),
	})
	keys := apikey.NewStore(pool)
	srv := httpserver.New(httpserver.Options{Pool: pool, Registry: registry, Logger: logger})
	api := httpapi.New(ledger, keys, httpapi.Config{
		ServiceToken: serviceToken, DefaultHoldTTL: defaultHoldTTL, RateLimit: limit, Registerer: registry,
	}, logger)
	api.Mount(srv.Router())
	if checkoutCfg.HoldTTL == 0 {
		checkoutCfg.HoldTTL = defaultHoldTTL
	}
	if checkoutCfg.Logger == nil {
		checkoutCfg.Logger = logger
	}
	sessions := newFakeSessions()
	api.MountCheckout(srv.Router(), checkout.NewService(pool, ledger, sessions, checkoutCfg))
	api.MountWebhooks(srv.Router(), webhooks.NewVerifier(webhookSecrets, webhooks.DefaultTolerance),
		webhooks.NewProcessor(pool, checkout.NewSettler(ledger, checkout.SettleConfig{}), webhooks.Config{Logger: logger}))
	api.MountOversold(srv.Router(), pool)
	api.MountAlerts(srv.Router(), pool)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 1000
	transport.MaxIdleConnsPerHost = 1000
	client := &http.Client{
		Transport: transport,
		Timeout:   30 * time.Second,
		// Redirects are answers to check, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	stop := func() error {
		cancel()
		transport.CloseIdleConnections()
		select {
		case err := <-served:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("Serve did not return 10s after cancel")
		}
	}
	return &harness{url: "http://" + ln.Addr().String(), pool: pool, ledger: ledger, keys: keys, sessions: sessions, client: client, stop: stop}, nil
}

// newShop creates a shop of the test's own, with its default location.
func (h *harness) newShop(t testing.TB) string {
	t.Helper()
	id := testdb.ShopID(t)
	if _, err := h.ledger.CreateShop(context.Background(), id, "Test shop"); err != nil {
		t.Fatalf("create shop %s: %v", id, err)
	}
	return id
}

// stock sets on_hand of a line at a location ("" is the default location).
func (h *harness) stock(t testing.TB, shop, sku, variantKey, location string, onHand int64) {
	t.Helper()
	_, err := h.ledger.Adjust(context.Background(), shop, inventory.AdjustRequest{
		Reference: "fixture",
		Changes:   []inventory.StockChange{{SKU: sku, VariantKey: variantKey, LocationID: location, Op: inventory.OpSet, Quantity: onHand}},
	})
	if err != nil {
		t.Fatalf("stock %s %s[%s]@%s: %v", shop, sku, variantKey, location, err)
	}
}

// location adds a location to a shop.
func (h *harness) location(t testing.TB, shop, id string, priority int64) {
	t.Helper()
	if _, err := h.ledger.AddLocation(context.Background(), shop, id, id, priority); err != nil {
		t.Fatalf("add location %s to %s: %v", id, shop, err)
	}
}

// shopKey issues an API key for shop and returns the token and its key id.
func (h *harness) shopKey(t testing.TB, shop string) (token, keyID string) {
	t.Helper()
	token, key, err := h.keys.Create(context.Background(), shop, "test key")
	if err != nil {
		t.Fatalf("create API key for %s: %v", shop, err)
	}
	return token, key.ID
}

// snapshot captures everything a request could have changed in a shop: its
// stock lines and its whole movement ledger (every hold, commit, release and
// stock change writes movements).
func (h *harness) snapshot(t testing.TB, shop string) string {
	t.Helper()
	ctx := context.Background()
	stock, err := h.ledger.ListStock(ctx, shop, inventory.ListStockOptions{Limit: 500})
	if err != nil {
		t.Fatalf("snapshot stock: %v", err)
	}
	moves, err := h.ledger.Movements(ctx, shop, inventory.MovementsOptions{Limit: 500})
	if err != nil {
		t.Fatalf("snapshot movements: %v", err)
	}
	var holds int
	if err := h.pool.QueryRow(ctx, "SELECT count(*) FROM holds WHERE shop_id = $1", shop).Scan(&holds); err != nil {
		t.Fatalf("snapshot holds: %v", err)
	}
	b, err := json.Marshal(map[string]any{"stock": stock, "movements": moves, "holds": holds})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertUnchanged fails the test if the shop changed since before was taken.
func (h *harness) assertUnchanged(t testing.TB, shop, before string) {
	t.Helper()
	if after := h.snapshot(t, shop); after != before {
		t.Errorf("shop %s changed:\nbefore %s\nafter  %s", shop, before, after)
	}
}

// response is what a request got back.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	// JSON is the decoded body (nil if the body is not JSON). Numbers are
	// float64.
	JSON any
}

// Obj returns the body as a JSON object, failing the test if it is not one.
func (r *response) Obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.JSON.(map[string]any)
	if !ok {
		t.Fatalf("body is not a JSON object: %s", r.Raw)
	}
	return m
}

// req describes a request. Body is sent as is when it is a string or
// []byte, and marshalled as JSON otherwise; ContentType defaults to
// application/json when there is a body.
type req struct {
	Method      string
	Path        string
	Token       string
	Body        any
	ContentType string
	Header      map[string]string
	// ServerError says a 5xx is the answer the test expects (a failing
	// payment provider or database): do does not fail the test on it.
	ServerError bool
}

// do sends r and returns the answer (with Status 0 if there was none). It
// never stops the test, so goroutines may call it. Whatever the route, it checks what the
// contract promises of every response: a request id, and for an error a JSON
// body {"error", "message", ...} that gives nothing away. A 5xx fails the
// test unless r.ServerError says it is expected.
func (h *harness) do(t testing.TB, r req) *response {
	t.Helper()
	var body io.Reader
	hasBody := r.Body != nil
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Errorf("encode request body: %v", err)
			return &response{}
		}
		body = bytes.NewReader(enc)
	}
	hr, err := http.NewRequestWithContext(context.Background(), r.Method, h.url+r.Path, body)
	if err != nil {
		t.Errorf("new request %s %s: %v", r.Method, r.Path, err)
		return &response{}
	}
	if hasBody {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		if ct != "-" {
			hr.Header.Set("Content-Type", ct)
		}
	}
	if r.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	resp, err := h.client.Do(hr)
	if err != nil {
		t.Errorf("%s %s: %v", r.Method, r.Path, err)
		return &response{}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: read body: %v", r.Method, r.Path, err)
		return &response{}
	}
	out := &response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out.JSON); err != nil {
			out.JSON = nil
		}
	}

	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id in the answer", r.Method, r.Path)
	}
	if resp.StatusCode >= 500 && !r.ServerError {
		t.Errorf("%s %s: %d %s", r.Method, r.Path, resp.StatusCode, raw)
	}
	if resp.StatusCode >= 400 && r.Path != "/readyz" && r.Path != "/api/inventory/health" {
		checkErrorBody(t, r, out)
	}
	return out
}

// leaks are what no error body may contain: traces of the database or the
// runtime, and secrets.
var leaks = []string{"sql", "pgx", "postgres", "goroutine", "panic", ".go:", serviceToken}

func checkErrorBody(t testing.TB, r req, out *response) {
	t.Helper()
	what := r.Method + " " + r.Path
	if ct := out.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: %d with Content-Type %q", what, out.Status, ct)
	}
	m, ok := out.JSON.(map[string]any)
	if !ok {
		t.Errorf("%s: %d body is not a JSON object: %s", what, out.Status, out.Raw)
		return
	}
	if code, _ := m["error"].(string); code == "" {
		t.Errorf("%s: %d body has no error code: %s", what, out.Status, out.Raw)
	}
	if msg, _ := m["message"].(string); msg == "" {
		t.Errorf("%s: %d body has no message: %s", what, out.Status, out.Raw)
	}
	lower := strings.ToLower(string(out.Raw))
	for _, leak := range leaks {
		if strings.Contains(lower, strings.ToLower(leak)) {
			t.Errorf("%s: error body contains %q: %s", what, leak, out.Raw)
		}
	}
	if strings.HasPrefix(r.Token, "ckd_") && strings.Contains(string(out.Raw), r.Token) {
		t.Errorf("%s: error body contains the API key: %s", what, out.Raw)
	}
}

// svc sends a request with the service token.
func (h *harness) svc(t testing.TB, method, path string, body any) *response {
	t.Helper()
	return h.do(t, req{Method: method, Path: path, Token: serviceToken, Body: body})
}

// expect fails the test unless the answer has status and, for an error,
// the error code.
func expect(t testing.TB, r *response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if code != "" {
		if got, _ := r.Obj(t)["error"].(string); got != code {
			t.Fatalf("error %q, want %q: %s", got, code, r.Raw)
		}
	}
}

// expectInvalid fails the test unless r is a 400 invalid_request whose body
// is exactly {"error", "message", "details": [{field, issue}...]} and whose
// details name field.
func expectInvalid(t testing.TB, r *response, field string) {
	t.Helper()
	expect(t, r, http.StatusBadRequest, "invalid_request")
	m := r.Obj(t)
	assertKeys(t, m, "error", "message", "details")
	details, ok := m["details"].([]any)
	if !ok || len(details) == 0 {
		t.Fatalf("no details: %s", r.Raw)
	}
	var fields []string
	for _, d := range details {
		dm, ok := d.(map[string]any)
		if !ok {
			t.Fatalf("detail is not an object: %s", r.Raw)
		}
		assertKeys(t, dm, "field", "issue")
		if issue, _ := dm["issue"].(string); issue == "" {
			t.Errorf("detail without issue: %s", r.Raw)
		}
		f, _ := dm["field"].(string)
		fields = append(fields, f)
	}
	if field != "" && !slices.Contains(fields, field) {
		t.Fatalf("details name %q, want %q among them: %s", fields, field, r.Raw)
	}
}

// assertKeys fails the test unless m has exactly keys.
func assertKeys(t testing.TB, m map[string]any, keys ...string) {
	t.Helper()
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want := slices.Clone(keys)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("keys %q, want %q in %v", got, want, m)
	}
}

// jsonOf turns v into what decoding its JSON gives, for comparing with a
// response body.
func jsonOf(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertJSON fails the test unless got decodes to the same JSON as want.
func assertJSON(t testing.TB, got *response, want any) {
	t.Helper()
	if w := jsonOf(t, want); !reflect.DeepEqual(got.JSON, w) {
		wb, _ := json.Marshal(w)
		t.Errorf("body\n got  %s\n want %s", bytes.TrimSpace(got.Raw), wb)
	}
}

// num reads a JSON number field as an int64.
func num(t testing.TB, m map[string]any, key string) int64 {
	t.Helper()
	f, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%s is not a number in %v", key, m)
	}
	return int64(f)
}

// str reads a JSON string field.
func str(t testing.TB, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Fatalf("%s is not a string in %v", key, m)
	}
	return s
}

// timeField reads an RFC 3339 UTC time field.
func timeField(t testing.TB, m map[string]any, key string) time.Time {
	t.Helper()
	s := str(t, m, key)
	if !strings.HasSuffix(s, "Z") {
		t.Errorf("%s %q is not UTC", key, s)
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%s %q is not RFC 3339: %v", key, s, err)
	}
	return ts
}

// objs reads a JSON array field of objects.
func objs(t testing.TB, m map[string]any, key string) []map[string]any {
	t.Helper()
	arr, ok := m[key].([]any)
	if !ok {
		t.Fatalf("%s is not an array in %v", key, m)
	}
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s[%d] is not an object in %v", key, i, m)
		}
		out[i] = o
	}
	return out
}

// shopPath is the path of a shop route.
func shopPath(shop, rest string) string {
	return "/api/inventory/shops/" + shop + rest
}

// item is a request line.
func item(sku, variantKey string, quantity int64) map[string]any {
	return map[string]any{"sku": sku, "variantKey": variantKey, "quantity": quantity}
}

// hold places a hold through the API and returns it.
func (h *harness) hold(t testing.TB, shop string, body map[string]any) map[string]any {
	t.Helper()
	r := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), body)
	expect(t, r, http.StatusCreated, "")
	return r.Obj(t)
}

// stockInfo reads a stock line through the ledger.
func (h *harness) stockInfo(t testing.TB, shop, sku, variantKey string) *inventory.StockInfo {
	t.Helper()
	info, err := h.ledger.StockInfo(context.Background(), shop, sku, variantKey)
	if err != nil {
		t.Fatalf("stock info %s[%s]: %v", sku, variantKey, err)
	}
	return info
}

// jsonEqual reports whether two decoded JSON values are equal.
func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }
