package inventory_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// assertConflict fails tb unless err is a *StockConflictError on the given
// row.
func assertConflict(tb testing.TB, err error, sku, variantKey, location string) {
	tb.Helper()
	conflict, ok := errors.AsType[*inventory.StockConflictError](err)
	if !ok {
		tb.Fatalf("error = %v, want *inventory.StockConflictError on %s[%s]@%s", err, sku, variantKey, location)
	}
	if conflict.SKU != sku || conflict.VariantKey != variantKey || conflict.LocationID != location || conflict.Reason == "" {
		tb.Errorf("conflict on %s[%s]@%s (%q), want %s[%s]@%s with a reason",
			conflict.SKU, conflict.VariantKey, conflict.LocationID, conflict.Reason, sku, variantKey, location)
	}
}

func TestAdjust(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		initial int64 // on hand before; -1: never stocked
		change  inventory.StockChange
		want    int64 // on hand after
		delta   int64 // the movement's quantity
	}{
		{"set an unknown line", -1, inventory.StockChange{Op: inventory.OpSet, Quantity: 40}, 40, 40},
		{"set up", 10, inventory.StockChange{Op: inventory.OpSet, Quantity: 40}, 40, 30},
		{"set down", 10, inventory.StockChange{Op: inventory.OpSet, Quantity: 4}, 4, -6},
		{"set to 0", 10, inventory.StockChange{Op: inventory.OpSet, Quantity: 0}, 0, -10},
		{"set to the same", 10, inventory.StockChange{Op: inventory.OpSet, Quantity: 10}, 10, 0},
		{"set to the largest quantity", 0, inventory.StockChange{Op: inventory.OpSet, Quantity: inventory.MaxQuantity}, inventory.MaxQuantity, inventory.MaxQuantity},
		{"increment an unknown line", -1, inventory.StockChange{Op: inventory.OpIncrement, Quantity: 5}, 5, 5},
		{"increment", 10, inventory.StockChange{Op: inventory.OpIncrement, Quantity: 5}, 15, 5},
		{"decrement", 10, inventory.StockChange{Op: inventory.OpDecrement, Quantity: 3}, 7, -3},
		{"decrement to 0", 10, inventory.StockChange{Op: inventory.OpDecrement, Quantity: 10}, 0, -10},
		{"type defaults to ADJUSTMENT", 10, inventory.StockChange{Op: inventory.OpIncrement, Quantity: 1}, 11, 1},
		{"PURCHASE_ORDER", 10, inventory.StockChange{Op: inventory.OpIncrement, Quantity: 2, Type: inventory.MovementPurchaseOrder}, 12, 2},
		{"RETURN", 10, inventory.StockChange{Op: inventory.OpIncrement, Quantity: 1, Type: inventory.MovementReturn}, 11, 1},
		{"DAMAGE", 10, inventory.StockChange{Op: inventory.OpDecrement, Quantity: 2, Type: inventory.MovementDamage}, 8, -2},
		{"explicit ADJUSTMENT", 10, inventory.StockChange{Op: inventory.OpSet, Quantity: 12, Type: inventory.MovementAdjustment}, 12, 2},
		{"at another location", 10, inventory.StockChange{LocationID: "north", Op: inventory.OpIncrement, Quantity: 4}, 4, 4},
		{"a variant", 10, inventory.StockChange{VariantKey: "size:M", Op: inventory.OpSet, Quantity: 6}, 6, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t)
			f.location(t, "north", 1)
			if tt.initial >= 0 {
				f.stock(t, "A", "", "default", tt.initial)
			}
			ch := tt.change
			ch.SKU, ch.Notes = "A", "cycle count"
			start := time.Now()

			res, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{
				Reference: "count-2026-11", CreatedBy: "ops@example.com", Changes: []inventory.StockChange{ch},
			})
			if err != nil {
				t.Fatalf("Adjust: %v", err)
			}
			if res.Applied != 1 || len(res.Movements) != 1 {
				t.Fatalf("Adjust = %+v, want 1 applied with 1 movement", res)
			}
			m := res.Movements[0]
			wantLoc := ch.LocationID
			if wantLoc == "" {
				wantLoc = inventory.DefaultLocation
			}
			wantType := ch.Type
			if wantType == "" {
				wantType = inventory.MovementAdjustment
			}
			if m.ID == "" || m.SKU != "A" || m.VariantKey != ch.VariantKey || m.LocationID != wantLoc || m.Type != wantType ||
				m.Quantity != tt.delta || m.Reference != "count-2026-11" || m.Notes != "cycle count" || m.CreatedBy != "ops@example.com" || m.HoldID != nil {
				t.Errorf("movement = %+v, want A[%s]@%s %s %+d with reference, notes and createdBy", m, ch.VariantKey, wantLoc, wantType, tt.delta)
			}
			if d := m.CreatedAt.Sub(start); d < -time.Minute || d > time.Minute {
				t.Errorf("movement createdAt %s is %s away from now", m.CreatedAt, d)
			}
			// The ledger lists the same movement.
			if listed := f.movements(t); len(listed) == 0 || fmt.Sprintf("%+v", listed[0]) != fmt.Sprintf("%+v", m) {
				t.Errorf("newest movement in the ledger differs from the one returned:\n\t%+v\n\t%+v", listed, m)
			}

			info := f.shop.Info(t, "A", ch.VariantKey)
			var got int64 = -1
			for _, l := range info.Locations {
				if l.LocationID == wantLoc {
					got = l.OnHand
				}
			}
			if got != tt.want {
				t.Errorf("on hand at %s = %d, want %d (locations %+v)", wantLoc, got, tt.want, info.Locations)
			}
			inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
		})
	}
}

func TestAdjustBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 10)

	res, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Reference: "batch-1", Changes: []inventory.StockChange{
		{SKU: "B", Op: inventory.OpIncrement, Quantity: 3},
		{SKU: "A", Op: inventory.OpSet, Quantity: 20},
		{SKU: "A", LocationID: "north", Op: inventory.OpSet, Quantity: 5},
		{SKU: "A", Op: inventory.OpDecrement, Quantity: 2}, // after the set: same row, request order
	}})
	if err != nil {
		t.Fatalf("Adjust: %v", err)
	}
	if res.Applied != 4 {
		t.Errorf("applied %d, want 4", res.Applied)
	}
	assertMovements(t, "Adjust", res.Movements,
		mv{Type: inventory.MovementAdjustment, SKU: "B", LocationID: "default", Quantity: 3, Reference: "batch-1"},
		mv{Type: inventory.MovementAdjustment, SKU: "A", LocationID: "default", Quantity: 10, Reference: "batch-1"},
		mv{Type: inventory.MovementAdjustment, SKU: "A", LocationID: "north", Quantity: 5, Reference: "batch-1"},
		mv{Type: inventory.MovementAdjustment, SKU: "A", LocationID: "default", Quantity: -2, Reference: "batch-1"},
	)
	if a := f.shop.Info(t, "A", ""); a.OnHand != 23 || a.Locations[0].OnHand != 18 || a.Locations[1].OnHand != 5 {
		t.Errorf("A: on hand %d, locations %+v; want 23 = 18 at default + 5 at north", a.OnHand, a.Locations)
	}
	if b := f.shop.Info(t, "B", ""); b.OnHand != 3 {
		t.Errorf("B: on hand %d, want 3", b.OnHand)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestAdjustAllOrNothing(t *testing.T) {
	t.Parallel()
	inc := func(sku string, qty int64) inventory.StockChange {
		return inventory.StockChange{SKU: sku, Op: inventory.OpIncrement, Quantity: qty}
	}
	dec := func(sku string, qty int64) inventory.StockChange {
		return inventory.StockChange{SKU: sku, Op: inventory.OpDecrement, Quantity: qty}
	}
	many := make([]inventory.StockChange, 101)
	for i := range many {
		many[i] = inc(fmt.Sprintf("SKU-%03d", i), 1)
	}
	type conflict struct{ sku, location string }
	tests := []struct {
		name     string
		changes  []inventory.StockChange
		conflict *conflict // or
		fields   []string  // a ValidationError naming these
	}{
		{
			name: "decrement of a line never stocked",
			changes: []inventory.StockChange{
				{SKU: "NEW2", Op: inventory.OpSet, Quantity: 5}, inc("B", 1), dec("NEW", 1),
			},
			conflict: &conflict{"NEW", "default"},
		},
		{
			name:     "decrement at a location that never had the line",
			changes:  []inventory.StockChange{inc("B", 1), {SKU: "A", LocationID: "north", Op: inventory.OpDecrement, Quantity: 1}},
			conflict: &conflict{"A", "north"},
		},
		{
			name:     "decrement below reserved",
			changes:  []inventory.StockChange{inc("B", 1), dec("A", 5)},
			conflict: &conflict{"A", "default"},
		},
		{
			name:     "set below reserved",
			changes:  []inventory.StockChange{{SKU: "A", Op: inventory.OpSet, Quantity: 5}, inc("B", 1)},
			conflict: &conflict{"A", "default"},
		},
		{
			name:    "unknown location",
			changes: []inventory.StockChange{inc("B", 1), {SKU: "A", LocationID: "nowhere", Op: inventory.OpIncrement, Quantity: 1}},
			fields:  []string{"changes[1].locationId"},
		},
		{
			name:    "zero increment",
			changes: []inventory.StockChange{inc("B", 1), inc("B", 1), inc("A", 0)},
			fields:  []string{"changes[2].quantity"},
		},
		{
			name:    "negative set",
			changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpSet, Quantity: -1}},
			fields:  []string{"changes[0].quantity"},
		},
		{
			name:    "decrement above 1,000,000",
			changes: []inventory.StockChange{dec("A", inventory.MaxQuantity+1)},
			fields:  []string{"changes[0].quantity"},
		},
		{
			name:    "unknown op",
			changes: []inventory.StockChange{{SKU: "A", Op: "add", Quantity: 1}},
			fields:  []string{"changes[0].op"},
		},
		{
			name:    "SALE cannot be booked by hand",
			changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpDecrement, Quantity: 1, Type: inventory.MovementSale}},
			fields:  []string{"changes[0].type"},
		},
		{
			name:    "RESERVATION cannot be booked by hand",
			changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpIncrement, Quantity: 1, Type: inventory.MovementReservation}},
			fields:  []string{"changes[0].type"},
		},
		{
			name:    "malformed identifiers and notes",
			changes: []inventory.StockChange{inc("B", 1), {SKU: "a b", VariantKey: "\x7f", LocationID: "North", Op: inventory.OpIncrement, Quantity: 1, Notes: strings.Repeat("n", 1001)}},
			fields:  []string{"changes[1].sku", "changes[1].variantKey", "changes[1].locationId", "changes[1].notes"},
		},
		{name: "no changes", changes: nil, fields: []string{"changes"}},
		{name: "101 changes", changes: many, fields: []string{"changes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t)
			f.location(t, "north", 1)
			f.stock(t, "A", "", "default", 10)
			f.stock(t, "B", "", "default", 5)
			f.reserve(t, item("A", 6))
			before := f.snapshot(t)

			res, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Reference: "bad-batch", IdempotencyKey: "adj-1", Changes: tt.changes})
			if res != nil {
				t.Errorf("Adjust returned %+v", res)
			}
			f.assertUnchanged(t, before)
			inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
			if tt.conflict != nil {
				assertConflict(t, err, tt.conflict.sku, "", tt.conflict.location)
			} else {
				assertValidation(t, err, tt.fields...)
			}
		})
	}

	t.Run("unknown shop", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		for _, key := range []string{"", "adj-1"} {
			_, err := f.ledger.Adjust(context.Background(), "no-such-shop", inventory.AdjustRequest{IdempotencyKey: key, Changes: []inventory.StockChange{inc("A", 1)}})
			if !errors.Is(err, checkoutd.ErrShopNotFound) {
				t.Errorf("Adjust (key %q) on an unknown shop: error = %v, want ErrShopNotFound", key, err)
			}
		}
	})
}

func TestAdjustBackorderedRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.settings(t, "PRE", "", inventory.StockSettings{BackorderLimit: ptr[int64](5)})
	f.reserve(t, item("PRE", 3)) // on hand 0, reserved 3: all backordered

	change := func(op inventory.Op, qty int64) error {
		_, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "PRE", Op: op, Quantity: qty}}})
		return err
	}
	// Stock arriving into a backordered row is welcome, even while the row
	// stays below what it has reserved.
	for _, step := range []struct {
		op     inventory.Op
		qty    int64
		onHand int64
	}{
		{inventory.OpIncrement, 1, 1},
		{inventory.OpSet, 2, 2},
		{inventory.OpIncrement, 5, 7},
		{inventory.OpDecrement, 4, 3}, // down to exactly what is reserved
	} {
		if err := change(step.op, step.qty); err != nil {
			t.Fatalf("%s %d: %v", step.op, step.qty, err)
		}
		if got := f.shop.Info(t, "PRE", "").OnHand; got != step.onHand {
			t.Errorf("after %s %d: on hand %d, want %d", step.op, step.qty, got, step.onHand)
		}
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)

	before := f.snapshot(t)
	err := change(inventory.OpDecrement, 1)
	f.assertUnchanged(t, before)
	assertConflict(t, err, "PRE", "", "default")
}

func TestAdjustOverLapsedHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	hold := f.reserve(t, item("A", 5))
	f.lapse(t, hold.ID)
	if got := f.shop.Info(t, "A", ""); got.Reserved != 0 || got.Available != 5 {
		t.Fatalf("after the hold lapsed: reserved %d, available %d; want 0, 5", got.Reserved, got.Available)
	}

	// Nothing is reserved any more, so the count may go to 0.
	res, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpSet, Quantity: 0}}})
	if _, ok := errors.AsType[*inventory.StockConflictError](err); ok {
		t.Fatalf("Adjust set 0 over a lapsed hold of 5: %v", err)
	}
	if err != nil {
		t.Fatalf("Adjust: %v", err)
	}
	if len(res.Movements) != 1 || res.Movements[0].Quantity != -5 {
		t.Errorf("movements = %+v, want one of -5", res.Movements)
	}
	if got := f.shop.Info(t, "A", ""); got.OnHand != 0 || got.Reserved != 0 {
		t.Errorf("after the adjustment: on hand %d, reserved %d; want 0, 0", got.OnHand, got.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestAdjustIdempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	asJSON := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		return string(b)
	}
	req := func() inventory.AdjustRequest {
		return inventory.AdjustRequest{Reference: "count-1", CreatedBy: "ops", IdempotencyKey: "adj-1", Changes: []inventory.StockChange{
			{SKU: "A", Op: inventory.OpIncrement, Quantity: 5},
			{SKU: "B", Op: inventory.OpSet, Quantity: 3, Notes: "recount"},
		}}
	}

	t.Run("a replay returns the first result", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		first, err := f.ledger.Adjust(ctx, f.shopID, req())
		if err != nil {
			t.Fatalf("Adjust: %v", err)
		}
		before := f.snapshot(t)
		again, err := f.ledger.Adjust(ctx, f.shopID, req())
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		if asJSON(again) != asJSON(first) {
			t.Errorf("replay returned\n\t%s\nwant the first result\n\t%s", asJSON(again), asJSON(first))
		}
		f.assertUnchanged(t, before)
		if got := f.shop.Info(t, "A", "").OnHand; got != 15 {
			t.Errorf("A on hand %d after the replay, want 15 (incremented once)", got)
		}
	})

	t.Run("the same key with another body is a conflict", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if _, err := f.ledger.Adjust(ctx, f.shopID, req()); err != nil {
			t.Fatalf("Adjust: %v", err)
		}
		before := f.snapshot(t)
		for name, edit := range map[string]func(r *inventory.AdjustRequest){
			"other quantity":  func(r *inventory.AdjustRequest) { r.Changes[0].Quantity = 6 },
			"other reference": func(r *inventory.AdjustRequest) { r.Reference = "count-2" },
			"fewer changes":   func(r *inventory.AdjustRequest) { r.Changes = r.Changes[:1] },
		} {
			r := req()
			edit(&r)
			if res, err := f.ledger.Adjust(ctx, f.shopID, r); !errors.Is(err, inventory.ErrIdempotencyConflict) {
				t.Errorf("%s under a used key: %+v, %v; want ErrIdempotencyConflict", name, res, err)
			}
		}
		f.assertUnchanged(t, before)
	})

	t.Run("concurrent requests with one key apply once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		before := f.lastMovementID(t)
		const n = 10
		results := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				res, err := f.ledger.Adjust(ctx, f.shopID, req())
				results[i], errs[i] = asJSON(res), err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			if results[i] != results[0] {
				t.Errorf("request %d returned\n\t%s\nrequest 0\n\t%s", i, results[i], results[0])
			}
		}
		if got := f.shop.Info(t, "A", "").OnHand; got != 15 {
			t.Errorf("A on hand %d, want 15: the increment applied once", got)
		}
		if got := f.movementsAfter(t, before); len(got) != 2 {
			t.Errorf("%d movements written, want 2 (one request's worth)", len(got))
		}
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	})
}

