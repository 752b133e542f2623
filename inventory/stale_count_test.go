package inventory_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// countedSet is a set of sku at default from a count that found expected.
func countedSet(sku string, quantity, expected int64) inventory.StockChange {
	return inventory.StockChange{SKU: sku, Op: inventory.OpSet, Quantity: quantity, ExpectedOnHand: ptr(expected)}
}

// requireStale fails tb unless err is a *StaleCountError naming exactly want.
func requireStale(tb testing.TB, err error, want ...inventory.StaleCount) {
	tb.Helper()
	stale, ok := errors.AsType[*inventory.StaleCountError](err)
	if !ok {
		tb.Fatalf("error = %v, want *inventory.StaleCountError", err)
	}
	if !slices.Equal(stale.Lines, want) {
		tb.Errorf("stale lines %+v, want %+v", stale.Lines, want)
	}
}

func TestAdjustExpectedOnHand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a count that still holds is applied", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		res, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{countedSet("A", 8, 10)}})
		if err != nil {
			t.Fatalf("Adjust: %v", err)
		}
		if res.Applied != 1 || res.Movements[0].Quantity != -2 {
			t.Errorf("result %+v, want one movement of -2", res)
		}
		if got := f.shop.Info(t, "A", "").OnHand; got != 8 {
			t.Errorf("on hand %d, want 8", got)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("a new line counts from 0", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{countedSet("NEW", 4, 0)}}); err != nil {
			t.Fatalf("Adjust: %v", err)
		}
		if got := f.shop.Info(t, "NEW", "").OnHand; got != 4 {
			t.Errorf("on hand %d, want 4", got)
		}
	})

	t.Run("a stale count writes nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		before := f.snapshot(t)
		res, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{IdempotencyKey: "count-1", Changes: []inventory.StockChange{countedSet("A", 12, 11)}})
		if res != nil {
			t.Errorf("Adjust returned %+v", res)
		}
		requireStale(t, err, inventory.StaleCount{SKU: "A", LocationID: "default", ExpectedOnHand: 11, OnHand: 10})
		f.assertUnchanged(t, before)
		f.shop.RequireLedgerClean(t)
	})

	t.Run("one stale line of several writes no line", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.location(t, "north", 1)
		f.stock(t, "A", "", "default", 10)
		f.stock(t, "B", "", "default", 5)
		f.stock(t, "C", "", "north", 3)
		f.reserve(t, item("B", 4))
		before := f.snapshot(t)
		_, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{
			{SKU: "A", Op: inventory.OpIncrement, Quantity: 1},
			// Counted before the increment above: stale.
			countedSet("A", 20, 10),
			// Stale too, at another location: the answer names both.
			{SKU: "C", LocationID: "north", Op: inventory.OpSet, Quantity: 9, ExpectedOnHand: ptr(int64(2))},
			// Would be a stock conflict (below the 4 reserved), but the
			// stale counts decide the answer.
			{SKU: "B", Op: inventory.OpSet, Quantity: 1},
			countedSet("D", 3, 0),
		}})
		requireStale(t, err,
			inventory.StaleCount{SKU: "A", LocationID: "default", ExpectedOnHand: 10, OnHand: 11},
			inventory.StaleCount{SKU: "C", LocationID: "north", ExpectedOnHand: 2, OnHand: 3},
		)
		f.assertUnchanged(t, before)
		f.shop.RequireLedgerClean(t)
	})

	t.Run("a count is judged after the batch's earlier changes to its row", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{
			{SKU: "A", Op: inventory.OpIncrement, Quantity: 2},
			countedSet("A", 7, 12),
		}}); err != nil {
			t.Fatalf("Adjust: %v", err)
		}
		if got := f.shop.Info(t, "A", "").OnHand; got != 7 {
			t.Errorf("on hand %d, want 7", got)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("bad expectedOnHand is refused", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		before := f.snapshot(t)
		for name, tt := range map[string]struct {
			change inventory.StockChange
			field  string
		}{
			"on an increment": {inventory.StockChange{SKU: "A", Op: inventory.OpIncrement, Quantity: 1, ExpectedOnHand: ptr(int64(10))}, "changes[1].expectedOnHand"},
			"on a decrement":  {inventory.StockChange{SKU: "A", Op: inventory.OpDecrement, Quantity: 1, ExpectedOnHand: ptr(int64(10))}, "changes[1].expectedOnHand"},
			"negative":        {countedSet("A", 5, -1), "changes[1].expectedOnHand"},
		} {
			_, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{countedSet("A", 9, 10), tt.change}})
			assertValidation(t, err, tt.field)
			if t.Failed() {
				t.Logf("case %q", name)
			}
		}
		f.assertUnchanged(t, before)
	})

	t.Run("idempotency keys", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		req := inventory.AdjustRequest{IdempotencyKey: "count-1", Changes: []inventory.StockChange{countedSet("A", 8, 10)}}
		first, err := f.ledger.Adjust(ctx, f.shopID, req)
		if err != nil {
			t.Fatalf("Adjust: %v", err)
		}
		// The replay returns the first result although its count is
		// stale now: the key stands for the change already made.
		before := f.snapshot(t)
		again, err := f.ledger.Adjust(ctx, f.shopID, req)
		if err != nil || again.Movements[0].ID != first.Movements[0].ID {
			t.Errorf("replay: %+v, %v; want the first result", again, err)
		}
		f.assertUnchanged(t, before)

		// A refused count claims no key: the same key with a fresh count
		// is a new request, and applies.
		stale := inventory.AdjustRequest{IdempotencyKey: "count-2", Changes: []inventory.StockChange{countedSet("A", 5, 10)}}
		_, err = f.ledger.Adjust(ctx, f.shopID, stale)
		requireStale(t, err, inventory.StaleCount{SKU: "A", LocationID: "default", ExpectedOnHand: 10, OnHand: 8})
		f.assertUnchanged(t, before)
		fresh := inventory.AdjustRequest{IdempotencyKey: "count-2", Changes: []inventory.StockChange{countedSet("A", 5, 8)}}
		if _, err := f.ledger.Adjust(ctx, f.shopID, fresh); err != nil {
			t.Fatalf("the key again with a fresh count: %v", err)
		}
		if _, err := f.ledger.Adjust(ctx, f.shopID, stale); !errors.Is(err, inventory.ErrIdempotencyConflict) {
			t.Errorf("the stale request under the now used key: %v, want ErrIdempotencyConflict", err)
		}
		if got := f.shop.Info(t, "A", "").OnHand; got != 5 {
			t.Errorf("on hand %d, want 5", got)
		}
		f.shop.RequireLedgerClean(t)
	})
}

