package checkout_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
)

// stripe500 is Stripe failing on its side.
func stripe500() error {
	return &stripe.Error{HTTPStatusCode: 500, Type: stripe.ErrorTypeAPI, Msg: "An unknown error occurred", RequestID: "req_fake"}
}

// failFirst makes the fake's first New call return err; later calls work.
func failFirst(err error) func(int, *stripe.CheckoutSessionParams) error {
	return func(n int, _ *stripe.CheckoutSessionParams) error {
		if n == 1 {
			return err
		}
		return nil
	}
}

// assertStripeFailureUndone checks the aftermath of a Create that failed at
// Stripe: ErrPaymentProvider, the hold it had placed released at once, no
// checkout record, a clean ledger. It returns the failed call's params.
func assertStripeFailureUndone(t *testing.T, f *fixture, err error, mode checkoutd.InventoryMode) *stripe.CheckoutSessionParams {
	t.Helper()
	ctx := context.Background()
	if !errors.Is(err, checkout.ErrPaymentProvider) {
		t.Errorf("create with Stripe failing: %v, want checkout.ErrPaymentProvider", err)
	}
	calls := f.stripe.NewCalls()
	if len(calls) != 1 {
		t.Fatalf("Stripe saw %d New calls, want 1", len(calls))
	}
	failed := calls[0]
	if mode == checkoutd.ModeReserveTTL {
		holdID := failed.Metadata["inventory_reservation_id"]
		if holdID == "" {
			t.Fatal("the failed Stripe request named no hold")
		}
		if h := f.hold(t, holdID); h.Status != "released" || strPtr(h.ReleaseReason) != "checkout_failed" {
			t.Errorf("hold of the failed checkout: status %q, reason %v; want released, checkout_failed", h.Status, strPtr(h.ReleaseReason))
		}
		if hold, err := f.ledger.GetHold(ctx, f.shopID, holdID); err != nil || hold.Status != inventory.HoldReleased {
			t.Errorf("GetHold of the failed checkout's hold: %+v, %v; want released", hold, err)
		}
	}
	if ids := f.holdIDs(t, "active"); len(ids) != 0 {
		t.Errorf("active holds after the Stripe failure: %v", ids)
	}
	f.assertReserved(t, "A", "", 0)
	if list := f.checkouts(t); len(list) != 0 {
		t.Errorf("checkout records after the Stripe failure: %+v", list)
	}
	f.shop.RequireLedgerClean(t)
	return failed
}

// assertRetrySucceeds retries req once Stripe works again: a new session on
// a new hold, sent with a new Stripe idempotency key (Stripe would replay
// its saved failure for the old one).
func assertRetrySucceeds(t *testing.T, f *fixture, req checkout.Request, failed *stripe.CheckoutSessionParams, mode checkoutd.InventoryMode) {
	t.Helper()
	sess, created := f.create(t, req)
	if !created {
		t.Error("retry after the Stripe failure: not created")
	}
	p := f.stripe.LastCall(t)
	if strPtr(p.IdempotencyKey) == strPtr(failed.IdempotencyKey) {
		t.Errorf("retry reused the failed request's Stripe idempotency key %v", strPtr(p.IdempotencyKey))
	}
	if p.Metadata["checkout_id"] == failed.Metadata["checkout_id"] {
		t.Errorf("retry reused the forgotten checkout %s", failed.Metadata["checkout_id"])
	}
	if mode == checkoutd.ModeReserveTTL {
		if sess.ReservationID == nil || *sess.ReservationID == failed.Metadata["inventory_reservation_id"] {
			t.Errorf("retry's reservation %v, want a new hold", strPtr(sess.ReservationID))
		}
		f.assertReserved(t, "A", "", 2)
	}
	assertSessionRecorded(t, f.onlyCheckout(t), sess, "sale", string(mode))
	f.shop.RequireLedgerClean(t)
}

// When Stripe fails, the hold is released at once, the checkout is
// forgotten, and the same request then succeeds with a new hold.
func TestStripeFailureReleasesHold(t *testing.T) {
	t.Parallel()
	for _, mode := range []checkoutd.InventoryMode{checkoutd.ModeReserveTTL, checkoutd.ModeValidateOnly} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkout.Config{InventoryMode: mode})
			f.stock(t, "A", "", 5)
			f.stripe.BeforeNew(failFirst(stripe500()))
			req := f.request("cart-1", item("A", "", 2))

			sess, _, err := f.svc.Create(context.Background(), req)
			if sess != nil {
				t.Errorf("create with Stripe failing returned session %+v", sess)
			}
			var serr *stripe.Error
			if !errors.As(err, &serr) || serr.HTTPStatusCode != 500 {
				t.Errorf("error %v does not carry Stripe's 500", err)
			}
			failed := assertStripeFailureUndone(t, f, err, mode)
			assertRetrySucceeds(t, f, req, failed, mode)
		})
	}
}

