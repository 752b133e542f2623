package alerts_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/inventory"
)

// lowLines stocks n lines of the fixture's shop and lowers each below the
// threshold, asking for a check of each.
func (f *fixture) lowLines(tb testing.TB, prefix string, n int) {
	tb.Helper()
	ctx := context.Background()
	changes := make([]inventory.StockChange, n)
	for i := range changes {
		changes[i] = inventory.StockChange{SKU: fmt.Sprintf("%s%02d", prefix, i), Op: inventory.OpSet, Quantity: 10}
	}
	if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: changes}); err != nil {
		tb.Fatal(err)
	}
	for i := range changes {
		changes[i].Op, changes[i].Quantity, changes[i].Type = inventory.OpDecrement, 6, inventory.MovementDamage
	}
	if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: changes}); err != nil {
		tb.Fatal(err)
	}
}

// checkAll runs CheckStock until no check is left, and sums what it did.
func (f *fixture) checkAll(tb testing.TB, a *alerts.Alerter) alerts.CheckResult {
	tb.Helper()
	ctx := context.Background()
	var sum alerts.CheckResult
	for {
		var res alerts.CheckResult
		err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
			var err error
			res, err = a.CheckStock(ctx, tx, 100)
			return err
		})
		if err != nil {
			tb.Fatalf("check stock: %v", err)
		}
		sum.Alerts += res.Alerts
		sum.Held += res.Held
		sum.Deliveries = append(sum.Deliveries, res.Deliveries...)
		sum.Digests = append(sum.Digests, res.Digests...)
		if res.Checked == 0 {
			return sum
		}
	}
}

func (f *fixture) raiseDigest(tb testing.TB, a *alerts.Alerter) *alerts.Raised {
	tb.Helper()
	var raised *alerts.Raised
	err := pgx.BeginFunc(context.Background(), f.pool, func(tx pgx.Tx) error {
		var err error
		raised, err = a.RaiseDigest(context.Background(), tx, f.shopID)
		return err
	})
	if err != nil {
		tb.Fatalf("raise digest: %v", err)
	}
	return raised
}

