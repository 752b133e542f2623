package checkout_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
)

var unavailableModes = []struct {
	name string
	cfg  checkout.Config
}{
	{"validate_only", checkout.Config{InventoryMode: checkoutd.ModeValidateOnly}},
	{"reserve_ttl", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL}},
	{"bypass", checkout.Config{InventoryMode: checkoutd.ModeReserveTTL, SkipInventoryValidation: true}},
}

// openProxiedPool opens a pool on the package's database through a proxy
// the test kills to make the database go away, and checks it works first.
func openProxiedPool(t *testing.T) (*pgxpool.Pool, *testkit.Proxy) {
	t.Helper()
	ctx := context.Background()
	dbURL, proxy := testkit.ProxiedURL(t)
	pool, err := database.Open(ctx, dbURL, database.PoolConfig{MaxConns: 4})
	if err != nil {
		t.Fatalf("open pool through proxy: %v", err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatalf("query through proxy: %v", err)
	}
	return pool, proxy
}

// assertFailedClosed checks that err is inventory.ErrUnavailable and that
// nothing happened: no Stripe call, no checkout record, nothing reserved.
func assertFailedClosed(t *testing.T, f *fixture, what string, err error) {
	t.Helper()
	if !errors.Is(err, inventory.ErrUnavailable) {
		t.Errorf("%s: error %v (unexpected EOF: %v); want one wrapping inventory.ErrUnavailable (503)",
			what, err, errors.Is(err, io.ErrUnexpectedEOF))
	}
}

func assertNothingHappened(t *testing.T, f *fixture) {
	t.Helper()
	if n := len(f.stripe.NewCalls()); n != 0 {
		t.Errorf("Stripe was called %d times with the database gone", n)
	}
	if list := f.checkouts(t); len(list) != 0 {
		t.Errorf("checkout records after the failures: %+v", list)
	}
	f.assertReserved(t, "A", "", 0)
	f.shop.RequireLedgerClean(t)
}

// A database that does not answer fails the checkout closed, in every mode:
// an error wrapping inventory.ErrUnavailable, and Stripe is never called, so
// no session sells stock nobody checked.
func TestCreateFailsClosedWhenDatabaseIsGone(t *testing.T) {
	t.Parallel()
	for _, tt := range unavailableModes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.cfg)
			f.stock(t, "A", "", 5)
			pool, proxy := openProxiedPool(t)
			svc := f.serviceOn(pool)

			proxy.Kill()
			pool.Reset() // no connection from before survives: every query must connect
			for attempt := range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, _, err := svc.Create(ctx, f.request("cart-1", item("A", "", 1)))
				cancel()
				assertFailedClosed(t, f, fmt.Sprintf("create with the database gone, attempt %d", attempt+1), err)
			}
			assertNothingHappened(t, f)
		})
	}
}

// The first request after the database went away runs on a pooled
// connection the server side has closed. It too must be reported as
// unavailable (503 inventory_unavailable), not as an internal error.
func TestCreateFailsClosedOnPooledConnectionTheDatabaseDropped(t *testing.T) {
	t.Parallel()
	for _, tt := range unavailableModes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.cfg)
			f.stock(t, "A", "", 5)
			pool, proxy := openProxiedPool(t)
			svc := f.serviceOn(pool)

			proxy.Kill()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _, err := svc.Create(ctx, f.request("cart-1", item("A", "", 1)))
			assertFailedClosed(t, f, "first create after the database dropped the pool's connection", err)
			assertNothingHappened(t, f)
		})
	}
}
