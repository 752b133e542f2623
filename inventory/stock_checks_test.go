package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// Changes that leave a line at or below its low-stock threshold ask for a
// check in their own transaction; changes that leave plenty do not.
func TestLowStockChecksRequested(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t) // default threshold 10
	f.stock(t, "A", "", "default", 15)
	f.stock(t, "B", "", "default", 50)
	checks := func() map[string]bool {
		t.Helper()
		rows, err := testdb.Pool(t).Query(ctx, "SELECT sku FROM stock_checks WHERE shop_id = $1", f.shopID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for rows.Next() {
			var sku string
			if err := rows.Scan(&sku); err != nil {
				t.Fatal(err)
			}
			got[sku] = true
		}
		return got
	}
	clear := func() {
		if _, err := testdb.Pool(t).Exec(ctx, "DELETE FROM stock_checks WHERE shop_id = $1", f.shopID); err != nil {
			t.Fatal(err)
		}
	}
	clear() // the fixture's own stock changes

	reserve := func(sku string, qty int64) {
		t.Helper()
		if _, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: sku, Quantity: qty}}, TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	reserve("A", 3) // 12 left
	reserve("B", 3) // 47 left
	if got := checks(); len(got) != 0 {
		t.Errorf("checks after holds that leave plenty: %v, want none", got)
	}
	reserve("A", 3) // 9 left: at or below 10
	if got := checks(); !got["A"] || got["B"] {
		t.Errorf("checks after a hold that leaves A low: %v, want A only", got)
	}
	clear()
	if _, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{
		{SKU: "B", Op: inventory.OpDecrement, Quantity: 1, Type: inventory.MovementDamage},
	}}); err != nil {
		t.Fatal(err)
	}
	if got := checks(); !got["B"] {
		t.Errorf("checks after damage to B: %v, want B", got)
	}
	clear()
	threshold := int64(100)
	if _, err := f.ledger.UpdateSettings(ctx, f.shopID, "B", "", inventory.StockSettings{LowStockThreshold: &threshold}); err != nil {
		t.Fatal(err)
	}
	if got := checks(); !got["B"] {
		t.Errorf("checks after raising B's threshold: %v, want B", got)
	}
}
