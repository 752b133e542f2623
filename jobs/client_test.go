package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/checkout/checkouttest"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/jobs"
)

// These tests run River clients that work the default queue and reap every
// shop's holds, so they run without t.Parallel, one at a time, before the
// parallel tests.

// startClient starts a worker client like checkoutd serve does, stopped
// when the test ends.
func startClient(t *testing.T, f *fixture, cfg jobs.Config, reg prometheus.Registerer) *river.Client[pgx.Tx] {
	t.Helper()
	client, err := jobs.NewWorkerClient(f.pool, f.ledger, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if reg != nil {
		jobs.ExportMetrics(ctx, client, reg)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer cancel()
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		if err := client.Stop(stopCtx); err != nil {
			t.Errorf("stop client: %v", err)
		}
	})
	return client
}

// jobCounter reads checkoutd_jobs_total{kind, outcome} from reg.
func jobCounter(t *testing.T, reg *prometheus.Registry, kind, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != "checkoutd_jobs_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// With the client running, checkouts whose 1-second holds lapse are reaped
// within a few seconds: their Stripe sessions are expired, and then their
// stock is available again. A session the customer paid just as its hold
// lapsed cannot be expired; its job settles the payment, which commits the
// hold whose stock was kept for it.
func TestWorkerClientEndToEnd(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	sessions, refunds := newSessions(), &testkit.FakeRefunds{}
	logs := &testkit.SyncBuffer{}
	reg := prometheus.NewRegistry()
	client := startClient(t, f, jobs.Config{
		Workers: 4, ReaperInterval: 200 * time.Millisecond,
		Sessions: sessions, Refunds: refunds,
		PaidSessions: checkout.NewStripeSettler(f.pool, checkout.NewSettler(f.ledger, checkout.SettleConfig{}), discard),
		Logger:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}, reg)
	ctx := context.Background()

	f.shop.Stock(t, "A", 10)
	f.shop.Stock(t, "B", 10)
	svc := checkout.NewService(f.pool, f.ledger, sessions, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: time.Second, Logger: discard})
	amount := int64(1500)
	var created []*checkout.Session
	for i := range 4 {
		s, _, err := svc.Create(ctx, checkout.Request{
			ShopID: f.shopID, Mode: "sale", IdempotencyKey: fmt.Sprintf("e2e-%d", i),
			Items: []checkout.Item{
				{SKU: "A", Quantity: 2, Name: "A", UnitAmount: &amount, Currency: "eur"},
				{SKU: "B", Quantity: 1, Name: "B", UnitAmount: &amount, Currency: "eur"},
			},
			SuccessURL: "https://shop.test/ok", CancelURL: "https://shop.test/cancel",
		})
		if err != nil {
			t.Fatalf("checkout %d: %v", i, err)
		}
		created = append(created, s)
	}
	// The last customer pays just as the hold lapses: Stripe will refuse to
	// expire that session.
	paid := created[3]
	sessions.Pay(paid.ID, "pi_e2e_paid")
	var lapse time.Time
	for _, s := range created {
		h, err := f.ledger.GetHold(ctx, f.shopID, *s.ReservationID)
		if err != nil {
			t.Fatal(err)
		}
		if h.ExpiresAt.After(lapse) {
			lapse = h.ExpiresAt
		}
	}

	waitFor(t, 8*time.Second, "holds reaped and sessions expired", func() bool {
		st := inventorytest.HoldStatuses(t, f.pool, f.shopID)
		for _, s := range created {
			want := "expired"
			if s == paid {
				want = "committed"
			}
			if st[*s.ReservationID] != want {
				return false
			}
		}
		done := 0
		for _, j := range f.sessionJobs(t) {
			if j.State == string(rivertype.JobStateCompleted) {
				done++
			}
		}
		return done == len(created)
	})
	t.Logf("holds lapsed, reaped and their sessions expired %s after the last lapsed", time.Since(lapse).Round(time.Millisecond))

	for _, sku := range []string{"A", "B"} {
		info, err := f.ledger.StockInfo(ctx, f.shopID, sku, "")
		if err != nil {
			t.Fatal(err)
		}
		onHand, reserved := f.rawReserved(t, sku)
		sold := map[string]int64{"A": 2, "B": 1}[sku]
		if info.Reserved != 0 || info.Available != 10-sold || onHand != 10-sold || reserved != 0 {
			t.Errorf("%s: StockInfo reserved %d available %d; stock_levels on hand %d reserved %d; want 0, %d, %d, 0",
				sku, info.Reserved, info.Available, onHand, reserved, 10-sold, 10-sold)
		}
	}
	for _, s := range created[:3] {
		if e, _ := sessions.Counts(s.ID); e != 1 || sessions.Status(s.ID) != stripe.CheckoutSessionStatusExpired {
			t.Errorf("session %s: expired %d times, now %s; want once, expired", s.ID, e, sessions.Status(s.ID))
		}
	}
	if e, g := sessions.Counts(paid.ID); e != 1 || g != 1 || sessions.Status(paid.ID) != stripe.CheckoutSessionStatusComplete {
		t.Errorf("paid session: Expire %d, Get %d, now %s; want 1, 1, complete", e, g, sessions.Status(paid.ID))
	}
	jobsDone := f.sessionJobs(t)
	if len(jobsDone) != len(created) {
		t.Errorf("%d session jobs, want %d", len(jobsDone), len(created))
	}
	for _, j := range jobsDone {
		if j.Attempt != 1 {
			t.Errorf("session job of hold %s took %d attempts, want 1", j.HoldID, j.Attempt)
		}
	}
	// Stock was given back once per allocation, once each session expired,
	// and the paid one's was sold: nothing else moved.
	releases, allocations := f.releaseMovements(t), f.allocations(t)
	for _, s := range created {
		want := allocations[*s.ReservationID]
		if s == paid {
			want = 0
		}
		if id := *s.ReservationID; releases[id] != want {
			t.Errorf("hold %s: %d RELEASE movements for %d allocations, want %d", id, releases[id], allocations[id], want)
		}
	}
	if n, want := f.movementCount(t), 2+2*2*len(created); n != want {
		t.Errorf("%d movements, want %d: two stock sets, and a reservation and a release or sale per allocation", n, want)
	}
	if c := checkouttest.OfSession(t, f.pool, f.shopID, paid.ID); c.Status != checkout.StatusCompleted {
		t.Errorf("paid checkout %s, want completed", c.Status)
	}
	f.shop.RequireLedgerClean(t)

	// The oversold jobs run on the same client.
	sessions.Pay("cs_e2e", "pi_e2e")
	if _, err := client.Insert(ctx, jobs.OversoldAlertArgs{ShopID: f.shopID, OversoldID: "ovs_e2e", CheckoutID: "chk_e2e"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Insert(ctx, jobs.RefundOversoldArgs{ShopID: f.shopID, OversoldID: "ovs_e2e", PaymentIntentID: "pi_e2e", SessionID: "cs_e2e", EventID: "evt_e2e"}, nil); err != nil {
		t.Fatal(err)
	}
	// A session Stripe cannot be reached about is retried.
	sessions.Add("cs_unreachable")
	sessions.FailExpire("cs_unreachable", errStripeDown)
	sessions.FailGet("cs_unreachable", errStripeDown)
	if _, err := client.Insert(ctx, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: "hold_gone", SessionID: "cs_unreachable"}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "oversold jobs and a failed session expiry", func() bool {
		e, _ := sessions.Counts("cs_unreachable")
		return len(refunds.Made()) == 1 && strings.Contains(logs.String(), "ovs_e2e") && e >= 1 &&
			jobCounter(t, reg, "refund_oversold", "completed") == 1 &&
			jobCounter(t, reg, "oversold_alert", "completed") == 1 &&
			jobCounter(t, reg, "expire_checkout_session", "retried") >= 1
	})
	if p := refunds.Made()[0]; *p.PaymentIntent != "pi_e2e" || *p.IdempotencyKey != "checkoutd-refund-evt_e2e" {
		t.Errorf("refund of %s under key %s, want pi_e2e under checkoutd-refund-evt_e2e", *p.PaymentIntent, *p.IdempotencyKey)
	}

	// ExportMetrics counted them all.
	if n := jobCounter(t, reg, "reap_holds", "completed"); n < 1 {
		t.Errorf("checkoutd_jobs_total{kind=reap_holds,outcome=completed} = %v, want > 0", n)
	}
	if n := jobCounter(t, reg, "expire_checkout_session", "completed"); n < float64(len(created)) {
		t.Errorf("checkoutd_jobs_total{kind=expire_checkout_session,outcome=completed} = %v, want >= %d", n, len(created))
	}
}

// Two workers (two checkoutd work processes) on one database: every due
// hold is expired exactly once, even with more reapers racing them, and
// every session expiry job is worked exactly once.
func TestTwoWorkerClients(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	ctx := context.Background()
	sessions := newSessions()
	if _, err := f.ledger.AddLocation(ctx, f.shopID, "wh2", "Second warehouse", 1); err != nil {
		t.Fatal(err)
	}
	// A at the default location runs out part way, so some holds take it
	// from two locations: holds have two or three allocations.
	_, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{
		{SKU: "A", Op: inventory.OpSet, Quantity: 100},
		{SKU: "A", LocationID: "wh2", Op: inventory.OpSet, Quantity: 2000},
		{SKU: "B", Op: inventory.OpSet, Quantity: 2000},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// River fetches a client's MaxWorkers jobs per FetchCooldown (100ms): some
	// 80 jobs a second for the two clients.
	const n = 160
	start := time.Now()
	holds := f.reserveMany(t, n, 4, time.Hour, 3, func(int) []string { return []string{"A", "B"} })
	t.Logf("%d holds placed in %s", n, time.Since(start).Round(time.Millisecond))
	ids := holdIDs(holds)
	sessionIDs := make([]string, n)
	for i := range sessionIDs {
		sessionIDs[i] = fmt.Sprintf("cs_two_%d", i)
		sessions.Add(sessionIDs[i])
	}
	f.setSession(t, ids, sessionIDs)

	cfg := jobs.Config{Workers: 4, ReaperInterval: 200 * time.Millisecond, Sessions: sessions, Refunds: &testkit.FakeRefunds{}, Logger: discard}
	startClient(t, f, cfg, nil)
	startClient(t, f, cfg, nil)

	// Everything lapses at once, and two more reapers join the clients'.
	inventorytest.MakeDue(t, f.pool, f.shopID, ids...)
	start = time.Now()
	var wg sync.WaitGroup
	extra := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			ev, err := runOnPrivateClient(ctx, f.pool, reapWorker(f), jobs.ReapArgs{})
			if err == nil && ev.Kind != river.EventKindJobCompleted {
				err = fmt.Errorf("extra reaper: %s", outcomeOf(ev).Err)
			}
			extra <- err
		})
	}
	waitFor(t, 15*time.Second, "every hold expired and every session job worked", func() bool {
		done := 0
		for _, j := range f.sessionJobs(t) {
			if j.State == string(rivertype.JobStateCompleted) {
				done++
			}
		}
		return done >= n
	})
	t.Logf("reaped and session jobs worked in %s", time.Since(start).Round(time.Millisecond))
	wg.Wait()
	close(extra)
	for err := range extra {
		if err != nil {
			t.Error(err)
		}
	}

	status, releases, allocations := inventorytest.HoldStatuses(t, f.pool, f.shopID), f.releaseMovements(t), f.allocations(t)
	multi := 0
	for _, id := range ids {
		if status[id] != "expired" || releases[id] != allocations[id] {
			t.Errorf("hold %s: %s with %d RELEASE movements for %d allocations; want expired, one per allocation", id, status[id], releases[id], allocations[id])
		}
		if allocations[id] > 2 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no hold took A from two locations; the test lost its point")
	}
	perHold := map[string]int{}
	for _, j := range f.sessionJobs(t) {
		perHold[j.HoldID]++
		if j.Attempt != 1 || j.State != string(rivertype.JobStateCompleted) {
			t.Errorf("session job of hold %s: %s after %d attempts, want completed after 1", j.HoldID, j.State, j.Attempt)
		}
	}
	for i, id := range ids {
		if perHold[id] != 1 {
			t.Errorf("hold %s: %d session jobs, want 1", id, perHold[id])
		}
		if e, _ := sessions.Counts(sessionIDs[i]); e != 1 {
			t.Errorf("session %s expired %d times on Stripe, want 1", sessionIDs[i], e)
		}
	}
	var workedBy int
	if err := f.pool.QueryRow(ctx, `SELECT count(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'expire_checkout_session' AND args->>'shop_id' = $1`, f.shopID).Scan(&workedBy); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d session jobs worked by %d clients", n, workedBy)
	for _, sku := range []string{"A", "B"} {
		if _, reserved := f.rawReserved(t, sku); reserved != 0 {
			t.Errorf("%s reserved %d, want 0", sku, reserved)
		}
	}
	f.shop.RequireLedgerClean(t)
}