func TestReceive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 1)
	before := f.lastMovementID(t)

	res, err := f.ledger.Receive(ctx, f.shopID, inventory.ReceiptRequest{
		PurchaseOrderID: "PO-7", CreatedBy: "warehouse",
		Items: []inventory.ReceiptItem{
			{SKU: "A", Quantity: 5},
			{SKU: "A", LocationID: "north", Quantity: 3},
			{SKU: "B", VariantKey: "size:M", Quantity: 2},
		},
	})
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if res.Applied != 3 {
		t.Errorf("applied %d, want 3", res.Applied)
	}
	want := []mv{
		{Type: inventory.MovementPurchaseOrder, SKU: "A", LocationID: "default", Quantity: 5, Reference: "PO-7"},
		{Type: inventory.MovementPurchaseOrder, SKU: "A", LocationID: "north", Quantity: 3, Reference: "PO-7"},
		{Type: inventory.MovementPurchaseOrder, SKU: "B", VariantKey: "size:M", LocationID: "default", Quantity: 2, Reference: "PO-7"},
	}
	assertMovements(t, "Receive result", res.Movements, want...)
	assertMovements(t, "Receive", f.movementsAfter(t, before), want...)
	for _, m := range res.Movements {
		if m.CreatedBy != "warehouse" {
			t.Errorf("movement createdBy %q, want warehouse", m.CreatedBy)
		}
	}
	if a := f.shop.Info(t, "A", ""); a.OnHand != 9 {
		t.Errorf("A on hand %d, want 1 + 5 + 3", a.OnHand)
	}
	if b := f.shop.Info(t, "B", "size:M"); b.OnHand != 2 {
		t.Errorf("B[size:M] on hand %d, want 2", b.OnHand)
	}

	// A purchase order may arrive in parts.
	if _, err := f.ledger.Receive(ctx, f.shopID, inventory.ReceiptRequest{PurchaseOrderID: "PO-7", Items: []inventory.ReceiptItem{{SKU: "A", Quantity: 1}}}); err != nil {
		t.Fatalf("second part of PO-7: %v", err)
	}
	// A retried receipt with a key books once.
	retry := inventory.ReceiptRequest{PurchaseOrderID: "PO-8", IdempotencyKey: "rcv-8", Items: []inventory.ReceiptItem{{SKU: "A", Quantity: 4}}}
	for range 2 {
		if _, err := f.ledger.Receive(ctx, f.shopID, retry); err != nil {
			t.Fatalf("receive PO-8: %v", err)
		}
	}
	if a := f.shop.Info(t, "A", ""); a.OnHand != 14 {
		t.Errorf("A on hand %d, want 9 + 1 + 4", a.OnHand)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)

	snap := f.snapshot(t)
	for _, tt := range []struct {
		name   string
		req    inventory.ReceiptRequest
		fields []string
	}{
		{"no purchase order", inventory.ReceiptRequest{Items: []inventory.ReceiptItem{{SKU: "A", Quantity: 1}}}, []string{"purchaseOrderId"}},
		{"no items", inventory.ReceiptRequest{PurchaseOrderID: "PO-9"}, []string{"items"}},
		{"zero quantity", inventory.ReceiptRequest{PurchaseOrderID: "PO-9", Items: []inventory.ReceiptItem{{SKU: "A", Quantity: 1}, {SKU: "A", Quantity: 0}}}, []string{"items[1].quantity"}},
		{"unknown location", inventory.ReceiptRequest{PurchaseOrderID: "PO-9", Items: []inventory.ReceiptItem{{SKU: "A", Quantity: 1}, {SKU: "A", LocationID: "south", Quantity: 1}}}, []string{"items[1].locationId"}},
	} {
		res, err := f.ledger.Receive(ctx, f.shopID, tt.req)
		if res != nil {
			t.Errorf("%s: Receive returned %+v", tt.name, res)
		}
		assertValidation(t, err, tt.fields...)
	}
	f.assertUnchanged(t, snap)
}

