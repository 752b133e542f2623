package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/jobs"
)

// One shop raising its low-stock thresholds a hundred times over (the flood
// of the fault soak, 100 settings PUTs) cannot drown the shared channels:
// with two worker clients at once, at most the default budget of 10 of its
// alerts go out on their own, another shop's alert still goes out at once,
// and when the window ends one digest carries the rest. The same line asked
// a hundred times alerts once (the per-line debounce).
func TestAlertBudgetPerShop(t *testing.T) {
	f := newFixture(t)
	f.deleteJobsAtCleanup(t)
	ctx := context.Background()
	slack, webhook := newAlertReceiver(t), newAlertReceiver(t)
	cfg := jobs.Config{
		Workers: 10, ReaperInterval: time.Hour, Sessions: newSessions(), Refunds: &testkit.FakeRefunds{}, Logger: discard,
		LowStockCheckInterval: 100 * time.Millisecond, AlertChannels: alertChannels(slack, webhook),
	}
	startClient(t, f, cfg, nil)
	startClient(t, f, cfg, nil)

	const lines = 100
	changes := []inventory.StockChange{{SKU: "SAME", Op: inventory.OpSet, Quantity: 50}}
	for i := range lines {
		changes = append(changes, inventory.StockChange{SKU: fmt.Sprintf("L%03d", i), Op: inventory.OpSet, Quantity: 50})
	}
	for _, batch := range [][]inventory.StockChange{changes[:lines/2], changes[lines/2:]} {
		if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: batch}); err != nil {
			t.Fatal(err)
		}
	}
	// 100 settings changes of distinct lines and 100 of one line, from
	// several clients at once, each raising a threshold to at or above what
	// the line has.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < lines; i += 8 {
				threshold := int64(50 + i)
				for _, sku := range []string{fmt.Sprintf("L%03d", i), "SAME"} {
					if err := updateRetryingBusy(ctx, f.ledger, f.shopID, sku, threshold); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "every requested check of the shop run", func() bool {
		return f.count(t, `SELECT count(*) FROM stock_checks WHERE shop_id = $1`) == 0 &&
			f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1 AND kind = 'low_stock'`) == lines+1
	})
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1 AND sku = 'SAME'`); n != 1 {
		t.Errorf("the line changed 100 times alerted %d times, want once", n)
	}

	// Another shop's alert goes out at once, budget or no.
	other := testdb.ShopID(t)
	if _, err := f.ledger.CreateShop(ctx, other, "quiet shop"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = f.pool.Exec(context.Background(), `DELETE FROM river_job WHERE args->>'shop_id' = $1`, other)
	})
	if _, err := f.ledger.Adjust(ctx, other, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "Q", Op: inventory.OpSet, Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	threshold := int64(1)
	if _, err := f.ledger.UpdateSettings(ctx, other, "Q", "", inventory.StockSettings{LowStockThreshold: &threshold}); err != nil {
		t.Fatal(err)
	}
	fromShop := func(r *alertReceiver, shop string) int {
		n := 0
		for _, g := range r.accepted() {
			if strings.Contains(string(g.body), "shop "+shop+":") || strings.Contains(string(g.body), "Shop "+shop+" ") {
				n++
			}
		}
		return n
	}
	start := time.Now()
	waitFor(t, 5*time.Second, "the other shop's alert on both channels", func() bool {
		return fromShop(slack, other) == 1 && fromShop(webhook, other) == 1
	})
	t.Logf("the other shop's alert delivered %s after its change", time.Since(start).Round(time.Millisecond))
	// The budget's own deliveries may still be in flight on a loaded
	// machine: wait for them, then give would-be deliveries past the
	// budget the time to show.
	waitFor(t, 5*time.Second, "the flooding shop's budget delivered on both channels", func() bool {
		return fromShop(slack, f.shopID) >= 10 && fromShop(webhook, f.shopID) >= 10
	})
	time.Sleep(300 * time.Millisecond)
	if s, w := fromShop(slack, f.shopID), fromShop(webhook, f.shopID); s != 10 || w != 10 {
		t.Fatalf("the flooding shop sent %d alerts to slack and %d to the webhook on their own, want 10 each (its budget)", s, w)
	}
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1 AND held`); n != lines+1-10 {
		t.Errorf("%d alerts held, want %d", n, lines+1-10)
	}

	// The window ends: one digest of the held alerts, on both channels.
	if n := f.count(t, `SELECT count(*) FROM river_job WHERE kind = 'alert_digest' AND args->>'shop_id' = $1 AND state = 'scheduled'`); n != 1 {
		t.Errorf("%d digest jobs scheduled, want 1", n)
	}
	if _, err := f.pool.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now() WHERE kind = 'alert_digest' AND args->>'shop_id' = $1`, f.shopID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the digest on both channels", func() bool {
		return fromShop(slack, f.shopID) == 11 && fromShop(webhook, f.shopID) == 11
	})
	digest := slack.texts(t)
	text := digest[len(digest)-1]
	for _, want := range []string{
		fmt.Sprintf("Shop %s raised %d more low-stock alerts than its budget of 10 per 10 minutes sends on their own: ", f.shopID, lines+1-10),
		" and 71 more (see GET /api/inventory/shops/" + f.shopID + "/alerts).",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("digest %q lacks %q", text, want)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM alerts a JOIN alerts d ON d.shop_id = a.shop_id AND d.id = a.digest_id AND d.kind = 'digest'
		WHERE a.shop_id = $1 AND a.held`); n != lines+1-10 {
		t.Errorf("%d held alerts carried by the digest, want %d", n, lines+1-10)
	}
	time.Sleep(200 * time.Millisecond) // would-be duplicates
	if s, w := slack.requests(), webhook.requests(); s != 12 || w != 12 {
		t.Errorf("slack got %d requests, webhook %d; want 12 each (10 + the digest + the other shop)", s, w)
	}
}

// updateRetryingBusy raises a line's threshold, retrying while the line stays
// locked past the ledger's lock budget, as an API caller told 429 would: the
// eight writers of one line contend by design, and on a loaded machine they
// can outwait the budget.
func updateRetryingBusy(ctx context.Context, ledger *inventory.Ledger, shopID, sku string, threshold int64) error {
	for {
		_, err := ledger.UpdateSettings(ctx, shopID, sku, "", inventory.StockSettings{LowStockThreshold: &threshold})
		var busy *inventory.BusyError
		if !errors.As(err, &busy) {
			return err
		}
	}
}
