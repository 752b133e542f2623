package jobs_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/jobs"
)

// expiringHoldWithSession returns a hold of 2 units of SKU "A" (stock 5)
// bound to an open session on the fake, lapsed and marked expiring as the
// reaper does: it still holds its stock. Only the hold's own shop is
// touched: no reaper runs.
func expiringHoldWithSession(t *testing.T, f *fixture, sessions *testkit.FakeStripe, sessionID string) *inventory.Hold {
	t.Helper()
	f.shop.Stock(t, "A", 5)
	h := f.shop.Hold(t, time.Hour, 2, "A")
	f.setSession(t, []string{h.ID}, []string{sessionID})
	sessions.Add(sessionID)
	inventorytest.MakeExpiring(t, f.pool, f.shopID, h.ID)
	f.requireHeld(t, h.ID, inventory.HoldExpiring, 2)
	return h
}

// requireHeld fails the test unless the hold reports status and the shop's
// SKU "A" has held units reserved, as the stock rows and as availability
// count them.
func (f *fixture) requireHeld(t *testing.T, holdID string, status inventory.HoldStatus, held int64) {
	t.Helper()
	hold, err := f.ledger.GetHold(context.Background(), f.shopID, holdID)
	if err != nil {
		t.Fatal(err)
	}
	if hold.Status != status {
		t.Errorf("hold %s, want %s", hold.Status, status)
	}
	if _, resvd := f.rawReserved(t, "A"); resvd != held {
		t.Errorf("stock rows reserve %d, want %d", resvd, held)
	}
	info, err := f.ledger.StockInfo(context.Background(), f.shopID, "A", "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Reserved != held {
		t.Errorf("availability counts %d reserved, want %d", info.Reserved, held)
	}
}

// paidSessions records the sessions the expiry job hands over as paid.
type paidSessions struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (p *paidSessions) SettleSession(_ context.Context, shopID string, sess *stripe.CheckoutSession) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, shopID+"/"+sess.ID+"/"+string(sess.Status))
	return p.err
}

// shopSnapshot is everything of a shop's stock and holds a worker could
// change.
type shopSnapshot struct {
	movements     int
	onHand, resvd int64
	holds         map[string]string
	updatedAt     time.Time
}

func snapshot(t *testing.T, f *fixture, holdID string) shopSnapshot {
	t.Helper()
	s := shopSnapshot{movements: f.movementCount(t), holds: inventorytest.HoldStatuses(t, f.pool, f.shopID)}
	s.onHand, s.resvd = f.rawReserved(t, "A")
	if err := f.pool.QueryRow(context.Background(), `SELECT updated_at FROM holds WHERE shop_id = $1 AND id = $2`, f.shopID, holdID).Scan(&s.updatedAt); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s shopSnapshot) equal(o shopSnapshot) bool {
	if s.movements != o.movements || s.onHand != o.onHand || s.resvd != o.resvd || !s.updatedAt.Equal(o.updatedAt) || len(s.holds) != len(o.holds) {
		return false
	}
	for k, v := range s.holds {
		if o.holds[k] != v {
			return false
		}
	}
	return true
}

func workExpireSession(t *testing.T, f *fixture, sessions *testkit.FakeStripe, paid jobs.PaidSessions, args jobs.ExpireSessionArgs) outcome {
	t.Helper()
	return runWorker(t, f.pool, river.Worker[jobs.ExpireSessionArgs](jobs.NewExpireSessionWorker(f.ledger, sessions, paid, discard)), args)
}

