// Package loadtest drives holds and commits against a running checkoutd over
// HTTP with concurrent clients, and reports throughput, per-request latency
// and the responses it got.
//
// A run is a series of lifecycles. Each lifecycle places a hold of one unit
// of one SKU and then, depending on the mode, commits it, releases it or
// leaves it to expire; or, in the read modes, asks once whether one unit
// could be held (validate) or reads one SKU's stock (stock). A run always stops by itself: after Config.Duration,
// or after Config.Requests lifecycles if that comes first.
package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is what a lifecycle does after its hold.
type Mode string

const (
	// ModeHoldCommit holds one unit, then commits the hold.
	ModeHoldCommit Mode = "hold-commit"
	// ModeHoldRelease holds one unit, then releases the hold.
	ModeHoldRelease Mode = "hold-release"
	// ModeHold only holds; the holds stay reserved until they expire.
	ModeHold Mode = "hold"
	// ModeValidate asks POST /api/inventory/validate whether one unit
	// could be held, the call an edge worker makes for every cart.
	ModeValidate Mode = "validate"
	// ModeStock reads one SKU's stock with GET /stock/{sku}.
	ModeStock Mode = "stock"
)

// Modes lists the modes in the order the usage text shows them.
var Modes = []Mode{ModeHoldCommit, ModeHoldRelease, ModeHold, ModeValidate, ModeStock}

// Kind is a kind of request a lifecycle sends.
type Kind string

const (
	KindHold     Kind = "hold"
	KindCommit   Kind = "commit"
	KindRelease  Kind = "release"
	KindValidate Kind = "validate"
	KindStock    Kind = "stock"
)

// kinds is the order in which a report lists request kinds.
var kinds = []Kind{KindHold, KindCommit, KindRelease, KindValidate, KindStock}

const (
	// DefaultURL is the server Run drives when Config.URL is empty.
	DefaultURL = "http://127.0.0.1:8080"
	// DefaultSetupQuantity is the on-hand quantity setup gives every SKU:
	// the largest quantity the API accepts.
	DefaultSetupQuantity = 1_000_000
	// DefaultRequestTimeout bounds each request when Config.RequestTimeout
	// is zero.
	DefaultRequestTimeout = 30 * time.Second

	// MaxClients, MaxSKUs bound the corresponding Config fields.
	MaxClients = 10_000
	MaxSKUs    = 1_000_000

	// setupBatch is how many stock changes one setup adjustment carries:
	// the API's limit of items per request.
	setupBatch = 100
	// maxBody caps how much of a response body is read.
	maxBody = 1 << 20
)

// Config is what Run does.
type Config struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:8080. It must
	// name a loopback host unless AllowRemote is set.
	URL string
	// AllowRemote allows a URL whose host is not loopback.
	AllowRemote bool
	// Token is sent as Authorization: Bearer.
	Token string
	// Shop is the shop whose stock is held.
	Shop string
	// Clients is how many lifecycles run at once.
	Clients int
	// Duration bounds the run in time: no lifecycle starts after it, and
	// the ones under way finish. It must be positive.
	Duration time.Duration
	// Requests bounds the run in lifecycles; 0 leaves only Duration.
	Requests int64
	// SKUs is how many SKUs the holds are spread over, named LOAD-1 to
	// LOAD-<SKUs>; lifecycle n holds LOAD-((n-1) mod SKUs + 1).
	SKUs int
	// Mode is what each lifecycle does after its hold.
	Mode Mode
	// Setup sets each SKU's on-hand quantity to SetupQuantity before the
	// run, through POST /adjustments in batches of 100.
	Setup bool
	// SetupQuantity is what setup sets; 0 means DefaultSetupQuantity.
	SetupQuantity int64
	// RequestTimeout bounds each request; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// Validate reports the first thing wrong with c, in words fit for a
// command-line user.
func (c Config) Validate() error {
	if _, err := CheckURL(c.URL, c.AllowRemote); err != nil {
		return err
	}
	switch {
	case c.Token == "":
		return errors.New("no token: pass --token or set INVENTORY_AUTHORITY_TOKEN")
	case c.Shop == "":
		return errors.New("--shop is required")
	case c.Clients < 1 || c.Clients > MaxClients:
		return fmt.Errorf("--clients must be from 1 to %d", MaxClients)
	case c.Duration <= 0:
		return errors.New("--duration must be positive: every run is bounded in time")
	case c.Requests < 0:
		return errors.New("--requests must be 0 (no bound) or more")
	case c.SKUs < 1 || c.SKUs > MaxSKUs:
		return fmt.Errorf("--skus must be from 1 to %d", MaxSKUs)
	case c.SetupQuantity < 0 || c.SetupQuantity > DefaultSetupQuantity:
		return fmt.Errorf("setup quantity must be from 1 to %d", DefaultSetupQuantity)
	case c.RequestTimeout < 0:
		return errors.New("request timeout must not be negative")
	}
	for _, m := range Modes {
		if c.Mode == m {
			return nil
		}
	}
	return fmt.Errorf("--mode must be one of %s", modeList())
}