// A reap job that failed a few times waits out River's backoff (attempt⁴
// seconds: 256s after the fourth failure) in state retryable. ReapArgs'
// uniqueness counts retryable jobs, so meanwhile every periodic reap is
// skipped as a duplicate: nothing is reaped for minutes, and the sessions of
// lapsed holds stay open for customers to pay for stock that was given back.
func TestReaperNotStalledByRetryableReap(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	ctx := context.Background()
	f.shop.Stock(t, "S", 5)
	h := f.shop.Hold(t, time.Hour, 1, "S")
	f.setSession(t, []string{h.ID}, []string{"cs_stall"})
	sessions := newSessions()
	sessions.Add("cs_stall")

	// The reap job as River leaves it after its fourth failure (say, a
	// database failover).
	inserter, err := jobs.NewInsertOnlyClient(f.pool, discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := inserter.Insert(ctx, jobs.ReapArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = f.pool.Exec(context.Background(), `DELETE FROM river_job WHERE id = $1`, res.Job.ID) })
	_, err = f.pool.Exec(ctx, `
		UPDATE river_job SET state = 'retryable', attempt = 4, attempted_at = now(),
			scheduled_at = now() + interval '256 seconds',
			errors = ARRAY['{"at":"2026-01-01T00:00:00Z","attempt":4,"error":"reap holds: database unavailable"}'::jsonb]
		WHERE id = $1`, res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}

	startClient(t, f, jobs.Config{Workers: 2, ReaperInterval: 200 * time.Millisecond, Sessions: sessions, Refunds: &testkit.FakeRefunds{}, Logger: discard}, nil)
	inventorytest.MakeDue(t, f.pool, f.shopID, h.ID)
	deadline := time.Now().Add(4 * time.Second)
	for inventorytest.HoldStatuses(t, f.pool, f.shopID)[h.ID] != "expired" {
		if time.Now().After(deadline) {
			t.Fatalf("hold not reaped within 4s with REAPER_INTERVAL 200ms: the periodic reap is skipped "+
				"as a duplicate of reap job %d, retryable for 256s more. Fix: drop rivertype.JobStateRetryable "+
				"from ReapArgs.InsertOpts' UniqueOpts.ByState (River does not require it)", res.Job.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitFor(t, 4*time.Second, "session of the reaped hold expired", func() bool {
		e, _ := sessions.Counts("cs_stall")
		return e == 1
	})
}

// jobs.Config's Logger is documented like every other Config's, whose zero
// value means slog.Default(); here a zero Logger makes the session expiry
// and alert workers panic on every attempt, so sessions are never expired
// and oversold orders never alerted.
func TestWorkerClientWithoutLogger(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	ctx := context.Background()
	sessions := newSessions()
	sessions.Add("cs_nolog")
	client, err := jobs.NewWorkerClient(f.pool, f.ledger, jobs.Config{Workers: 2, ReaperInterval: time.Hour, Sessions: sessions, Refunds: &testkit.FakeRefunds{}})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = client.Stop(stopCtx)
	})
	want := map[int64]string{}
	for _, args := range []river.JobArgs{
		jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: "hold_nolog", SessionID: "cs_nolog"},
		jobs.OversoldAlertArgs{ShopID: f.shopID, OversoldID: "ovs_nolog", CheckoutID: "chk_nolog"},
	} {
		res, err := client.Insert(ctx, args, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[res.Job.ID] = args.Kind()
	}
	timeout := time.After(5 * time.Second)
	for len(want) > 0 {
		select {
		case ev := <-events:
			kind, ok := want[ev.Job.ID]
			if !ok {
				continue
			}
			delete(want, ev.Job.ID)
			if ev.Kind != river.EventKindJobCompleted {
				var msg string
				if n := len(ev.Job.Errors); n > 0 {
					msg, _, _ = strings.Cut(ev.Job.Errors[n-1].Error, "\n")
				}
				t.Errorf("%s job with a zero Config.Logger: %s (%s); want completed. Fix: in NewWorkerClient, "+
					"if cfg.Logger == nil { cfg.Logger = slog.Default() }", kind, ev.Kind, msg)
			}
		case <-timeout:
			t.Fatalf("jobs %v not worked within 5s", want)
		}
	}
}

// The API-only process enqueues jobs in the caller's transaction (a
// webhook's) and works none.
func TestInsertOnlyClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	client, err := jobs.NewInsertOnlyClient(f.pool, discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err == nil {
		_ = client.Stop(ctx)
		t.Error("an insert-only client started working jobs")
	}
	count := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) int {
		var n int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'shop_id' = $1`, f.shopID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := client.InsertTx(ctx, tx, jobs.OversoldAlertArgs{ShopID: f.shopID, OversoldID: "ovs_tx", CheckoutID: "chk_tx"}, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(tx); n != 1 {
		t.Errorf("%d jobs inside the transaction, want 1", n)
	}
	if n := count(f.pool); n != 0 {
		t.Errorf("%d jobs visible outside the transaction before it commits, want 0", n)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(f.pool); n != 0 {
		t.Errorf("%d jobs after rollback, want 0", n)
	}
}
