package checkout_test

import (
	"reflect"
	"testing"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// closeHold gives up a checkout's hold before the payment arrives, the two
// ways it happens: released (by hand, or a checkout that gave up), or
// lapsed (its expires_at passed; nobody has closed it yet).
type closeHold struct {
	name string
	// status is what the hold's row says once the late payment was handled.
	status string
	close  func(t *testing.T, f *settleFixture, holdID string)
}

var closeHolds = []closeHold{
	{"released", "released", func(t *testing.T, f *settleFixture, holdID string) {
		t.Helper()
		f.shop.Release(t, holdID)
	}},
	{"lapsed", "expired", func(t *testing.T, f *settleFixture, holdID string) {
		t.Helper()
		inventorytest.MakeSessionsDue(t, f.pool, f.shopID, holdID)
	}},
}

// A payment that arrives after the hold was released or lapsed, while the
// stock is still there, sells it again: a new committed hold, the original
// left closed, the checkout completed.
func TestPaidAfterHoldClosedSellsAgain(t *testing.T) {
	t.Parallel()
	for _, how := range closeHolds {
		t.Run(how.name, func(t *testing.T) {
			t.Parallel()
			f := newSettleFixture(t, checkoutd.ModeReserveTTL)
			s := f.checkout(t, 2)
			original := *s.ReservationID
			how.close(t, f, original)

			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
				t.Fatalf("late payment: %s, want committed", out)
			}
			if status := f.holdStatus(t, original); status != how.status {
				t.Errorf("original hold %q, want %q", status, how.status)
			}
			c := f.checkoutOf(t, s)
			if c.Status != checkout.StatusCompleted {
				t.Errorf("checkout status %q, want completed", c.Status)
			}
			if c.HoldID == nil || *c.HoldID == original {
				t.Fatalf("checkout hold %v, want the new sale's hold", c.HoldID)
			}
			if status := f.holdStatus(t, *c.HoldID); status != "committed" {
				t.Errorf("new hold %q, want committed", status)
			}
			sales := f.sales(t)
			if want := map[string][2]int64{*c.HoldID: {1, 2}}; !reflect.DeepEqual(sales, want) {
				t.Errorf("SALE movements (count, units) by hold %v, want %v", sales, want)
			}
			if onHand, reserved := f.level(t, "A"); onHand != 3 || reserved != 0 {
				t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
			}
			// Settled again, or followed by async_payment_succeeded: nothing more.
			before := f.snapshot(t)
			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Unchanged {
				t.Errorf("settled again: %s, want unchanged", out)
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
	f := newSettleFixture(t, checkoutd.ModeReserveTTL)
	s := f.checkout(t, 2)
	if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != checkout.AwaitingPayment {
		t.Fatalf("completed/unpaid: %s, want awaiting_payment", out)
	}
	inventorytest.MakeDue(t, f.pool, f.shopID, *s.ReservationID)
	if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, s, "paid"); out != checkout.Committed {
		t.Fatalf("async_payment_succeeded: %s, want committed", out)
	}
	if status := f.holdStatus(t, *s.ReservationID); status != "expired" {
		t.Errorf("original hold %q, want expired", status)
	}
	if c := f.checkoutOf(t, s); c.Status != checkout.StatusCompleted || c.HoldID == nil || *c.HoldID == *s.ReservationID {
		t.Errorf("checkout %+v, want completed on a new hold", c)
	}
	if onHand, reserved := f.level(t, "A"); onHand != 3 || reserved != 0 {
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
			f := newSettleFixture(t, checkoutd.ModeReserveTTL)
			f.stock(t, "B", "", 1)
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
			stockBefore[0][0], stockBefore[0][1] = f.level(t, "A")
			stockBefore[1][0], stockBefore[1][1] = f.level(t, "B")
			salesBefore := f.sales(t)

			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, late, "paid"); out != checkout.Oversold {
				t.Fatalf("late payment: %s, want oversold", out)
			}
			c := f.checkoutOf(t, late)
			if c.Status != checkout.StatusOversold {
				t.Errorf("checkout status %q, want oversold", c.Status)
			}
			if c.PaymentIntentID == nil || *c.PaymentIntentID != "pi_evt_late" {
				t.Errorf("checkout payment_intent_id %v, want pi_evt_late", c.PaymentIntentID)
			}
			if status := f.holdStatus(t, original); status != how.status {
				t.Errorf("original hold %q, want %q", status, how.status)
			}

			orders := f.oversold(t)
			if len(orders) != 1 {
				t.Fatalf("oversold orders %+v, want one", orders)
			}
			o := orders[0]
			if o.CheckoutID != c.ID || o.StripeSessionID != late.ID || o.EventID != "evt_late" || o.PaymentIntentID == nil || *o.PaymentIntentID != "pi_evt_late" || o.RefundRequested {
				t.Errorf("oversold order: checkout %s, session %s, event %s, payment intent %v, refund %v", o.CheckoutID, o.StripeSessionID, o.EventID, o.PaymentIntentID, o.RefundRequested)
			}
			if want := []inventory.Shortfall{{SKU: "A", Requested: 4, Available: 2}}; !reflect.DeepEqual(o.Shortfall, want) {
				t.Errorf("shortfall %+v, want %+v", o.Shortfall, want)
			}
			if want := []inventory.Line{{SKU: "A", Quantity: 4}, {SKU: "B", Quantity: 1}}; !reflect.DeepEqual(o.Lines, want) {
				t.Errorf("lines %+v, want %+v", o.Lines, want)
			}

			// Nothing was sold, nothing oversold: not even B, which was there.
			stockAfter := [2][2]int64{}
			stockAfter[0][0], stockAfter[0][1] = f.level(t, "A")
			stockAfter[1][0], stockAfter[1][1] = f.level(t, "B")
			if stockAfter != stockBefore || stockAfter != [2][2]int64{{2, 0}, {1, 0}} {
				t.Errorf("stock (on hand, reserved) of A and B %v, want %v and [[2 0] [1 0]]", stockAfter, stockBefore)
			}
			if sales := f.sales(t); !reflect.DeepEqual(sales, salesBefore) {
				t.Errorf("SALE movements %v, want only the other checkout's %v", sales, salesBefore)
			}
			// Every stock row of the shop, at every location: no API lists
			// them all with on hand and reserved side by side.
			var negative int
			if err := f.pool.QueryRow(t.Context(), "SELECT count(*) FROM stock_levels WHERE shop_id = $1 AND (on_hand < reserved OR on_hand < 0 OR reserved < 0)",
				f.shopID).Scan(&negative); err != nil || negative != 0 {
				t.Errorf("oversold stock rows: %d, %v", negative, err)
			}

			// Settled again, another paid event, a stale expired: no second order.
			before := f.snapshot(t)
			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, late, "paid"); out != checkout.Unchanged {
				t.Errorf("settled again: %s, want unchanged", out)
			}
			if out := f.deliver(t, "evt_late2", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, late, "paid"); out != checkout.Unchanged {
				t.Errorf("another paid event: %s, want unchanged", out)
			}
			if out := f.deliver(t, "evt_late3", stripe.EventTypeCheckoutSessionExpired, late, "unpaid"); out != checkout.Unchanged {
				t.Errorf("a stale expired event: %s, want unchanged", out)
			}
			f.assertUnchanged(t, before)
			f.shop.RequireLedgerClean(t)
		})
	}
}
