package checkout_test

import (
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
)

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

// A settlement whose transaction rolls back after the ledger committed,
// released, sold or expired a hold in it counts nothing and logs nothing
// about it: the metrics and logs of the change wait for the commit
// (Settlement.Committed, and a log that holds its lines). The retry that
// commits counts and logs it once.
func TestRolledBackSettlementCountsAndLogsNothing(t *testing.T) {
	t.Parallel()
	injected := errors.New("injected failure before commit")
	for _, tc := range []struct {
		name          string
		typ           stripe.EventType
		paymentStatus string
		prepare       func(t *testing.T, f *settleFixture, s *checkout.Session)
		// want are the counters and log messages of the committed retry.
		want     map[string]float64
		wantLogs []string
	}{
		{name: "commit", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid",
			want: map[string]float64{"holds_committed_total": 1}, wantLogs: []string{"hold committed"}},
		{name: "release", typ: stripe.EventTypeCheckoutSessionExpired, paymentStatus: "unpaid",
			want: map[string]float64{"holds_expired_total": 1}, wantLogs: []string{"hold expired with its session"}},
		{name: "sell after release", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid",
			prepare: func(t *testing.T, f *settleFixture, s *checkout.Session) {
				f.shop.Release(t, *s.ReservationID)
			},
			want:     map[string]float64{"holds_created_total": 1, "holds_committed_total": 1},
			wantLogs: []string{"hold placed", "hold committed", "paid after the hold was closed"}},
		{name: "oversold after lapse", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid",
			prepare: func(t *testing.T, f *settleFixture, s *checkout.Session) {
				inventorytest.MakeSessionsDue(t, f.pool, f.shopID, *s.ReservationID)
				f.stock(t, "A", "", 1)
			},
			want:     map[string]float64{"insufficient_stock_rejections_total": 1},
			wantLogs: []string{"paid order oversold"}},
		{name: "sell after lapse", typ: stripe.EventTypeCheckoutSessionCompleted, paymentStatus: "paid",
			prepare: func(t *testing.T, f *settleFixture, s *checkout.Session) {
				inventorytest.MakeSessionsDue(t, f.pool, f.shopID, *s.ReservationID)
			},
			want:     map[string]float64{"holds_expired_total": 1, "holds_created_total": 1, "holds_committed_total": 1},
			wantLogs: []string{"hold expired", "hold placed", "hold committed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSettleFixture(t, checkoutd.ModeReserveTTL)
			s := f.checkout(t, 2)
			if tc.prepare != nil {
				tc.prepare(t, f, s)
			}
			reg := prometheus.NewRegistry()
			logs := &testkit.SyncBuffer{}
			log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ledger := inventory.NewLedger(f.pool, inventory.Config{Metrics: inventory.NewMetrics(reg), Logger: log})
			settler := checkout.NewSettler(ledger, checkout.SettleConfig{})
			ev := f.event("evt_rollback", tc.typ, s, tc.paymentStatus)

			if _, err := settleIn(t.Context(), f.pool, settler, f.shopID, ev, log, func() error { return injected }); !errors.Is(err, injected) {
				t.Fatalf("settlement with a failing commit: %v, want the injected error", err)
			}
			for name, v := range holdCounters(t, reg) {
				if v != 0 {
					t.Errorf("rolled back: %s = %v, want 0", name, v)
				}
			}
			for _, msg := range tc.wantLogs {
				if strings.Contains(logs.String(), msg) {
					t.Errorf("rolled back, yet logged %q:\n%s", msg, logs)
				}
			}

			if _, err := settleIn(t.Context(), f.pool, settler, f.shopID, ev, log, nil); err != nil {
				t.Fatal(err)
			}
			got := holdCounters(t, reg)
			for name, v := range got {
				if v != tc.want[name] {
					t.Errorf("committed: %s = %v, want %v", name, v, tc.want[name])
				}
			}
			for _, msg := range tc.wantLogs {
				if n := strings.Count(logs.String(), `"msg":"`+msg); n != 1 {
					t.Errorf("committed: %q logged %d times, want once:\n%s", msg, n, logs)
				}
			}
		})
	}
}
