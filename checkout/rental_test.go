package checkout_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
)

// A rental checkout's rentalDueAt lands on its hold; once the hold is
// committed the rental is on the rentals list, due then.
func TestRentalDueAt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "BIKE", "", 3)
	due := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	req := f.request("rent-1", item("BIKE", "", 1))
	req.Mode, req.RentalDueAt = "rental", due.Format(time.RFC3339)
	sess, _ := f.create(t, req)
	f.shop.Commit(t, *sess.ReservationID)
	page, err := f.ledger.ListRentals(context.Background(), f.shopID, inventory.RentalsOptions{})
	if err != nil || len(page.Items) != 1 || page.Items[0].HoldID != *sess.ReservationID || !page.Items[0].DueAt.Equal(due) ||
		page.Items[0].Status != inventory.RentalOut {
		t.Fatalf("rentals = %+v, %v", page, err)
	}
}

func TestRentalDueAtRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "BIKE", "", 3)
	past, future := time.Now().Add(-time.Minute).Format(time.RFC3339), time.Now().Add(time.Hour).Format(time.RFC3339)
	for name, req := range map[string]checkout.Request{
		"sale": func() checkout.Request { r := f.request("s", item("BIKE", "", 1)); r.RentalDueAt = future; return r }(),
		"past": func() checkout.Request {
			r := f.request("p", item("BIKE", "", 1))
			r.Mode, r.RentalDueAt = "rental", past
			return r
		}(),
		"not a time": func() checkout.Request {
			r := f.request("t", item("BIKE", "", 1))
			r.Mode, r.RentalDueAt = "rental", "next tuesday"
			return r
		}(),
	} {
		_, _, err := f.svc.Create(context.Background(), req)
		var verr *checkoutd.ValidationError
		if !errors.As(err, &verr) || verr.Details[0].Field != "rentalDueAt" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if ids := f.holdIDs(t, ""); len(ids) != 0 {
		t.Errorf("refused checkouts placed holds %v", ids)
	}
}
