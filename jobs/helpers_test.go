package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// The package's tests share one database, and the reaper (ExpireDue) closes
// lapsed holds of every shop in it. So:
//
//   - tests that run a reaper or a River client run without t.Parallel (Go
//     runs them one by one, before any parallel test), and assert only on
//     their own shop's holds and jobs;
//   - parallel tests never run a reaper, and the holds they leave lapsed are
//     never reaped under them;
//   - jobs are looked up by their args' shop_id, never counted globally.

// discard is a logger for code whose logs no test looks at.
var discard = slog.New(slog.DiscardHandler)

// fixture is a fresh shop on the package's test database.
type fixture struct {
	pool   *pgxpool.Pool
	ledger *inventory.Ledger
	shopID string
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	pool := testdb.Pool(tb)
	f := &fixture{pool: pool, ledger: inventory.NewLedger(pool, inventory.Config{Logger: discard}), shopID: testdb.ShopID(tb)}
	if err := f.ledger.CreateShop(context.Background(), f.shopID, "jobs test shop"); err != nil {
		tb.Fatalf("create shop: %v", err)
	}
	return f
}

// stock sets on_hand of sku at the default location.
func (f *fixture) stock(tb testing.TB, sku string, onHand int64) {
	tb.Helper()
	_, err := f.ledger.Adjust(context.Background(), f.shopID, inventory.AdjustRequest{
		Reference: "fixture",
		Changes:   []inventory.StockChange{{SKU: sku, Op: inventory.OpSet, Quantity: onHand}},
	})
	if err != nil {
		tb.Fatalf("stock %s: %v", sku, err)
	}
}

// reserve places a hold of qty on each sku for ttl.
func (f *fixture) reserve(tb testing.TB, ttl time.Duration, qty int64, skus ...string) *inventory.Hold {
	tb.Helper()
	var lines []inventory.Line
	for _, s := range skus {
		lines = append(lines, inventory.Line{SKU: s, Quantity: qty})
	}
	h, _, err := f.ledger.Reserve(context.Background(), f.shopID, inventory.ReserveRequest{Items: lines, TTL: ttl})
	if err != nil {
		tb.Fatalf("reserve %v: %v", skus, err)
	}
	return h
}

// setSession gives holds a Stripe checkout session each (sessions[i] for
// holds[i]), as checkout.Service does.
func (f *fixture) setSession(tb testing.TB, holdIDs, sessionIDs []string) {
	tb.Helper()
	_, err := f.pool.Exec(context.Background(), `
		UPDATE holds h SET checkout_session_id = k.session_id
		FROM (SELECT unnest($2::text[]) AS id, unnest($3::text[]) AS session_id) k
		WHERE h.shop_id = $1 AND h.id = k.id`, f.shopID, holdIDs, sessionIDs)
	if err != nil {
		tb.Fatalf("set sessions: %v", err)
	}
}

// makeDue makes open holds lapse a second ago.
func (f *fixture) makeDue(tb testing.TB, holdIDs ...string) {
	tb.Helper()
	tag, err := f.pool.Exec(context.Background(),
		`UPDATE holds SET expires_at = now() - interval '1 second' WHERE shop_id = $1 AND id = ANY($2)`, f.shopID, holdIDs)
	if err != nil {
		tb.Fatalf("make holds due: %v", err)
	}
	if int(tag.RowsAffected()) != len(holdIDs) {
		tb.Fatalf("make holds due: %d rows, want %d", tag.RowsAffected(), len(holdIDs))
	}
}