// A Stripe call that times out, or outlives the request's deadline, is a
// Stripe failure like any other; and the request's deadline reaches Stripe,
// so the call does not outlive it.
func TestStripeTimeout(t *testing.T) {
	t.Parallel()
	t.Run("timeout error", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
		f.stock(t, "A", "", 5)
		f.stripe.BeforeNew(failFirst(testkit.StripeTimeout()))
		req := f.request("cart-1", item("A", "", 2))
		_, _, err := f.svc.Create(context.Background(), req)
		failed := assertStripeFailureUndone(t, f, err, checkoutd.ModeReserveTTL)
		assertRetrySucceeds(t, f, req, failed, checkoutd.ModeReserveTTL)
	})

	t.Run("context deadline", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
		f.stock(t, "A", "", 5)
		const deadline = time.Second
		// The fake hangs like an unresponsive Stripe until the request's
		// context ends, or, when the context never reaches it, for as long
		// as an HTTP client's own timeout would let it (shortened here).
		var (
			mu         sync.Mutex
			gotContext bool
			returnedAt time.Time
		)
		f.stripe.BeforeNew(func(n int, p *stripe.CheckoutSessionParams) error {
			if n != 1 {
				return nil
			}
			var done <-chan struct{}
			if p.Context != nil {
				done = p.Context.Done()
			}
			mu.Lock()
			gotContext = p.Context != nil
			mu.Unlock()
			select {
			case <-done:
				err := p.Context.Err()
				mu.Lock()
				returnedAt = time.Now()
				mu.Unlock()
				return err
			case <-time.After(2 * deadline):
				mu.Lock()
				returnedAt = time.Now()
				mu.Unlock()
				return testkit.StripeTimeout()
			}
		})
		req := f.request("cart-1", item("A", "", 2))
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		ctxDeadline, _ := ctx.Deadline()
		_, _, err := f.svc.Create(ctx, req)

		mu.Lock()
		if !gotContext {
			t.Errorf("the request's context did not reach Stripe (params.Context is nil): a hung Stripe call outlives the request by the HTTP client's timeout and retries")
		} else if late := returnedAt.Sub(ctxDeadline); late > 500*time.Millisecond {
			t.Errorf("Stripe call returned %v after the request's deadline", late)
		}
		mu.Unlock()
		failed := assertStripeFailureUndone(t, f, err, checkoutd.ModeReserveTTL)
		assertRetrySucceeds(t, f, req, failed, checkoutd.ModeReserveTTL)
	})
}

// A replay of a request returns the session made the first time: one hold,
// one Stripe session, created false.
func TestReplayReturnsSameSession(t *testing.T) {
	t.Parallel()
	for _, mode := range []checkoutd.InventoryMode{checkoutd.ModeReserveTTL, checkoutd.ModeValidateOnly} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkout.Config{InventoryMode: mode})
			f.stock(t, "A", "", 5)
			req := f.request("cart-1", item("A", "", 2))
			first, created := f.create(t, req)
			if !created {
				t.Fatal("first create: not created")
			}
			for range 3 {
				again, created := f.create(t, req)
				if created {
					t.Error("replay: created")
				}
				if again.ID != first.ID || deref(again.URL) != deref(first.URL) || !again.ExpiresAt.Equal(first.ExpiresAt) ||
					again.InventoryMode != first.InventoryMode || strPtr(again.ReservationID) != strPtr(first.ReservationID) {
					t.Errorf("replay returned %+v, first %+v", again, first)
				}
			}
			if n := len(f.stripe.NewCalls()); n != 1 {
				t.Errorf("Stripe saw %d New calls, want 1", n)
			}
			wantHolds, wantReserved := 0, int64(0)
			if mode == checkoutd.ModeReserveTTL {
				wantHolds, wantReserved = 1, 2
			}
			if ids := f.holdIDs(t, ""); len(ids) != wantHolds {
				t.Errorf("holds %v, want %d", ids, wantHolds)
			}
			f.assertReserved(t, "A", "", wantReserved)
			f.onlyCheckout(t)
			f.shop.RequireLedgerClean(t)
		})
	}
}

