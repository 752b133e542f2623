package jobs_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/jobs"
)

const (
	benchHolds = 100_000
	benchSKUs  = 100
)

// benchSeed loads n lapsed holds of one unit each, spread over the shop's
// BULK-i lines, each with a Stripe session as a checkout's hold has (unless
// withSessions is false), booked
// as Reserve books them (allocation, RESERVATION movement, reserved) so the
// ledger stays consistent.
func benchSeed(b *testing.B, f *fixture, round, n int, withSessions bool) {
	b.Helper()
	ctx := context.Background()
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	prefix := fmt.Sprintf("hold_bench%d_", round)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		// Lapsed a second to a minute ago, like a backlog built up while no
		// reaper ran.
		{`INSERT INTO holds (shop_id, id, status, expires_at, reference, checkout_session_id, checkout_mode)
		  SELECT $1, $2 || g, 'active', now() - interval '1 second' - (g % 60) * interval '1 second', 'bench',
		         CASE WHEN $4::bool THEN 'cs_' || $2 || g END, 'sale'
		  FROM generate_series(1, $3::int) g`, []any{f.shopID, prefix, n, withSessions}},
		{`INSERT INTO hold_allocations (shop_id, hold_id, sku, variant_key, location_id, quantity)
		  SELECT $1, $2 || g, 'BULK-' || (g % $4::int), '', 'default', 1 FROM generate_series(1, $3::int) g`,
			[]any{f.shopID, prefix, n, benchSKUs}},
		{`INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, hold_id)
		  SELECT $1, 'BULK-' || (g % $4::int), '', 'default', 'RESERVATION', 1, 'bench', $2 || g FROM generate_series(1, $3::int) g`,
			[]any{f.shopID, prefix, n, benchSKUs}},
		{`UPDATE stock_levels s SET reserved = s.reserved + k.n
		  FROM (SELECT 'BULK-' || (g % $3::int) AS sku, count(*) AS n FROM generate_series(1, $2::int) g GROUP BY 1) k
		  WHERE s.shop_id = $1 AND s.sku = k.sku AND s.location_id = 'default'`, []any{f.shopID, n, benchSKUs}},
	} {
		if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	// Statistics as autoanalyze would have them for a backlog this size.
	if _, err := f.pool.Exec(ctx, "ANALYZE holds, hold_allocations, stock_levels"); err != nil {
		b.Fatal(err)
	}
}

// timedReap is the reaper, timed.
type timedReap struct {
	river.WorkerDefaults[jobs.ReapArgs]
	inner *jobs.ReapWorker
	took  time.Duration
}

func (w *timedReap) Work(ctx context.Context, job *river.Job[jobs.ReapArgs]) error {
	start := time.Now()
	err := w.inner.Work(ctx, job)
	w.took = time.Since(start)
	return err
}

// hotReserver places and releases one-unit holds on the HOT line in a loop,
// recording how long each Reserve takes.
type hotReserver struct {
	f    *fixture
	mu   sync.Mutex
	lat  []time.Duration
	errs atomic.Int64
}

func (h *hotReserver) run(ctx context.Context) {
	for ctx.Err() == nil {
		start := time.Now()
		hold, _, err := h.f.ledger.Reserve(context.Background(), h.f.shopID, inventory.ReserveRequest{
			Items: []inventory.Line{{SKU: "HOT", Quantity: 1}}, TTL: time.Minute,
		})
		took := time.Since(start)
		if err != nil {
			h.errs.Add(1)
			continue
		}
		h.mu.Lock()
		h.lat = append(h.lat, took)
		h.mu.Unlock()
		if _, err := h.f.ledger.Release(context.Background(), h.f.shopID, hold.ID, "bench"); err != nil {
			h.errs.Add(1)
		}
	}
}

// take returns the latencies recorded since the last take.
func (h *hotReserver) take() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.lat
	h.lat = nil
	slices.Sort(l)
	return l
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

