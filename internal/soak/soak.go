// Package soak runs the real checkoutd binary under load while injecting
// faults, then checks that nothing was lost, doubled or left behind.
//
// A run starts a private PostgreSQL server, a stateful fake Stripe and
// `checkoutd serve` as a child process, in reserve_ttl mode with short holds
// and a fast reaper. Concurrent clients create checkout sessions, some with
// lines whose quantity the customer picks, and pay for most of them (the
// fake Stripe then raises signed webhooks, delivered one to three times and
// out of order; like Stripe, it refuses to take payment for a session that
// has expired), place and commit short holds, and restock with idempotent
// adjustments, while one SKU is kept sold out by a flash sale. Every 5 to 15 seconds one fault strikes at
// random: kill -9 of the service (which is restarted), an immediate
// PostgreSQL restart, or SIGSTOP of the service for 2 seconds. After the run
// the faults stop, the service drains for a reaper interval and a margin,
// and the invariants in invariants.go are checked against the database and
// what the service acknowledged. docs/reliability.md says how to read it.
//
// It is a test tool, and the one package under internal/ that imports a
// domain package: it checks the books with inventory.CheckLedger after the
// run (docs/architecture.md).
package soak

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is what a run does. The zero value of a field takes the default
// named in its comment.
type Config struct {
	// Binary is the checkoutd binary to run (required).
	Binary string
	// Duration is how long clients run and faults strike (default 5m).
	Duration time.Duration
	// Seed drives every random choice; the same seed gives the same
	// decisions, though timing still varies (default: from the clock).
	Seed uint64
	// Clients is how many clients run at once (default 16).
	Clients int
	// ReaperInterval is the service's REAPER_INTERVAL (default 5s).
	ReaperInterval time.Duration
	// HoldTTL is INVENTORY_HOLD_TTL_SECONDS as a duration: how long a
	// checkout's hold lasts (default 60s, the least the service accepts).
	HoldTTL time.Duration
	// Drain is how long the service runs without faults after the clients
	// stop, before the checks (default ReaperInterval + 35s: reaping must
	// resume within REAPER_INTERVAL + 30s of a crash).
	Drain time.Duration
	// JobBound is how long a River job may stay running (default 1m).
	JobBound time.Duration
	// RecoveryBound is how soon after PostgreSQL answers again the service
	// must answer 2xx (default 2s).
	RecoveryBound time.Duration
	// FaultEvery is the least and the most time between two faults
	// (default 5s to 15s); StopFor is how long SIGSTOP lasts (default 2s).
	FaultEvery [2]time.Duration
	StopFor    time.Duration
	// NoFaults runs the load alone, for a baseline.
	NoFaults bool
	// NoAdjustable keeps every checkout line at a fixed quantity even when
	// the service takes adjustable quantities.
	NoAdjustable bool
	// Dir is where the database, the service log and the report go
	// (default a new temporary directory, removed after a run that passed).
	Dir string
	// Progress receives a line per fault and phase; Out the report.
	Progress io.Writer
	Out      io.Writer
}

// withDefaults returns c with every unset field at its default.
func (c Config) withDefaults() Config {
	if c.Duration == 0 {
		c.Duration = 5 * time.Minute
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.Clients == 0 {
		c.Clients = 16
	}
	if c.ReaperInterval == 0 {
		c.ReaperInterval = 5 * time.Second
	}
	if c.HoldTTL == 0 {
		c.HoldTTL = time.Minute
	}
	if c.Drain == 0 {
		c.Drain = c.ReaperInterval + 35*time.Second
	}
	if c.JobBound == 0 {
		c.JobBound = time.Minute
	}
	if c.RecoveryBound == 0 {
		c.RecoveryBound = 2 * time.Second
	}
	if c.FaultEvery == [2]time.Duration{} {
		c.FaultEvery = [2]time.Duration{5 * time.Second, 15 * time.Second}
	}
	if c.StopFor == 0 {
		c.StopFor = 2 * time.Second
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return c
}

// Validate reports the first thing wrong with c, in words fit for a
// command-line user.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Binary == "":
		return errors.New("no checkoutd binary to run")
	case c.Duration < 0:
		return errors.New("the duration must be positive")
	case c.Clients < 1 || c.Clients > 256:
		return errors.New("clients must be from 1 to 256")
	case c.ReaperInterval < time.Second || c.ReaperInterval > time.Hour:
		return errors.New("the reaper interval must be from 1s to 1h (REAPER_INTERVAL's range)")
	case c.HoldTTL < time.Minute || c.HoldTTL > time.Hour || c.HoldTTL%time.Second != 0:
		return errors.New("the hold TTL must be whole seconds from 60s to 1h (INVENTORY_HOLD_TTL_SECONDS' range)")
	case c.FaultEvery[0] <= 0 || c.FaultEvery[1] < c.FaultEvery[0]:
		return errors.New("the time between faults must be positive, least first")
	case strings.HasSuffix(filepath.Base(c.Binary), ".test"):
		// A test binary would run the tests, not checkoutd: each would start
		// another soak.
		return fmt.Errorf("%s is a test binary, not checkoutd", c.Binary)
	}
	return nil
}