// statuses returns the raw status of each of the shop's holds.
func (f *fixture) statuses(tb testing.TB) map[string]string {
	tb.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT id, status FROM holds WHERE shop_id = $1`, f.shopID)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			tb.Fatal(err)
		}
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// rawReserved is stock_levels.reserved summed over the sku's locations: what
// the reaper gives back, unlike StockInfo, which stops counting a lapsed hold
// the moment it lapses.
func (f *fixture) rawReserved(tb testing.TB, sku string) (onHand, reserved int64) {
	tb.Helper()
	err := f.pool.QueryRow(context.Background(),
		`SELECT coalesce(sum(on_hand), 0)::bigint, coalesce(sum(reserved), 0)::bigint FROM stock_levels WHERE shop_id = $1 AND sku = $2`,
		f.shopID, sku).Scan(&onHand, &reserved)
	if err != nil {
		tb.Fatal(err)
	}
	return onHand, reserved
}

// requireLedgerClean fails unless every stock row of the shop adds up.
func (f *fixture) requireLedgerClean(tb testing.TB) {
	tb.Helper()
	rep, err := f.ledger.CheckLedger(context.Background(), f.shopID)
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range rep.Discrepancies {
		tb.Errorf("ledger: %s", d)
	}
}

// releaseMovements counts RELEASE movements per hold, and allocations the
// count of allocations per hold.
func (f *fixture) releaseMovements(tb testing.TB) map[string]int {
	tb.Helper()
	return f.countBy(tb, `SELECT hold_id, count(*) FROM movements WHERE shop_id = $1 AND type = 'RELEASE' GROUP BY hold_id`)
}

func (f *fixture) allocations(tb testing.TB) map[string]int {
	tb.Helper()
	return f.countBy(tb, `SELECT hold_id, count(*) FROM hold_allocations WHERE shop_id = $1 GROUP BY hold_id`)
}

func (f *fixture) countBy(tb testing.TB, query string) map[string]int {
	tb.Helper()
	rows, err := f.pool.Query(context.Background(), query, f.shopID)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			tb.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// movementCount is how many movements the shop has.
func (f *fixture) movementCount(tb testing.TB) int {
	tb.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM movements WHERE shop_id = $1`, f.shopID).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// sessionJob is an expire_checkout_session job of the shop.
type sessionJob struct {
	HoldID, SessionID, State string
	Attempt                  int
}

