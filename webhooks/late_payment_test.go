package webhooks_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/webhooks"
)

// closeHold gives up a checkout's hold before the payment arrives, the two
// ways it happens: released (by hand, or a checkout that gave up), or
// lapsed (its expires_at passed; nobody has closed it yet).
type closeHold struct {
	name string
	// status is what the hold's row says once the late payment was handled.
	status string
	close  func(t *testing.T, f *fixture, holdID string)
}

var closeHolds = []closeHold{
	{"released", "released", func(t *testing.T, f *fixture, holdID string) {
		t.Helper()
		if _, err := f.ledger.Release(context.Background(), f.shopID, holdID, "test"); err != nil {
			t.Fatal(err)
		}
	}},
	{"lapsed", "expired", func(t *testing.T, f *fixture, holdID string) {
		t.Helper()
		lapse(t, f, holdID)
	}},
}

// lapse moves a hold's expiry into the past, as if its time ran out.
func lapse(t *testing.T, f *fixture, holdID string) {
	t.Helper()
	tag, err := f.pool.Exec(context.Background(),
		"UPDATE holds SET expires_at = now() - interval '1 second' WHERE shop_id = $1 AND id = $2", f.shopID, holdID)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("lapse hold %s: %v (%d rows)", holdID, err, tag.RowsAffected())
	}
}

// A payment that arrives after the hold was released or lapsed, while the
// stock is still there, sells it again: a new committed hold, the original
// left closed, the checkout completed.
func TestPaidAfterHoldClosedSellsAgain(t *testing.T) {
	t.Parallel()
	for _, how := range closeHolds {
		t.Run(how.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkoutd.ModeReserveTTL)
			s := f.checkout(t, 2)
			original := *s.ReservationID
			how.close(t, f, original)

			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
				t.Fatalf("late payment: %s, want committed", out)
			}
			if status, _ := f.holdRow(t, original); status != how.status {
				t.Errorf("original hold %q, want %q", status, how.status)
			}
			c := f.checkoutOf(t, s)
			if c.Status != "completed" {
				t.Errorf("checkout status %q, want completed", c.Status)
			}
			if c.HoldID == nil || *c.HoldID == original {
				t.Fatalf("checkout hold %v, want the new sale's hold", c.HoldID)
			}
			if status, _ := f.holdRow(t, *c.HoldID); status != "committed" {
				t.Errorf("new hold %q, want committed", status)
			}
			sales := f.sales(t)
			if want := map[string][2]int64{*c.HoldID: {1, 2}}; !reflect.DeepEqual(sales, want) {
				t.Errorf("SALE movements (count, units) by hold %v, want %v", sales, want)
			}
			if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
				t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
			}
			// Redelivered, or followed by async_payment_succeeded: nothing more.
			before := f.snapshot(t)
			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != webhooks.Duplicate {
				t.Errorf("redelivered: %s, want duplicate", out)
			}
			if out := f.deliver(t, "evt_late2", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, s, "paid"); out != checkout.Unchanged {
				t.Errorf("another paid event: %s, want unchanged", out)
			}
			f.assertUnchanged(t, before)
			f.shop.RequireLedgerClean(t)
		})
	}
}

// A delayed payment whose pending_payment hold lapsed before it succeeded
// sells the stock again too.
func TestAsyncPaymentAfterPendingHoldLapsed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	s := f.checkout(t, 2)
	if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != checkout.AwaitingPayment {
		t.Fatalf("completed/unpaid: %s, want awaiting_payment", out)
	}
	lapse(t, f, *s.ReservationID)
	if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, s, "paid"); out != checkout.Committed {
		t.Fatalf("async_payment_succeeded: %s, want committed", out)
	}
	if status, _ := f.holdRow(t, *s.ReservationID); status != "expired" {
		t.Errorf("original hold %q, want expired", status)
	}
	if c := f.checkoutOf(t, s); c.Status != "completed" || c.HoldID == nil || *c.HoldID == *s.ReservationID {
		t.Errorf("checkout %+v, want completed on a new hold", c)
	}
	if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
	}
	f.shop.RequireLedgerClean(t)
}