// Result is the outcome of a run: one line per invariant.
type Result struct {
	Seed   uint64
	Checks []Check
	// Dir is where the run's files are, if they were kept.
	Dir string
}

// Check is one invariant's verdict.
type Check struct {
	Name   string
	Passed bool
	// Detail says what was found: figures, or the first problems.
	Detail string
}

// Failed counts the invariants that do not hold.
func (r *Result) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if !c.Passed {
			n++
		}
	}
	return n
}

// harness is one run's moving parts.
type harness struct {
	cfg Config
	dir string
	rec *Recorder
	pg  *postgres
	// db is the soak's own connection to the database, to watch River's
	// jobs and to check the invariants.
	db      *pgxpool.Pool
	svc     *service
	stripe  *fakeStripe
	deliver *deliverer
	api     *caller
	probe   *caller
	crashed chan struct{}
	// adjustable is set when some checkouts let the customer pick a line's
	// quantity; adjustableWhy says why it is not.
	adjustable    bool
	adjustableWhy string
	// stopDelivery ends the deliveries.
	stopDelivery context.CancelFunc
	timersMu     sync.Mutex
	timers       []*time.Timer
	// timersOff is set once the run is over.
	timersOff bool
	// runStart is when the clients started; serviceStart when the running
	// service process did.
	runStart     time.Time
	serviceStart time.Time
}

// Run runs a soak as cfg says and reports the invariants' verdicts. An
// error means the soak itself could not run (no PostgreSQL, a service that
// would not start): it says nothing about the service's correctness.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	h := &harness{cfg: cfg, rec: NewRecorder(), crashed: make(chan struct{}, 1)}
	res := &Result{Seed: cfg.Seed}
	fmt.Fprintf(cfg.Progress, "soak: seed %d, %v, %d clients, hold TTL %v, reaper every %v, drain %v\n",
		cfg.Seed, cfg.Duration, cfg.Clients, cfg.HoldTTL, cfg.ReaperInterval, cfg.Drain)

	var err error
	if h.dir = cfg.Dir; h.dir == "" {
		if h.dir, err = os.MkdirTemp("", "checkoutd-soak-"); err != nil {
			return nil, fmt.Errorf("create work directory: %w", err)
		}
	} else if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	// PostgreSQL's user must reach its data directory inside.
	if err := os.Chmod(h.dir, 0o755); err != nil {
		return nil, fmt.Errorf("open work directory: %w", err)
	}
	keep := true
	defer func() {
		if !keep && cfg.Dir == "" {
			_ = os.RemoveAll(h.dir)
		}
	}()

	if err := h.start(ctx); err != nil {
		h.shutdown()
		return nil, fmt.Errorf("%w (files in %s)", err, h.dir)
	}
	if err := h.load(ctx); err != nil {
		h.shutdown()
		return nil, fmt.Errorf("%w (files in %s)", err, h.dir)
	}
	res.Checks = h.check(ctx)
	h.shutdown()
	h.report(res)
	keep = res.Failed() > 0
	if keep {
		res.Dir = h.dir
	}
	return res, nil
}

