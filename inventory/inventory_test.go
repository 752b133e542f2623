package inventory_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// fixture is a fresh shop on the package's test database.
type fixture struct {
	ledger *inventory.Ledger
	shopID string
	shop   *inventorytest.Shop
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	pool := testdb.Pool(tb)
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l := inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: 10, Logger: logger})
	shop := inventorytest.NewShop(tb, l, &inventorytest.ShopOpts{Name: "Test shop"})
	return &fixture{ledger: l, shopID: shop.ID, shop: shop}
}

// stock sets on_hand of a line at a location.
func (f *fixture) stock(tb testing.TB, sku, variantKey, location string, onHand int64) {
	tb.Helper()
	f.shop.StockLine(tb, sku, variantKey, location, onHand)
}

func (f *fixture) location(tb testing.TB, id string, priority int64) {
	tb.Helper()
	f.shop.Location(tb, id, priority)
}