// TestAdjustExpectedOnHandRace has a sale commit after the count was taken,
// while the set waits for the stock row: the set must see the sale and
// refuse, never write the count over it.
func TestAdjustExpectedOnHandRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)
	sold := f.reserve(t, item("A", 3))
	counted := f.shop.Info(t, "A", "").OnHand

	h := f.holdLocks(t)
	if _, err := h.ledger.Commit(ctx, f.shopID, sold.ID, "order-1"); err != nil {
		t.Fatalf("commit: %v", err)
	}
	before := f.lastMovementID(t)
	err := whileLocked(t, h, func() error {
		_, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{countedSet("A", 12, counted)}})
		return err
	})
	requireStale(t, err, inventory.StaleCount{SKU: "A", LocationID: "default", ExpectedOnHand: 10, OnHand: 7})
	if got := f.shop.Info(t, "A", ""); got.OnHand != 7 || got.Reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want the sale's 7 and 0", got.OnHand, got.Reserved)
	}
	if got := f.movementsAfter(t, before); len(got) != 1 || got[0].Type != inventory.MovementSale {
		t.Errorf("movements after the count: %+v, want the sale's only", got)
	}
	f.shop.RequireLedgerClean(t)
}

// TestAdjustExpectedOnHandConcurrent runs counters that each add one unit
// by compare-and-set (read, set to one more, retry when stale) against
// sales of the same line. Without the comparison in the write a counter
// would overwrite sales; with it, every unit added and every unit sold is
// in the final on-hand.
func TestAdjustExpectedOnHandConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const initial, counters, perCounter, sales = 100, 4, 10, 30
	f.stock(t, "A", "", "default", initial)

	var stale atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, counters+sales)
	for range counters {
		wg.Go(func() {
			for added := 0; added < perCounter; {
				info, err := f.ledger.StockInfo(ctx, f.shopID, "A", "")
				if err != nil {
					errs <- err
					return
				}
				_, err = f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{countedSet("A", info.OnHand+1, info.OnHand)}})
				switch _, isStale := errors.AsType[*inventory.StaleCountError](err); {
				case err == nil:
					added++
				case isStale:
					stale.Add(1)
				default:
					errs <- err
					return
				}
			}
		})
	}
	for range sales {
		wg.Go(func() {
			hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 1)}, TTL: longTTL})
			if err == nil {
				_, err = f.ledger.Commit(ctx, f.shopID, hold.ID, "order")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent change: %v", err)
	}
	if got, want := f.shop.Info(t, "A", "").OnHand, int64(initial+counters*perCounter-sales); got != want {
		t.Errorf("on hand %d, want %d: a count overwrote a sale or another count", got, want)
	}
	t.Logf("%d stale counts retried", stale.Load())
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}
