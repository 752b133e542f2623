package webhooks_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/webhooks"
)

// assertSold checks a checkout that was paid for through its own hold: the
// checkout completed with the payment intent, its hold committed, and one
// SALE movement taking qty.
func assertSold(t *testing.T, f *fixture, s *checkout.Session, paymentIntent string, qty int64) {
	t.Helper()
	c := f.checkoutOf(t, s)
	if c.Status != "completed" {
		t.Errorf("checkout status %q, want completed", c.Status)
	}
	if c.PaymentIntentID == nil || *c.PaymentIntentID != paymentIntent {
		t.Errorf("checkout payment_intent_id %v, want %s", c.PaymentIntentID, paymentIntent)
	}
	if c.HoldID == nil || *c.HoldID != *s.ReservationID {
		t.Errorf("checkout hold %v, want its own hold %s", c.HoldID, *s.ReservationID)
	}
	if status, _ := f.holdRow(t, *s.ReservationID); status != "committed" {
		t.Errorf("hold status %q, want committed", status)
	}
	if got := f.sales(t)[*s.ReservationID]; got != [2]int64{1, qty} {
		t.Errorf("SALE movements of the hold (count, units) %v, want [1 %d]", got, qty)
	}
}

// An event is recorded in the inbox once, with its type, session, API
// version and what it did.
func TestInboxRecordsEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	s := f.checkout(t, 2)
	if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
		t.Fatalf("outcome %s, want committed", out)
	}
	assertSold(t, f, s, "pi_evt_paid", 2)
	if got := f.recorded(t)["evt_paid"]; got != (recordedEvent{1, "committed"}) {
		t.Errorf("inbox %+v, want one row with outcome committed", got)
	}
	var apiVersion, typ string
	var session *string
	if err := f.pool.QueryRow(context.Background(), "SELECT api_version, type, stripe_session_id FROM stripe_events WHERE shop_id = $1 AND id = 'evt_paid'",
		f.shopID).Scan(&apiVersion, &typ, &session); err != nil {
		t.Fatal(err)
	}
	if apiVersion != stripe.APIVersion || typ != "checkout.session.completed" || session == nil || *session != s.ID {
		t.Errorf("inbox row: api_version %q, type %q, session %v", apiVersion, typ, session)
	}
	f.shop.RequireLedgerClean(t)
}

