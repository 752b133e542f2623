package checkout_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// named returns a pool of its own, whose connections carry app as their
// application_name so the test can see them wait for locks, and a Ledger on
// it. Its lock timeout is long: a deadlock is detected first.
func named(t *testing.T, app string) (*pgxpool.Pool, *inventory.Ledger) {
	t.Helper()
	pool, err := database.Open(context.Background(), testdb.URL(t), database.PoolConfig{MaxConns: 2, LockTimeout: 10 * time.Second, ApplicationName: app})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, inventory.NewLedger(pool, inventory.Config{Logger: slog.New(slog.DiscardHandler)})
}

// waitBlocked waits until a connection named app waits for a lock.
func waitBlocked(t *testing.T, f *settleFixture, app string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := f.pool.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never waited for a lock", app)
}

// gate begins a transaction that locks what lockSQL selects ($1 is the
// shop), so the test can line others up behind it: raw SQL on purpose, as
// no API takes a lock and keeps it.
func gate(t *testing.T, f *settleFixture, lockSQL string, args ...any) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, lockSQL, append([]any{f.shopID}, args...)...); err != nil {
		t.Fatal(err)
	}
	return tx
}

// deadlocked reports whether err is PostgreSQL's deadlock_detected.
func deadlocked(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}

type processed struct {
	out checkout.Outcome
	err error
}

