package inventory_test

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// fixture is a fresh shop on the package's test database.
type fixture struct {
	ledger *inventory.Ledger
	shopID string
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	pool := testdb.Pool(tb)
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l := inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: 10, Logger: logger})
	f := &fixture{ledger: l, shopID: testdb.ShopID(tb)}
	if err := l.CreateShop(context.Background(), f.shopID, "Test shop"); err != nil {
		tb.Fatalf("create shop: %v", err)
	}
	return f
}

// stock sets on_hand of a line at a location.
func (f *fixture) stock(tb testing.TB, sku, variantKey, location string, onHand int64) {
	tb.Helper()
	_, err := f.ledger.Adjust(context.Background(), f.shopID, inventory.AdjustRequest{
		Reference: "fixture",
		Changes:   []inventory.StockChange{{SKU: sku, VariantKey: variantKey, LocationID: location, Op: inventory.OpSet, Quantity: onHand}},
	})
	if err != nil {
		tb.Fatalf("stock %s[%s]@%s: %v", sku, variantKey, location, err)
	}
}

func (f *fixture) location(tb testing.TB, id string, priority int32) {
	tb.Helper()
	if err := f.ledger.AddLocation(context.Background(), f.shopID, id, id, priority); err != nil {
		tb.Fatalf("add location %s: %v", id, err)
	}
}

func (f *fixture) info(tb testing.TB, sku, variantKey string) *inventory.StockInfo {
	tb.Helper()
	info, err := f.ledger.StockInfo(context.Background(), f.shopID, sku, variantKey)
	if err != nil {
		tb.Fatalf("stock info %s[%s]: %v", sku, variantKey, err)
	}
	return info
}
