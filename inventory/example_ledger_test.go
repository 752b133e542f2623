package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// exampleLedger returns a ledger over the package's test database and a
// fresh shop holding onHand units of SKU-123 size:M at its default location.
func exampleLedger(ctx context.Context, onHand int64) (*inventory.Ledger, string) {
	pool, shopID := testdb.Pool(panicTB{}), testdb.ShopID(panicTB{})
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: slog.New(slog.DiscardHandler)})
	if _, err := ledger.CreateShop(ctx, shopID, "Example shop"); err != nil {
		panic(err)
	}
	if _, err := ledger.Adjust(ctx, shopID, inventory.AdjustRequest{
		Reference: "initial count",
		Changes:   []inventory.StockChange{{SKU: "SKU-123", VariantKey: "size:M", Op: inventory.OpSet, Quantity: onHand}},
	}); err != nil {
		panic(err)
	}
	return ledger, shopID
}

// Checking a cart without holding anything: the answer names every line
// that falls short.
func ExampleLedger_Validate() {
	ctx := context.Background()
	ledger, shopID := exampleLedger(ctx, 3)

	res, err := ledger.Validate(ctx, shopID, []inventory.Line{
		{SKU: "SKU-123", VariantKey: "size:M", Quantity: 5},
		{SKU: "SKU-999", Quantity: 1},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("OK:", res.OK)
	for _, s := range res.Insufficient {
		fmt.Printf("%s[%s] requested %d, available %d\n", s.SKU, s.VariantKey, s.Requested, s.Available)
	}
	// Output:
	// OK: false
	// SKU-123[size:M] requested 5, available 3
	// SKU-999[] requested 1, available 0
}

// A malformed request is refused before anything is read, with every
// problem at once, as a *checkoutd.ValidationError.
func ExampleLedger_Reserve_invalid() {
	ctx := context.Background()
	ledger, shopID := exampleLedger(ctx, 3)

	_, _, err := ledger.Reserve(ctx, shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "SKU 123", Quantity: 0}},
		TTL:   20 * time.Minute,
	})
	var invalid *checkoutd.ValidationError
	if errors.As(err, &invalid) {
		for _, d := range invalid.Details {
			fmt.Println(d.Field+":", d.Issue)
		}
	}
	// Output:
	// items[0].sku: must be 1-64 characters from A-Z a-z 0-9 . _ : / -
	// items[0].quantity: must be an integer from 1 to 1000000
}

// Releasing a hold gives its units back. Releasing it again (a redelivered
// webhook) changes nothing; committing it now is refused.
func ExampleLedger_Release() {
	ctx := context.Background()
	ledger, shopID := exampleLedger(ctx, 3)

	hold, _, err := ledger.Reserve(ctx, shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 2}},
		TTL:   20 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	if hold, err = ledger.Release(ctx, shopID, hold.ID, "payment_failed"); err != nil {
		panic(err)
	}
	fmt.Println("hold", hold.Status)
	printStock(ctx, ledger, shopID)

	again, err := ledger.Release(ctx, shopID, hold.ID, "payment_failed")
	fmt.Println("released again:", again.Status, err)

	_, err = ledger.Commit(ctx, shopID, hold.ID, "order-123")
	var notActive *inventory.HoldNotActiveError
	if errors.As(err, &notActive) {
		fmt.Println("commit refused: hold is", notActive.Status)
	}
	// Output:
	// hold released
	// on hand 3, reserved 0, available 3, low stock false
	// released again: released <nil>
	// commit refused: hold is released
}

// A stock change sent twice with the same idempotency key is applied once:
// a retry after a lost answer is safe.
func ExampleLedger_Adjust() {
	ctx := context.Background()
	ledger, shopID := exampleLedger(ctx, 10)

	req := inventory.AdjustRequest{
		Reference:      "damaged in transit",
		IdempotencyKey: "count-2024-06-01",
		Changes:        []inventory.StockChange{{SKU: "SKU-123", VariantKey: "size:M", Op: inventory.OpDecrement, Quantity: 2}},
	}
	for range 2 {
		res, err := ledger.Adjust(ctx, shopID, req)
		if err != nil {
			panic(err)
		}
		m := res.Movements[0]
		fmt.Printf("%s %+d (%s)\n", m.Type, m.Quantity, m.Reference)
	}
	printStock(ctx, ledger, shopID)
	// Output:
	// ADJUSTMENT -2 (damaged in transit)
	// ADJUSTMENT -2 (damaged in transit)
	// on hand 8, reserved 0, available 8, low stock false
}

// Moving stock between locations writes a movement out of one and into
// the other; the line's total stays the same.
func ExampleLedger_Transfer() {
	ctx := context.Background()
	ledger, shopID := exampleLedger(ctx, 10)
	if _, err := ledger.AddLocation(ctx, shopID, "shopfloor", "Shop floor", 1); err != nil {
		panic(err)
	}

	res, err := ledger.Transfer(ctx, shopID, inventory.TransferRequest{
		FromLocationID: "default",
		ToLocationID:   "shopfloor",
		Reference:      "restock the floor",
		Items:          []inventory.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 4}},
	})
	if err != nil {
		panic(err)
	}
	for _, m := range res.Movements {
		fmt.Printf("%-12s %+d at %s\n", m.Type, m.Quantity, m.LocationID)
	}
	info, err := ledger.StockInfo(ctx, shopID, "SKU-123", "size:M")
	if err != nil {
		panic(err)
	}
	for _, l := range info.Locations {
		fmt.Printf("%s: %d\n", l.LocationID, l.OnHand)
	}
	fmt.Println("total:", info.OnHand)
	// Output:
	// TRANSFER     -4 at default
	// TRANSFER     +4 at shopfloor
	// default: 6
	// shopfloor: 4
	// total: 10
}

// CheckLedger recomputes every stock row from its movements and active
// holds; a clean ledger has no discrepancies.
func ExampleLedger_CheckLedger() {
	ctx := context.Background()
	ledger, shopID := exampleLedger(ctx, 10)
	if _, _, err := ledger.Reserve(ctx, shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 3}},
		TTL:   20 * time.Minute,
	}); err != nil {
		panic(err)
	}

	report, err := ledger.CheckLedger(ctx, shopID)
	if err != nil {
		panic(err)
	}
	fmt.Println("rows checked:", report.RowsChecked, "discrepancies:", len(report.Discrepancies))
	// Output:
	// rows checked: 1 discrepancies: 0
}
