package checkout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
)

// errCrash is the panic that stands for the process dying.
var errCrash = errors.New("simulated crash")

// crashOnFirst is a fake hook that kills the "process" on the first call.
func crashOnFirst(n int) {
	if n == 1 {
		panic(errCrash)
	}
}

// createCrashing runs a Create that dies inside the Stripe call: no code of
// the service runs after the crash point, exactly as if the process had died
// there.
func createCrashing(t *testing.T, svc *checkout.Service, req checkout.Request) {
	t.Helper()
	defer func() {
		if r := recover(); r != errCrash {
			panic(r)
		}
	}()
	sess, _, err := svc.Create(context.Background(), req)
	t.Fatalf("create did not reach the crash point: %+v, %v", sess, err)
}

// age moves every time recorded for the shop's checkouts and holds, and
// what Stripe remembers, d into the past, consistently: the crash happened
// d ago.
func (f *fixture) age(t *testing.T, d time.Duration) {
	t.Helper()
	f.exec(t, `UPDATE checkouts SET created_at = created_at - make_interval(secs => $2), updated_at = updated_at - make_interval(secs => $2), expires_at = expires_at - make_interval(secs => $2) WHERE shop_id = $1`, f.shopID, d.Seconds())
	f.exec(t, `UPDATE holds SET created_at = created_at - make_interval(secs => $2), updated_at = updated_at - make_interval(secs => $2), expires_at = expires_at - make_interval(secs => $2) WHERE shop_id = $1`, f.shopID, d.Seconds())
	f.stripe.Age(d)
}

// A process that dies between placing the hold and recording the session
// leaves a checkout "creating". A replay while its creator may still be at
// work is ErrInProgress; once it is clearly abandoned, the replay resumes
// it: the same hold, and the session Stripe made for its idempotency key if
// it made one, never a second.
func TestReplayResumesCheckoutAfterCrash(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		// stripeMadeSession: the crash came after Stripe made the session.
		stripeMadeSession bool
	}{
		{"before Stripe answered", false},
		{"after Stripe made the session", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// An hour's hold: the session expires with it, so the resumed
			// Stripe request is the same as the first whenever it comes.
			f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: time.Hour})
			f.stock(t, "A", "", 5)
			req := f.request("cart-1", item("A", "", 2))
			if tt.stripeMadeSession {
				f.stripe.AfterNew(func(n int, _ *stripe.CheckoutSession) { crashOnFirst(n) })
			} else {
				f.stripe.BeforeNew(func(n int, _ *stripe.CheckoutSessionParams) error { crashOnFirst(n); return nil })
			}
			createCrashing(t, f.svc, req)
			f.stripe.AfterNew(nil)
			f.stripe.BeforeNew(nil)

			rec := f.onlyCheckout(t)
			if rec.Status != "creating" || rec.HoldID == nil || rec.StripeSessionID != nil {
				t.Fatalf("after the crash: checkout %+v, want creating with a hold and no session", rec)
			}
			holdID := *rec.HoldID
			f.assertReserved(t, "A", "", 2)
			crashedKey := strPtr(f.stripe.LastCall(t).IdempotencyKey)

			if _, _, err := f.svc.Create(ctx, req); !errors.Is(err, checkout.ErrInProgress) {
				t.Errorf("replay right after the crash: %v, want checkout.ErrInProgress", err)
			}

			f.age(t, 2*time.Minute)
			sess, _, err := f.svc.Create(ctx, req)
			if err != nil {
				t.Fatalf("replay of the abandoned checkout: %v", err)
			}
			if strPtr(sess.ReservationID) != holdID {
				t.Errorf("resumed checkout's reservation %v, want the crashed request's hold %s", strPtr(sess.ReservationID), holdID)
			}
			if n := f.stripe.SessionCount(); n != 1 {
				t.Errorf("Stripe made %d sessions, want 1", n)
			}
			calls := f.stripe.NewCalls()
			if len(calls) != 2 || strPtr(calls[1].IdempotencyKey) != crashedKey {
				t.Errorf("Stripe saw %d calls, the resumed one keyed %v; want 2, both keyed %s", len(calls), strPtr(calls[len(calls)-1].IdempotencyKey), crashedKey)
			}
			if ids := f.holdIDs(t, ""); len(ids) != 1 {
				t.Errorf("holds %v, want only %s", ids, holdID)
			}
			f.assertReserved(t, "A", "", 2)
			assertSessionRecorded(t, f.onlyCheckout(t), sess, "sale", "reserve_ttl")
			if h := f.hold(t, holdID); strPtr(h.CheckoutSessionID) != sess.ID || h.Status != "active" {
				t.Errorf("hold after the resume: %+v, want active with session %s", h, sess.ID)
			}

			again, created := f.create(t, req)
			if created || again.ID != sess.ID {
				t.Errorf("replay after the resume: %+v, created %v; want %s, not created", again, created, sess.ID)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}