// start starts PostgreSQL, the fake Stripe and the service, and stocks the
// soak's shop.
func (h *harness) start(ctx context.Context) error {
	var err error
	if h.pg, err = startPostgres(ctx, filepath.Join(h.dir, "pgdata")); err != nil {
		return err
	}
	fmt.Fprintf(h.cfg.Progress, "soak: PostgreSQL on 127.0.0.1:%d, data and logs in %s\n", h.pg.port, h.dir)

	port, err := freePort()
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	token, secret := randomHex("soak-token-"), randomHex("whsec_soak")
	h.api = newCaller(base, token, h.rec, 10*time.Second)
	h.probe = newCaller(base, token, h.rec, time.Second)
	// Deliveries go on until the checks begin.
	var deliverCtx context.Context
	deliverCtx, h.stopDelivery = context.WithCancel(ctx)
	h.deliver = newDeliverer(deliverCtx, h.api, secret, h.cfg.Seed)
	h.stripe = newFakeStripe(h.deliver.enqueue)
	var stripeBase string
	if stripeBase, err = h.stripe.serve(); err != nil {
		return err
	}

	logFile, err := os.Create(filepath.Join(h.dir, "checkoutd.log"))
	if err != nil {
		return fmt.Errorf("create service log: %w", err)
	}
	h.svc = &service{bin: h.cfg.Binary, log: logFile, base: base, env: []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"DATABASE_URL=" + h.pg.url(),
		fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port),
		"INVENTORY_MODE=reserve_ttl",
		fmt.Sprintf("INVENTORY_HOLD_TTL_SECONDS=%d", int(h.cfg.HoldTTL/time.Second)),
		"REAPER_INTERVAL=" + h.cfg.ReaperInterval.String(),
		"LOW_STOCK_CHECK_INTERVAL=1s",
		"INVENTORY_AUTHORITY_TOKEN=" + token,
		"STRIPE_SECRET_KEY=sk_test_soak",
		"STRIPE_API_BASE=" + stripeBase,
		"STRIPE_WEBHOOK_SECRET=" + secret,
		"STRIPE_REFUND_OVERSOLD=1",
	}}
	h.svc.onCrash = func() {
		select {
		case h.crashed <- struct{}{}:
		default:
		}
	}
	if err := h.svc.runOnce(ctx, "migrate"); err != nil {
		return err
	}
	if err := h.svc.runOnce(ctx, "shops", "create", shopID, "--name", "Soak"); err != nil {
		return err
	}
	if h.db, err = pgxpool.New(ctx, h.pg.url()); err != nil {
		return fmt.Errorf("connect to the soak's database: %w", err)
	}
	if err := h.svc.start(ctx); err != nil {
		return err
	}
	_, h.serviceStart, _ = h.svc.current()
	if err := h.setup(ctx); err != nil {
		return err
	}
	fmt.Fprintf(h.cfg.Progress, "soak: %s\n", h.adjustableState())
	return nil
}

// setup stocks the soak's shop, before any fault.
func (h *harness) setup(ctx context.Context) error {
	changes := make([]map[string]any, skuCount)
	for i := range changes {
		stock := initialStock
		if i == 0 {
			stock = hotStock
		}
		changes[i] = map[string]any{"sku": skuName(i), "variantKey": "", "locationId": "default", "op": "set", "quantity": stock, "type": "ADJUSTMENT"}
	}
	a, err := h.api.call(ctx, "setup", "POST", shopPath("/adjustments"),
		map[string]any{"reference": "soak-setup", "createdBy": "soak", "idempotencyKey": "soak-setup", "changes": changes})
	if err != nil || !a.ok() {
		return fmt.Errorf("stock the soak's shop: status %d, %v: %s", a.Status, err, a.Body)
	}
	return h.probeAdjustable(ctx)
}

