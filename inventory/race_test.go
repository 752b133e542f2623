package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// raceOutcome counts what happened to the holds of a race.
type raceOutcome struct {
	placed, short, busy, committed, released, notActive atomic.Int64
}

// runRace has n goroutines each try to hold lines(i), then commit or release
// at random, while a reaper loop expires holds with a TTL short enough that
// some lapse mid-flight.
func runRace(t *testing.T, f *fixture, n int, lines func(i int) []inventory.Line) *raceOutcome {
	t.Helper()
	ctx := context.Background()
	var out raceOutcome
	stop := make(chan struct{})
	var reaper sync.WaitGroup
	reaper.Add(1)
	go func() {
		defer reaper.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.ledger.ExpireDue(ctx, time.Now(), 50); err != nil {
				t.Errorf("reaper: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A third of the holds lapse almost at once, racing the reaper and
			// the commit that follows.
			ttl := time.Minute
			if i%3 == 0 {
				ttl = time.Second
			}
			hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: lines(i), TTL: ttl, Reference: fmt.Sprint("cart-", i)})
			var short *inventory.InsufficientStockError
			var busy *inventory.BusyError
			switch {
			case errors.As(err, &short):
				out.short.Add(1)
				return
			case errors.As(err, &busy):
				out.busy.Add(1)
				return
			case err != nil:
				t.Errorf("reserve %d: %v", i, err)
				return
			}
			out.placed.Add(1)
			if ttl == time.Second {
				time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
			}
			var notActive *inventory.HoldNotActiveError
			if rand.IntN(2) == 0 {
				_, err = f.ledger.Commit(ctx, f.shopID, hold.ID, "order")
				if err == nil {
					out.committed.Add(1)
				}
			} else {
				_, err = f.ledger.Release(ctx, f.shopID, hold.ID, "abandoned")
				if err == nil {
					out.released.Add(1)
				}
			}
			switch {
			case errors.As(err, &notActive):
				out.notActive.Add(1)
			case errors.As(err, &busy):
				out.busy.Add(1)
			case err != nil:
				t.Errorf("finish hold %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	reaper.Wait()
	// Whatever lapsed and was left open is closed now.
	if _, err := f.ledger.ExpireDue(ctx, time.Now().Add(2*time.Minute), 1000); err != nil {
		t.Fatalf("final reap: %v", err)
	}
	t.Logf("placed %d, short %d, busy %d, committed %d, released %d, not active %d",
		out.placed.Load(), out.short.Load(), out.busy.Load(), out.committed.Load(), out.released.Load(), out.notActive.Load())
	return &out
}

// The race tests are not parallel: their reaper acts on every shop. Go runs
// the tests that are not parallel first, alone.
func TestRaceForLastUnits(t *testing.T) {
	raceForLastUnits(t, newFixture(t))
}

func TestRaceAcrossLocationsWithMultiLineHolds(t *testing.T) {
	raceAcrossLocations(t, newFixture(t))
}

// raceForLastUnits races 200 holds of one unit for the last 10 units of a
// line of f's shop, with their commits, releases and the reaper, and checks
// that at most 10 were sold, exactly those committed, and that nothing is
// left reserved. The group tests run it through groups.
func raceForLastUnits(t *testing.T, f *fixture) *raceOutcome {
	t.Helper()
	f.stock(t, "HOT", "", "default", 10)

	out := runRace(t, f, 200, func(int) []inventory.Line {
		return []inventory.Line{{SKU: "HOT", Quantity: 1}}
	})

	info := f.shop.Info(t, "HOT", "")
	if sold := 10 - info.OnHand; sold != out.committed.Load() || sold > 10 {
		t.Errorf("on hand fell by %d, committed %d; want equal and at most 10", sold, out.committed.Load())
	}
	if info.Reserved != 0 || info.OnHand < 0 {
		t.Errorf("after the race: on hand %d, reserved %d; want reserved 0, on hand >= 0", info.OnHand, info.Reserved)
	}
	if out.placed.Load() < 10 {
		t.Errorf("only %d holds placed; the 10 units should have been held at least once", out.placed.Load())
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	return out
}

// raceAcrossLocations races 200 overlapping two-line holds, their lines in
// both orders, over four SKUs stocked at three locations, and checks that
// no location is oversold, nothing is left reserved, and no operation
// timed out on locks: with ordered locking there are no waits that long.
// The group tests run it through groups.
func raceAcrossLocations(t *testing.T, f *fixture) *raceOutcome {
	t.Helper()
	f.location(t, "north", 1)
	f.location(t, "south", 2)
	skus := []string{"A", "B", "C", "D"}
	for _, sku := range skus {
		f.stock(t, sku, "", "default", 3)
		f.stock(t, sku, "", "north", 4)
		f.stock(t, sku, "", "south", 3)
	}

	// Two SKUs out of four, the second line sometimes listed first,
	// quantities 1-3.
	out := runRace(t, f, 200, func(i int) []inventory.Line {
		a, b := skus[i%4], skus[(i+1+i/4%3)%4]
		if i%2 == 0 {
			a, b = b, a
		}
		return []inventory.Line{{SKU: a, Quantity: int64(1 + i%3)}, {SKU: b, Quantity: 1}}
	})
	if out.busy.Load() > 0 {
		t.Errorf("%d operations timed out on locks; with ordered locking there should be no waits that long", out.busy.Load())
	}

	for _, sku := range skus {
		info := f.shop.Info(t, sku, "")
		if info.Reserved != 0 || info.OnHand < 0 || info.OnHand > 10 {
			t.Errorf("%s after the race: on hand %d, reserved %d", sku, info.OnHand, info.Reserved)
		}
		for _, loc := range info.Locations {
			if loc.OnHand < 0 {
				t.Errorf("%s@%s oversold: on hand %d", sku, loc.LocationID, loc.OnHand)
			}
		}
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	return out
}