// A late payment sells the stock again (Ledger.Sell, in the event's
// transaction). When a lapsed hold is in its way, Reserve closes that hold
// while the transaction still has the stock row locked from the attempt
// that came up short: stock row, then hold. Everyone else locks a hold and
// then its stock rows (Commit and its expiry of a lapsed hold, CloseHolds,
// the reaper, Reserve outside a transaction). The two orders meet in a
// deadlock: one side fails after deadlock_timeout (a webhook answered 500,
// or a checkout answered 429) although nothing was wrong.
//
// Each case lines the two sides up deterministically behind a gate
// transaction, then checks that both succeed the first time and that the
// one unit went to exactly one of them.
func TestLatePaymentLockOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Two late payments meet on the last unit: A's hold was released and
	// its unit is now held by B's hold, which has lapsed. A's event sells
	// again while B's event expires B's lapsed hold on its way to selling.
	t.Run("late payment and late payment", func(t *testing.T) {
		t.Parallel()
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		f.stock(t, "A", "", 1)
		a := f.checkout(t, 1)
		f.shop.Release(t, *a.ReservationID)
		b := f.checkout(t, 1)
		inventorytest.MakeSessionsDue(t, f.pool, f.shopID, *b.ReservationID)

		suffix := f.shopID[len(f.shopID)-12:]
		appA, appB := "wh-a-"+suffix, "wh-b-"+suffix
		log := slog.New(slog.DiscardHandler)
		poolA, ledgerA := named(t, appA)
		poolB, ledgerB := named(t, appB)
		settlerA := checkout.NewSettler(ledgerA, checkout.SettleConfig{})
		settlerB := checkout.NewSettler(ledgerB, checkout.SettleConfig{})
		evA := f.event("evt_a", stripe.EventTypeCheckoutSessionCompleted, a, "paid")
		evB := f.event("evt_b", stripe.EventTypeCheckoutSessionCompleted, b, "paid")

		// A, then B, wait behind a transaction holding the stock row.
		g := gate(t, f, "SELECT 1 FROM stock_levels WHERE shop_id = $1 AND sku = 'A' FOR UPDATE")
		doneA, doneB := make(chan processed, 1), make(chan processed, 1)
		go func() {
			out, err := settleIn(ctx, poolA, settlerA, f.shopID, evA, log, nil)
			doneA <- processed{out, err}
		}()
		waitBlocked(t, f, appA)
		go func() {
			out, err := settleIn(ctx, poolB, settlerB, f.shopID, evB, log, nil)
			doneB <- processed{out, err}
		}()
		waitBlocked(t, f, appB)
		if err := g.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		ra, rb := <-doneA, <-doneB
		for name, r := range map[string]*processed{"A": &ra, "B": &rb} {
			if r.err != nil {
				t.Errorf("late payment %s failed on its first delivery (a webhook answered 500; deadlock: %v): %v", name, deadlocked(r.err), r.err)
				// Stripe's retry.
				ev := evA
				if name == "B" {
					ev = evB
				}
				r.out, r.err = settleIn(ctx, f.pool, f.settler, f.shopID, ev, log, nil)
				if r.err != nil {
					t.Fatalf("retry of %s: %v", name, r.err)
				}
			}
		}
		outs := map[checkout.Outcome]int{ra.out: 1}
		outs[rb.out]++
		if outs[checkout.Committed] != 1 || outs[checkout.Oversold] != 1 {
			t.Errorf("outcomes A %s, B %s; want one committed and one oversold", ra.out, rb.out)
		}
		if onHand, reserved := f.level(t, "A"); onHand != 0 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 0 and 0", onHand, reserved)
		}
		f.shop.RequireLedgerClean(t)
	})

	// A late payment and a new checkout meet on the last unit, held by a
	// lapsed hold of a third checkout that never pays: both set out to
	// expire that hold.
	t.Run("late payment and new checkout", func(t *testing.T) {
		t.Parallel()
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		f.stock(t, "A", "", 1)
		a := f.checkout(t, 1)
		f.shop.Release(t, *a.ReservationID)
		abandoned := f.checkout(t, 1)
		inventorytest.MakeSessionsDue(t, f.pool, f.shopID, *abandoned.ReservationID)

		suffix := f.shopID[len(f.shopID)-12:]
		appA, appC := "wh-a-"+suffix, "co-c-"+suffix
		log := slog.New(slog.DiscardHandler)
		poolA, ledgerA := named(t, appA)
		poolC, ledgerC := named(t, appC)
		settlerA := checkout.NewSettler(ledgerA, checkout.SettleConfig{})
		svcC := checkout.NewService(poolC, ledgerC, f.stripe, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, HoldTTL: 20 * time.Minute, Logger: log})
		evA := f.event("evt_a", stripe.EventTypeCheckoutSessionCompleted, a, "paid")

		// The new checkout, then the late payment, wait behind a
		// transaction holding the lapsed hold.
		g := gate(t, f, "SELECT 1 FROM holds WHERE shop_id = $1 AND id = $2 FOR UPDATE", *abandoned.ReservationID)
		type created struct {
			s   *checkout.Session
			err error
		}
		doneC, doneA := make(chan created, 1), make(chan processed, 1)
		go func() {
			amount := int64(1000)
			s, _, err := svcC.Create(ctx, checkout.Request{ShopID: f.shopID, Mode: "sale",
				Items:      []checkout.Item{{SKU: "A", Quantity: 1, Name: "A", UnitAmount: &amount, Currency: "eur"}},
				SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart"})
			doneC <- created{s, err}
		}()
		waitBlocked(t, f, appC)
		go func() {
			out, err := settleIn(ctx, poolA, settlerA, f.shopID, evA, log, nil)
			doneA <- processed{out, err}
		}()
		waitBlocked(t, f, appA)
		if err := g.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		rc, ra := <-doneC, <-doneA
		var short *inventory.InsufficientStockError
		switch {
		case rc.err == nil && ra.err == nil:
			if ra.out != checkout.Oversold {
				t.Errorf("the new checkout got the unit, the late payment: %s; want oversold", ra.out)
			}
		case errors.As(rc.err, &short) && ra.err == nil:
			if ra.out != checkout.Committed {
				t.Errorf("the new checkout was refused, the late payment: %s; want committed", ra.out)
			}
		default:
			t.Errorf("new checkout: %v (deadlock: %v); late payment: %q, %v (deadlock: %v); want one of them to get the unit, and no failure",
				rc.err, deadlocked(rc.err), ra.out, ra.err, deadlocked(ra.err))
		}
		if _, reserved := f.level(t, "A"); reserved > 1 {
			t.Errorf("reserved %d", reserved)
		}
		f.shop.RequireLedgerClean(t)
	})
}
