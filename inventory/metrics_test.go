package inventory_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// The counters move with what happens to holds, so the commit rate and the
// expiry rate can be read off them.
//
// Not parallel: a concurrent test's reaper would close the lapsed hold, and
// count it on its own ledger's metrics.
func TestMetricsCountHoldOutcomes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 3)
	reg := prometheus.NewRegistry()
	l := inventory.NewLedger(testdb.Pool(t), inventory.Config{Metrics: inventory.NewMetrics(reg), Logger: slog.New(slog.DiscardHandler)})

	reserve := func() *inventory.Hold {
		t.Helper()
		h, _, err := l.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 1}}, TTL: time.Hour})
		if err != nil {
			t.Fatalf("reserve: %v", err)
		}
		return h
	}
	committed, released, lapsed := reserve(), reserve(), reserve()
	if _, err := l.Commit(ctx, f.shopID, committed.ID, "order"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Release(ctx, f.shopID, released.ID, "abandoned"); err != nil {
		t.Fatal(err)
	}
	if _, err := testdb.Pool(t).Exec(ctx, "UPDATE holds SET expires_at = now() - interval '1 second' WHERE shop_id = $1 AND id = $2", f.shopID, lapsed.ID); err != nil {
		t.Fatal(err)
	}
	// Committing the lapsed hold is refused and closes it on the way.
	if _, err := l.Commit(ctx, f.shopID, lapsed.ID, "late"); !errors.As(err, new(*inventory.HoldNotActiveError)) {
		t.Fatalf("commit of a lapsed hold: %v, want hold not active", err)
	}
	if _, _, err := l.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 3}}, TTL: time.Hour}); !errors.As(err, new(*inventory.InsufficientStockError)) {
		t.Fatalf("reserve of 3 with 2 on hand: %v, want insufficient stock", err)
	}

	for name, want := range map[string]float64{
		"checkoutd_holds_created_total":                 3,
		"checkoutd_holds_committed_total":               1,
		"checkoutd_holds_released_total":                1,
		"checkoutd_holds_expired_total":                 1,
		"checkoutd_insufficient_stock_rejections_total": 1,
	} {
		if got, err := testutil.GatherAndCount(reg, name); err != nil || got != 1 {
			t.Errorf("%s: %d series, %v", name, got, err)
			continue
		}
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == name {
				if got := mf.GetMetric()[0].GetCounter().GetValue(); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		}
	}
}