func modeList() string {
	names := make([]string, len(Modes))
	for i, m := range Modes {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// CheckURL parses raw as a server's base URL (DefaultURL if empty). Unless
// allowRemote is set, it refuses any host but a loopback address
// (127.0.0.0/8, ::1) or localhost: load is only ever sent to this machine.
// Names are not resolved.
func CheckURL(raw string, allowRemote bool) (*url.URL, error) {
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--url %q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--url %q must start with http:// or https://", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("--url %q has no host", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--url %q must be a base URL without user, query or fragment", raw)
	}
	if !allowRemote && !IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("--url %q: host %s is not loopback (127.0.0.0/8, ::1, localhost); "+
			"refusing to send load anywhere else without --allow-remote", raw, u.Hostname())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// IsLoopback reports whether host, as in a URL without its port, is
// localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SKU is the name of the i-th load SKU, from 1.
func SKU(i int) string { return "LOAD-" + strconv.Itoa(i) }

// Run sets up stock if asked, then runs lifecycles with c.Clients workers
// until c.Duration has passed or c.Requests lifecycles have started, waits
// for those under way, and reports. Responses of every status go into the
// report; Run fails only for a bad Config, a server that does not answer
// GET /healthz, or a failed setup. When ctx is cancelled Run stops at once
// and reports what finished, with StopReason StopInterrupted.
func Run(ctx context.Context, c Config) (*Report, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	base, _ := CheckURL(c.URL, c.AllowRemote)
	if c.SetupQuantity == 0 {
		c.SetupQuantity = DefaultSetupQuantity
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	r := &runner{
		cfg:       c,
		base:      base,
		url:       base.String(),
		path:      base.EscapedPath(),
		shop:      base.EscapedPath() + "/api/inventory/shops/" + url.PathEscape(c.Shop),
		runID:     strconv.FormatInt(time.Now().UnixMilli(), 36),
		auth:      []byte("Authorization: Bearer " + c.Token + "\r\n"),
		validate1: validateBodyPrefix(c.Shop),
	}
	control := r.newWire(ctx)
	defer control.close()

	report := &Report{
		URL: r.url, Shop: c.Shop, Mode: c.Mode, Clients: c.Clients, SKUs: c.SKUs,
		Duration: c.Duration, Requests: c.Requests,
	}
	if err := r.healthz(control); err != nil {
		return nil, err
	}
	if c.Setup {
		start := time.Now()
		n, err := r.setup(control)
		if err != nil {
			return nil, err
		}
		report.Setup = &SetupResult{SKUs: c.SKUs, Quantity: c.SetupQuantity, Requests: n, Elapsed: time.Since(start)}
	}

	stop, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	workers := make([]*tally, c.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		t := newTally()
		workers[i] = t
		wg.Go(func() {
			w := r.newWire(ctx)
			defer w.close()
			r.work(ctx, stop, w, t)
		})
	}
	wg.Wait()
	report.Elapsed = time.Since(start)

	switch {
	case ctx.Err() != nil:
		report.StopReason = StopInterrupted
	case c.Requests > 0 && r.next.Load() >= c.Requests:
		report.StopReason = StopRequests
	default:
		report.StopReason = StopDuration
	}
	report.fill(workers)
	return report, nil
}

type runner struct {
	cfg   Config
	base  *url.URL
	url   string // base URL without a trailing slash
	path  string // the base URL's path, escaped: "" or /prefix
	shop  string // path of the shop's routes
	runID string // tells this run's references apart from other runs'
	// auth is the Authorization header line every request carries.
	auth []byte
	// validate1 is a validate body up to its SKU (see validateBody).
	validate1 []byte
	next      atomic.Int64
}

// newWire returns a connection of its own to the server for one worker.
func (r *runner) newWire(ctx context.Context) *wire {
	return newWire(ctx, r.base, r.cfg.RequestTimeout)
}

// work runs lifecycles until stop is done or the run's count is used up.
// Requests run under ctx, not stop, so that the lifecycle under way when the
// time is up finishes instead of being cut off and counted as failed.
func (r *runner) work(ctx, stop context.Context, w *wire, t *tally) {
	for stop.Err() == nil {
		n := r.next.Add(1)
		if r.cfg.Requests > 0 && n > r.cfg.Requests {
			r.next.Add(-1) // keep next at the number started
			return
		}
		r.lifecycle(ctx, w, n, t)
	}
}

// lifecycle holds one unit of lifecycle n's SKU, then commits or releases
// the hold as the mode says. It records nothing for a request cut off by
// ctx: an interrupted run reports only what finished.
func (r *runner) lifecycle(ctx context.Context, w *wire, n int64, t *tally) {
	sku := SKU(int((n-1)%int64(r.cfg.SKUs)) + 1)
	switch r.cfg.Mode {
	case ModeValidate:
		r.once(ctx, t, r.send(w, KindValidate, http.MethodPost, r.path+"/api/inventory/validate", r.validateBody(sku), nil))
		return
	case ModeStock:
		r.once(ctx, t, r.send(w, KindStock, http.MethodGet, r.shop+"/stock/"+url.PathEscape(sku), nil, nil))
		return
	}
	ref := "load-" + r.runID + "-" + strconv.FormatInt(n, 10)
	body := map[string]any{
		"items":     []map[string]any{{"sku": sku, "variantKey": "", "quantity": 1}},
		"reference": ref,
	}
	var hold struct {
		ID string `json:"id"`
	}
	res := r.post(w, KindHold, r.shop+"/holds", body, &hold)
	if ctx.Err() != nil {
		return
	}
	if res.ok && hold.ID == "" {
		res.ok, res.code = false, "no_hold_id"
	}
	t.record(res)
	if !res.ok {
		t.failed++
		return
	}

	var next result
	switch r.cfg.Mode {
	case ModeHoldCommit:
		next = r.post(w, KindCommit, r.shop+"/holds/"+url.PathEscape(hold.ID)+"/commit", map[string]any{"reference": ref}, nil)
	case ModeHoldRelease:
		next = r.post(w, KindRelease, r.shop+"/holds/"+url.PathEscape(hold.ID)+"/release", map[string]any{"reason": "load_test"}, nil)
	default:
		t.ok++
		return
	}
	if ctx.Err() != nil {
		return
	}
	t.record(next)
	if next.ok {
		t.ok++
	} else {
		t.failed++
	}
}

// once records the one request of a read lifecycle.
func (r *runner) once(ctx context.Context, t *tally, res result) {
	if ctx.Err() != nil {
		return
	}
	t.record(res)
	if res.ok {
		t.ok++
	} else {
		t.failed++
	}
}

// result is one request's outcome.
type result struct {
	kind    Kind
	status  int    // 0 when no response came
	code    string // the error body's "error", if any
	ok      bool   // a 2xx with a body that decoded
	latency time.Duration
	err     error // why no response came
}

// post sends body as JSON and decodes a 2xx answer into out, if not nil.
func (r *runner) post(w *wire, kind Kind, path string, body any, out any) result {
	buf, err := json.Marshal(body)
	if err != nil {
		return result{kind: kind, err: err}
	}
	return r.send(w, kind, http.MethodPost, path, buf, out)
}

// validateBodyPrefix is a validate body of one unit for shop, up to the
// SKU's opening quote.
func validateBodyPrefix(shop string) []byte {
	quoted, _ := json.Marshal(shop)
	return append(append([]byte(`{"shopId":`), quoted...), `,"items":[{"sku":"`...)
}

// validateBody is a validate body asking for one unit of sku, one of the
// load SKUs, whose names JSON need not escape. Built, not marshalled:
// the client's cost is part of what a run measures.
func (r *runner) validateBody(sku string) []byte {
	b := make([]byte, 0, len(r.validate1)+len(sku)+40)
	b = append(b, r.validate1...)
	b = append(b, sku...)
	return append(b, `","variantKey":"","quantity":1}]}`...)
}

// send sends a request to path on w, with body (JSON) unless it is
// nil, and decodes a 2xx answer into out, if not nil. The latency runs
// from sending to having read the whole response.
func (r *runner) send(w *wire, kind Kind, method, path string, body []byte, out any) result {
	res := result{kind: kind}
	start := time.Now()
	status, data, err := w.do(method, path, r.auth, body)
	if err != nil {
		res.err = err
		return res
	}
	res.latency = time.Since(start)
	res.status = status
	if status < 200 || status > 299 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil {
			res.code = e.Error
		}
		return res
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			res.code = "malformed_response"
			return res
		}
	}
	res.ok = true
	return res
}

// healthz checks that something answers GET /healthz with 200, so that a
// run against a server that is not there fails at once instead of
// reporting a wall of connection errors.
func (r *runner) healthz(w *wire) error {
	status, _, err := w.do(http.MethodGet, r.path+"/healthz", nil, nil)
	if err != nil {
		return fmt.Errorf("server not answering: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s/healthz: %d %s", r.url, status, http.StatusText(status))
	}
	return nil
}

// setup sets every load SKU's on-hand quantity at the default location to
// SetupQuantity, 100 per request, and returns how many requests it took.
func (r *runner) setup(w *wire) (int, error) {
	requests := 0
	for from := 1; from <= r.cfg.SKUs; from += setupBatch {
		to := min(from+setupBatch-1, r.cfg.SKUs)
		changes := make([]map[string]any, 0, to-from+1)
		for i := from; i <= to; i++ {
			changes = append(changes, map[string]any{
				"sku": SKU(i), "variantKey": "", "locationId": "default",
				"op": "set", "quantity": r.cfg.SetupQuantity, "type": "ADJUSTMENT",
			})
		}
		body := map[string]any{
			"reference": "load-setup-" + r.runID,
			"createdBy": "checkoutd load",
			"changes":   changes,
		}
		res := r.post(w, "adjustment", r.shop+"/adjustments", body, nil)
		requests++
		switch {
		case res.err != nil:
			return requests, fmt.Errorf("setup: set %s..%s: %w", SKU(from), SKU(to), res.err)
		case !res.ok:
			return requests, fmt.Errorf("setup: set %s..%s: %s", SKU(from), SKU(to), statusText(res.status, res.code))
		}
	}
	return requests, nil
}
