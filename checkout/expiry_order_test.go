package checkout_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/jobs"
)

// expiringCheckout is a reserve_ttl checkout of 2 units of "A" (stock 2:
// the hold takes it all) whose hold has lapsed and that the reaper has
// marked expiring, its session still open on Stripe.
func expiringCheckout(t *testing.T) (*settleFixture, *checkout.Session) {
	t.Helper()
	f := newSettleFixture(t, checkoutd.ModeReserveTTL)
	f.stock(t, "A", "", 2)
	s := f.checkout(t, 2)
	inventorytest.MakeExpiring(t, f.pool, f.shopID, *s.ReservationID)
	f.requireHeld(t, s, inventory.HoldExpiring, 2)
	return f, s
}

// requireHeld fails the test unless s's hold reports status and "A" counts
// held units reserved, in its stock rows and in what availability reads.
func (f *settleFixture) requireHeld(t *testing.T, s *checkout.Session, status inventory.HoldStatus, held int64) {
	t.Helper()
	hold, err := f.ledger.GetHold(context.Background(), f.shopID, *s.ReservationID)
	if err != nil {
		t.Fatal(err)
	}
	if hold.Status != status {
		t.Errorf("hold %s, want %s", hold.Status, status)
	}
	if _, reserved := f.level(t, "A"); reserved != held {
		t.Errorf("availability counts %d reserved, want %d", reserved, held)
	}
}

// expireSession runs the session-expiry job for s's hold once, settling
// sessions it finds paid through the fixture's settler, as serve wires it.
func (f *settleFixture) expireSession(t *testing.T, s *checkout.Session) error {
	t.Helper()
	paid := checkout.NewStripeSettler(f.pool, f.settler, slog.New(slog.DiscardHandler))
	w := jobs.NewExpireSessionWorker(f.ledger, f.stripe, paid, slog.New(slog.DiscardHandler))
	return w.Work(t.Context(), &river.Job[jobs.ExpireSessionArgs]{
		JobRow: &rivertype.JobRow{},
		Args:   jobs.ExpireSessionArgs{ShopID: f.shopID, HoldID: *s.ReservationID, SessionID: s.ID},
	})
}

// An expiring hold's stock is not for sale: the session may still be paid.
func TestExpiringHoldKeepsItsStock(t *testing.T) {
	t.Parallel()
	f, _ := expiringCheckout(t)
	_, _, err := f.ledger.Reserve(t.Context(), f.shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "A", Quantity: 1}}, TTL: 60e9,
	})
	var short *inventory.InsufficientStockError
	if !errors.As(err, &short) {
		t.Fatalf("another customer's hold on the expiring hold's stock: %v, want insufficient stock", err)
	}
	res, err := f.ledger.Validate(t.Context(), f.shopID, []inventory.Line{{SKU: "A", Quantity: 1}})
	if err != nil || res.OK {
		t.Errorf("validate %+v (%v), want not ok", res, err)
	}
}

