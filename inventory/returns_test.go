package inventory_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// soldHold commits a hold of the given lines after stocking each with 10.
func (f *fixture) soldHold(t *testing.T, items ...inventory.Line) *inventory.Hold {
	t.Helper()
	for _, it := range items {
		f.stock(t, it.SKU, it.VariantKey, "", 10)
	}
	h := f.reserve(t, items...)
	f.shop.Commit(t, h.ID)
	return h
}

func (f *fixture) onHand(t *testing.T, sku, location string) int64 {
	t.Helper()
	info := f.shop.Info(t, sku, "")
	for _, l := range info.Locations {
		if l.LocationID == location {
			return l.OnHand
		}
	}
	t.Fatalf("%s has no row at %s", sku, location)
	return 0
}

func (f *fixture) returnsOf(t *testing.T, holdID string) []inventory.Return {
	t.Helper()
	rets, err := f.ledger.ListReturns(context.Background(), f.shopID, holdID)
	if err != nil {
		t.Fatalf("list returns: %v", err)
	}
	return rets
}

func TestReturnRestocks(t *testing.T) {
	f := newFixture(t)
	h := f.soldHold(t, item("MUG", 3))
	ret, created, err := f.ledger.CreateReturn(context.Background(), f.shopID, h.ID, inventory.ReturnRequest{
		Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 2}}, Restock: true, Reason: "damaged box",
	})
	if err != nil || !created {
		t.Fatalf("return: %v, created %v", err, created)
	}
	if ret.HoldID != h.ID || len(ret.Items) != 1 || ret.Items[0].LocationID != "default" || ret.Items[0].Quantity != 2 || !ret.Restock {
		t.Fatalf("return = %+v", ret)
	}
	if got := f.onHand(t, "MUG", "default"); got != 9 {
		t.Fatalf("on hand = %d, want 7 sold back up by 2 = 9", got)
	}
	page, err := f.ledger.Movements(context.Background(), f.shopID, inventory.MovementsOptions{SKU: "MUG"})
	if err != nil {
		t.Fatal(err)
	}
	m := page.Items[0]
	if m.Type != inventory.MovementType("RETURN") || m.Quantity != 2 || m.Reference != ret.ID || m.HoldID == nil || *m.HoldID != h.ID {
		t.Fatalf("newest movement = %+v, want the RETURN", m)
	}
	if rets := f.returnsOf(t, h.ID); len(rets) != 1 || rets[0].ID != ret.ID || rets[0].Reason != "damaged box" {
		t.Fatalf("returns = %+v", rets)
	}
	f.shop.RequireLedgerClean(t)
}

func TestReturnWithoutRestock(t *testing.T) {
	f := newFixture(t)
	h := f.soldHold(t, item("MUG", 3))
	before := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID)
	ret, _, err := f.ledger.CreateReturn(context.Background(), f.shopID, h.ID, inventory.ReturnRequest{
		Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 3}}, Restock: false, Reason: "broken",
	})
	if err != nil || ret.Restock {
		t.Fatalf("return: %+v, %v", ret, err)
	}
	if after := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID); after != before {
		t.Fatalf("a return without restock changed stock:\n%s\n%s", before, after)
	}
	// Those units count against the sale all the same.
	_, _, err = f.ledger.CreateReturn(context.Background(), f.shopID, h.ID, inventory.ReturnRequest{
		Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 1}}, Restock: true,
	})
	var exceeds *inventory.ReturnExceedsSaleError
	if !errors.As(err, &exceeds) || exceeds.Returnable != 0 {
		t.Fatalf("return past the sale: %v", err)
	}
}

