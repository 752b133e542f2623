package checkout_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
)

// cartHold places the hold a storefront places at add-to-cart.
func (f *fixture) cartHold(t *testing.T, lines ...inventory.Line) *inventory.Hold {
	t.Helper()
	h, _, err := f.ledger.Reserve(context.Background(), f.shopID, inventory.ReserveRequest{Items: lines, TTL: time.Hour, Reference: "cart"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A checkout with holdId adopts the cart's hold in either mode: its lines
// become the checkout's, it is bound to the session with a checkout's
// expiry, no other hold is placed, and a replay returns the same session.
func TestCheckoutAdoptsCartHold(t *testing.T) {
	t.Parallel()
	for _, mode := range []checkoutd.InventoryMode{checkoutd.ModeReserveTTL, checkoutd.ModeValidateOnly} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkout.Config{InventoryMode: mode})
			f.stock(t, "A", "", 5)
			f.stock(t, "B", "", 5)
			cart := f.cartHold(t, inventory.Line{SKU: "A", Quantity: 1}, inventory.Line{SKU: "B", Quantity: 1})

			req := f.request("adopt", item("A", "", 2))
			req.HoldID = cart.ID
			before := time.Now().Truncate(time.Second)
			sess, created := f.create(t, req)
			if !created || sess.ReservationID == nil || *sess.ReservationID != cart.ID {
				t.Fatalf("session %+v (created %v), want the cart's hold %s as its reservation", sess, created, cart.ID)
			}
			if ids := f.holdIDs(t, ""); len(ids) != 1 {
				t.Errorf("the shop has holds %v, want only the cart's", ids)
			}
			f.assertReserved(t, "A", "", 2)
			f.assertReserved(t, "B", "", 0)
			stored := f.hold(t, cart.ID)
			if stored.CheckoutSessionID == nil || *stored.CheckoutSessionID != sess.ID {
				t.Errorf("hold bound to %v, want %s", stored.CheckoutSessionID, sess.ID)
			}
			if d := stored.ExpiresAt.Sub(before); d < 20*time.Minute-time.Second || d > 20*time.Minute+time.Second {
				t.Errorf("hold expires %v after the checkout, want a checkout's 20m", d)
			}
			if c := f.onlyCheckout(t); c.HoldID == nil || *c.HoldID != cart.ID {
				t.Errorf("checkout records hold %v", c.HoldID)
			}

			again, created := f.create(t, req)
			if created || again.ID != sess.ID {
				t.Errorf("replay: session %s (created %v), want %s", again.ID, created, sess.ID)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}

// An unknown hold, one that is not active and one another checkout has
// are refused, and the refused checkout leaves no record and no hold
// changed.
func TestCheckoutAdoptRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 5)
	released := f.cartHold(t, inventory.Line{SKU: "A", Quantity: 1})
	if _, err := f.ledger.Release(ctx, f.shopID, released.ID, "cart_abandoned"); err != nil {
		t.Fatal(err)
	}
	taken := f.cartHold(t, inventory.Line{SKU: "A", Quantity: 1})
	first := f.request("first", item("A", "", 1))
	first.HoldID = taken.ID
	f.create(t, first)

	for _, tc := range []struct {
		name   string
		holdID string
		check  func(error) bool
	}{
		{"unknown", "hold_unknown", func(err error) bool { return errors.Is(err, inventory.ErrHoldNotFound) }},
		{"released", released.ID, func(err error) bool {
			na, ok := errors.AsType[*inventory.HoldNotActiveError](err)
			return ok && na.Status == inventory.HoldReleased
		}},
		{"another checkout's", taken.ID, func(err error) bool { return errors.Is(err, inventory.ErrHoldInCheckout) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sessions := f.stripe.SessionCount()
			req := f.request("refused-"+tc.name, item("A", "", 2))
			req.HoldID = tc.holdID
			_, _, err := f.svc.Create(ctx, req)
			if !tc.check(err) {
				t.Errorf("got %v", err)
			}
			if n := len(f.checkouts(t)); n != 1 {
				t.Errorf("%d checkout records, want only the first", n)
			}
			if f.stripe.SessionCount() != sessions {
				t.Error("a Stripe session was created")
			}
			f.assertReserved(t, "A", "", 1)
		})
	}
	f.shop.RequireLedgerClean(t)
}

// Two checkouts adopting one hold at once: exactly one gets it, and a
// resize racing them either lands before the adoption (which then sets the
// checkout's lines) or is refused.
func TestCheckoutAdoptRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 100)
	for round := range 5 {
		cart := f.cartHold(t, inventory.Line{SKU: "A", Quantity: 1})
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			adopted  []*checkout.Session
			refusals int
		)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := f.request(fmt.Sprintf("race-%d-%d", round, i), item("A", "", 2))
				req.HoldID = cart.ID
				sess, _, err := f.svc.Create(ctx, req)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					adopted = append(adopted, sess)
				case errors.Is(err, inventory.ErrHoldInCheckout):
					refusals++
				default:
					t.Errorf("adopt: %v", err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.ledger.SetHoldItems(ctx, f.shopID, cart.ID, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "A", Quantity: 3}}})
			if err != nil && !errors.Is(err, inventory.ErrHoldInCheckout) {
				t.Errorf("resize: %v", err)
			}
		}()
		wg.Wait()
		if len(adopted) != 1 || refusals != 1 {
			t.Fatalf("round %d: %d adopted, %d refused; want one of each", round, len(adopted), refusals)
		}
		h, err := f.ledger.GetHold(ctx, f.shopID, cart.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Items) != 1 || h.Items[0].Quantity != 2 || h.CheckoutSessionID == nil || *h.CheckoutSessionID != adopted[0].ID {
			t.Errorf("round %d: hold %+v, want the checkout's 2 units bound to %s", round, h, adopted[0].ID)
		}
	}
	f.shop.RequireLedgerClean(t)
}