// BenchmarkReap100k times one reap job (ReapWorker, through River) over a
// backlog of 100,000 lapsed holds: checkout holds, every one with a Stripe
// session, so the reap also enqueues 100,000 session expiry jobs; and for
// comparison holds without sessions. Meanwhile a caller places holds on an
// unrelated hot line, and its Reserve latency is reported next to the same
// caller's latency just before the reap (idle).
//
//	go test -run '^$' -bench Reap100k -benchtime 1x ./jobs/
//
// Run it alone: the reaper closes the lapsed holds of every shop.
func BenchmarkReap100k(b *testing.B) {
	b.Run("sessions", func(b *testing.B) { benchReap(b, true) })
	b.Run("no-sessions", func(b *testing.B) { benchReap(b, false) })
}

func benchReap(b *testing.B, withSessions bool) {
	f := newFixture(b)
	ctx := context.Background()
	for i := 0; i < benchSKUs; i += inventory.MaxItems {
		var changes []inventory.StockChange
		for j := i; j < i+inventory.MaxItems && j < benchSKUs; j++ {
			changes = append(changes, inventory.StockChange{SKU: fmt.Sprintf("BULK-%d", j), Op: inventory.OpSet, Quantity: benchHolds / benchSKUs})
		}
		if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Reference: "bench", Changes: changes}); err != nil {
			b.Fatal(err)
		}
	}
	f.shop.Stock(b, "HOT", 1_000_000)

	var reapTime time.Duration
	var during, baseline []time.Duration
	var hotErrs int64
	for round := 0; round < b.N; round++ {
		b.StopTimer()
		seedStart := time.Now()
		benchSeed(b, f, round, benchHolds, withSessions)
		b.Logf("seeded %d lapsed holds in %s", benchHolds, time.Since(seedStart).Round(time.Millisecond))

		hot := &hotReserver{f: f}
		hotCtx, stopHot := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { hot.run(hotCtx) })
		time.Sleep(time.Second)
		baseline = append(baseline, hot.take()...)

		w := &timedReap{inner: jobs.NewReapWorker(f.pool, f.ledger)}
		b.StartTimer()
		o := runWorker(b, f.pool, river.Worker[jobs.ReapArgs](w), jobs.ReapArgs{})
		b.StopTimer()
		stopHot()
		wg.Wait()
		during = append(during, hot.take()...)
		hotErrs += hot.errs.Load()
		if !o.Completed {
			b.Fatalf("reap job %+v, want completed", o)
		}
		reapTime += w.took

		var open, sessionJobs int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM holds WHERE shop_id = $1 AND id LIKE 'hold_bench%' AND status <> 'expired'`, f.shopID).Scan(&open); err != nil || open != 0 {
			b.Fatalf("%d bench holds not expired (%v)", open, err)
		}
		wantJobs := 0
		if withSessions {
			wantJobs = benchHolds * (round + 1)
		}
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'expire_checkout_session' AND args->>'shop_id' = $1`, f.shopID).Scan(&sessionJobs); err != nil || sessionJobs != wantJobs {
			b.Fatalf("%d session expiry jobs, want %d (%v)", sessionJobs, wantJobs, err)
		}
	}
	f.shop.RequireLedgerClean(b)
	slices.Sort(during)
	slices.Sort(baseline)
	b.ReportMetric(float64(benchHolds*b.N)/reapTime.Seconds(), "holds/s")
	b.ReportMetric(reapTime.Seconds()/float64(b.N), "s/reap")
	b.ReportMetric(percentile(during, 0.50), "reserve-p50-ms")
	b.ReportMetric(percentile(during, 0.99), "reserve-p99-ms")
	b.ReportMetric(percentile(baseline, 0.50), "idle-reserve-p50-ms")
	b.ReportMetric(percentile(baseline, 0.99), "idle-reserve-p99-ms")
	b.ReportMetric(float64(len(during)), "reserves")
	if hotErrs > 0 {
		b.Errorf("%d hot-line Reserve/Release calls failed during the reap", hotErrs)
	}
}
