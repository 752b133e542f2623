package inventory_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/checkoutd/checkoutd/inventory"
)

// TestStockInfoOneQuery: StockInfo reads a line in one query and sums its
// totals itself; it says what the two-query read of ListStock says, for
// every shape of line.
func TestStockInfoOneQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.location(t, "east", 2)
	f.stock(t, "SPREAD", "", "east", 3)
	f.stock(t, "SPREAD", "", "default", 4)
	f.stock(t, "SPREAD", "", "north", 2)
	f.stock(t, "V", "size:M", "north", 1)
	f.settings(t, "SETTINGS", "", inventory.StockSettings{SafetyStock: ptr[int64](2), LowStockThreshold: ptr[int64](1)})
	f.settings(t, "PRE", "", inventory.StockSettings{BackorderLimit: ptr[int64](3)})
	f.stock(t, "HELD", "", "default", 5)
	f.reserve(t, item("HELD", 2))
	f.reserve(t, item("PRE", 2))
	f.stock(t, "LAPSED", "", "default", 5)
	f.lapse(t, f.reserve(t, item("LAPSED", 3)).ID)

	for _, line := range []struct{ sku, variantKey string }{
		{"SPREAD", ""}, {"V", "size:M"}, {"SETTINGS", ""}, {"PRE", ""}, {"HELD", ""}, {"LAPSED", ""},
	} {
		got, err := f.ledger.StockInfo(ctx, f.shopID, line.sku, line.variantKey)
		if err != nil {
			t.Fatalf("StockInfo(%s): %v", line.sku, err)
		}
		want, err := inventory.StockInfoFromTotals(ctx, f.ledger, f.shopID, line.sku, line.variantKey)
		if err != nil || len(want) != 1 {
			t.Fatalf("the two-query read of %s = %+v, %v", line.sku, want, err)
		}
		if !reflect.DeepEqual(*got, want[0]) {
			t.Errorf("%s %q:\n one query:  %+v\n two queries: %+v", line.sku, line.variantKey, *got, want[0])
		}
	}
	if got, _ := f.ledger.StockInfo(ctx, f.shopID, "SPREAD", ""); len(got.Locations) != 3 || got.Locations[0].LocationID != "default" || got.Locations[2].LocationID != "east" {
		t.Errorf("SPREAD's locations = %+v, want default, north, east (allocation order)", got.Locations)
	}
}
