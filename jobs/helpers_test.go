package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
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
	shop   *inventorytest.Shop
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	pool := testdb.Pool(tb)
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: discard})
	shop := inventorytest.NewShop(tb, ledger, &inventorytest.ShopOpts{Name: "jobs test shop"})
	return &fixture{pool: pool, ledger: ledger, shopID: shop.ID, shop: shop}
}

// setSession gives holds a Stripe checkout session each (sessions[i] for
// holds[i]), as checkout.Service does.
func (f *fixture) setSession(tb testing.TB, holdIDs, sessionIDs []string) {
	tb.Helper()
	for i, id := range holdIDs {
		if err := f.ledger.AttachSession(context.Background(), f.shopID, id, sessionIDs[i], time.Now().Add(time.Hour)); err != nil {
			tb.Fatalf("attach session %s to %s: %v", sessionIDs[i], id, err)
		}
	}
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
// loadSlack multiplies every waitFor bound; see waitFor.
const loadSlack = 6

func waitFor(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	// within is how long the wait takes on an idle machine. The deadline
	// only catches what never happens, so a loaded machine (a CI run beside
	// other work) gets several times as long rather than a false failure.
	deadline := time.Now().Add(loadSlack * within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newSessions is the fake Stripe of the package's tests. Sessions it does
// not know (other tests' holds reaped by this test's reaper) are expired as
// open ones, so expiring them succeeds and leaves no retries behind.
func newSessions() *testkit.FakeStripe {
	s := testkit.NewFakeStripe()
	s.ExpireUnknown()
	return s
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
