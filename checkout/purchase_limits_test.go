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

func limitLine(t *testing.T, f *fixture, sku string, perOrder, perCustomer int64) {
	t.Helper()
	if _, err := f.ledger.UpdateSettings(context.Background(), f.shopID, sku, "", inventory.StockSettings{
		MaxPerOrder: &perOrder, MaxPerCustomer: &perCustomer,
	}); err != nil {
		t.Fatalf("set limits of %s: %v", sku, err)
	}
}

func requireLimit(t *testing.T, err error, kind string) {
	t.Helper()
	var over *inventory.LimitExceededError
	if !errors.As(err, &over) || len(over.Lines) != 1 || over.Lines[0].Kind != kind {
		t.Fatalf("err = %v, want a %s *LimitExceededError", err, kind)
	}
}

// A checkout's hold counts against per-customer limits under its
// customerKey, else under its email lowercased; an adjustable line counts
// at its maximum, which is what its hold takes.
func TestCheckoutPurchaseLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "DROP", "", 50)
	limitLine(t, f, "DROP", 3, 3)

	req := f.request("email-1", item("DROP", "", 2))
	req.CustomerEmail = "Ann@Shop.example"
	f.create(t, req)
	req = f.request("email-2", item("DROP", "", 2))
	req.CustomerEmail = "ann@shop.EXAMPLE"
	_, _, err := f.svc.Create(ctx, req)
	requireLimit(t, err, inventory.LimitPerCustomer)

	// A customer key of its own is another customer than the email.
	req = f.request("key-1", item("DROP", "", 3))
	req.CustomerKey = "acct_7"
	f.create(t, req)
	req = f.request("key-2", item("DROP", "", 1))
	req.CustomerKey = "acct_7"
	_, _, err = f.svc.Create(ctx, req)
	requireLimit(t, err, inventory.LimitPerCustomer)

	// An adjustable line's maximum is what counts.
	req = f.request("adjustable", adjustableItem("DROP", 1, 1, 4))
	req.CustomerKey = "acct_8"
	_, _, err = f.svc.Create(ctx, req)
	requireLimit(t, err, inventory.LimitPerOrder)

	req = f.request("bad-key", item("DROP", "", 1))
	req.CustomerKey = "tab\tkey"
	_, _, err = f.svc.Create(ctx, req)
	var invalid *checkoutd.ValidationError
	if !errors.As(err, &invalid) || invalid.Details[0].Field != "customerKey" {
		t.Errorf("a key with a tab: err = %v, want a validation error on customerKey", err)
	}
	f.assertReserved(t, "DROP", "", 5)
	f.shop.RequireLedgerClean(t)
}

// A checkout adopting a cart's hold holds its lines to the customer's
// limit, counting the cart's hold once, and a refusal leaves the cart's
// hold as it was.
func TestCheckoutAdoptingACartHoldKeepsLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "DROP", "", 50)
	limitLine(t, f, "DROP", 0, 3)
	if _, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "DROP", Quantity: 1}}, TTL: time.Hour, CustomerKey: "acct_9",
	}); err != nil {
		t.Fatal(err)
	}
	cart, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "DROP", Quantity: 1}}, TTL: time.Hour, CustomerKey: "acct_9",
	})
	if err != nil {
		t.Fatal(err)
	}
	req := f.request("adopt-3", item("DROP", "", 3))
	req.HoldID, req.CustomerKey = cart.ID, "acct_9"
	_, _, err = f.svc.Create(ctx, req)
	requireLimit(t, err, inventory.LimitPerCustomer)
	f.assertReserved(t, "DROP", "", 2)

	req = f.request("adopt-2", item("DROP", "", 2))
	req.HoldID, req.CustomerKey = cart.ID, "acct_9"
	f.create(t, req)
	f.assertReserved(t, "DROP", "", 3)
	f.shop.RequireLedgerClean(t)
}