func TestTransfer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 10)
	f.stock(t, "B", "size:M", "default", 3)
	f.reserve(t, item("A", 4)) // 6 of A unreserved at default
	before := f.lastMovementID(t)

	res, err := f.ledger.Transfer(ctx, f.shopID, inventory.TransferRequest{
		FromLocationID: "default", ToLocationID: "north", Reference: "move-1", CreatedBy: "ops",
		Items: []inventory.Line{item("A", 6), variantItem("B", "size:M", 3)},
	})
	if err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	if res.Applied != 4 {
		t.Errorf("applied %d, want 4 (a pair per line)", res.Applied)
	}
	want := []mv{
		{Type: inventory.MovementTransfer, SKU: "A", LocationID: "default", Quantity: -6, Reference: "move-1"},
		{Type: inventory.MovementTransfer, SKU: "A", LocationID: "north", Quantity: 6, Reference: "move-1"},
		{Type: inventory.MovementTransfer, SKU: "B", VariantKey: "size:M", LocationID: "default", Quantity: -3, Reference: "move-1"},
		{Type: inventory.MovementTransfer, SKU: "B", VariantKey: "size:M", LocationID: "north", Quantity: 3, Reference: "move-1"},
	}
	assertMovements(t, "Transfer result", res.Movements, want...)
	assertMovements(t, "Transfer", f.movementsAfter(t, before), want...)

	a := f.shop.Info(t, "A", "")
	wantA := []inventory.LocationStock{{LocationID: "default", OnHand: 4, Reserved: 4}, {LocationID: "north", OnHand: 6, Available: 6}}
	if a.OnHand != 10 || a.Reserved != 4 || !slices.Equal(a.Locations, wantA) {
		t.Errorf("A: on hand %d, reserved %d, locations %+v; want 10, 4, %+v", a.OnHand, a.Reserved, a.Locations, wantA)
	}
	if b := f.shop.Info(t, "B", "size:M"); b.OnHand != 3 || b.Locations[0].OnHand != 0 || b.Locations[1].OnHand != 3 {
		t.Errorf("B[size:M]: on hand %d, locations %+v; want 3, all at north", b.OnHand, b.Locations)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestTransferRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		req      inventory.TransferRequest
		conflict []string // sku, location
		fields   []string
	}{
		{
			name:     "source lacks unreserved stock",
			req:      inventory.TransferRequest{FromLocationID: "default", ToLocationID: "north", Items: []inventory.Line{item("A", 7)}},
			conflict: []string{"A", "default"},
		},
		{
			name:     "one short line stops the others",
			req:      inventory.TransferRequest{FromLocationID: "default", ToLocationID: "north", Items: []inventory.Line{item("B", 2), item("A", 7)}},
			conflict: []string{"A", "default"},
		},
		{
			name:     "source never stocked the line",
			req:      inventory.TransferRequest{FromLocationID: "north", ToLocationID: "default", Items: []inventory.Line{item("A", 1)}},
			conflict: []string{"A", "north"},
		},
		{
			name:   "from and to are the same",
			req:    inventory.TransferRequest{FromLocationID: "default", ToLocationID: "default", Items: []inventory.Line{item("A", 1)}},
			fields: []string{"toLocationId"},
		},
		{
			name:   "unknown destination",
			req:    inventory.TransferRequest{FromLocationID: "default", ToLocationID: "nowhere", Items: []inventory.Line{item("A", 1)}},
			fields: []string{"toLocationId"},
		},
		{
			name:   "unknown source",
			req:    inventory.TransferRequest{FromLocationID: "nowhere", ToLocationID: "default", Items: []inventory.Line{item("A", 1)}},
			fields: []string{"fromLocationId"},
		},
		{
			name:   "malformed request",
			req:    inventory.TransferRequest{FromLocationID: "Default", Items: []inventory.Line{item("A", 0)}},
			fields: []string{"fromLocationId", "toLocationId", "items[0].quantity"},
		},
		{
			name:   "no items",
			req:    inventory.TransferRequest{FromLocationID: "default", ToLocationID: "north"},
			fields: []string{"items"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t)
			f.location(t, "north", 1)
			f.stock(t, "A", "", "default", 10)
			f.stock(t, "B", "", "default", 2)
			f.reserve(t, item("A", 4)) // 6 of A unreserved at default
			before := f.snapshot(t)

			tt.req.Reference = "move-1"
			res, err := f.ledger.Transfer(ctx, f.shopID, tt.req)
			if res != nil {
				t.Errorf("Transfer returned %+v", res)
			}
			f.assertUnchanged(t, before)
			if tt.conflict != nil {
				assertConflict(t, err, tt.conflict[0], "", tt.conflict[1])
				return
			}
			assertValidation(t, err, tt.fields...)
		})
	}
}

