package checkout_test

import (
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/jobs"
)

// An order paid after its stock was gone is recorded as oversold, and its
// alert and refund jobs are enqueued through OversoldJobs in the same
// transaction.
func TestOversoldEnqueuesAlertAndRefund(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newSettleFixture(t, checkoutd.ModeReserveTTL)
	jobClient, err := river.NewClient(riverpgxv5.New(f.pool), &river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.settler = checkout.NewSettler(f.ledger, checkout.SettleConfig{Jobs: jobs.NewEnqueuer(jobClient), RefundOversold: true})

	s := f.checkout(t, 2)
	f.shop.Release(t, *s.ReservationID)
	f.stock(t, "A", "", 1)
	if out := f.deliver(t, "evt_oversold", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Oversold {
		t.Fatalf("paid with 1 of 2 left: %s, want oversold", out)
	}

	if orders := f.oversold(t); len(orders) != 1 || !orders[0].RefundRequested {
		t.Errorf("oversold orders %+v, want one with refund requested", orders)
	}
	// river_job is River's table; the shop is in the jobs' args only.
	rows, err := f.pool.Query(ctx, "SELECT kind FROM river_job WHERE args->>'shop_id' = $1 ORDER BY kind", f.shopID)
	if err != nil {
		t.Fatal(err)
	}
	kinds, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 2 || kinds[0] != "oversold_alert" || kinds[1] != "refund_oversold" {
		t.Errorf("jobs enqueued: %v, want oversold_alert and refund_oversold", kinds)
	}
	if onHand, reserved := f.level(t, "A"); onHand != 1 || reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want the stock untouched: 1 and 0", onHand, reserved)
	}
}
