package checkout_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// Stripe failing to list the line items settles nothing: the error says
// the payment provider is unavailable (the webhook answers 503 and Stripe
// retries), and the retry, once Stripe answers, settles the purchase once.
func TestAdjustableStripeUnavailable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"a network error", errors.New("connection refused")},
		{"a timeout", testkit.StripeTimeout()},
		{"a 5xx", &stripe.Error{HTTPStatusCode: http.StatusInternalServerError, Type: stripe.ErrorTypeAPI, Msg: "try again"}},
		{"a rate limit", &stripe.Error{HTTPStatusCode: http.StatusTooManyRequests, Type: stripe.ErrorTypeInvalidRequest, Code: stripe.ErrorCodeRateLimit}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
			f.stripe.SetQuantity(s.ID, 0, 3)
			f.stripe.FailLineItems(s.ID, tc.err)
			before := f.snapshot(t)
			ev := f.event("evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid")
			for range 2 {
				_, err := settleIn(context.Background(), f.pool, f.settler, f.shopID, ev, f.cfg.Logger, nil)
				if !errors.Is(err, checkout.ErrPaymentProviderUnavailable) || !database.IsUnavailable(err) || !errors.Is(err, tc.err) {
					t.Fatalf("settle with Stripe failing: %v; want ErrPaymentProviderUnavailable, unavailable, with Stripe's error", err)
				}
				f.assertUnchanged(t, before)
			}
			f.stripe.FailLineItems(s.ID, nil)
			if out := f.settle(t, ev); out != checkout.Committed {
				t.Fatalf("retry: %s, want committed", out)
			}
			assertBoughtSettled(t, f, s, 3, [2][2]int64{{2, 0}, {2, 0}},
				[]string{"RELEASE A -1 not_bought", "RESERVATION A +4 chk", "RESERVATION B +1 chk", "SALE A -3 pi", "SALE B -1 pi"},
				[]inventory.Line{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 1}})
		})
	}
}

// Settle without what Prepare reads refuses to guess, and changes nothing.
func TestAdjustableSettleNeedsPrepare(t *testing.T) {
	t.Parallel()
	f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
	before := f.snapshot(t)
	tx, err := f.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	ev := f.event("evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid")
	if _, err := f.settler.Settle(context.Background(), tx, f.shopID, ev, checkout.Prepared{}, f.cfg.Logger); err == nil {
		t.Fatal("settled an adjustable checkout without its line items")
	}
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.assertUnchanged(t, before)

	// A settler without a Stripe client cannot read them either.
	blind := checkout.NewSettler(f.ledger, checkout.SettleConfig{})
	if _, err := blind.Prepare(context.Background(), f.pool, f.shopID, ev); err == nil {
		t.Error("prepared an adjustable checkout's payment with no Stripe client")
	}
}