// The order Stripe and the reaper can take, each ending with the stock
// sold once or given back once.
func TestExpiryOrder(t *testing.T) {
	t.Parallel()

	t.Run("Stripe expires the session", func(t *testing.T) {
		t.Parallel()
		f, s := expiringCheckout(t)
		if err := f.expireSession(t, s); err != nil {
			t.Fatal(err)
		}
		f.requireHeld(t, s, inventory.HoldExpired, 0)
		if st := f.stripe.Status(s.ID); st != stripe.CheckoutSessionStatusExpired {
			t.Errorf("session %s, want expired", st)
		}
		// Stripe's event for it follows.
		if out := f.deliver(t, "evt_exp", stripe.EventTypeCheckoutSessionExpired, s, "unpaid"); out != checkout.Released {
			t.Errorf("expired event: %s, want released", out)
		}
		if c := f.checkoutOf(t, s); c.Status != checkout.StatusExpired {
			t.Errorf("checkout %s, want expired", c.Status)
		}
		if onHand, _ := f.level(t, "A"); onHand != 2 {
			t.Errorf("on hand %d, want 2", onHand)
		}
		f.shop.RequireLedgerClean(t)
	})

	// The customer paid while the hold was expiring: Stripe refuses to
	// expire the session and answers complete; the payment commits the
	// hold, whose stock nobody else could take meanwhile.
	t.Run("Stripe answers complete", func(t *testing.T) {
		t.Parallel()
		f, s := expiringCheckout(t)
		f.stripe.Pay(s.ID, "pi_late")
		if err := f.expireSession(t, s); err != nil {
			t.Fatal(err)
		}
		if st := f.holdStatus(t, *s.ReservationID); st != "committed" {
			t.Errorf("hold %s, want committed", st)
		}
		if onHand, reserved := f.level(t, "A"); onHand != 0 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 0 and 0", onHand, reserved)
		}
		if c := f.checkoutOf(t, s); c.Status != checkout.StatusCompleted {
			t.Errorf("checkout %s, want completed", c.Status)
		}
		// The webhook arrives later, and again: nothing more is sold.
		for _, id := range []string{"evt_paid", "evt_paid_again"} {
			if out := f.deliver(t, id, stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Unchanged {
				t.Errorf("completed event %s: %s, want unchanged", id, out)
			}
		}
		if n := len(f.oversold(t)); n != 0 {
			t.Errorf("%d oversold orders, want none", n)
		}
		f.shop.RequireLedgerClean(t)
	})

	// The paid webhook comes before the reaper's job: it commits the
	// expiring hold, and the job then leaves the session alone.
	t.Run("paid webhook while expiring", func(t *testing.T) {
		t.Parallel()
		f, s := expiringCheckout(t)
		f.stripe.Pay(s.ID, "pi_first")
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
			t.Fatalf("completed event: %s, want committed", out)
		}
		if st := f.holdStatus(t, *s.ReservationID); st != "committed" {
			t.Errorf("hold %s, want committed (the original, not a sale made again)", st)
		}
		if err := f.expireSession(t, s); err != nil {
			t.Fatal(err)
		}
		if e, _ := f.stripe.Counts(s.ID); e != 0 {
			t.Errorf("the job asked Stripe to expire a paid session %d times", e)
		}
		if n := len(f.oversold(t)); n != 0 {
			t.Errorf("%d oversold orders, want none", n)
		}
		f.shop.RequireLedgerClean(t)
	})

	// Stripe fails for a while: the hold stays expiring with its stock
	// until its session's own expiry plus the grace, then stops counting.
	t.Run("Stripe failing for a while", func(t *testing.T) {
		t.Parallel()
		f, s := expiringCheckout(t)
		down := errors.New("stripe is down")
		f.stripe.FailExpire(s.ID, down)
		f.stripe.FailGet(s.ID, down)
		for range 3 {
			if err := f.expireSession(t, s); !errors.Is(err, down) {
				t.Fatalf("job with Stripe down: %v, want Stripe's error (to be retried)", err)
			}
			f.requireHeld(t, s, inventory.HoldExpiring, 2)
		}
		inventorytest.MakeSessionsDue(t, f.pool, f.shopID, *s.ReservationID)
		f.requireHeld(t, s, inventory.HoldExpired, 0)
		// Stripe back: the job's retry closes the lapsed hold for good.
		f.stripe.FailExpire(s.ID, nil)
		f.stripe.FailGet(s.ID, nil)
		if err := f.expireSession(t, s); err != nil {
			t.Fatal(err)
		}
		if st := f.holdStatus(t, *s.ReservationID); st != "expired" {
			t.Errorf("stored hold %s, want expired", st)
		}
		f.shop.RequireLedgerClean(t)
	})

	// Stripe's checkout.session.expired event arrives before the job: it
	// gives the stock back, and the job finds nothing left to do.
	t.Run("expired event first", func(t *testing.T) {
		t.Parallel()
		f, s := expiringCheckout(t)
		f.stripe.SetStatus(s.ID, stripe.CheckoutSessionStatusExpired)
		if out := f.deliver(t, "evt_exp", stripe.EventTypeCheckoutSessionExpired, s, "unpaid"); out != checkout.Released {
			t.Fatalf("expired event: %s, want released", out)
		}
		f.requireHeld(t, s, inventory.HoldExpired, 0)
		if err := f.expireSession(t, s); err != nil {
			t.Fatal(err)
		}
		f.requireHeld(t, s, inventory.HoldExpired, 0)
		if n := inventorytest.Releases(t, f.pool, f.shopID)[*s.ReservationID]; n != 1 {
			t.Errorf("%d RELEASE movements, want the event's 1", n)
		}
		f.shop.RequireLedgerClean(t)
	})
}
