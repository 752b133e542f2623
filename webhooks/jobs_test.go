package webhooks_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/jobs"
	"github.com/checkoutd/checkoutd/webhooks"
)

// An order paid after its stock was gone is recorded as oversold, and its
// alert and refund jobs are enqueued in the same transaction.
func TestOversoldEnqueuesAlertAndRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)
	f := newFixture(t, checkoutd.ModeReserveTTL)
	jobClient, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.processor = webhooks.NewProcessor(pool, checkout.NewSettler(f.ledger, checkout.SettleConfig{Jobs: jobs.NewEnqueuer(jobClient), RefundOversold: true}), webhooks.Config{Logger: slog.New(slog.DiscardHandler)})

	s := f.checkout(t, 2)
	if _, err := f.ledger.Release(ctx, f.shopID, *s.ReservationID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpSet, Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	if out := f.deliver(t, "evt_oversold", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Oversold {
		t.Fatalf("paid with 1 of 2 left: %s, want oversold", out)
	}

	var refund bool
	if err := pool.QueryRow(ctx, "SELECT refund_requested FROM oversold_orders WHERE shop_id = $1", f.shopID).Scan(&refund); err != nil || !refund {
		t.Errorf("oversold order: refund_requested %v, %v", refund, err)
	}
	rows, err := pool.Query(ctx, "SELECT kind FROM river_job WHERE args->>'shop_id' = $1 ORDER BY kind", f.shopID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, k)
	}
	if len(kinds) != 2 || kinds[0] != "oversold_alert" || kinds[1] != "refund_oversold" {
		t.Errorf("jobs enqueued: %v, want oversold_alert and refund_oversold", kinds)
	}
	if onHand, reserved := f.stock(t); onHand != 1 || reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want the stock untouched: 1 and 0", onHand, reserved)
	}
}