// A replay can resume a crashed checkout only a minute or more after the
// crash. The Stripe request it repeats must be the one the crashed process
// sent, or Stripe refuses the idempotency key ("Keys for idempotent requests
// can only be used with the same parameters"), the replay fails with a 502
// and the hold is released. With the default 20-minute hold, and in
// validate_only mode, the expiry sent is "now + 32 minutes", so it differs.
func TestReplayResumesCheckoutMinutesAfterCrash(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  checkout.Config
	}{
		{"reserve_ttl default TTL", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 20 * time.Minute}},
		{"validate_only", checkout.Config{InventoryMode: checkoutd.ModeValidateOnly}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.cfg)
			f.stock(t, "A", "", 5)
			req := f.request("cart-1", item("A", "", 2))
			f.stripe.AfterNew(func(n int, _ *stripe.CheckoutSession) { crashOnFirst(n) })
			createCrashing(t, f.svc, req)
			f.stripe.AfterNew(nil)
			made := f.stripe.LastCall(t)

			f.age(t, 2*time.Minute)
			sess, _, err := f.svc.Create(context.Background(), req)
			if err != nil {
				resent := f.stripe.LastCall(t)
				t.Fatalf("replay 2 minutes after the crash: %v\n\tcrashed request's expires_at %d, resumed request's %d (same Stripe idempotency key %v)",
					err, deref(made.ExpiresAt)-120, deref(resent.ExpiresAt), strPtr(resent.IdempotencyKey))
			}
			if n := f.stripe.SessionCount(); n != 1 {
				t.Errorf("Stripe made %d sessions, want 1", n)
			}
			if tt.cfg.InventoryMode == checkoutd.ModeReserveTTL {
				f.assertReserved(t, "A", "", 2)
			}
			assertSessionRecorded(t, f.onlyCheckout(t), sess, "sale", string(tt.cfg.InventoryMode))
			f.shop.RequireLedgerClean(t)
		})
	}
}

// A crashed checkout replayed after its hold lapsed must not get a session
// for the lapsed hold: the stock is no longer held and may have been sold
// to someone else since.
func TestReplayAfterCrashDoesNotUseLapsedHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 20 * time.Minute})
	f.stock(t, "A", "", 2)
	req := f.request("cart-1", item("A", "", 2))
	f.stripe.BeforeNew(func(n int, _ *stripe.CheckoutSessionParams) error { crashOnFirst(n); return nil })
	createCrashing(t, f.svc, req)
	f.stripe.BeforeNew(nil)
	lapsedHold := *f.onlyCheckout(t).HoldID

	// 25 minutes later: the hold has lapsed, and another customer took the
	// two units.
	f.age(t, 25*time.Minute)
	other, _ := f.create(t, f.request("cart-2", item("A", "", 2)))
	f.assertReserved(t, "A", "", 2)

	sess, _, err := f.svc.Create(ctx, req)
	if err == nil {
		hold, herr := f.ledger.GetHold(ctx, f.shopID, deref(sess.ReservationID))
		t.Errorf("replay after the hold lapsed created session %s on hold %v (status %v, %v): the customer can pay for stock held for %s",
			sess.ID, strPtr(sess.ReservationID), holdStatus(hold), herr, other.ID)
	} else {
		var short *inventory.InsufficientStockError
		if !errors.As(err, &short) {
			t.Errorf("replay after the hold lapsed: %v, want *inventory.InsufficientStockError (the stock is gone)", err)
		}
	}
	if n := f.stripe.SessionCount(); n != 1 {
		t.Errorf("Stripe made %d sessions, want only the other customer's", n)
	}
	if h := f.hold(t, lapsedHold); h.Status == "active" && h.ExpiresAt.After(time.Now()) {
		t.Errorf("lapsed hold %s is active again", lapsedHold)
	}
	f.assertReserved(t, "A", "", 2)
	f.shop.RequireLedgerClean(t)
}

func holdStatus(h *inventory.Hold) any {
	if h == nil {
		return nil
	}
	return h.Status
}

