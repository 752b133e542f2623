package inventory_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// busyShop runs a mix of every kind of operation on f's shop.
func busyShop(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 10)
	f.stock(t, "A", "", "north", 4)
	f.stock(t, "B", "size:M", "default", 3)
	f.settings(t, "PRE", "", inventory.StockSettings{BackorderLimit: ptr[int64](5), SafetyStock: ptr[int64](1)})
	_, err := f.ledger.Receive(ctx, f.shopID, inventory.ReceiptRequest{PurchaseOrderID: "PO-1", Items: []inventory.ReceiptItem{
		{SKU: "B", VariantKey: "size:M", Quantity: 4}, {SKU: "C", LocationID: "north", Quantity: 2},
	}})
	must("receive", err)
	_, err = f.ledger.Transfer(ctx, f.shopID, inventory.TransferRequest{FromLocationID: "north", ToLocationID: "default", Items: []inventory.Line{item("C", 1)}})
	must("transfer", err)

	sold := f.reserve(t, item("A", 12), variantItem("B", "size:M", 2), item("PRE", 2)) // split and backordered
	_, err = f.ledger.Commit(ctx, f.shopID, sold.ID, "order-1")
	must("commit", err)
	released := f.reserve(t, item("A", 1), item("C", 1))
	_, err = f.ledger.Release(ctx, f.shopID, released.ID, "cart_abandoned")
	must("release", err)
	lapsed := f.reserve(t, item("A", 2))
	f.lapse(t, lapsed.ID)
	if _, err := f.ledger.Commit(ctx, f.shopID, lapsed.ID, "order-2"); err == nil {
		t.Fatal("commit of a lapsed hold went through")
	}
	f.reserve(t, item("A", 2), item("PRE", 1))
	open := f.reserve(t, variantItem("B", "size:M", 1))
	_, err = f.ledger.Extend(ctx, f.shopID, open.ID, time.Hour)
	must("extend", err)
	_, err = f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{
		{SKU: "A", Op: inventory.OpIncrement, Quantity: 3, Type: inventory.MovementReturn},
		{SKU: "C", LocationID: "north", Op: inventory.OpDecrement, Quantity: 1, Type: inventory.MovementDamage},
		{SKU: "PRE", Op: inventory.OpIncrement, Quantity: 1, Type: inventory.MovementPurchaseOrder},
	}})
	must("adjust", err)
	// Paid for less than it held: what was not bought goes back, B's units
	// on hand and PRE's backorders.
	partial := f.reserve(t, variantItem("B", "size:M", 3), item("PRE", 2))
	_, err = f.ledger.CommitBought(ctx, f.shopID, partial.ID, []inventory.Line{variantItem("B", "size:M", 1), item("PRE", 1)}, "order-3")
	must("commit bought", err)
}

func TestCheckLedgerClean(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	busyShop(t, f)
	stuck := f.reserve(t, item("A", 1))
	f.lapse(t, stuck.ID) // lapsed, left for the reaper: still held in the rows

	report, err := f.ledger.CheckLedger(context.Background(), f.shopID)
	if err != nil {
		t.Fatalf("CheckLedger: %v", err)
	}
	for _, d := range report.Discrepancies {
		t.Errorf("discrepancy on a clean ledger: %s", d)
	}
	// A@default, A@north, B[size:M]@default, C@north, C@default, PRE@default.
	if report.RowsChecked != 6 {
		t.Errorf("rows checked = %d, want the shop's 6 stock rows", report.RowsChecked)
	}
}

