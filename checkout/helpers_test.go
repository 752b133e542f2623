package checkout_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/form"

	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// fixture is a fresh shop on the package's test database with a checkout
// service whose Stripe is an in-process fake.
type fixture struct {
	pool   *pgxpool.Pool
	ledger *inventory.Ledger
	shopID string
	stripe *fakeStripe
	svc    *checkout.Service
	cfg    checkout.Config
	logs   *syncBuffer
}

// newFixture creates a shop and a Service configured by cfg (HoldTTL
// defaults to 20 minutes, the production default).
func newFixture(tb testing.TB, cfg checkout.Config) *fixture {
	tb.Helper()
	pool := testdb.Pool(tb)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: logger})
	f := &fixture{pool: pool, ledger: ledger, shopID: testdb.ShopID(tb), stripe: newFakeStripe(), logs: logs}
	if err := ledger.CreateShop(context.Background(), f.shopID, "Checkout test shop"); err != nil {
		tb.Fatalf("create shop: %v", err)
	}
	if cfg.HoldTTL == 0 {
		cfg.HoldTTL = 20 * time.Minute
	}
	cfg.Logger = logger
	f.cfg = cfg
	f.svc = checkout.NewService(pool, ledger, f.stripe, cfg)
	return f
}

// serviceOn returns a Service like f.svc that works through pool.
func (f *fixture) serviceOn(pool *pgxpool.Pool) *checkout.Service {
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: f.cfg.Logger})
	return checkout.NewService(pool, ledger, f.stripe, f.cfg)
}

// serviceWith returns a Service like f.svc that creates its sessions with
// sessions.
func (f *fixture) serviceWith(sessions stripeclient.Sessions) *checkout.Service {
	return checkout.NewService(f.pool, f.ledger, sessions, f.cfg)
}

// stock sets on_hand of a line at the default location.
func (f *fixture) stock(tb testing.TB, sku, variantKey string, onHand int64) {
	tb.Helper()
	_, err := f.ledger.Adjust(context.Background(), f.shopID, inventory.AdjustRequest{
		Reference: "fixture",
		Changes:   []inventory.StockChange{{SKU: sku, VariantKey: variantKey, Op: inventory.OpSet, Quantity: onHand}},
	})
	if err != nil {
		tb.Fatalf("stock %s[%s]: %v", sku, variantKey, err)
	}
}

func (f *fixture) info(tb testing.TB, sku, variantKey string) *inventory.StockInfo {
	tb.Helper()
	info, err := f.ledger.StockInfo(context.Background(), f.shopID, sku, variantKey)
	if err != nil {
		tb.Fatalf("stock info %s[%s]: %v", sku, variantKey, err)
	}
	return info
}

// assertReserved fails the test unless the line has reserved units reserved.
func (f *fixture) assertReserved(tb testing.TB, sku, variantKey string, reserved int64) {
	tb.Helper()
	if got := f.info(tb, sku, variantKey).Reserved; got != reserved {
		tb.Errorf("%s[%s] reserved = %d, want %d", sku, variantKey, got, reserved)
	}
}

// assertLedgerClean fails the test unless every stock row of the shop adds up.
func (f *fixture) assertLedgerClean(tb testing.TB) {
	tb.Helper()
	report, err := f.ledger.CheckLedger(context.Background(), f.shopID)
	if err != nil {
		tb.Fatalf("check ledger: %v", err)
	}
	for _, d := range report.Discrepancies {
		tb.Errorf("ledger discrepancy: %s", d)
	}
}

// request is a sale for the shop with the URLs and customer fields filled in.
func (f *fixture) request(key string, items ...checkout.Item) checkout.Request {
	return checkout.Request{
		ShopID:            f.shopID,
		Mode:              "sale",
		IdempotencyKey:    key,
		Items:             items,
		SuccessURL:        "https://shop.example/ok?cart=" + key,
		CancelURL:         "https://shop.example/cart",
		CustomerEmail:     "a@b.example",
		ClientReferenceID: "ref-" + key,
	}
}

