package loadtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	fakeToken = "test-token"
	fakeShop  = "load"
)

// fake is a tiny in-memory stand-in for checkoutd's stock and hold routes,
// strict about what a request must carry.
type fake struct {
	t *testing.T

	mu        sync.Mutex
	onHand    map[string]int64
	reserved  map[string]int64
	holds     map[string]*fakeHold
	nextID    int
	batches   []int // the number of changes of each adjustment
	commits   int
	busyEvery int // answer every busyEvery-th commit 429; 0 never
}

type fakeHold struct {
	sku    string
	status string
}

func newFake(t *testing.T) (*fake, *httptest.Server) {
	f := &fake{t: t, onHand: map[string]int64{}, reserved: map[string]int64{}, holds: map[string]*fakeHold{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("POST /api/inventory/shops/{shop}/adjustments", f.authed(f.adjust))
	mux.HandleFunc("POST /api/inventory/shops/{shop}/holds", f.authed(f.hold))
	mux.HandleFunc("POST /api/inventory/shops/{shop}/holds/{id}/{action}", f.authed(f.finish))
	mux.HandleFunc("POST /api/inventory/validate", f.validate)
	mux.HandleFunc("GET /api/inventory/shops/{shop}/stock/{sku}", f.stockInfo)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]any{"error": code, "message": code})
}

// authed checks the token, content type and shop, and decodes the body
// strictly into a fresh value for next.
func (f *fake) authed(next func(w http.ResponseWriter, r *http.Request, dec *json.Decoder)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer "+fakeToken:
			writeErr(w, http.StatusUnauthorized, "unauthorized")
		case r.Header.Get("Content-Type") != "application/json":
			writeErr(w, http.StatusUnsupportedMediaType, "unsupported_media_type")
		case r.PathValue("shop") != fakeShop:
			writeErr(w, http.StatusNotFound, "not_found")
		default:
			dec := json.NewDecoder(r.Body)
			dec.DisallowUnknownFields()
			next(w, r, dec)
		}
	}
}

func (f *fake) adjust(w http.ResponseWriter, r *http.Request, dec *json.Decoder) {
	var req struct {
		Reference, CreatedBy, IdempotencyKey string
		Changes                              []struct {
			SKU, VariantKey, LocationID, Op, Type, Notes string
			Quantity                                     int64
		}
	}
	if err := dec.Decode(&req); err != nil || len(req.Changes) == 0 || len(req.Changes) > 100 {
		writeErr(w, http.StatusBadRequest, "invalid_request")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, len(req.Changes))
	for _, c := range req.Changes {
		if c.Op != "set" || c.LocationID != "default" || c.Quantity < 0 || c.Quantity > 1_000_000 {
			f.t.Errorf("setup change %+v", c)
		}
		f.onHand[c.SKU] = c.Quantity
	}
	writeJSON(w, http.StatusOK, map[string]any{"applied": len(req.Changes), "movements": []any{}})
}

func (f *fake) hold(w http.ResponseWriter, r *http.Request, dec *json.Decoder) {
	var req struct {
		Items []struct {
			SKU, VariantKey string
			Quantity        int64
		}
		TTLSeconds     *int64
		IdempotencyKey string
		Reference      string
	}
	if err := dec.Decode(&req); err != nil || len(req.Items) != 1 || req.Items[0].Quantity != 1 || req.Reference == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request")
		return
	}
	sku := req.Items[0].SKU
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.onHand[sku]-f.reserved[sku] < 1 {
		writeJSON(w, http.StatusConflict, map[string]any{
			"error": "insufficient_stock", "message": "not enough stock", "code": "inventory_insufficient",
			"items": []any{map[string]any{"sku": sku, "variantKey": "", "requested": 1, "available": 0}},
		})
		return
	}
	f.reserved[sku]++
	f.nextID++
	id := "hold_" + strconv.Itoa(f.nextID)
	f.holds[id] = &fakeHold{sku: sku, status: "active"}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "shopId": fakeShop, "status": "active", "reference": req.Reference})
}

func (f *fake) finish(w http.ResponseWriter, r *http.Request, dec *json.Decoder) {
	var req struct{ Reference, Reason string }
	if err := dec.Decode(&req); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.holds[r.PathValue("id")]
	if h == nil {
		writeErr(w, http.StatusNotFound, "not_found")
		return
	}
	if h.status != "active" {
		writeErr(w, http.StatusConflict, "hold_not_active")
		return
	}
	switch r.PathValue("action") {
	case "commit":
		f.commits++
		if f.busyEvery > 0 && f.commits%f.busyEvery == 0 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": "inventory_busy", "message": "busy", "retryAfter": 100})
			return
		}
		h.status = "committed"
		f.onHand[h.sku]--
	case "release":
		h.status = "released"
	default:
		writeErr(w, http.StatusNotFound, "not_found")
		return
	}
	f.reserved[h.sku]--
	writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "status": h.status})
}

