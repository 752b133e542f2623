package inventory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// When a stock row's CHECK refuses a change, the ledger says so with a
// StockConflictError, the domain's word for it, and changes nothing. Here a
// row edited behind the ledger's back reserves less than the hold being
// committed took, so the commit would leave reserved below zero.
func TestCheckViolationIsStockConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	hold := f.reserve(t, item("A", 3))

	edit := func(reserved int64) {
		t.Helper()
		if _, err := testdb.Pool(t).Exec(ctx, "UPDATE stock_levels SET reserved = $3 WHERE shop_id = $1 AND sku = $2", f.shopID, "A", reserved); err != nil {
			t.Fatal(err)
		}
	}
	edit(1)
	_, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "order")
	var conflict *inventory.StockConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("commit against a row that reserves too little: %v, want a StockConflictError", err)
	}
	edit(3)
	if got := f.hold(t, hold.ID); got.Status != inventory.HoldActive {
		t.Errorf("after the refused commit the hold is %s, want active", got.Status)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}
