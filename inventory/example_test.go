package inventory_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// panicTB stands in for a *testing.T in examples, which have none, in the
// manner of River's testutil.PanicTB: it panics where a test would fail.
// testing.TB cannot be implemented outside package testing, so it embeds a nil
// TB and overrides what the test helpers call; anything else panics too.
type panicTB struct{ testing.TB }

func (panicTB) Helper()                           {}
func (panicTB) Name() string                      { return "Example" }
func (panicTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (panicTB) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (panicTB) FailNow()                          { panic("FailNow") }

// Holding stock for a checkout, then selling it when the order is paid.
func ExampleLedger_Reserve() {
	ctx := context.Background()
	// The package's test database, and a shop no test uses.
	pool, shopID := testdb.Pool(panicTB{}), testdb.ShopID(panicTB{})

	ledger := inventory.NewLedger(pool, inventory.Config{
		DefaultLowStockThreshold: 5,
		Logger:                   slog.New(slog.DiscardHandler),
	})
	if _, err := ledger.CreateShop(ctx, shopID, "Example shop"); err != nil {
		panic(err)
	}
	if _, err := ledger.Adjust(ctx, shopID, inventory.AdjustRequest{
		Reference: "initial count",
		Changes:   []inventory.StockChange{{SKU: "SKU-123", VariantKey: "size:M", Op: inventory.OpSet, Quantity: 10}},
	}); err != nil {
		panic(err)
	}

	// The customer starts checking out: hold two units for 20 minutes.
	hold, _, err := ledger.Reserve(ctx, shopID, inventory.ReserveRequest{
		Items:          []inventory.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 2}},
		TTL:            20 * time.Minute,
		IdempotencyKey: "cart-42",
		Reference:      "cart-42",
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("hold %s: %d × %s[%s] from %s\n", hold.Status, hold.Items[0].Quantity,
		hold.Items[0].SKU, hold.Items[0].VariantKey, hold.Items[0].Allocations[0].LocationID)
	printStock(ctx, ledger, shopID)

	// Asking for more than is left holds nothing.
	_, _, err = ledger.Reserve(ctx, shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "SKU-123", VariantKey: "size:M", Quantity: 9}},
		TTL:   20 * time.Minute,
	})
	fmt.Println(err)

	// Payment went through: the held units are sold.
	hold, err = ledger.Commit(ctx, shopID, hold.ID, "order-123")
	if err != nil {
		panic(err)
	}
	fmt.Println("hold", hold.Status)
	printStock(ctx, ledger, shopID)

	page, err := ledger.Movements(ctx, shopID, inventory.MovementsOptions{})
	if err != nil {
		panic(err)
	}
	for _, m := range page.Items {
		fmt.Printf("%-12s %+3d %s\n", m.Type, m.Quantity, m.Reference)
	}

	// Output:
	// hold active: 2 × SKU-123[size:M] from default
	// on hand 10, reserved 2, available 8, low stock false
	// insufficient stock: SKU-123[size:M] requested 9, available 8
	// hold committed
	// on hand 8, reserved 0, available 8, low stock false
	// SALE          -2 order-123
	// RESERVATION   +2 cart-42
	// ADJUSTMENT   +10 initial count
}

func printStock(ctx context.Context, ledger *inventory.Ledger, shopID string) {
	info, err := ledger.StockInfo(ctx, shopID, "SKU-123", "size:M")
	if err != nil {
		panic(err)
	}
	fmt.Printf("on hand %d, reserved %d, available %d, low stock %v\n", info.OnHand, info.Reserved, info.Available, info.LowStock)
}