// The expiry job gives an expiring hold's stock back only once Stripe can no
// longer take payment for its session.
func TestExpireSessionWorker(t *testing.T) {
	t.Parallel()

	t.Run("expired on Stripe releases the stock", func(t *testing.T) {
		t.Parallel()
		f, sessions := newFixture(t), newSessions()
		h := expiringHoldWithSession(t, f, sessions, "cs_ok")

		o := workExpireSession(t, f, sessions, nil, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: h.ID, SessionID: "cs_ok"})
		if !o.Completed {
			t.Errorf("job %+v, want completed", o)
		}
		if e, g := sessions.Counts("cs_ok"); e != 1 || g != 0 {
			t.Errorf("Expire called %d times and Get %d, want 1 and 0", e, g)
		}
		if st := sessions.Status("cs_ok"); st != stripe.CheckoutSessionStatusExpired {
			t.Errorf("session %s, want expired", st)
		}
		f.requireHeld(t, h.ID, inventory.HoldExpired, 0)
		if st := inventorytest.ReadHold(t, f.pool, f.shopID, h.ID); st.Status != "expired" || st.ReleaseReason == nil || *st.ReleaseReason != "session_expired" {
			t.Errorf("stored hold %s (reason %v), want expired for session_expired", st.Status, st.ReleaseReason)
		}
		if n := f.releaseMovements(t)[h.ID]; n != 1 {
			t.Errorf("%d RELEASE movements for the hold, want 1", n)
		}
		// Run again (a retry after a lost acknowledgement): nothing more.
		if o := workExpireSession(t, f, sessions, nil, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: h.ID, SessionID: "cs_ok"}); !o.Completed {
			t.Errorf("second run %+v, want completed", o)
		}
		if n := f.releaseMovements(t)[h.ID]; n != 1 {
			t.Errorf("after a second run %d RELEASE movements, want 1", n)
		}
		f.shop.RequireLedgerClean(t)
	})

	// The customer paid while the hold was expiring: Stripe refuses to
	// expire a complete session, and the payment is settled at once. The
	// stock is still held for it: nothing was given back.
	t.Run("paid meanwhile is settled", func(t *testing.T) {
		t.Parallel()
		f, sessions := newFixture(t), newSessions()
		h := expiringHoldWithSession(t, f, sessions, "cs_paid")
		sessions.SetStatus("cs_paid", stripe.CheckoutSessionStatusComplete)
		paid := &paidSessions{}

		o := workExpireSession(t, f, sessions, paid, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: h.ID, SessionID: "cs_paid"})
		if !o.Completed {
			t.Errorf("job %+v, want completed (nil error)", o)
		}
		if e, g := sessions.Counts("cs_paid"); e != 1 || g != 1 {
			t.Errorf("Expire called %d times and Get %d, want 1 and 1", e, g)
		}
		if want := f.shopID + "/cs_paid/complete"; len(paid.calls) != 1 || paid.calls[0] != want {
			t.Errorf("settled %v, want [%s]", paid.calls, want)
		}
		f.requireHeld(t, h.ID, inventory.HoldExpiring, 2)
		if n := f.releaseMovements(t)[h.ID]; n != 0 {
			t.Errorf("%d RELEASE movements for the hold, want none", n)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("paid meanwhile, settling fails, is retried", func(t *testing.T) {
		t.Parallel()
		f, sessions := newFixture(t), newSessions()
		h := expiringHoldWithSession(t, f, sessions, "cs_paid_retry")
		sessions.SetStatus("cs_paid_retry", stripe.CheckoutSessionStatusComplete)
		paid := &paidSessions{err: errStripeDown}
		o := workExpireSession(t, f, sessions, paid, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: h.ID, SessionID: "cs_paid_retry"})
		if !o.Retried {
			t.Errorf("job %+v, want failed, to be retried", o)
		}
		f.requireHeld(t, h.ID, inventory.HoldExpiring, 2)
	})

	t.Run("already expired on Stripe releases the stock", func(t *testing.T) {
		t.Parallel()
		f, sessions := newFixture(t), newSessions()
		h := expiringHoldWithSession(t, f, sessions, "cs_gone")
		sessions.SetStatus("cs_gone", stripe.CheckoutSessionStatusExpired)
		o := workExpireSession(t, f, sessions, nil, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: h.ID, SessionID: "cs_gone"})
		if !o.Completed {
			t.Errorf("job %+v, want completed", o)
		}
		if e, g := sessions.Counts("cs_gone"); e != 1 || g != 1 {
			t.Errorf("Expire called %d times and Get %d, want 1 and 1", e, g)
		}
		f.requireHeld(t, h.ID, inventory.HoldExpired, 0)
		f.shop.RequireLedgerClean(t)
	})

	// Stripe failed to expire a session that is still open: the customer
	// could still pay, so the stock stays held and the job is retried.
	t.Run("still open keeps the stock and is retried", func(t *testing.T) {
		t.Parallel()
		f, sessions := newFixture(t), newSessions()
		h := expiringHoldWithSession(t, f, sessions, "cs_open")
		sessions.FailExpire("cs_open", errStripeDown)
		o := workExpireSession(t, f, sessions, nil, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: h.ID, SessionID: "cs_open"})
		if !o.Retried {
			t.Errorf("job %+v, want failed, to be retried", o)
		}
		if !strings.Contains(o.Err, "cs_open") || !strings.Contains(o.Err, errStripeDown.Error()) {
			t.Errorf("job error %q, want one naming the session and Stripe's error", o.Err)
		}
		if e, g := sessions.Counts("cs_open"); e != 1 || g != 1 {
			t.Errorf("Expire called %d times and Get %d, want 1 and 1", e, g)
		}
		f.requireHeld(t, h.ID, inventory.HoldExpiring, 2)
	})

	t.Run("Stripe unreachable keeps the stock and is retried", func(t *testing.T) {
		t.Parallel()
		f, sessions := newFixture(t), newSessions()
		h := expiringHoldWithSession(t, f, sessions, "cs_down")
		sessions.FailExpire("cs_down", errStripeDown)
		sessions.FailGet("cs_down", errStripeDown)
		o := workExpireSession(t, f, sessions, nil, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: h.ID, SessionID: "cs_down"})
		if !o.Retried || !strings.Contains(o.Err, errStripeDown.Error()) {
			t.Errorf("job %+v, want failed with Stripe's error, to be retried", o)
		}
		f.requireHeld(t, h.ID, inventory.HoldExpiring, 2)
	})

	// A committed hold's session is what the customer paid through; it is
	// never expired.
	t.Run("committed hold", func(t *testing.T) {
		t.Parallel()
		f, sessions := newFixture(t), newSessions()
		f.shop.Stock(t, "A", 5)
		h := f.shop.Hold(t, time.Hour, 2, "A")
		f.setSession(t, []string{h.ID}, []string{"cs_sold"})
		sessions.Add("cs_sold")
		if _, err := f.ledger.Commit(context.Background(), f.shopID, h.ID, "order-1"); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, f, h.ID)
		o := workExpireSession(t, f, sessions, nil, jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: h.ID, SessionID: "cs_sold"})
		if !o.Completed {
			t.Errorf("job %+v, want completed", o)
		}
		if e, g := sessions.Counts("cs_sold"); e != 0 || g != 0 {
			t.Errorf("Expire called %d times and Get %d, want never", e, g)
		}
		if after := snapshot(t, f, h.ID); !before.equal(after) {
			t.Errorf("the worker changed the shop: %+v, then %+v", before, after)
		}
	})
}

