package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/jobs"
)

// These tests leave River's tables as a kill -9 of a worker process would:
// a job `running`, attempted by a client that no longer exists, and that
// client still holding River's leadership until its lease runs out. Like the
// other client tests they run without t.Parallel.

// deadClient is the River client id of the killed process.
const deadClient = "checkoutd_killed_2026_01_01T00_00_00_000000"

// orphan inserts args as the process that would have inserted it does, then
// marks it running since attemptedAgo on the dead client: a job fetched by a
// process that was killed before it finished. It is deleted when the test
// ends.
func orphan(t *testing.T, f *fixture, args river.JobArgs, attemptedAgo time.Duration) int64 {
	t.Helper()
	ctx := context.Background()
	inserter, err := jobs.NewInsertOnlyClient(f.pool, discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := inserter.Insert(ctx, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.UniqueSkippedAsDuplicate {
		t.Fatalf("orphan %s: skipped as a duplicate of job %d", args.Kind(), res.Job.ID)
	}
	t.Cleanup(func() { _, _ = f.pool.Exec(context.Background(), `DELETE FROM river_job WHERE id = $1`, res.Job.ID) })
	_, err = f.pool.Exec(ctx, `
		UPDATE river_job SET state = 'running', attempt = 1,
			attempted_at = now() - make_interval(secs => $2), attempted_by = ARRAY[$3::text]
		WHERE id = $1`, res.Job.ID, attemptedAgo.Seconds(), deadClient)
	if err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

// clearSingletons removes reap and check jobs earlier tests left queued, so
// the orphan is the only one.
func clearSingletons(t *testing.T, f *fixture) {
	t.Helper()
	_, err := f.pool.Exec(context.Background(), `
		DELETE FROM river_job WHERE kind IN ('reap_holds', 'check_low_stock')
		AND state NOT IN ('completed', 'cancelled', 'discarded')`)
	if err != nil {
		t.Fatal(err)
	}
}

// jobState is a job's state.
func jobState(t *testing.T, f *fixture, id int64) string {
	t.Helper()
	var st string
	if err := f.pool.QueryRow(context.Background(), `SELECT state::text FROM river_job WHERE id = $1`, id).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// A process killed while it was reaping leaves the reap job running, and
// held River's leadership. A healthy process started after it reaps again
// within REAPER_INTERVAL + 30 s: River's leadership lease (15 s) runs out,
// and the orphan does not block the periodic reap until River rescues it.
func TestReapingResumesAfterCrash(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	ctx := context.Background()
	clearSingletons(t, f)
	f.shop.Stock(t, "S", 5)
	h := f.shop.Hold(t, time.Hour, 1, "S")
	sessions := newSessions()
	sessions.Add("cs_crash")
	f.setSession(t, []string{h.ID}, []string{"cs_crash"})

	orphan(t, f, jobs.ReapArgs{}, 5*time.Second)
	// The killed process was the leader: its lease runs its full TTL.
	_, err := f.pool.Exec(ctx, `
		INSERT INTO river_leader (elected_at, expires_at, leader_id, name)
		VALUES (now() - interval '5 seconds', now() + interval '15 seconds', $1, 'default')
		ON CONFLICT (name) DO UPDATE SET elected_at = excluded.elected_at, expires_at = excluded.expires_at, leader_id = excluded.leader_id`,
		deadClient)
	if err != nil {
		t.Fatal(err)
	}

	const interval = time.Second
	start := time.Now()
	startClient(t, f, jobs.Config{Workers: 2, ReaperInterval: interval, Sessions: sessions, Refunds: &testkit.FakeRefunds{}, Logger: discard}, nil)
	inventorytest.MakeDue(t, f.pool, f.shopID, h.ID)
	waitFor(t, interval+30*time.Second, "lapsed hold reaped after the crash", func() bool {
		return inventorytest.HoldStatuses(t, f.pool, f.shopID)[h.ID] == "expired"
	})
	t.Logf("reaped %s after the healthy process started", time.Since(start).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "session of the reaped hold expired", func() bool {
		e, _ := sessions.Counts("cs_crash")
		return e == 1
	})
	f.shop.RequireLedgerClean(t)
}

// A process killed while it checked stock leaves check_low_stock running; a
// healthy process drains requested checks within LOW_STOCK_CHECK_INTERVAL +
// 30 s all the same.
func TestLowStockChecksResumeAfterCrash(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	ctx := context.Background()
	clearSingletons(t, f)
	orphan(t, f, jobs.CheckStockArgs{}, 5*time.Second)

	const interval = 500 * time.Millisecond
	startClient(t, f, jobs.Config{
		Workers: 2, ReaperInterval: time.Hour, Sessions: newSessions(), Refunds: &testkit.FakeRefunds{}, Logger: discard,
		LowStockCheckInterval: interval, LowStockAlertInterval: time.Hour,
	}, nil)
	f.shop.Stock(t, "L", 10)
	threshold := int64(5)
	if _, err := f.ledger.UpdateSettings(ctx, f.shopID, "L", "", inventory.StockSettings{LowStockThreshold: &threshold}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f.shop.Hold(t, time.Hour, 6, "L")
	waitFor(t, interval+30*time.Second, "low-stock alert raised after the crash", func() bool {
		return f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1`) == 1
	})
	t.Logf("checked %s after the hold", time.Since(start).Round(time.Millisecond))
}

// Jobs of every other kind a killed process left running are retried once
// they have run longer than any job may (the rescue bound), and not before:
// a job that started a moment ago may be running on a live process.
func TestOrphanedJobsRetried(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	sessions, refunds := newSessions(), &testkit.FakeRefunds{}
	sessions.Add("cs_orphan")
	sessions.Pay("cs_orphan_paid", "pi_orphan")
	stale := orphan(t, f, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: "hold_orphan", SessionID: "cs_orphan"}, 2*time.Minute)
	fresh := orphan(t, f, jobs.RefundOversoldArgs{ShopID: f.shopID, OversoldID: "ovs_orphan", PaymentIntentID: "pi_orphan", SessionID: "cs_orphan_paid", EventID: "evt_orphan"}, 0)

	start := time.Now()
	startClient(t, f, jobs.Config{Workers: 2, ReaperInterval: time.Hour, Sessions: sessions, Refunds: refunds, Logger: discard}, nil)
	waitFor(t, 30*time.Second, "stale orphan retried", func() bool {
		return jobState(t, f, stale) == "completed"
	})
	t.Logf("orphan of 2 minutes retried %s after the healthy process started", time.Since(start).Round(time.Millisecond))
	if e, _ := sessions.Counts("cs_orphan"); e != 1 || sessions.Status("cs_orphan") != "expired" {
		t.Errorf("orphaned session expiry: Expire called %d times, session %s; want once, expired", e, sessions.Status("cs_orphan"))
	}
	if st := jobState(t, f, fresh); st != "running" || len(refunds.Made()) != 0 {
		t.Errorf("orphan that started a moment ago: %s, %d refunds; want running, none yet", st, len(refunds.Made()))
	}
}

// The rescue bound is Config.RescueAfter: with a short one, an orphan a few
// seconds old is retried.
func TestOrphanRetriedAfterConfiguredRescue(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	refunds, sessions := &testkit.FakeRefunds{}, newSessions()
	sessions.Pay("cs_short", "pi_short")
	id := orphan(t, f, jobs.RefundOversoldArgs{ShopID: f.shopID, OversoldID: "ovs_short", PaymentIntentID: "pi_short", SessionID: "cs_short", EventID: "evt_short"}, 3*time.Second)
	startClient(t, f, jobs.Config{
		Workers: 2, ReaperInterval: time.Hour, Sessions: sessions, Refunds: refunds, Logger: discard,
		JobTimeout: time.Second, RescueAfter: 2 * time.Second,
	}, nil)
	waitFor(t, 20*time.Second, "orphan retried", func() bool { return jobState(t, f, id) == "completed" })
	if n := len(refunds.Made()); n != 1 {
		t.Errorf("%d refunds, want 1", n)
	}
}

// A rescue bound within the job timeout would run live jobs twice.
func TestRescueAfterMustExceedJobTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, cfg := range []jobs.Config{
		{JobTimeout: time.Minute, RescueAfter: time.Minute},
		{RescueAfter: 10 * time.Second},
		{JobTimeout: -time.Second},
	} {
		cfg.Workers, cfg.ReaperInterval, cfg.Logger = 1, time.Hour, discard
		if _, err := jobs.NewWorkerClient(f.pool, f.ledger, cfg); err == nil {
			t.Errorf("JobTimeout %s, RescueAfter %s: accepted", cfg.JobTimeout, cfg.RescueAfter)
		}
	}
}