// validate answers whether one unit of a SKU could be held.
func (f *fake) validate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ShopID string
		Items  []struct {
			SKU, VariantKey string
			Quantity        int64
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	switch {
	case r.Header.Get("Authorization") != "Bearer "+fakeToken:
		writeErr(w, http.StatusUnauthorized, "unauthorized")
	case r.Header.Get("Content-Type") != "application/json":
		writeErr(w, http.StatusUnsupportedMediaType, "unsupported_media_type")
	case dec.Decode(&req) != nil || req.ShopID != fakeShop || len(req.Items) != 1 || req.Items[0].Quantity != 1:
		writeErr(w, http.StatusBadRequest, "invalid_request")
	default:
		onHand, reserved := f.stock(req.Items[0].SKU)
		writeJSON(w, http.StatusOK, map[string]any{"ok": onHand-reserved >= 1})
	}
}

// stockInfo answers a SKU's stock.
func (f *fake) stockInfo(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Header.Get("Authorization") != "Bearer "+fakeToken:
		writeErr(w, http.StatusUnauthorized, "unauthorized")
	case r.PathValue("shop") != fakeShop:
		writeErr(w, http.StatusNotFound, "not_found")
	default:
		onHand, reserved := f.stock(r.PathValue("sku"))
		writeJSON(w, http.StatusOK, map[string]any{"sku": r.PathValue("sku"), "onHand": onHand, "reserved": reserved})
	}
}

func (f *fake) stock(sku string) (onHand, reserved int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.onHand[sku], f.reserved[sku]
}

func config(url string) Config {
	return Config{
		URL: url, Token: fakeToken, Shop: fakeShop, Clients: 4, Duration: 10 * time.Second,
		SKUs: 1, Mode: ModeHoldCommit,
	}
}

func run(t *testing.T, c Config) *Report {
	t.Helper()
	r, err := Run(context.Background(), c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

// checkResponses compares the report's response counts with want, given as
// "kind status[ code]" → count.
func checkResponses(t *testing.T, r *Report, want map[string]int64) {
	t.Helper()
	got := map[string]int64{}
	for _, c := range r.Responses {
		got[string(c.Kind)+" "+statusText(c.Status, c.Code)] += c.Count
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("responses %q = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected responses %q: %d", k, n)
		}
	}
}

func TestRunHoldCommitCountsAndErrorCodes(t *testing.T) {
	f, srv := newFake(t)
	c := config(srv.URL)
	c.SKUs, c.Setup, c.SetupQuantity, c.Requests = 2, true, 3, 10
	r := run(t, c)

	// Lifecycles alternate between LOAD-1 and LOAD-2, 5 each; each SKU has
	// 3 units, and every commit uses one up, so 3 per SKU succeed.
	if r.Lifecycles != 10 || r.OK != 6 || r.Failed != 4 || r.StopReason != StopRequests {
		t.Errorf("lifecycles %d ok %d failed %d stop %q; want 10 6 4 %q", r.Lifecycles, r.OK, r.Failed, r.StopReason, StopRequests)
	}
	checkResponses(t, r, map[string]int64{
		"hold 201": 6, "hold 409 insufficient_stock": 4, "commit 200": 6,
	})
	if len(r.Latency) != 2 || r.Latency[0].Kind != KindHold || r.Latency[0].Count != 10 ||
		r.Latency[1].Kind != KindCommit || r.Latency[1].Count != 6 {
		t.Errorf("latency rows %+v, want hold 10 and commit 6", r.Latency)
	}
	for _, l := range r.Latency {
		if l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
			t.Errorf("%s latency not ordered: %+v", l.Kind, l.LatencySummary)
		}
	}
	if r.Setup == nil || r.Setup.SKUs != 2 || r.Setup.Requests != 1 || r.Setup.Quantity != 3 {
		t.Errorf("setup %+v", r.Setup)
	}
	for _, sku := range []string{"LOAD-1", "LOAD-2"} {
		if onHand, reserved := f.stock(sku); onHand != 0 || reserved != 0 {
			t.Errorf("%s after the run: on hand %d reserved %d, want 0 0", sku, onHand, reserved)
		}
	}
}