// A process can also die between placing the hold and recording it on the
// checkout: the record has no hold, but the ledger has one under the
// checkout's reserve idempotency key. A replay finds that hold again (no
// second hold) and, if it has lapsed meanwhile, must not sell against it.
func TestReplayAfterCrashBeforeHoldRecorded(t *testing.T) {
	t.Parallel()
	// crash leaves the state of a death between Reserve and SetCheckoutHold.
	crash := func(t *testing.T, f *fixture, req checkout.Request) string {
		f.stripe.BeforeNew(func(n int, _ *stripe.CheckoutSessionParams) error { crashOnFirst(n); return nil })
		createCrashing(t, f.svc, req)
		f.stripe.BeforeNew(nil)
		holdID := *f.onlyCheckout(t).HoldID
		f.exec(t, "UPDATE checkouts SET hold_id = NULL WHERE shop_id = $1", f.shopID)
		return holdID
	}

	t.Run("hold still active", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: time.Hour})
		f.stock(t, "A", "", 5)
		req := f.request("cart-1", item("A", "", 2))
		holdID := crash(t, f, req)
		f.age(t, 2*time.Minute)

		sess, _ := f.create(t, req)
		if strPtr(sess.ReservationID) != holdID {
			t.Errorf("resumed checkout's reservation %v, want the hold placed before the crash %s", strPtr(sess.ReservationID), holdID)
		}
		if ids := f.holdIDs(t, ""); len(ids) != 1 {
			t.Errorf("holds %v, want only %s", ids, holdID)
		}
		f.assertReserved(t, "A", "", 2)
		f.shop.RequireLedgerClean(t)
	})

	t.Run("hold lapsed", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 20 * time.Minute})
		f.stock(t, "A", "", 2)
		req := f.request("cart-1", item("A", "", 2))
		lapsedHold := crash(t, f, req)
		f.age(t, 25*time.Minute)
		other, _ := f.create(t, f.request("cart-2", item("A", "", 2)))

		sess, _, err := f.svc.Create(ctx, req)
		for _, p := range f.stripe.NewCalls() {
			if p.Metadata["inventory_reservation_id"] == lapsedHold && p != f.stripe.NewCalls()[0] {
				t.Errorf("the replay asked Stripe for a session on the lapsed hold %s (expires_at in %v)",
					lapsedHold, time.Until(time.Unix(deref(p.ExpiresAt), 0)).Round(time.Second))
			}
		}
		if err == nil {
			hold, herr := f.ledger.GetHold(ctx, f.shopID, deref(sess.ReservationID))
			t.Errorf("replay after the hold lapsed created session %s on hold %v (status %v, %v; the lapsed hold is %s): the customer can pay for stock held for %s",
				sess.ID, strPtr(sess.ReservationID), holdStatus(hold), herr, lapsedHold, other.ID)
		} else {
			var short *inventory.InsufficientStockError
			if !errors.As(err, &short) {
				t.Errorf("replay after the hold lapsed: %v, want *inventory.InsufficientStockError (the stock is gone)", err)
			}
		}
		if n := f.stripe.SessionCount(); n != 1 {
			t.Errorf("Stripe made %d sessions, want only the other customer's", n)
		}
		f.assertReserved(t, "A", "", 2)
		f.shop.RequireLedgerClean(t)
	})
}

// A checkout whose process died before Stripe heard of it may be replayed
// long after (a cart id as idempotency key, a customer who comes back). The
// expiry computed from when the checkout was first recorded is then too
// close for Stripe, which refuses a new session expiring in less than 30
// minutes; the replay must still get a session rather than a 502.
func TestReplayLongAfterCrashBeforeStripe(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		cfg  checkout.Config
	}{
		{"reserve_ttl default TTL", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 20 * time.Minute}},
		{"validate_only", checkout.Config{InventoryMode: checkoutd.ModeValidateOnly}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.cfg)
			f.stock(t, "A", "", 5)
			req := f.request("cart-1", item("A", "", 2))
			f.stripe.BeforeNew(func(n int, _ *stripe.CheckoutSessionParams) error { crashOnFirst(n); return nil })
			createCrashing(t, f.svc, req)
			f.stripe.BeforeNew(nil)

			f.age(t, 10*time.Minute)
			sess, _, err := f.svc.Create(context.Background(), req)
			if err != nil {
				t.Fatalf("replay 10 minutes after a crash before Stripe: %v (sent expires_at %v)",
					err, time.Until(time.Unix(deref(f.stripe.LastCall(t).ExpiresAt), 0)).Round(time.Second))
			}
			if tt.cfg.InventoryMode == checkoutd.ModeReserveTTL {
				if hold, err := f.ledger.GetHold(context.Background(), f.shopID, deref(sess.ReservationID)); err != nil || hold.Status != inventory.HoldActive {
					t.Errorf("replay's hold: %+v, %v; want an active hold", hold, err)
				}
				f.assertReserved(t, "A", "", 2)
			}
			assertSessionRecorded(t, f.onlyCheckout(t), sess, "sale", string(tt.cfg.InventoryMode))
			f.shop.RequireLedgerClean(t)
		})
	}
}