// A payment that arrives after the hold was released or lapsed and its stock
// sold to someone else is recorded as an oversold order with the shortfall;
// the stock is not oversold.
func TestPaidAfterStockGoneIsOversold(t *testing.T) {
	t.Parallel()
	for _, how := range closeHolds {
		t.Run(how.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, checkoutd.ModeReserveTTL)
			f.shop.Stock(t, "B", 1)
			late := f.checkoutFor(t, inventory.Line{SKU: "A", Quantity: 4}, inventory.Line{SKU: "B", Quantity: 1})
			original := *late.ReservationID
			how.close(t, f, original)
			// Someone else buys 3 of A: 2 are left of the 4 the late customer
			// pays for. B is untouched.
			other := f.checkout(t, 3)
			if out := f.deliver(t, "evt_other", stripe.EventTypeCheckoutSessionCompleted, other, "paid"); out != checkout.Committed {
				t.Fatalf("the other checkout: %s, want committed", out)
			}
			stockBefore := [2][2]int64{}
			stockBefore[0][0], stockBefore[0][1] = f.stockOf(t, "A")
			stockBefore[1][0], stockBefore[1][1] = f.stockOf(t, "B")
			salesBefore := f.sales(t)

			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, late, "paid"); out != checkout.Oversold {
				t.Fatalf("late payment: %s, want oversold", out)
			}
			c := f.checkoutOf(t, late)
			if c.Status != "oversold" {
				t.Errorf("checkout status %q, want oversold", c.Status)
			}
			if c.PaymentIntentID == nil || *c.PaymentIntentID != "pi_evt_late" {
				t.Errorf("checkout payment_intent_id %v, want pi_evt_late", c.PaymentIntentID)
			}
			if status, _ := f.holdRow(t, original); status != how.status {
				t.Errorf("original hold %q, want %q", status, how.status)
			}

			var checkoutID, session, eventID string
			var paymentIntent *string
			var linesJSON, shortJSON []byte
			var refund bool
			err := f.pool.QueryRow(ctx, `SELECT checkout_id, stripe_session_id, payment_intent_id, event_id, lines, shortfall, refund_requested
				FROM oversold_orders WHERE shop_id = $1`, f.shopID).Scan(&checkoutID, &session, &paymentIntent, &eventID, &linesJSON, &shortJSON, &refund)
			if err != nil {
				t.Fatalf("oversold order: %v", err)
			}
			if checkoutID != c.ID || session != late.ID || eventID != "evt_late" || paymentIntent == nil || *paymentIntent != "pi_evt_late" || refund {
				t.Errorf("oversold order: checkout %s, session %s, event %s, payment intent %v, refund %v", checkoutID, session, eventID, paymentIntent, refund)
			}
			var shortfall []inventory.Shortfall
			if err := json.Unmarshal(shortJSON, &shortfall); err != nil {
				t.Fatal(err)
			}
			if want := []inventory.Shortfall{{SKU: "A", Requested: 4, Available: 2}}; !reflect.DeepEqual(shortfall, want) {
				t.Errorf("shortfall %s, want %+v", shortJSON, want)
			}
			var lines []inventory.Line
			if err := json.Unmarshal(linesJSON, &lines); err != nil {
				t.Fatal(err)
			}
			if want := []inventory.Line{{SKU: "A", Quantity: 4}, {SKU: "B", Quantity: 1}}; !reflect.DeepEqual(lines, want) {
				t.Errorf("lines %s, want %+v", linesJSON, want)
			}

			// Nothing was sold, nothing oversold: not even B, which was there.
			stockAfter := [2][2]int64{}
			stockAfter[0][0], stockAfter[0][1] = f.stockOf(t, "A")
			stockAfter[1][0], stockAfter[1][1] = f.stockOf(t, "B")
			if stockAfter != stockBefore || stockAfter != [2][2]int64{{2, 0}, {1, 0}} {
				t.Errorf("stock (on hand, reserved) of A and B %v, want %v and [[2 0] [1 0]]", stockAfter, stockBefore)
			}
			if sales := f.sales(t); !reflect.DeepEqual(sales, salesBefore) {
				t.Errorf("SALE movements %v, want only the other checkout's %v", sales, salesBefore)
			}
			var negative int
			if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM stock_levels WHERE shop_id = $1 AND (on_hand < reserved OR on_hand < 0 OR reserved < 0)",
				f.shopID).Scan(&negative); err != nil || negative != 0 {
				t.Errorf("oversold stock rows: %d, %v", negative, err)
			}

			// Redelivered, or another paid event: no second order.
			before := f.snapshot(t)
			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, late, "paid"); out != webhooks.Duplicate {
				t.Errorf("redelivered: %s, want duplicate", out)
			}
			if out := f.deliver(t, "evt_late2", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, late, "paid"); out != checkout.Unchanged {
				t.Errorf("another paid event: %s, want unchanged", out)
			}
			if out := f.deliver(t, "evt_late3", stripe.EventTypeCheckoutSessionExpired, late, "unpaid"); out != checkout.Unchanged {
				t.Errorf("a stale expired event: %s, want unchanged", out)
			}
			f.assertUnchanged(t, before)
			if got := f.recorded(t)["evt_late"]; got != (recordedEvent{1, "oversold"}) {
				t.Errorf("inbox %+v, want one row, oversold", got)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}