// sessionJobs returns the shop's expire_checkout_session jobs, in insertion
// order.
func (f *fixture) sessionJobs(tb testing.TB) []sessionJob {
	tb.Helper()
	rows, err := f.pool.Query(context.Background(), `
		SELECT args->>'hold_id', args->>'session_id', state::text, attempt
		FROM river_job WHERE kind = 'expire_checkout_session' AND args->>'shop_id' = $1 ORDER BY id`, f.shopID)
	if err != nil {
		tb.Fatal(err)
	}
	var out []sessionJob
	for rows.Next() {
		var j sessionJob
		if err := rows.Scan(&j.HoldID, &j.SessionID, &j.State, &j.Attempt); err != nil {
			tb.Fatal(err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// deleteJobsAtCleanup removes the shop's jobs once the test is over, so no
// later client works them. Register it before the clients' Stop: cleanups
// run last registered first.
func (f *fixture) deleteJobsAtCleanup(tb testing.TB) {
	tb.Cleanup(func() {
		_, _ = f.pool.Exec(context.Background(), `DELETE FROM river_job WHERE args->>'shop_id' = $1`, f.shopID)
	})
}

// outcome is what became of a job worked once.
type outcome struct {
	Completed bool
	// Retried: the worker failed and River will run the job again.
	Retried bool
	State   rivertype.JobState
	// Err is the worker's error, if any.
	Err string
}

// waitFor polls cond every 50ms until it holds or the deadline passes.
func waitFor(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fakeSessions is an in-memory Stripe Checkout Sessions API. Sessions it does
// not know (other tests' holds reaped by this test's reaper) are treated as
// open ones, so expiring them succeeds and leaves no retries behind.
type fakeSessions struct {
	mu        sync.Mutex
	n         int
	status    map[string]stripe.CheckoutSessionStatus
	expireErr map[string]error
	getErr    map[string]error
	expires   map[string]int
	gets      map[string]int
	// payments are the PaymentIntents of paid sessions.
	payments map[string]string
}

func newFakeSessions() *fakeSessions {
	return &fakeSessions{
		status:    map[string]stripe.CheckoutSessionStatus{},
		expireErr: map[string]error{},
		getErr:    map[string]error{},
		expires:   map[string]int{},
		gets:      map[string]int{},
		payments:  map[string]string{},
	}
}

// pay completes a session with the PaymentIntent pi, as a customer paying.
func (s *fakeSessions) pay(id, pi string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[id] = stripe.CheckoutSessionStatusComplete
	s.payments[id] = pi
}

// add registers an open session.
func (s *fakeSessions) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[id] = stripe.CheckoutSessionStatusOpen
}

// setStatus sets a session's status (a customer paying makes it complete).
func (s *fakeSessions) setStatus(id string, st stripe.CheckoutSessionStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[id] = st
}

// failExpire makes Expire of the session fail with err, whatever its status.
func (s *fakeSessions) failExpire(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireErr[id] = err
}

func (s *fakeSessions) failGet(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.getErr[id] = err
}

func (s *fakeSessions) counts(id string) (expires, gets int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires[id], s.gets[id]
}

func (s *fakeSessions) statusOf(id string) stripe.CheckoutSessionStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status[id]
}

func (s *fakeSessions) New(params *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	id := fmt.Sprintf("cs_test_fake%06d", s.n)
	s.status[id] = stripe.CheckoutSessionStatusOpen
	sess := &stripe.CheckoutSession{ID: id, URL: "https://checkout.stripe.test/" + id, Status: stripe.CheckoutSessionStatusOpen}
	if params.ExpiresAt != nil {
		sess.ExpiresAt = *params.ExpiresAt
	}
	return sess, nil
}

func (s *fakeSessions) Get(id string, _ *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets[id]++
	if err := s.getErr[id]; err != nil {
		return nil, err
	}
	st, ok := s.status[id]
	if !ok {
		return nil, &stripe.Error{HTTPStatusCode: 404, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeResourceMissing, Msg: "No such checkout.session: " + id}
	}
	sess := &stripe.CheckoutSession{ID: id, Status: st}
	if pi, ok := s.payments[id]; ok {
		sess.PaymentIntent = &stripe.PaymentIntent{ID: pi}
	}
	return sess, nil
}

func (s *fakeSessions) Expire(id string, _ *stripe.CheckoutSessionExpireParams) (*stripe.CheckoutSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expires[id]++
	if err := s.expireErr[id]; err != nil {
		return nil, err
	}
	st, ok := s.status[id]
	if ok && st != stripe.CheckoutSessionStatusOpen {
		// What Stripe answers for a session that is no longer open.
		return nil, &stripe.Error{HTTPStatusCode: 400, Type: stripe.ErrorTypeInvalidRequest,
			Msg: "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"" + string(st) + "\"."}
	}
	s.status[id] = stripe.CheckoutSessionStatusExpired
	return &stripe.CheckoutSession{ID: id, Status: stripe.CheckoutSessionStatusExpired}, nil
}

// fakeRefunds records refund requests.
type fakeRefunds struct {
	mu     sync.Mutex
	calls  []*stripe.RefundParams
	err    error
	nextID atomic.Int64
}

func (r *fakeRefunds) New(params *stripe.RefundParams) (*stripe.Refund, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, params)
	if r.err != nil {
		return nil, r.err
	}
	return &stripe.Refund{ID: fmt.Sprintf("re_test_%d", r.nextID.Add(1)), Status: stripe.RefundStatusSucceeded}, nil
}

func (r *fakeRefunds) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

func (r *fakeRefunds) made() []*stripe.RefundParams {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*stripe.RefundParams(nil), r.calls...)
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
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

var errStripeDown = errors.New("stripe: 503 service unavailable")

// reserveMany places n holds, hold i on lines(i) at qty units each for ttl,
// from workers goroutines; hold i is worked by goroutine i%workers, so lines
// chosen by i%workers never contend.
func (f *fixture) reserveMany(tb testing.TB, n, workers int, ttl time.Duration, qty int64, lines func(i int) []string) []*inventory.Hold {
	tb.Helper()
	holds := make([]*inventory.Hold, n)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				var items []inventory.Line
				for _, s := range lines(i) {
					items = append(items, inventory.Line{SKU: s, Quantity: qty})
				}
				h, _, err := f.ledger.Reserve(context.Background(), f.shopID, inventory.ReserveRequest{Items: items, TTL: ttl})
				if err != nil {
					errs <- fmt.Errorf("reserve hold %d: %w", i, err)
					return
				}
				holds[i] = h
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return holds
}

func holdIDs(holds []*inventory.Hold) []string {
	ids := make([]string, len(holds))
	for i, h := range holds {
		ids[i] = h.ID
	}
	return ids
}