func TestRefundOversoldWorker(t *testing.T) {
	t.Parallel()
	args := jobs.RefundOversoldArgs{ShopID: "shop-1", OversoldID: "ovs_1", PaymentIntentID: "pi_123", SessionID: "cs_paid", EventID: "evt_abc"}
	paid := func() *testkit.FakeStripe {
		s := newSessions()
		s.Pay("cs_paid", "pi_123")
		return s
	}

	t.Run("refunds with the event's idempotency key", func(t *testing.T) {
		t.Parallel()
		refunds := &testkit.FakeRefunds{}
		o := runWorker(t, testdb.Pool(t), river.Worker[jobs.RefundOversoldArgs](jobs.NewRefundOversoldWorker(paid(), refunds, discard)), args)
		if !o.Completed {
			t.Fatalf("job %+v, want completed", o)
		}
		calls := refunds.Made()
		if len(calls) != 1 {
			t.Fatalf("%d refunds, want 1", len(calls))
		}
		p := calls[0]
		if p.PaymentIntent == nil || *p.PaymentIntent != "pi_123" {
			t.Errorf("refund payment intent %v, want pi_123", p.PaymentIntent)
		}
		if p.IdempotencyKey == nil || *p.IdempotencyKey != "checkoutd-refund-evt_abc" {
			t.Errorf("idempotency key %v, want checkoutd-refund-evt_abc", p.IdempotencyKey)
		}
		if p.Metadata["shop_id"] != "shop-1" || p.Metadata["oversold_id"] != "ovs_1" {
			t.Errorf("metadata %v, want shop_id and oversold_id", p.Metadata)
		}
		if p.Context == nil {
			t.Error("refund request carries no context: a stopping worker cannot cancel it")
		}
	})

	// A failed refund is retried, with the same key, so Stripe refunds once
	// however often the job runs.
	t.Run("failure is retried with the same key", func(t *testing.T) {
		t.Parallel()
		pool := testdb.Pool(t)
		refunds := &testkit.FakeRefunds{}
		refunds.Fail(errStripeDown)
		w := river.Worker[jobs.RefundOversoldArgs](jobs.NewRefundOversoldWorker(paid(), refunds, discard))
		o := runWorker(t, pool, w, args)
		if !o.Retried || !strings.Contains(o.Err, errStripeDown.Error()) || !strings.Contains(o.Err, "ovs_1") {
			t.Errorf("job %+v, want failed with Stripe's error naming the order, to be retried", o)
		}
		refunds.Fail(nil)
		if o := runWorker(t, pool, w, args); !o.Completed {
			t.Errorf("second run %+v, want completed", o)
		}
		calls := refunds.Made()
		if len(calls) != 2 || *calls[0].IdempotencyKey != *calls[1].IdempotencyKey {
			t.Errorf("%d refund attempts; their idempotency keys must match", len(calls))
		}
	})

	// Whoever holds the webhook signing secret can sign an event naming any
	// payment; only the one Stripe's session carries is ever refunded.
	t.Run("a payment the session does not carry is not refunded", func(t *testing.T) {
		t.Parallel()
		pool := testdb.Pool(t)
		for name, sessions := range map[string]*testkit.FakeStripe{"another payment": func() *testkit.FakeStripe {
			s := newSessions()
			s.Pay("cs_paid", "pi_someone_else")
			return s
		}(), "unpaid": func() *testkit.FakeStripe {
			s := newSessions()
			s.Add("cs_paid")
			return s
		}()} {
			refunds := &testkit.FakeRefunds{}
			o := runWorker(t, pool, river.Worker[jobs.RefundOversoldArgs](jobs.NewRefundOversoldWorker(sessions, refunds, discard)), args)
			if o.State != rivertype.JobStateCancelled || len(refunds.Made()) != 0 {
				t.Errorf("%s: job %+v with %d refunds, want cancelled with none", name, o, len(refunds.Made()))
			}
		}
	})

	t.Run("a session Stripe cannot be asked about is retried", func(t *testing.T) {
		t.Parallel()
		sessions := paid()
		sessions.FailGet("cs_paid", errStripeDown)
		refunds := &testkit.FakeRefunds{}
		o := runWorker(t, testdb.Pool(t), river.Worker[jobs.RefundOversoldArgs](jobs.NewRefundOversoldWorker(sessions, refunds, discard)), args)
		if !o.Retried || len(refunds.Made()) != 0 {
			t.Errorf("job %+v with %d refunds, want retried with none", o, len(refunds.Made()))
		}
	})
}