func TestReturnLocations(t *testing.T) {
	f := newFixture(t)
	f.location(t, "east", 1)
	f.stock(t, "TEE", "", "", 2)
	f.stock(t, "TEE", "", "east", 5)
	h := f.reserve(t, item("TEE", 4)) // 2 from default, 2 from east
	f.shop.Commit(t, h.ID)
	ctx := context.Background()

	// Naming a location: no more than was sold there.
	_, _, err := f.ledger.CreateReturn(ctx, f.shopID, h.ID, inventory.ReturnRequest{
		Items: []inventory.ReturnItem{{SKU: "TEE", Quantity: 3, LocationID: "east"}}, Restock: true,
	})
	var exceeds *inventory.ReturnExceedsSaleError
	if !errors.As(err, &exceeds) || exceeds.LocationID != "east" || exceeds.Returnable != 2 {
		t.Fatalf("3 back to east of 2 sold there: %v", err)
	}
	ret, _, err := f.ledger.CreateReturn(ctx, f.shopID, h.ID, inventory.ReturnRequest{
		Items: []inventory.ReturnItem{{SKU: "TEE", Quantity: 1, LocationID: "east"}}, Restock: true,
	})
	if err != nil || ret.Items[0].LocationID != "east" {
		t.Fatalf("1 back to east: %+v, %v", ret, err)
	}
	if got := f.onHand(t, "TEE", "east"); got != 4 {
		t.Fatalf("east on hand = %d, want 4", got)
	}
	// Naming none: the line's locations in the order the hold drew on them.
	ret, _, err = f.ledger.CreateReturn(ctx, f.shopID, h.ID, inventory.ReturnRequest{
		Items: []inventory.ReturnItem{{SKU: "TEE", Quantity: 3}}, Restock: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.ReturnItem{{SKU: "TEE", Quantity: 2, LocationID: "default"}, {SKU: "TEE", Quantity: 1, LocationID: "east"}}
	if len(ret.Items) != 2 || ret.Items[0] != want[0] || ret.Items[1] != want[1] {
		t.Fatalf("items = %+v, want %+v", ret.Items, want)
	}
	if f.onHand(t, "TEE", "default") != 2 || f.onHand(t, "TEE", "east") != 5 {
		t.Fatal("not every unit came back where it was sold")
	}
	f.shop.RequireLedgerClean(t)
}

func TestReturnRefusalsChangeNothing(t *testing.T) {
	f := newFixture(t)
	h := f.soldHold(t, item("MUG", 2))
	f.stock(t, "CAP", "", "", 5)
	open := f.reserve(t, item("CAP", 1))
	ctx := context.Background()
	pool := testdb.Pool(t)
	before := inventorytest.Snapshot(t, pool, f.shopID)
	one := []inventory.ReturnItem{{SKU: "MUG", Quantity: 1}}
	cases := []struct {
		name   string
		holdID string
		req    inventory.ReturnRequest
		check  func(error) bool
	}{
		{"no items", h.ID, inventory.ReturnRequest{}, isInvalid},
		{"zero quantity", h.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "MUG"}}}, isInvalid},
		{"bad location", h.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 1, LocationID: "No Such"}}}, isInvalid},
		{"unknown hold", "hold_none", inventory.ReturnRequest{Items: one}, func(err error) bool { return errors.Is(err, inventory.ErrHoldNotFound) }},
		{"open hold", open.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "CAP", Quantity: 1}}}, isNotActive},
		{"more than sold", h.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 3}}, Restock: true}, isExceeds},
		{"line not sold", h.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "CAP", Quantity: 1}}, Restock: true}, isExceeds},
		{"location not sold from", h.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 1, LocationID: "east"}}}, isExceeds},
		{"second item over", h.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 1}, {SKU: "MUG", Quantity: 2}}, Restock: true}, isExceeds},
	}
	for _, c := range cases {
		_, _, err := f.ledger.CreateReturn(ctx, f.shopID, c.holdID, c.req)
		if !c.check(err) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	if after := inventorytest.Snapshot(t, pool, f.shopID); after != before {
		t.Fatalf("a refused return changed stock:\n%s\n%s", before, after)
	}
	if rets := f.returnsOf(t, h.ID); len(rets) != 0 {
		t.Fatalf("refused returns recorded: %+v", rets)
	}
	f.shop.RequireLedgerClean(t)
}

func isInvalid(err error) bool {
	var v *checkoutd.ValidationError
	return errors.As(err, &v)
}

func isNotActive(err error) bool {
	var n *inventory.HoldNotActiveError
	return errors.As(err, &n) && n.Status == inventory.HoldActive
}