// A payment that arrives after the hold was closed sells again what was
// bought, not the maximum; when the stock is gone, the oversold order
// records what was bought.
func TestAdjustablePaidAfterHoldClosed(t *testing.T) {
	t.Parallel()
	for _, how := range closeHolds {
		t.Run(how.name+", sold again", func(t *testing.T) {
			t.Parallel()
			f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
			how.close(t, f, *s.ReservationID)
			f.stripe.SetQuantity(s.ID, 0, 3)
			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
				t.Fatalf("late payment: %s, want committed", out)
			}
			c := f.checkoutOf(t, s)
			if c.Status != checkout.StatusCompleted || c.HoldID == nil || *c.HoldID == *s.ReservationID {
				t.Fatalf("checkout %s with hold %v, want completed with a new sale's hold", c.Status, deref(c.HoldID))
			}
			if got := f.sales(t); !reflect.DeepEqual(got, map[string][2]int64{*c.HoldID: {2, 4}}) {
				t.Errorf("SALE movements (count, units) by hold %v, want the new hold's 3 of A and 1 of B", got)
			}
			if got := f.stockOf(t); got != [2][2]int64{{2, 0}, {2, 0}} {
				t.Errorf("stock %v, want 3 of A and 1 of B sold", got)
			}
			f.shop.RequireLedgerClean(t)
		})

		t.Run(how.name+", optional line dropped", func(t *testing.T) {
			t.Parallel()
			f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
			how.close(t, f, *s.ReservationID)
			f.stripe.SetQuantity(s.ID, 0, 0)
			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
				t.Fatalf("late payment: %s, want committed", out)
			}
			if got := f.stockOf(t); got != [2][2]int64{{5, 0}, {2, 0}} {
				t.Errorf("stock %v, want B alone sold", got)
			}
			f.shop.RequireLedgerClean(t)
		})

		t.Run(how.name+", oversold", func(t *testing.T) {
			t.Parallel()
			f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
			how.close(t, f, *s.ReservationID)
			other := f.checkout(t, 4) // 1 of A left
			if out := f.deliver(t, "evt_other", stripe.EventTypeCheckoutSessionCompleted, other, "paid"); out != checkout.Committed {
				t.Fatalf("the other checkout: %s, want committed", out)
			}
			f.stripe.SetQuantity(s.ID, 0, 3)
			if out := f.deliver(t, "evt_late", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Oversold {
				t.Fatalf("late payment: %s, want oversold", out)
			}
			orders := f.oversold(t)
			if len(orders) != 1 {
				t.Fatalf("oversold orders %+v, want one", orders)
			}
			if want := []inventory.Line{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 1}}; !reflect.DeepEqual(orders[0].Lines, want) {
				t.Errorf("oversold lines %+v, want what was bought %+v", orders[0].Lines, want)
			}
			if want := []inventory.Shortfall{{SKU: "A", Requested: 3, Available: 1}}; !reflect.DeepEqual(orders[0].Shortfall, want) {
				t.Errorf("shortfall %+v, want %+v", orders[0].Shortfall, want)
			}
			if got := f.stockOf(t); got != [2][2]int64{{1, 0}, {3, 0}} {
				t.Errorf("stock %v, want only the other checkout's sale", got)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}

// Without a hold (validate_only) the payment sells what was bought.
func TestAdjustableValidateOnlySellsWhatWasBought(t *testing.T) {
	t.Parallel()
	f, s := adjustableCheckout(t, checkoutd.ModeValidateOnly)
	if s.ReservationID != nil {
		t.Fatalf("validate_only checkout with hold %s", *s.ReservationID)
	}
	f.stripe.SetQuantity(s.ID, 0, 1)
	if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
		t.Fatalf("outcome %s, want committed", out)
	}
	if got := f.stockOf(t); got != [2][2]int64{{4, 0}, {2, 0}} {
		t.Errorf("stock %v, want 1 of A and 1 of B sold", got)
	}
	if lines, reason := f.bought(t, s); !reflect.DeepEqual(lines, []inventory.Line{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 1}}) || reason != nil {
		t.Errorf("recorded as bought %+v (review %q)", lines, deref(reason))
	}
	f.shop.RequireLedgerClean(t)
}

// The session-expiry job finding an expiring adjustable checkout's session
// paid settles what was bought; Stripe failing to list the line items
// leaves the hold expiring, with its stock, for the job's retry.
func TestAdjustableSettledByTheExpiryJob(t *testing.T) {
	t.Parallel()
	f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
	inventorytest.MakeExpiring(t, f.pool, f.shopID, *s.ReservationID)
	f.stripe.Pay(s.ID, "pi_evt_paid")
	f.stripe.SetQuantity(s.ID, 0, 3)
	down := errors.New("stripe is down")
	f.stripe.FailLineItems(s.ID, down)
	before := f.snapshot(t)
	if err := f.expireSession(t, s); !errors.Is(err, checkout.ErrPaymentProviderUnavailable) || !errors.Is(err, down) {
		t.Fatalf("job with the line items unreadable: %v, want ErrPaymentProviderUnavailable (retried)", err)
	}
	f.assertUnchanged(t, before)
	if got := inventorytest.ReadHold(t, f.pool, f.shopID, *s.ReservationID).Status; got != "expiring" {
		t.Errorf("hold %s, want expiring", got)
	}

	f.stripe.FailLineItems(s.ID, nil)
	if err := f.expireSession(t, s); err != nil {
		t.Fatal(err)
	}
	assertBoughtSettled(t, f, s, 3, [2][2]int64{{2, 0}, {2, 0}},
		[]string{"RELEASE A -1 not_bought", "RESERVATION A +4 chk", "RESERVATION B +1 chk", "SALE A -3 pi", "SALE B -1 pi"},
		[]inventory.Line{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 1}})
	// The webhook that follows finds it settled, and asks Stripe nothing.
	listings := f.stripe.LineItemListings(s.ID)
	if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Unchanged {
		t.Errorf("the webhook after the job: %s, want unchanged", out)
	}
	if got := f.stripe.LineItemListings(s.ID); got != listings {
		t.Errorf("the webhook read the line items again (%d listings, then %d)", listings, got)
	}
}