// An event delivered again, whatever it did the first time, is a
// duplicate: recorded once, and nothing changes.
func TestRedeliveredEventIsDuplicate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		typ           stripe.EventType
		paymentStatus string
		prepare       func(t *testing.T, f *fixture, s *checkout.Session)
		want          checkout.Outcome
	}{
		{name: "committed", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid", want: checkout.Committed},
		{name: "awaiting payment", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "unpaid", want: checkout.AwaitingPayment},
		{name: "released", typ: stripe.EventTypeCheckoutSessionExpired, paymentStatus: "unpaid", want: checkout.Released},
		{name: "sold again after release", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid", want: checkout.Committed,
			prepare: func(t *testing.T, f *fixture, s *checkout.Session) { f.shop.Release(t, *s.ReservationID) }},
		{name: "sold again after lapse", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid", want: checkout.Committed,
			prepare: func(t *testing.T, f *fixture, s *checkout.Session) {
				inventorytest.MakeSessionsDue(t, f.pool, f.shopID, *s.ReservationID)
			}},
		{name: "oversold after release", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid", want: checkout.Oversold,
			prepare: func(t *testing.T, f *fixture, s *checkout.Session) {
				f.shop.Release(t, *s.ReservationID)
				f.shop.Stock(t, "A", 1)
			}},
		{name: "oversold after lapse", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid", want: checkout.Oversold,
			prepare: func(t *testing.T, f *fixture, s *checkout.Session) {
				inventorytest.MakeSessionsDue(t, f.pool, f.shopID, *s.ReservationID)
				f.shop.Stock(t, "A", 1)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkoutd.ModeReserveTTL)
			s := f.checkout(t, 2)
			if tc.prepare != nil {
				tc.prepare(t, f, s)
			}
			if out := f.deliver(t, "evt_once", tc.typ, s, tc.paymentStatus); out != tc.want {
				t.Fatalf("first delivery: %s, want %s", out, tc.want)
			}
			before := f.snapshot(t)
			if out := f.deliver(t, "evt_once", tc.typ, s, tc.paymentStatus); out != webhooks.Duplicate {
				t.Errorf("redelivered: %s, want duplicate", out)
			}
			f.assertUnchanged(t, before)
			if got := f.recorded(t)["evt_once"]; got != (recordedEvent{1, string(tc.want)}) {
				t.Errorf("inbox %+v, want one row, %s", got, tc.want)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}

// Events checkoutd does not act on are recorded as ignored, under the shop
// their metadata names when they are about a checkout session, under shop
// ” otherwise; delivered again they are duplicates, and they change
// nothing.
func TestUnhandledEventsAreRecordedIgnored(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	s := f.checkout(t, 2)
	before := f.snapshot(t)
	for i, tc := range []struct {
		typ           stripe.EventType
		paymentStatus string
		// inbox is the shop the event is recorded under: checkoutd reads
		// the metadata of checkout sessions only, so other events go
		// under shop ''.
		inbox string
	}{
		{"payment_intent.succeeded", "paid", ""},
		{"charge.dispute.created", "paid", ""},
		{"customer.created", "", ""},
		{"checkout.session.some_future_event", "paid", f.shopID},
		{stripe.EventTypeCheckoutSessionCompleted, "processing", f.shopID},
	} {
		// Unique: shop '' is shared by every test.
		id := "evt_unknown_" + f.shopID + "_" + string(rune('a'+i))
		if out := f.deliver(t, id, tc.typ, s, tc.paymentStatus); out != checkout.Ignored {
			t.Errorf("%s (%s): %s, want ignored", tc.typ, tc.paymentStatus, out)
		}
		if got := recordedIn(t, f.pool, tc.inbox)[id]; got != (recordedEvent{1, "ignored"}) {
			t.Errorf("%s: inbox of shop %q has %+v, want one row, ignored", tc.typ, tc.inbox, got)
		}
		if out := f.deliver(t, id, tc.typ, s, tc.paymentStatus); out != webhooks.Duplicate {
			t.Errorf("%s redelivered: %s, want duplicate", tc.typ, out)
		}
	}
	f.assertUnchanged(t, before)
	// The checkout still works.
	if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
		t.Errorf("completed/paid after the ignored ones: %s, want committed", out)
	}
}

// holdCounters reads the ledger's hold counters from reg.
func holdCounters(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if m := mf.GetMetric(); len(m) == 1 && m[0].GetCounter() != nil {
			out[strings.TrimPrefix(mf.GetName(), "checkoutd_")] = m[0].GetCounter().GetValue()
		}
	}
	return out
}

// The Processor counts and logs what an event changed only once the
// inbox's transaction commits: a rollback counts and logs nothing, the
// retry that commits counts and logs it once. (Every kind of change is
// checkout's TestRolledBackSettlementCountsAndLogsNothing.)
func TestRolledBackEventCountsAndLogsNothing(t *testing.T) {
	t.Parallel()
	injected := errors.New("injected failure before commit")
	f := newFixture(t, checkoutd.ModeReserveTTL)
	s := f.checkout(t, 2)
	f.shop.Release(t, *s.ReservationID)
	reg := prometheus.NewRegistry()
	logs := &testkit.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ledger := inventory.NewLedger(f.pool, inventory.Config{Metrics: inventory.NewMetrics(reg), Logger: log})
	p := webhooks.NewProcessor(f.pool, checkout.NewSettler(ledger, checkout.SettleConfig{}), webhooks.Config{Logger: log})
	ev := f.verified(t, f.event("evt_rollback_"+f.shopID, stripe.EventTypeCheckoutSessionCompleted, s, "paid"))
	want := map[string]float64{"holds_created_total": 1, "holds_committed_total": 1}
	wantLogs := []string{"hold placed", "hold committed", "paid after the hold was closed", "stripe event processed"}

	webhooks.SetBeforeCommit(p, func() error { return injected })
	if _, err := p.Process(context.Background(), ev); !errors.Is(err, injected) {
		t.Fatalf("delivery with a failing commit: %v, want the injected error", err)
	}
	for name, v := range holdCounters(t, reg) {
		if v != 0 {
			t.Errorf("rolled back: %s = %v, want 0", name, v)
		}
	}
	for _, msg := range wantLogs {
		if strings.Contains(logs.String(), msg) {
			t.Errorf("rolled back, yet logged %q:\n%s", msg, logs)
		}
	}

	webhooks.SetBeforeCommit(p, nil)
	if _, err := p.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	for name, v := range holdCounters(t, reg) {
		if v != want[name] {
			t.Errorf("committed: %s = %v, want %v", name, v, want[name])
		}
	}
	for _, msg := range wantLogs {
		if n := strings.Count(logs.String(), `"msg":"`+msg); n != 1 {
			t.Errorf("committed: %q logged %d times, want once:\n%s", msg, n, logs)
		}
	}
}