// probeAdjustable finds out whether the service takes adjustable
// quantities on checkout lines, so that the soak runs against a binary from
// before them as well as after: a checkout whose adjustable line could take
// more units than the SKU has is refused 409 insufficient_stock by a
// service that holds its maximum, and 400 by one that does not know the
// field. Nothing is held or created either way.
func (h *harness) probeAdjustable(ctx context.Context) error {
	if h.cfg.NoAdjustable {
		h.adjustableWhy = "--no-adjustable"
		return nil
	}
	a, err := h.api.call(ctx, "setup", http.MethodPost, "/api/checkout/sessions", map[string]any{
		"shopId": shopID, "mode": "sale",
		"items": []map[string]any{{
			"sku": skuName(0), "variantKey": "", "quantity": 1, "name": "Soak probe", "unitAmount": 1500, "currency": "eur",
			"adjustableQuantity": map[string]any{"enabled": true, "minimum": 0, "maximum": 999},
		}},
		"successUrl": "https://shop.example/ok", "cancelUrl": "https://shop.example/cart",
	})
	if err != nil {
		return fmt.Errorf("ask whether checkoutd takes adjustable quantities: %w", err)
	}
	if a.Status == http.StatusConflict && isCode(a, "insufficient_stock") {
		h.adjustable = true
		return nil
	}
	var body struct {
		Message string `json:"message"`
	}
	_ = a.decode(&body)
	h.adjustableWhy = fmt.Sprintf("checkoutd answered %d %s", a.Status, body.Message)
	return nil
}

// load runs the clients and the faults for the duration, then drains.
func (h *harness) load(ctx context.Context) error {
	stop := make(chan struct{})
	h.runStart = time.Now()
	var clients sync.WaitGroup
	for i := range h.cfg.Clients {
		c := &client{n: i + 1, h: h, rng: rand.New(rand.NewPCG(h.cfg.Seed, uint64(i+1))), holdTTL: h.cfg.HoldTTL}
		clients.Add(1)
		go func() {
			defer clients.Done()
			c.run(ctx, stop)
		}()
	}
	faultsDone := make(chan error, 1)
	go func() { faultsDone <- h.injectFaults(ctx, stop) }()

	var faultErr error
	select {
	case <-ctx.Done():
	case <-time.After(h.cfg.Duration):
	case faultErr = <-faultsDone:
		// The soak cannot go on without a service: stop early.
		faultsDone = nil
	}
	close(stop)
	h.cancelTimers()
	if faultsDone != nil {
		faultErr = <-faultsDone
	}
	if faultErr != nil {
		clients.Wait()
		return faultErr
	}
	fmt.Fprintf(h.cfg.Progress, "soak: run over; waiting for the clients, then draining for %v\n", h.cfg.Drain)
	clients.Wait()
	if err := h.drain(ctx); err != nil {
		return err
	}
	return ctx.Err()
}

// schedule runs fn after d, unless the run is over by then.
func (h *harness) schedule(d time.Duration, fn func()) {
	h.timersMu.Lock()
	defer h.timersMu.Unlock()
	if h.timersOff {
		return
	}
	h.timers = append(h.timers, time.AfterFunc(d, fn))
}

// cancelTimers stops what schedule has not run yet: customers who had not
// paid when the run ended never will.
func (h *harness) cancelTimers() {
	h.timersMu.Lock()
	defer h.timersMu.Unlock()
	for _, t := range h.timers {
		t.Stop()
	}
	h.timers, h.timersOff = nil, true
}

// shutdown stops the deliveries, the service, the fake Stripe and
// PostgreSQL.
func (h *harness) shutdown() {
	if h.stopDelivery != nil {
		h.stopDelivery()
		h.deliver.close()
	}
	if h.svc != nil {
		if err := h.svc.stop(); err != nil {
			fmt.Fprintf(h.cfg.Progress, "soak: %v\n", err)
		}
		h.svc.log.Close()
	}
	if h.stripe != nil {
		h.stripe.close()
	}
	if h.db != nil {
		h.db.Close()
	}
	if h.pg != nil {
		if err := h.pg.stop(context.Background()); err != nil {
			fmt.Fprintf(h.cfg.Progress, "soak: stop PostgreSQL: %v\n", err)
		}
	}
}

// randomHex returns prefix and 32 random hex digits.
func randomHex(prefix string) string {
	b := make([]byte, 16)
	_, _ = crand.Read(b)
	return prefix + hex.EncodeToString(b)
}