func TestCheckLedgerReportsCorruption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, neighbour := newFixture(t), newFixture(t)
	busyShop(t, f)
	neighbour.stock(t, "A", "", "default", 10)
	a, b := f.shop.Info(t, "A", ""), f.shop.Info(t, "B", "size:M")
	aDefault, bDefault := a.Locations[0], b.Locations[0]
	if aDefault.LocationID != "default" || bDefault.LocationID != "default" {
		t.Fatalf("unexpected location order: %+v, %+v", a.Locations, b.Locations)
	}

	// Someone edits the stock rows behind the ledger's back.
	pool := testdb.Pool(t)
	corrupt := func(sql string, args ...any) {
		t.Helper()
		tag, err := pool.Exec(ctx, sql, args...)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("corrupt: %v (%d rows)", err, tag.RowsAffected())
		}
	}
	corrupt("UPDATE stock_levels SET on_hand = on_hand + 1 WHERE shop_id = $1 AND sku = 'A' AND variant_key = '' AND location_id = 'default'", f.shopID)
	corrupt("UPDATE stock_levels SET reserved = reserved + 2 WHERE shop_id = $1 AND sku = 'B' AND variant_key = 'size:M' AND location_id = 'default'", f.shopID)
	t.Cleanup(func() {
		// Leave the shared database consistent for a check of every shop.
		corrupt("UPDATE stock_levels SET on_hand = on_hand - 1 WHERE shop_id = $1 AND sku = 'A' AND variant_key = '' AND location_id = 'default'", f.shopID)
		corrupt("UPDATE stock_levels SET reserved = reserved - 2 WHERE shop_id = $1 AND sku = 'B' AND variant_key = 'size:M' AND location_id = 'default'", f.shopID)
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	})

	report, err := f.ledger.CheckLedger(ctx, f.shopID)
	if err != nil {
		t.Fatalf("CheckLedger: %v", err)
	}
	want := []inventory.Discrepancy{
		{ShopID: f.shopID, SKU: "A", LocationID: "default",
			OnHand: aDefault.OnHand + 1, MovementSum: aDefault.OnHand, Reserved: aDefault.Reserved, HeldSum: aDefault.Reserved},
		{ShopID: f.shopID, SKU: "B", VariantKey: "size:M", LocationID: "default",
			OnHand: bDefault.OnHand, MovementSum: bDefault.OnHand, Reserved: bDefault.Reserved + 2, HeldSum: bDefault.Reserved},
	}
	if !slices.Equal(report.Discrepancies, want) {
		t.Errorf("discrepancies =\n\t%+v\nwant\n\t%+v", report.Discrepancies, want)
	}
	if report.RowsChecked != 6 {
		t.Errorf("rows checked = %d, want 6", report.RowsChecked)
	}
	if len(report.Discrepancies) > 0 {
		s := report.Discrepancies[0].String()
		for _, part := range []string{f.shopID, "A[]@default", fmt.Sprintf("on_hand %d vs movements %d", aDefault.OnHand+1, aDefault.OnHand)} {
			if !strings.Contains(s, part) {
				t.Errorf("discrepancy reads %q, want it to mention %q", s, part)
			}
		}
	}

	// Other shops are not affected, and are not reported.
	other, err := f.ledger.CheckLedger(ctx, neighbour.shopID)
	if err != nil || len(other.Discrepancies) != 0 || other.RowsChecked != 1 {
		t.Errorf("CheckLedger of the neighbour = %+v, %v; want 1 clean row", other, err)
	}
}

// Reads discount lapsed holds through each allocation's copy of its hold's
// expiry; a copy that disagrees with its hold is reported on its stock row.
func TestCheckLedgerReportsStaleExpiryCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)
	hold := f.reserve(t, item("A", 3))

	pool := testdb.Pool(t)
	set := func(sql string) {
		t.Helper()
		tag, err := pool.Exec(ctx, sql, f.shopID, hold.ID)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("edit the copy: %v (%d rows)", err, tag.RowsAffected())
		}
	}
	set("UPDATE hold_allocations SET open_until = open_until + interval '1 hour' WHERE shop_id = $1 AND hold_id = $2")
	t.Cleanup(func() {
		set("UPDATE hold_allocations SET open_until = open_until - interval '1 hour' WHERE shop_id = $1 AND hold_id = $2")
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	})

	report, err := f.ledger.CheckLedger(ctx, f.shopID)
	if err != nil {
		t.Fatalf("CheckLedger: %v", err)
	}
	want := []inventory.Discrepancy{{ShopID: f.shopID, SKU: "A", LocationID: "default",
		OnHand: 10, MovementSum: 10, Reserved: 3, HeldSum: 3, StaleAllocations: 1}}
	if !slices.Equal(report.Discrepancies, want) {
		t.Fatalf("discrepancies =\n\t%+v\nwant\n\t%+v", report.Discrepancies, want)
	}
	if s := report.Discrepancies[0].String(); !strings.Contains(s, "allocations disagreeing with their hold's expiry: 1") {
		t.Errorf("discrepancy reads %q, want it to name the stale copy", s)
	}
}
