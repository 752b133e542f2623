package inventory_test

import (
	"testing"

	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// largestGroup is the size of the largest group g ran.
func (g *groupFixture) largestGroup() int {
	largest := 0
	for _, r := range g.runs() {
		largest = max(largest, r.Size)
	}
	return largest
}

// The race for the last units, through groups: 200 holds on 10 units, their
// commits and releases, and the reaper, with one or two groups in flight.
// At most 10 are sold, every hold is whole or absent, nothing deadlocks
// (a deadlock would surface as an error or a busy operation) and the books
// balance. Not parallel, like the other race tests: the reaper acts on
// every shop.
func TestGroupRaceForLastUnits(t *testing.T) {
	for _, inFlight := range []int{1, 2} {
		g := newGroupFixtureInFlight(t, inFlight)
		g.stock(t, "HOT", "", "default", 10)

		out := runRace(t, g.fixture, 200, func(int) []inventory.Line {
			return []inventory.Line{{SKU: "HOT", Quantity: 1}}
		})

		info := g.shop.Info(t, "HOT", "")
		if sold := 10 - info.OnHand; sold != out.committed.Load() || sold > 10 {
			t.Errorf("in flight %d: on hand fell by %d, committed %d; want equal and at most 10", inFlight, sold, out.committed.Load())
		}
		if info.Reserved != 0 || info.OnHand < 0 {
			t.Errorf("in flight %d: on hand %d, reserved %d; want reserved 0, on hand >= 0", inFlight, info.OnHand, info.Reserved)
		}
		if out.placed.Load() < 10 {
			t.Errorf("in flight %d: only %d holds placed; the 10 units should have been held at least once", inFlight, out.placed.Load())
		}
		if out.busy.Load() > 0 {
			t.Errorf("in flight %d: %d operations timed out on locks", inFlight, out.busy.Load())
		}
		if largest := g.largestGroup(); largest < 2 {
			t.Errorf("in flight %d: the largest group carried %d operations; the race should have formed groups", inFlight, largest)
		}
		inventorytest.RequireLedgerClean(t, g.ledger, g.shopID)
	}
}

// Multi-line holds over overlapping lines at several locations, through
// groups: whatever order a hold lists its lines in, a group locks the rows
// once in the fixed order, so groups neither deadlock nor oversell.
func TestGroupRaceAcrossLocationsWithMultiLineHolds(t *testing.T) {
	g := newGroupFixtureInFlight(t, 2)
	g.location(t, "north", 1)
	g.location(t, "south", 2)
	skus := []string{"A", "B", "C", "D"}
	for _, sku := range skus {
		g.stock(t, sku, "", "default", 3)
		g.stock(t, sku, "", "north", 4)
		g.stock(t, sku, "", "south", 3)
	}

	out := runRace(t, g.fixture, 200, func(i int) []inventory.Line {
		a, b := skus[i%4], skus[(i+1+i/4%3)%4]
		if i%2 == 0 {
			a, b = b, a
		}
		return []inventory.Line{{SKU: a, Quantity: int64(1 + i%3)}, {SKU: b, Quantity: 1}}
	})
	if out.busy.Load() > 0 {
		t.Errorf("%d operations timed out on locks", out.busy.Load())
	}
	for _, sku := range skus {
		info := g.shop.Info(t, sku, "")
		if info.Reserved != 0 || info.OnHand < 0 || info.OnHand > 10 {
			t.Errorf("%s after the race: on hand %d, reserved %d", sku, info.OnHand, info.Reserved)
		}
		for _, loc := range info.Locations {
			if loc.OnHand < 0 {
				t.Errorf("%s@%s oversold: on hand %d", sku, loc.LocationID, loc.OnHand)
			}
		}
	}
	if largest := g.largestGroup(); largest < 2 {
		t.Errorf("the largest group carried %d operations; the race should have formed groups", largest)
	}
	inventorytest.RequireLedgerClean(t, g.ledger, g.shopID)
}