// Past its budget a shop's alerts are recorded and held: no deliveries of
// their own, one digest asked for at the window's end. The digest carries
// every held alert once, names their lines, and goes to every channel. A
// new window sends alerts on their own again.
func TestBudgetHoldsAlertsForADigest(t *testing.T) {
	f := newFixture(t)
	slack, webhook := newReceiver(t), newReceiver(t)
	a := f.alerterWithBudget(channels(slack, webhook), alerts.Budget{PerShop: 3, Window: time.Hour})
	f.lowLines(t, "B", 8)

	before := time.Now()
	res := f.checkAll(t, a)
	if res.Alerts != 8 || res.Held != 5 || len(res.Deliveries) != 6 || len(res.Digests) != 1 {
		t.Fatalf("check: %d alerts, %d held, %d deliveries, %d digests; want 8, 5, 6, 1", res.Alerts, res.Held, len(res.Deliveries), len(res.Digests))
	}
	if d := res.Digests[0]; d.ShopID != f.shopID || d.At.Before(before.Add(time.Hour-time.Minute)) || d.At.After(time.Now().Add(time.Hour)) {
		t.Errorf("digest asked for %+v, want the shop's at the window's end, an hour from now", d)
	}
	if n := f.count(t, `SELECT count(*) FROM alerts a WHERE shop_id = $1 AND held AND NOT EXISTS (
		SELECT 1 FROM alert_deliveries d WHERE d.shop_id = a.shop_id AND d.alert_id = a.id)`); n != 5 {
		t.Errorf("%d held alerts without deliveries, want 5", n)
	}

	raised := f.raiseDigest(t, a)
	if raised == nil || raised.Carries != 5 || len(raised.Deliveries) != 2 {
		t.Fatalf("digest %+v, want 5 alerts carried to 2 channels", raised)
	}
	for _, d := range raised.Deliveries {
		if err := a.Deliver(context.Background(), f.pool, d, false); err != nil {
			t.Fatal(err)
		}
	}
	var heldSKUs string
	if err := f.pool.QueryRow(context.Background(), `SELECT string_agg(sku, ', ' ORDER BY sku) FROM alerts WHERE shop_id = $1 AND held`, f.shopID).Scan(&heldSKUs); err != nil {
		t.Fatal(err)
	}
	p := webhook.accepted()[0].Body
	for _, want := range []string{`"type":"digest"`, `"alertId":"` + raised.AlertID + `"`, `"sku":null`,
		"Shop " + f.shopID + " raised 5 more low-stock alerts than its budget of 3 per 1 hour sends on their own: " +
			heldSKUs + " (see GET /api/inventory/shops/" + f.shopID + "/alerts)."} {
		if !strings.Contains(string(p), want) {
			t.Errorf("digest payload %s lacks %s", p, want)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1 AND held AND digest_id = '`+raised.AlertID+`'`); n != 5 {
		t.Errorf("%d alerts carried by the digest, want 5", n)
	}
	if again := f.raiseDigest(t, a); again != nil {
		t.Errorf("a second digest %+v, want none: every held alert is carried", again)
	}

	// The list shows which alerts were held, and by which digest they went.
	page, err := alerts.List(context.Background(), f.pool, f.shopID, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, item := range page.Items {
		if item.Held {
			held++
			if item.DigestID == nil || *item.DigestID != raised.AlertID || len(item.Deliveries) != 0 {
				t.Errorf("held alert %+v, want carried by %s with no deliveries", item, raised.AlertID)
			}
		}
	}
	if held != 5 || page.Items[0].Kind != alerts.KindDigest {
		t.Errorf("list: %d held, newest %s; want 5 held and the digest newest", held, page.Items[0].Kind)
	}

	// Later in the same window: held, and a new digest asked for.
	f.lowLines(t, "C", 1)
	if res := f.checkAll(t, a); res.Held != 1 || len(res.Digests) != 1 {
		t.Errorf("after the digest: %d held, %d digests; want 1 and 1", res.Held, len(res.Digests))
	}
	// A new window: on their own again.
	if _, err := f.pool.Exec(context.Background(), `UPDATE alert_budgets SET window_started_at = now() - interval '61 minutes' WHERE shop_id = $1`, f.shopID); err != nil {
		t.Fatal(err)
	}
	f.lowLines(t, "D", 4)
	if res := f.checkAll(t, a); res.Alerts != 4 || res.Held != 1 || len(res.Deliveries) != 6 {
		t.Errorf("new window: %d alerts, %d held, %d deliveries; want 4, 1, 6", res.Alerts, res.Held, len(res.Deliveries))
	}
}

// With no channel on nothing is sent, so nothing is held.
func TestBudgetWithoutChannels(t *testing.T) {
	f := newFixture(t)
	a := f.alerterWithBudget(alerts.Channels{}, alerts.Budget{PerShop: 1, Window: time.Hour})
	f.lowLines(t, "N", 3)
	if res := f.checkAll(t, a); res.Alerts != 3 || res.Held != 0 || len(res.Digests) != 0 {
		t.Errorf("%d alerts, %d held, %d digests; want 3, 0, 0", res.Alerts, res.Held, len(res.Digests))
	}
}

// Checkers running side by side share one budget: the shop's row counts
// every claim, so exactly the budget's worth go out on their own, and one
// digest is asked for.
func TestBudgetSharedByConcurrentCheckers(t *testing.T) {
	f := newFixture(t)
	slack, webhook := newReceiver(t), newReceiver(t)
	const lines, budget = 40, 5
	f.lowLines(t, "P", lines)
	ctx := context.Background()
	var (
		mu    sync.Mutex
		total alerts.CheckResult
		wg    sync.WaitGroup
		errs  = make(chan error, 4)
	)
	for range 4 {
		a := f.alerterWithBudget(channels(slack, webhook), alerts.Budget{PerShop: budget, Window: time.Hour})
		wg.Go(func() {
			for {
				var res alerts.CheckResult
				err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
					var err error
					res, err = a.CheckStock(ctx, tx, 3)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				total.Alerts += res.Alerts
				total.Held += res.Held
				total.Deliveries = append(total.Deliveries, res.Deliveries...)
				total.Digests = append(total.Digests, res.Digests...)
				mu.Unlock()
				if res.Checked == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rest := f.checkAll(t, f.alerterWithBudget(channels(slack, webhook), alerts.Budget{PerShop: budget, Window: time.Hour}))
	total.Alerts += rest.Alerts
	total.Held += rest.Held
	total.Deliveries = append(total.Deliveries, rest.Deliveries...)
	total.Digests = append(total.Digests, rest.Digests...)
	if total.Alerts != lines || total.Held != lines-budget || len(total.Deliveries) != 2*budget || len(total.Digests) != 1 {
		t.Errorf("%d alerts, %d held, %d deliveries, %d digests; want %d, %d, %d, 1",
			total.Alerts, total.Held, len(total.Deliveries), len(total.Digests), lines, lines-budget, 2*budget)
	}
	if n := f.count(t, `SELECT count(*) FROM alerts WHERE shop_id = $1 AND NOT held`); n != budget {
		t.Errorf("%d alerts not held, want %d", n, budget)
	}
}