// item is a line priced inline: 45.00 EUR a unit.
func item(sku, variantKey string, quantity int64) checkout.Item {
	return checkout.Item{
		SKU: sku, VariantKey: variantKey, Quantity: quantity,
		Name: "Linen shirt " + sku, UnitAmount: amount(4500), Currency: "eur",
	}
}

// pricedItem is a line priced by a Stripe price id.
func pricedItem(sku, variantKey string, quantity int64, price string) checkout.Item {
	return checkout.Item{SKU: sku, VariantKey: variantKey, Quantity: quantity, Price: price}
}

func amount(v int64) *int64 { return &v }

// create runs Create and fails the test on an error.
func (f *fixture) create(tb testing.TB, req checkout.Request) (*checkout.Session, bool) {
	tb.Helper()
	sess, created, err := f.svc.Create(context.Background(), req)
	if err != nil {
		tb.Fatalf("create checkout %q: %v", req.IdempotencyKey, err)
	}
	return sess, created
}

// holdRow is a hold as stored.
type holdRow struct {
	Status                   string
	CheckoutMode             *string
	CheckoutSessionID        *string
	CheckoutSessionExpiresAt *time.Time
	ExpiresAt                time.Time
	ReleaseReason            *string
}

func (f *fixture) hold(tb testing.TB, id string) holdRow {
	tb.Helper()
	var h holdRow
	err := f.pool.QueryRow(context.Background(), `
		SELECT status, checkout_mode, checkout_session_id, checkout_session_expires_at, expires_at, release_reason
		FROM holds WHERE shop_id = $1 AND id = $2`, f.shopID, id).
		Scan(&h.Status, &h.CheckoutMode, &h.CheckoutSessionID, &h.CheckoutSessionExpiresAt, &h.ExpiresAt, &h.ReleaseReason)
	if err != nil {
		tb.Fatalf("read hold %s: %v", id, err)
	}
	return h
}