func TestRunSetupInBatchesOf100(t *testing.T) {
	f, srv := newFake(t)
	c := config(srv.URL)
	c.SKUs, c.Setup, c.Requests, c.Mode = 250, true, 5, ModeHold
	r := run(t, c)
	if !slices.Equal(f.batches, []int{100, 100, 50}) {
		t.Errorf("setup batches %v, want [100 100 50]", f.batches)
	}
	if r.Setup.Requests != 3 {
		t.Errorf("setup requests %d, want 3", r.Setup.Requests)
	}
	for _, sku := range []string{"LOAD-1", "LOAD-100", "LOAD-101", "LOAD-250"} {
		if onHand, _ := f.stock(sku); onHand != DefaultSetupQuantity {
			t.Errorf("%s on hand %d, want %d", sku, onHand, DefaultSetupQuantity)
		}
	}
	// Hold mode leaves its holds reserved: LOAD-1..5 one each.
	checkResponses(t, r, map[string]int64{"hold 201": 5})
	if r.OK != 5 {
		t.Errorf("ok %d, want 5", r.OK)
	}
	for i := 1; i <= 5; i++ {
		if _, reserved := f.stock(SKU(i)); reserved != 1 {
			t.Errorf("%s reserved %d, want 1", SKU(i), reserved)
		}
	}
}

func TestRunHoldRelease(t *testing.T) {
	f, srv := newFake(t)
	c := config(srv.URL)
	c.Clients, c.Setup, c.SetupQuantity, c.Requests, c.Mode = 1, true, 1, 5, ModeHoldRelease
	r := run(t, c)
	checkResponses(t, r, map[string]int64{"hold 201": 5, "release 200": 5})
	if r.OK != 5 || len(r.Latency) != 2 || r.Latency[1].Kind != KindRelease {
		t.Errorf("ok %d latency %+v", r.OK, r.Latency)
	}
	if onHand, reserved := f.stock("LOAD-1"); onHand != 1 || reserved != 0 {
		t.Errorf("LOAD-1 on hand %d reserved %d, want 1 0", onHand, reserved)
	}
}

// The read modes send one request per lifecycle and hold nothing.
func TestRunReadModes(t *testing.T) {
	for mode, kind := range map[Mode]Kind{ModeValidate: KindValidate, ModeStock: KindStock} {
		f, srv := newFake(t)
		c := config(srv.URL)
		c.Setup, c.SKUs, c.Requests, c.Mode = true, 3, 6, mode
		r := run(t, c)
		checkResponses(t, r, map[string]int64{string(kind) + " 200": 6})
		if r.OK != 6 || len(r.Latency) != 1 || r.Latency[0].Kind != kind {
			t.Errorf("%s: ok %d latency %+v", mode, r.OK, r.Latency)
		}
		if _, reserved := f.stock("LOAD-1"); reserved != 0 {
			t.Errorf("%s: LOAD-1 reserved %d, want 0", mode, reserved)
		}
	}
}

func TestRunCountsBusyAndUnauthorized(t *testing.T) {
	f, srv := newFake(t)
	f.busyEvery = 3
	c := config(srv.URL)
	c.Setup, c.Requests = true, 9
	r := run(t, c)
	checkResponses(t, r, map[string]int64{"hold 201": 9, "commit 200": 6, "commit 429 inventory_busy": 3})
	if r.OK != 6 || r.Failed != 3 {
		t.Errorf("ok %d failed %d, want 6 3", r.OK, r.Failed)
	}

	c.Setup, c.Token = false, "wrong"
	r = run(t, c)
	checkResponses(t, r, map[string]int64{"hold 401 unauthorized": 9})
	if r.OK != 0 || r.Failed != 9 {
		t.Errorf("ok %d failed %d with a wrong token, want 0 9", r.OK, r.Failed)
	}
}

func TestRunStopsAfterDuration(t *testing.T) {
	_, srv := newFake(t)
	c := config(srv.URL)
	c.Setup, c.Duration, c.Clients = true, 100*time.Millisecond, 2
	start := time.Now()
	r := run(t, c)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("run bounded by 100ms took %v", took)
	}
	if r.StopReason != StopDuration || r.Lifecycles == 0 || r.Lifecycles != r.OK || r.Elapsed < c.Duration {
		t.Errorf("stop %q lifecycles %d ok %d elapsed %v", r.StopReason, r.Lifecycles, r.OK, r.Elapsed)
	}
}