// The same idempotency key with another request is a conflict that changes
// nothing.
func TestIdempotencyConflict(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 5)
	req := f.request("cart-1", item("A", "", 2))
	first, _ := f.create(t, req)

	for name, mutate := range map[string]func(*checkout.Request){
		"quantity":    func(r *checkout.Request) { r.Items[0].Quantity = 3 },
		"success url": func(r *checkout.Request) { r.SuccessURL += "&x=1" },
		"mode":        func(r *checkout.Request) { r.Mode = "rental" },
		"email":       func(r *checkout.Request) { r.CustomerEmail = "c@d.example" },
	} {
		other := f.request("cart-1", item("A", "", 2))
		mutate(&other)
		if sess, _, err := f.svc.Create(context.Background(), other); !errors.Is(err, inventory.ErrIdempotencyConflict) {
			t.Errorf("same key, other %s: session %+v, error %v; want inventory.ErrIdempotencyConflict", name, sess, err)
		}
	}
	if n := len(f.stripe.NewCalls()); n != 1 {
		t.Errorf("Stripe saw %d New calls, want 1", n)
	}
	if ids := f.holdIDs(t, ""); len(ids) != 1 || ids[0] != *first.ReservationID {
		t.Errorf("holds %v, want only %s", ids, *first.ReservationID)
	}
	f.assertReserved(t, "A", "", 2)
	f.shop.RequireLedgerClean(t)
}

// reserve_ttl beyond the stock: *inventory.InsufficientStockError, nothing
// held, no Stripe call, and the checkout forgotten so the key works once
// the stock is there.
func TestReserveInsufficientStock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 1)
	f.stock(t, "B", "", 3)
	req := f.request("cart-1", item("A", "", 2), item("B", "", 1))

	_, _, err := f.svc.Create(context.Background(), req)
	var short *inventory.InsufficientStockError
	if !errors.As(err, &short) {
		t.Fatalf("create beyond the stock: %v, want *inventory.InsufficientStockError", err)
	}
	if want := (inventory.Shortfall{SKU: "A", Requested: 2, Available: 1}); len(short.Lines) != 1 || short.Lines[0] != want {
		t.Errorf("shortfall = %+v, want [%+v]", short.Lines, want)
	}
	if ids := f.holdIDs(t, ""); len(ids) != 0 {
		t.Errorf("holds after the refusal: %v", ids)
	}
	f.assertReserved(t, "A", "", 0)
	f.assertReserved(t, "B", "", 0)
	if n := len(f.stripe.NewCalls()); n != 0 {
		t.Errorf("Stripe was called %d times", n)
	}
	if list := f.checkouts(t); len(list) != 0 {
		t.Errorf("checkout records after the refusal: %+v", list)
	}

	f.stock(t, "A", "", 2)
	if sess, created := f.create(t, req); !created || sess.ReservationID == nil {
		t.Errorf("same key once stocked: %+v, created %v", sess, created)
	}
	f.assertReserved(t, "A", "", 2)
	f.shop.RequireLedgerClean(t)
}

// Stock rows locked past the lock budget: *inventory.BusyError, no Stripe
// call, the key free for the retry that then succeeds.
func TestBusy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "A", "", 5)
	impatient, err := database.Open(ctx, testdb.URL(t), database.PoolConfig{MaxConns: 4, LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	defer impatient.Close()
	svc := f.serviceOn(impatient)

	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT 1 FROM stock_levels WHERE shop_id = $1 FOR UPDATE", f.shopID); err != nil {
		t.Fatal(err)
	}
	req := f.request("cart-1", item("A", "", 2))
	var busy *inventory.BusyError
	if _, _, err := svc.Create(ctx, req); !errors.As(err, &busy) || busy.RetryAfter <= 0 {
		t.Errorf("create with the stock locked: %v, want *inventory.BusyError with a retry delay", err)
	}
	if n := len(f.stripe.NewCalls()); n != 0 {
		t.Errorf("Stripe was called %d times", n)
	}
	if list := f.checkouts(t); len(list) != 0 {
		t.Errorf("checkout records after the busy attempt: %+v", list)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, created, err := svc.Create(ctx, req); err != nil || !created {
		t.Errorf("retry once unlocked: created %v, %v", created, err)
	}
	f.assertReserved(t, "A", "", 2)
	f.shop.RequireLedgerClean(t)
}