// holdIDs lists the shop's holds, optionally only those with a status.
func (f *fixture) holdIDs(tb testing.TB, status string) []string {
	tb.Helper()
	rows, err := f.pool.Query(context.Background(),
		`SELECT id FROM holds WHERE shop_id = $1 AND ($2 = '' OR status = $2) ORDER BY created_at, id`, f.shopID, status)
	if err != nil {
		tb.Fatalf("list holds: %v", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatalf("list holds: %v", err)
	}
	return ids
}

// checkoutRow is a checkout record as stored.
type checkoutRow struct {
	ID              string
	Mode            string
	InventoryMode   string
	IdempotencyKey  *string
	HoldID          *string
	StripeSessionID *string
	StripeURL       *string
	ExpiresAt       *time.Time
	Status          string
}

func (f *fixture) checkouts(tb testing.TB) []checkoutRow {
	tb.Helper()
	rows, err := f.pool.Query(context.Background(), `
		SELECT id, mode, inventory_mode, idempotency_key, hold_id, stripe_session_id, stripe_url, expires_at, status
		FROM checkouts WHERE shop_id = $1 ORDER BY created_at, id`, f.shopID)
	if err != nil {
		tb.Fatalf("list checkouts: %v", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[checkoutRow])
	if err != nil {
		tb.Fatalf("list checkouts: %v", err)
	}
	return list
}

// onlyCheckout returns the shop's one checkout record.
func (f *fixture) onlyCheckout(tb testing.TB) checkoutRow {
	tb.Helper()
	list := f.checkouts(tb)
	if len(list) != 1 {
		tb.Fatalf("shop has %d checkout records, want 1: %+v", len(list), list)
	}
	return list[0]
}

func (f *fixture) exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// fakeStripe is an in-process stripeclient.Sessions that records every call and
// behaves like Stripe where checkoutd relies on it: New honours idempotency
// keys, returning the session it made for a key when the same parameters
// come again and an idempotency_error when other parameters do, and refuses
// an expires_at outside 30 minutes to 24 hours from now.
type fakeStripe struct {
	mu       sync.Mutex
	calls    []*stripe.CheckoutSessionParams
	sessions map[string]*stripe.CheckoutSession
	keys     map[string]keyRecord
	gets     []string
	expires  []string
	// before, when set, runs at the start of every New call (n counts calls
	// from 1); an error it returns is returned and nothing is created or
	// remembered, as Stripe does for a request it did not start executing.
	before func(n int, p *stripe.CheckoutSessionParams) error
	// after, when set, runs once a session was made and remembered under
	// its idempotency key; it may panic to simulate a crash.
	after func(n int, s *stripe.CheckoutSession)
}

// keyRecord is what Stripe keeps for an idempotency key.
type keyRecord struct {
	params  *stripe.CheckoutSessionParams
	encoded string
	session *stripe.CheckoutSession
}

func newFakeStripe() *fakeStripe {
	return &fakeStripe{sessions: map[string]*stripe.CheckoutSession{}, keys: map[string]keyRecord{}}
}

// encodeParams is the request body stripe-go would send for p.
func encodeParams(p *stripe.CheckoutSessionParams) string {
	values := &form.Values{}
	form.AppendTo(values, p)
	return values.Encode()
}

func (s *fakeStripe) New(p *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	s.calls = append(s.calls, p)
	n := len(s.calls)
	before := s.before
	s.mu.Unlock()

	if before != nil {
		if err := before(n, p); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	encoded := encodeParams(p)
	var key string
	if p.IdempotencyKey != nil {
		key = *p.IdempotencyKey
	}
	if rec, ok := s.keys[key]; ok && key != "" {
		s.mu.Unlock()
		if rec.encoded != encoded {
			return nil, &stripe.Error{
				HTTPStatusCode: 400, Type: stripe.ErrorTypeIdempotency,
				Msg: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", key),
			}
		}
		sess := *rec.session
		return &sess, nil
	}
	// Stripe checks expires_at when it creates a session (a replayed key
	// returns the saved session without a new check).
	if p.ExpiresAt != nil {
		now := time.Now()
		if exp := time.Unix(*p.ExpiresAt, 0); exp.Before(now.Add(30*time.Minute)) || exp.After(now.Add(24*time.Hour)) {
			s.mu.Unlock()
			return nil, &stripe.Error{
				HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest, Param: "expires_at",
				Msg: "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
			}
		}
	}
	id := fmt.Sprintf("cs_test_fake_%04d", len(s.sessions)+1)
	sess := &stripe.CheckoutSession{
		ID:                id,
		Object:            "checkout.session",
		URL:               "https://checkout.stripe.test/c/pay/" + id,
		Mode:              stripe.CheckoutSessionModePayment,
		Status:            stripe.CheckoutSessionStatusOpen,
		Metadata:          p.Metadata,
		ExpiresAt:         deref(p.ExpiresAt),
		SuccessURL:        derefString(p.SuccessURL),
		CancelURL:         derefString(p.CancelURL),
		ClientReferenceID: derefString(p.ClientReferenceID),
		CustomerEmail:     derefString(p.CustomerEmail),
	}
	s.sessions[id] = sess
	if key != "" {
		s.keys[key] = keyRecord{params: p, encoded: encoded, session: sess}
	}
	after := s.after
	s.mu.Unlock()
	if after != nil {
		after(n, sess)
	}
	out := *sess
	return &out, nil
}

func (s *fakeStripe) Get(id string, _ *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets = append(s.gets, id)
	sess, ok := s.sessions[id]
	if !ok {
		return nil, &stripe.Error{HTTPStatusCode: 404, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing}
	}
	out := *sess
	return &out, nil
}

func (s *fakeStripe) Expire(id string, _ *stripe.CheckoutSessionExpireParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expires = append(s.expires, id)
	sess, ok := s.sessions[id]
	if !ok {
		return nil, &stripe.Error{HTTPStatusCode: 404, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing}
	}
	sess.Status = stripe.CheckoutSessionStatusExpired
	out := *sess
	return &out, nil
}

// setBefore sets the hook run at the start of every New call.
func (s *fakeStripe) setBefore(fn func(n int, p *stripe.CheckoutSessionParams) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = fn
}

// setAfter sets the hook run once a session was made.
func (s *fakeStripe) setAfter(fn func(n int, s *stripe.CheckoutSession)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after = fn
}

// newCalls returns the params of every New call so far.
func (s *fakeStripe) newCalls() []*stripe.CheckoutSessionParams {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*stripe.CheckoutSessionParams(nil), s.calls...)
}

// lastCall returns the params of the last New call, failing the test if
// there was none.
func (s *fakeStripe) lastCall(tb testing.TB) *stripe.CheckoutSessionParams {
	tb.Helper()
	calls := s.newCalls()
	if len(calls) == 0 {
		tb.Fatal("Stripe was not called")
	}
	return calls[len(calls)-1]
}

// sessionCount is how many sessions the fake made.
func (s *fakeStripe) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// age makes everything Stripe remembers look as if it had happened d ago:
// the expiry sent with each remembered request moves back by d, as it would
// have been had the request been made d earlier.
func (s *fakeStripe) age(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, rec := range s.keys {
		if rec.params.ExpiresAt == nil {
			continue
		}
		p := *rec.params
		p.ExpiresAt = stripe.Int64(*rec.params.ExpiresAt - int64(d/time.Second))
		rec.session.ExpiresAt = *p.ExpiresAt
		s.keys[key] = keyRecord{params: &p, encoded: encodeParams(&p), session: rec.session}
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// timeoutError is what net/http returns when a request times out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

// stripeTimeout is the error stripe-go gives for a request to Stripe that
// timed out.
func stripeTimeout() error {
	return &url.Error{Op: "Post", URL: "https://api.stripe.com/v1/checkout/sessions", Err: timeoutError{}}
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tcpProxy forwards TCP connections to a target until killed, standing in
// for the network path to the database.
type tcpProxy struct {
	ln      net.Listener
	network string
	target  string
	mu      sync.Mutex
	conns   []net.Conn
	killed  bool
}

func startProxy(tb testing.TB, network, target string) *tcpProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy listen: %v", err)
	}
	p := &tcpProxy{ln: ln, network: network, target: target}
	go p.serve()
	tb.Cleanup(p.kill)
	return p
}

func (p *tcpProxy) addr() *net.TCPAddr { return p.ln.Addr().(*net.TCPAddr) }

func (p *tcpProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial(p.network, p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.killed {
			p.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(out, in); out.Close() }()
		go func() { _, _ = io.Copy(in, out); in.Close() }()
	}
}

// kill closes the listener and every connection: the database is gone.
func (p *tcpProxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed {
		return
	}
	p.killed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// proxiedURL returns the URL of the package's test database reached through
// a proxy the test can kill.
func proxiedURL(tb testing.TB) (string, *tcpProxy) {
	tb.Helper()
	dbURL := testdb.URL(tb)
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		tb.Fatalf("parse database URL: %v", err)
	}
	network, target := "tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		network, target = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	proxy := startProxy(tb, network, target)
	addr := proxy.addr()
	if u, err := url.Parse(dbURL); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if u.User == nil {
			u.User = url.User(cfg.User)
		}
		u.Host = addr.String()
		q := u.Query()
		q.Del("host")
		q.Del("port")
		u.RawQuery = q.Encode()
		return u.String(), proxy
	}
	// Keyword/value: a later keyword overrides an earlier one.
	return fmt.Sprintf("%s host=%s port=%d", dbURL, addr.IP, addr.Port), proxy
}