func TestOversoldAlertWorker(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	logs := &testkit.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	alerter := alerts.New(f.ledger, alerts.Config{Logger: discard})
	w := river.Worker[jobs.OversoldAlertArgs](jobs.NewOversoldAlertWorker(f.pool, alerter, logger))
	args := jobs.OversoldAlertArgs{ShopID: f.shopID, OversoldID: "ovs_1", CheckoutID: "chk_1"}
	o := runWorker(t, f.pool, w, args)
	if !o.Completed {
		t.Fatalf("job %+v, want completed", o)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
		t.Fatalf("one JSON log line expected, got %q: %v", logs.String(), err)
	}
	if line["level"] != "ERROR" || line["shop_id"] != f.shopID || line["oversold_id"] != "ovs_1" || line["checkout_id"] != "chk_1" {
		t.Errorf("alert log %v, want level ERROR with shop_id, oversold_id and checkout_id", line)
	}
	// The alert is recorded once, however often the job runs.
	if o := runWorker(t, f.pool, w, args); !o.Completed {
		t.Fatalf("second run %+v, want completed", o)
	}
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM alerts WHERE shop_id = $1 AND oversold_id = 'ovs_1'`, f.shopID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d alerts of the order, want 1", n)
	}
}

// Every job's kind is stable: jobs already queued must still find their
// worker after a deploy.
func TestJobKinds(t *testing.T) {
	t.Parallel()
	for args, want := range map[river.JobArgs]string{
		jobs.ReapArgs{}:           "reap_holds",
		jobs.ExpireSessionArgs{}:  "expire_checkout_session",
		jobs.OversoldAlertArgs{}:  "oversold_alert",
		jobs.RefundOversoldArgs{}: "refund_oversold",
	} {
		if got := args.Kind(); got != want {
			t.Errorf("%T kind %q, want %q", args, got, want)
		}
	}
}
