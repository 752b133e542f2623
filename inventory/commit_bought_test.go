package inventory_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// A hold paid for less than it holds sells what was bought, from the
// locations the hold drew on first, and gives the rest back: RELEASE
// movements for the difference, a line not bought released whole.
func TestCommitBought(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 5)
	f.stock(t, "A", "", "north", 3)
	f.stock(t, "B", "size:M", "default", 4)
	f.stock(t, "C", "", "default", 2)
	hold := f.reserve(t, item("A", 6), variantItem("B", "size:M", 2), item("C", 1)) // A: 5 at default, 1 at north
	before := f.lastMovementID(t)

	committed, err := f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("A", 3), variantItem("B", "size:M", 1), item("A", 1), variantItem("B", "size:M", 1)}, "pi_1")
	if err != nil {
		t.Fatalf("CommitBought: %v", err)
	}
	want := []inventory.HoldItem{
		{SKU: "A", Quantity: 4, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 4}}},
		{SKU: "B", VariantKey: "size:M", Quantity: 2, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 2}}},
	}
	if committed.Status != inventory.HoldCommitted || !slices.EqualFunc(committed.Items, want, equalItem) {
		t.Errorf("CommitBought returned %s %+v, want committed %+v", committed.Status, committed.Items, want)
	}
	if got := f.hold(t, hold.ID); got.Status != inventory.HoldCommitted || !slices.EqualFunc(got.Items, want, equalItem) {
		t.Errorf("GetHold: %s %+v, want committed %+v", got.Status, got.Items, want)
	}
	for _, tt := range []struct {
		sku, variantKey   string
		onHand, reserved  int64
		locationsOnHand   []int64
		locationsReserved []int64
	}{
		{"A", "", 4, 0, []int64{1, 3}, []int64{0, 0}},
		{"B", "size:M", 2, 0, []int64{2}, []int64{0}},
		{"C", "", 2, 0, []int64{2}, []int64{0}},
	} {
		info := f.shop.Info(t, tt.sku, tt.variantKey)
		if info.OnHand != tt.onHand || info.Reserved != tt.reserved {
			t.Errorf("%s[%s]: on hand %d, reserved %d; want %d, %d", tt.sku, tt.variantKey, info.OnHand, info.Reserved, tt.onHand, tt.reserved)
		}
		for i, loc := range info.Locations {
			if loc.OnHand != tt.locationsOnHand[i] || loc.Reserved != tt.locationsReserved[i] {
				t.Errorf("%s[%s]@%s: on hand %d, reserved %d; want %d, %d", tt.sku, tt.variantKey, loc.LocationID, loc.OnHand, loc.Reserved, tt.locationsOnHand[i], tt.locationsReserved[i])
			}
		}
	}
	assertMovements(t, "CommitBought", f.movementsAfter(t, before),
		mv{Type: inventory.MovementSale, SKU: "A", LocationID: "default", Quantity: -4, Reference: "pi_1", HoldID: hold.ID},
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -1, Reference: "not_bought", HoldID: hold.ID},
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "north", Quantity: -1, Reference: "not_bought", HoldID: hold.ID},
		mv{Type: inventory.MovementSale, SKU: "B", VariantKey: "size:M", LocationID: "default", Quantity: -2, Reference: "pi_1", HoldID: hold.ID},
		mv{Type: inventory.MovementRelease, SKU: "C", LocationID: "default", Quantity: -1, Reference: "not_bought", HoldID: hold.ID},
	)
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)

	// Committing again, either way, changes nothing and returns the hold.
	snap := f.snapshot(t)
	again, err := f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("A", 6)}, "pi_2")
	if err != nil || again.Status != inventory.HoldCommitted || !slices.EqualFunc(again.Items, want, equalItem) {
		t.Errorf("second CommitBought = %+v, %v; want the committed hold", again, err)
	}
	if again, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "pi_3"); err != nil || !slices.EqualFunc(again.Items, want, equalItem) {
		t.Errorf("Commit after CommitBought = %+v, %v; want the committed hold", again, err)
	}
	f.assertUnchanged(t, snap)
}

// Of a line's units the free ones sell first, so a partly bought line gives
// its backorders back before any unit on hand.
func TestCommitBoughtGivesBackordersBackFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		bought          int64
		backordered     int64
		onHand, release int64
	}{
		{bought: 1, backordered: 0, onHand: 0, release: 2},
		{bought: 2, backordered: 1, onHand: -1, release: 1},
	} {
		f := newFixture(t)
		f.stock(t, "A", "", "default", 1)
		f.settings(t, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](5)})
		hold := f.reserve(t, item("A", 3)) // 1 on hand, 2 backordered
		before := f.lastMovementID(t)
		committed, err := f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("A", tt.bought)}, "pi")
		if err != nil {
			t.Fatalf("CommitBought %d: %v", tt.bought, err)
		}
		want := []inventory.HoldItem{{SKU: "A", Quantity: tt.bought, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: tt.bought, Backordered: tt.backordered}}}}
		if !slices.EqualFunc(committed.Items, want, equalItem) || !slices.EqualFunc(f.hold(t, hold.ID).Items, want, equalItem) {
			t.Errorf("bought %d: hold items %+v, want %+v", tt.bought, committed.Items, want)
		}
		if info := f.shop.Info(t, "A", ""); info.OnHand != tt.onHand || info.Reserved != 0 {
			t.Errorf("bought %d: on hand %d, reserved %d; want %d, 0", tt.bought, info.OnHand, info.Reserved, tt.onHand)
		}
		assertMovements(t, "CommitBought", f.movementsAfter(t, before),
			mv{Type: inventory.MovementSale, SKU: "A", LocationID: "default", Quantity: -tt.bought, Reference: "pi", HoldID: hold.ID},
			mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -tt.release, Reference: "not_bought", HoldID: hold.ID},
		)
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	}
}