func isExceeds(err error) bool {
	var e *inventory.ReturnExceedsSaleError
	return errors.As(err, &e)
}

func TestReturnIdempotent(t *testing.T) {
	f := newFixture(t)
	h := f.soldHold(t, item("MUG", 3))
	ctx := context.Background()
	req := inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 2}}, Restock: true, IdempotencyKey: "rma-1"}
	first, created, err := f.ledger.CreateReturn(ctx, f.shopID, h.ID, req)
	if err != nil || !created {
		t.Fatalf("first: %v %v", err, created)
	}
	again, created, err := f.ledger.CreateReturn(ctx, f.shopID, h.ID, req)
	if err != nil || created || again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("replay: %+v created %v, %v; first %+v", again, created, err, first)
	}
	other := req
	other.Items = []inventory.ReturnItem{{SKU: "MUG", Quantity: 1}}
	if _, _, err := f.ledger.CreateReturn(ctx, f.shopID, h.ID, other); !errors.Is(err, inventory.ErrIdempotencyConflict) {
		t.Fatalf("same key, other items: %v", err)
	}
	if got := f.onHand(t, "MUG", "default"); got != 9 {
		t.Fatalf("on hand = %d, want 9: the replay restocked again", got)
	}
	if rets := f.returnsOf(t, h.ID); len(rets) != 1 {
		t.Fatalf("returns = %d, want 1", len(rets))
	}
	f.shop.RequireLedgerClean(t)
}

func TestReturnRemainingOnce(t *testing.T) {
	f := newFixture(t)
	h := f.soldHold(t, item("MUG", 3), item("CAP", 2))
	ctx := context.Background()
	if _, _, err := f.ledger.CreateReturn(ctx, f.shopID, h.ID, inventory.ReturnRequest{
		Items: []inventory.ReturnItem{{SKU: "MUG", Quantity: 1}}, Restock: false,
	}); err != nil {
		t.Fatal(err)
	}
	ret, created, err := f.ledger.ReturnRemaining(ctx, f.shopID, h.ID, inventory.RefundReturnReason, "refund:pi_1")
	if err != nil || !created || len(ret.Items) != 2 {
		t.Fatalf("remaining: %+v %v %v", ret, created, err)
	}
	again, created, err := f.ledger.ReturnRemaining(ctx, f.shopID, h.ID, inventory.RefundReturnReason, "refund:pi_1")
	if err != nil || created || again.ID != ret.ID {
		t.Fatalf("again: %+v %v %v", again, created, err)
	}
	none, created, err := f.ledger.ReturnRemaining(ctx, f.shopID, h.ID, inventory.RefundReturnReason, "refund:pi_2")
	if err != nil || created || none != nil {
		t.Fatalf("nothing left: %+v %v %v", none, created, err)
	}
	if f.onHand(t, "MUG", "default") != 9 || f.onHand(t, "CAP", "default") != 10 {
		t.Fatal("remaining units not restocked once")
	}
	f.shop.RequireLedgerClean(t)
}

// TestConcurrentReturnsNeverExceedSale races 20 returns of one unit each,
// with and without a location, over a sale of 5: exactly 5 succeed.
func TestConcurrentReturnsNeverExceedSale(t *testing.T) {
	f := newFixture(t)
	h := f.soldHold(t, item("MUG", 5))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, exceeded := 0, 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it := inventory.ReturnItem{SKU: "MUG", Quantity: 1}
			if i%2 == 0 {
				it.LocationID = "default"
			}
			_, _, err := f.ledger.CreateReturn(context.Background(), f.shopID, h.ID, inventory.ReturnRequest{
				Items: []inventory.ReturnItem{it}, Restock: i%3 != 0,
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case isExceeds(err):
				exceeded++
			default:
				t.Errorf("return: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 5 || exceeded != 15 {
		t.Fatalf("%d returns succeeded and %d exceeded, want 5 and 15", ok, exceeded)
	}
	var units int64
	for _, r := range f.returnsOf(t, h.ID) {
		units += r.Items[0].Quantity
	}
	if units != 5 {
		t.Fatalf("%d units returned of 5 sold", units)
	}
	f.shop.RequireLedgerClean(t)
}