func TestRunInterrupted(t *testing.T) {
	_, srv := newFake(t)
	c := config(srv.URL)
	c.Setup = true
	// Long enough for setup and a lifecycle even on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	r, err := Run(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("interrupted run took %v", took)
	}
	if r.StopReason != StopInterrupted || r.Lifecycles == 0 || r.Failed != 0 {
		t.Errorf("stop %q lifecycles %d failed %d; want interrupted, some, none failed", r.StopReason, r.Lifecycles, r.Failed)
	}
}

func TestRunFailsFast(t *testing.T) {
	_, srv := newFake(t)
	c := config(srv.URL)
	c.Shop, c.Setup = "other", true
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "setup: set LOAD-1..LOAD-1: 404 not_found") {
		t.Errorf("Run with setup for an unknown shop = %v, want a setup error", err)
	}

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if _, err := Run(context.Background(), config(down.URL)); err == nil || !strings.Contains(err.Error(), "server not answering") {
		t.Errorf("Run against a closed server = %v, want server not answering", err)
	}

	c = config("http://192.0.2.1:8080")
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("Run against a remote URL = %v, want a refusal", err)
	}
}

func TestRunFollowsNoRedirect(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := config(srv.URL)
	c.Requests = 3
	r := run(t, c)
	checkResponses(t, r, map[string]int64{"hold 307": 3})
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests went to the redirect target", n)
	}
}

func TestCheckURL(t *testing.T) {
	for _, u := range []string{
		"", "http://127.0.0.1:8080", "http://127.1.2.3", "https://localhost:8443/", "http://LOCALHOST",
		"http://[::1]:8080", "http://127.0.0.1:8080/prefix/",
	} {
		if _, err := CheckURL(u, false); err != nil {
			t.Errorf("CheckURL(%q) = %v, want accepted", u, err)
		}
	}
	for _, u := range []string{
		"http://example.com", "http://10.0.0.1:8080", "http://0.0.0.0:8080", "http://[::]:8080", "http://[::2]",
		"http://localhost.example.com", "http://127.0.0.1.nip.io", "http://192.168.1.10",
	} {
		if _, err := CheckURL(u, false); err == nil || !strings.Contains(err.Error(), "is not loopback") {
			t.Errorf("CheckURL(%q) = %v, want a refusal as not loopback", u, err)
		}
		if _, err := CheckURL(u, true); err != nil {
			t.Errorf("CheckURL(%q, allowRemote) = %v, want accepted", u, err)
		}
	}
	for _, u := range []string{"ftp://127.0.0.1", "127.0.0.1:8080", "http://", "http://127.0.0.1/?x=1", "http://u:p@127.0.0.1", "http://127.0.0.1/#f"} {
		if _, err := CheckURL(u, true); err == nil {
			t.Errorf("CheckURL(%q) accepted, want an error", u)
		}
	}
	got, _ := CheckURL("http://127.0.0.1:8080/prefix/", false)
	if got.String() != "http://127.0.0.1:8080/prefix" {
		t.Errorf("CheckURL kept %q, want the trailing slash trimmed", got)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := config("")
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Token = "" }, "no token"},
		{func(c *Config) { c.Shop = "" }, "--shop is required"},
		{func(c *Config) { c.Clients = 0 }, "--clients"},
		{func(c *Config) { c.Clients = MaxClients + 1 }, "--clients"},
		{func(c *Config) { c.Duration = 0 }, "--duration must be positive"},
		{func(c *Config) { c.Requests = -1 }, "--requests"},
		{func(c *Config) { c.SKUs = 0 }, "--skus"},
		{func(c *Config) { c.Mode = "commit" }, "--mode must be one of hold-commit, hold-release, hold, validate, stock"},
		{func(c *Config) { c.SetupQuantity = 1_000_001 }, "setup quantity"},
		{func(c *Config) { c.URL = "http://example.com" }, "not loopback"},
	}
	for _, tt := range tests {
		c := ok
		tt.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
		}
	}
}

// A base URL with a path sends every request under it.
func TestRunUnderABasePath(t *testing.T) {
	_, srv := newFake(t)
	prefixed := httptest.NewServer(http.StripPrefix("/prefix", srv.Config.Handler))
	defer prefixed.Close()
	c := config(prefixed.URL + "/prefix/")
	c.Setup, c.Requests, c.Mode = true, 4, ModeValidate
	r := run(t, c)
	checkResponses(t, r, map[string]int64{"validate 200": 4})
}