// A payment for none of the hold still closes it, as committed, with every
// unit given back.
func TestCommitBoughtNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	hold := f.reserve(t, item("A", 2))
	committed, err := f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("A", 0)}, "pi")
	if err != nil || committed.Status != inventory.HoldCommitted || len(committed.Items) != 0 {
		t.Fatalf("CommitBought of nothing = %+v, %v; want a committed hold with no items", committed, err)
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 5, 0", info.OnHand, info.Reserved)
	}
	if got := f.hold(t, hold.ID); got.Status != inventory.HoldCommitted || len(got.Items) != 0 {
		t.Errorf("GetHold: %s %+v, want committed without items", got.Status, got.Items)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

// What the hold does not hold cannot be bought from it, and nothing changes.
func TestCommitBoughtRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	f.stock(t, "B", "", "default", 5)
	hold := f.reserve(t, item("A", 2))
	snap := f.snapshot(t)

	_, err := f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("A", 1), item("B", 1), item("A", 2)}, "pi")
	assertValidation(t, err, "bought[1].quantity", "bought[2].quantity")
	_, err = f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{{SKU: "", Quantity: 1}, item("A", -1)}, "pi")
	assertValidation(t, err, "bought[0].sku", "bought[1].quantity")
	f.assertUnchanged(t, snap)
	if got := f.hold(t, hold.ID).Status; got != inventory.HoldActive {
		t.Errorf("hold %s after refused commits, want active", got)
	}

	if _, err := f.ledger.CommitBought(ctx, f.shopID, "hold_doesnotexist", nil, "pi"); !errors.Is(err, inventory.ErrHoldNotFound) {
		t.Errorf("CommitBought of an unknown hold: %v, want ErrHoldNotFound", err)
	}
}

// Only an open hold commits: a released or lapsed one is not active (the
// lapsed one is closed as expired), while an expiring one, whose session
// may still be paid, commits.
func TestCommitBoughtHoldStates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("released", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 5)
		hold := f.reserve(t, item("A", 2))
		f.shop.Release(t, hold.ID)
		_, err := f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("A", 1)}, "pi")
		assertNotActive(t, err, hold.ID, inventory.HoldReleased)
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	})

	t.Run("lapsed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 5)
		hold := f.reserve(t, item("A", 2))
		f.lapse(t, hold.ID)
		_, err := f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("A", 1)}, "pi")
		assertNotActive(t, err, hold.ID, inventory.HoldExpired)
		if got := inventorytest.ReadHold(t, testdb.Pool(t), f.shopID, hold.ID).Status; got != "expired" {
			t.Errorf("stored status %s, want expired", got)
		}
		if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 5, 0", info.OnHand, info.Reserved)
		}
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	})

	t.Run("expiring", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "X", "", "default", 5)
		hold := f.boundHold(t, time.Hour, 3, "cs_bought", time.Now().Add(40*time.Minute))
		inventorytest.MakeExpiring(t, testdb.Pool(t), f.shopID, hold.ID)
		got, err := f.ledger.CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("X", 2)}, "pi")
		if err != nil || got.Status != inventory.HoldCommitted {
			t.Fatalf("CommitBought of an expiring hold = %+v, %v; want committed", got, err)
		}
		if info := f.shop.Info(t, "X", ""); info.OnHand != 3 || info.Reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 3, 0", info.OnHand, info.Reserved)
		}
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	})
}

// On a Ledger bound to a caller's transaction the partial commit is the
// caller's: rolled back, nothing happened.
func TestCommitBoughtInCallersTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	hold := f.reserve(t, item("A", 4))
	snap := f.snapshot(t)
	errRollback := errors.New("roll back")
	err := pgx.BeginFunc(ctx, testdb.Pool(t), func(tx pgx.Tx) error {
		if _, err := f.ledger.WithTx(tx).CommitBought(ctx, f.shopID, hold.ID, []inventory.Line{item("A", 1)}, "pi"); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("transaction: %v", err)
	}
	f.assertUnchanged(t, snap)
	if got := f.hold(t, hold.ID).Status; got != inventory.HoldActive {
		t.Errorf("hold %s after the rollback, want active", got)
	}
}