func TestMovements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	adjust := func(sku, variantKey string, op inventory.Op, qty int64, ref string) {
		t.Helper()
		_, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Reference: ref, CreatedBy: "ops", Changes: []inventory.StockChange{
			{SKU: sku, VariantKey: variantKey, Op: op, Quantity: qty, Notes: "n-" + ref},
		}})
		if err != nil {
			t.Fatalf("adjust: %v", err)
		}
	}
	adjust("A", "", inventory.OpSet, 10, "init-a")
	adjust("B", "size:M", inventory.OpSet, 5, "init-bm")
	adjust("B", "size:L", inventory.OpSet, 2, "init-bl")
	adjust("A", "", inventory.OpIncrement, 1, "count")
	hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 2)}, TTL: longTTL, Reference: "cart"})
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	if _, err := f.ledger.Release(ctx, f.shopID, hold.ID, "abandoned"); err != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := f.ledger.Receive(ctx, f.shopID, inventory.ReceiptRequest{PurchaseOrderID: "PO-1", Items: []inventory.ReceiptItem{{SKU: "B", VariantKey: "size:M", Quantity: 3}}}); err != nil {
		t.Fatalf("receive: %v", err)
	}

	// Newest first.
	all := []string{
		"PURCHASE_ORDER B[size:M] +3 PO-1",
		"RELEASE A[] -2 abandoned",
		"RESERVATION A[] +2 cart",
		"ADJUSTMENT A[] +1 count",
		"ADJUSTMENT B[size:L] +2 init-bl",
		"ADJUSTMENT B[size:M] +5 init-bm",
		"ADJUSTMENT A[] +10 init-a",
	}
	describe := func(m inventory.Movement) string {
		return fmt.Sprintf("%s %s[%s] %+d %s", m.Type, m.SKU, m.VariantKey, m.Quantity, m.Reference)
	}
	only := func(prefixes ...string) []string {
		var out []string
		for _, s := range all {
			for _, p := range prefixes {
				if strings.Contains(s, " "+p+" ") {
					out = append(out, s)
				}
			}
		}
		return out
	}
	list := func(t *testing.T, opts inventory.MovementsOptions) (got []string, pages int) {
		t.Helper()
		var last inventory.Movement
		for {
			page, err := f.ledger.Movements(ctx, f.shopID, opts)
			if err != nil {
				t.Fatalf("Movements(%+v): %v", opts, err)
			}
			pages++
			if page.Items == nil || len(page.Items) > cmp.Or(opts.Limit, 100) {
				t.Errorf("page %d has %d items (nil: %v), limit %d", pages, len(page.Items), page.Items == nil, opts.Limit)
			}
			for _, m := range page.Items {
				if last.ID != "" && (movementID(t, m) >= movementID(t, last) || m.CreatedAt.After(last.CreatedAt)) {
					t.Errorf("movement %s (%s) listed after %s (%s): not newest first", m.ID, m.CreatedAt, last.ID, last.CreatedAt)
				}
				last = m
				got = append(got, describe(m))
			}
			if page.NextCursor == nil {
				return got, pages
			}
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
			opts.Cursor = *page.NextCursor
		}
	}

	for _, tt := range []struct {
		name      string
		opts      inventory.MovementsOptions
		want      []string
		wantPages int
	}{
		{"everything", inventory.MovementsOptions{}, all, 1},
		{"pages of 2", inventory.MovementsOptions{Limit: 2}, all, 4},
		{"pages of 7", inventory.MovementsOptions{Limit: 7}, all, 1},
		{"one sku, every variant", inventory.MovementsOptions{SKU: "B"}, only("B[size:M]", "B[size:L]"), 1},
		{"one variant", inventory.MovementsOptions{SKU: "B", VariantKey: ptr("size:M")}, only("B[size:M]"), 1},
		{"one variant, pages of 1", inventory.MovementsOptions{SKU: "B", VariantKey: ptr("size:M"), Limit: 1}, only("B[size:M]"), 2},
		{"the product itself", inventory.MovementsOptions{SKU: "A", VariantKey: ptr("")}, only("A[]"), 1},
		{"one sku, pages of 3", inventory.MovementsOptions{SKU: "A", Limit: 3}, only("A[]"), 2},
		{"a variant without movements", inventory.MovementsOptions{SKU: "B", VariantKey: ptr("")}, nil, 1},
		{"a sku without movements", inventory.MovementsOptions{SKU: "NOPE"}, nil, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, pages := list(t, tt.opts)
			if !slices.Equal(got, tt.want) || pages != tt.wantPages {
				t.Errorf("listed in %d pages:\n\t%s\nwant in %d:\n\t%s", pages, strings.Join(got, "\n\t"), tt.wantPages, strings.Join(tt.want, "\n\t"))
			}
		})
	}

	t.Run("movement details", func(t *testing.T) {
		t.Parallel()
		ms := f.movements(t)
		count := ms[3]
		if count.Notes != "n-count" || count.CreatedBy != "ops" || count.LocationID != "default" || count.HoldID != nil {
			t.Errorf("adjustment listed as %+v, want notes n-count, createdBy ops, at default, no hold", count)
		}
		for _, m := range ms[1:3] {
			if m.HoldID == nil || *m.HoldID != hold.ID {
				t.Errorf("%s listed with hold %v, want %s", m.Type, m.HoldID, hold.ID)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name  string
			opts  inventory.MovementsOptions
			field string
		}{
			{"variant key without sku", inventory.MovementsOptions{VariantKey: ptr("size:M")}, "variantKey"},
			{"malformed sku", inventory.MovementsOptions{SKU: "a b"}, "sku"},
			{"malformed variant key", inventory.MovementsOptions{SKU: "A", VariantKey: ptr("\n")}, "variantKey"},
			{"not base64", inventory.MovementsOptions{Cursor: "%%%"}, "cursor"},
			{"a stock cursor", inventory.MovementsOptions{Cursor: base64.RawURLEncoding.EncodeToString([]byte(`{"s":"A","v":""}`))}, "cursor"},
			{"cursor 0", inventory.MovementsOptions{Cursor: base64.RawURLEncoding.EncodeToString([]byte("0"))}, "cursor"},
			{"negative cursor", inventory.MovementsOptions{Cursor: base64.RawURLEncoding.EncodeToString([]byte("-5"))}, "cursor"},
			{"negative limit", inventory.MovementsOptions{Limit: -1}, "limit"},
			{"limit above 500", inventory.MovementsOptions{Limit: 501}, "limit"},
		} {
			page, err := f.ledger.Movements(ctx, f.shopID, tt.opts)
			if page != nil {
				t.Errorf("%s: Movements returned %+v", tt.name, page)
			}
			assertValidation(t, err, tt.field)
		}
		if _, err := f.ledger.Movements(ctx, "no-such-shop", inventory.MovementsOptions{}); !errors.Is(err, checkoutd.ErrShopNotFound) {
			t.Errorf("Movements of an unknown shop: error = %v, want ErrShopNotFound", err)
		}
		empty := newFixture(t)
		page, err := empty.ledger.Movements(ctx, empty.shopID, inventory.MovementsOptions{})
		if err != nil || page.Items == nil || len(page.Items) != 0 || page.NextCursor != nil {
			t.Errorf("Movements of an empty shop = %+v, %v; want no items, no cursor", page, err)
		}
	})
}
