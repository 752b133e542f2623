package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/inventory"
)

func (f *fixture) rental(t *testing.T, sku string, qty int64, due time.Time) *inventory.Hold {
	t.Helper()
	h, _, err := f.ledger.Reserve(context.Background(), f.shopID, inventory.ReserveRequest{
		Items: []inventory.Line{item(sku, qty)}, TTL: longTTL, CheckoutMode: "rental",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ledger.SetRentalDue(context.Background(), f.shopID, h.ID, due); err != nil {
		t.Fatal(err)
	}
	f.shop.Commit(t, h.ID)
	return h
}

func (f *fixture) rentals(t *testing.T, opts inventory.RentalsOptions) *inventory.RentalPage {
	t.Helper()
	p, err := f.ledger.ListRentals(context.Background(), f.shopID, opts)
	if err != nil {
		t.Fatalf("list rentals %+v: %v", opts, err)
	}
	return p
}

func TestRentals(t *testing.T) {
	f := newFixture(t)
	f.stock(t, "BIKE", "", "", 10)
	ctx := context.Background()
	due := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	out := f.rental(t, "BIKE", 2, due)
	late := f.rental(t, "BIKE", 1, time.Now().Add(-2*time.Hour))
	back := f.rental(t, "BIKE", 1, due)
	// A sale's committed hold and an open rental are not rentals out.
	sold := f.reserve(t, item("BIKE", 1))
	f.shop.Commit(t, sold.ID)
	f.reserve(t, item("BIKE", 1))

	if _, _, err := f.ledger.CreateReturn(ctx, f.shopID, back.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "BIKE", Quantity: 1}}, Restock: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.CreateReturn(ctx, f.shopID, out.ID, inventory.ReturnRequest{Items: []inventory.ReturnItem{{SKU: "BIKE", Quantity: 1}}, Restock: true}); err != nil {
		t.Fatal(err)
	}

	all := f.rentals(t, inventory.RentalsOptions{})
	if len(all.Items) != 3 || all.NextCursor != nil {
		t.Fatalf("rentals = %+v", all)
	}
	// Newest first.
	want := []struct {
		id          string
		status      inventory.RentalStatus
		outstanding int64
	}{{back.ID, inventory.RentalReturned, 0}, {late.ID, inventory.RentalOverdue, 1}, {out.ID, inventory.RentalOut, 1}}
	for i, w := range want {
		r := all.Items[i]
		if r.HoldID != w.id || r.Status != w.status || r.Outstanding != w.outstanding || len(r.Items) != 1 {
			t.Errorf("rental %d = %+v, want %+v", i, r, w)
		}
	}
	if r := all.Items[2]; !r.DueAt.Equal(due) || r.Items[0] != (inventory.RentalItem{SKU: "BIKE", Quantity: 2, Returned: 1}) {
		t.Errorf("the rental out = %+v", r)
	}
	for status, id := range map[inventory.RentalStatus]string{inventory.RentalOut: out.ID, inventory.RentalOverdue: late.ID, inventory.RentalReturned: back.ID} {
		if p := f.rentals(t, inventory.RentalsOptions{Status: status}); len(p.Items) != 1 || p.Items[0].HoldID != id {
			t.Errorf("status %s: %+v", status, p.Items)
		}
	}
	// Pages.
	first := f.rentals(t, inventory.RentalsOptions{Limit: 2})
	if len(first.Items) != 2 || first.NextCursor == nil {
		t.Fatalf("first page: %+v", first)
	}
	second := f.rentals(t, inventory.RentalsOptions{Limit: 2, Cursor: *first.NextCursor})
	if len(second.Items) != 1 || second.Items[0].HoldID != out.ID || second.NextCursor != nil {
		t.Fatalf("second page: %+v", second)
	}
	if _, err := f.ledger.ListRentals(ctx, f.shopID, inventory.RentalsOptions{Status: "lost"}); !isInvalid(err) {
		t.Errorf("status lost: %v", err)
	}
	if _, err := f.ledger.ListRentals(ctx, f.shopID, inventory.RentalsOptions{Cursor: "junk"}); !isInvalid(err) {
		t.Errorf("bad cursor: %v", err)
	}
	f.shop.RequireLedgerClean(t)
}
