package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// Operations on a Ledger bound to a transaction commit or roll back with it.
func TestWithTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)

	sell := func(commit bool) {
		t.Helper()
		tx, err := testdb.Pool(t).Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		l := f.ledger.WithTx(tx)
		hold, _, err := l.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 2}}, TTL: time.Minute})
		if err != nil {
			t.Fatalf("reserve in tx: %v", err)
		}
		if _, err := l.Commit(ctx, f.shopID, hold.ID, "order"); err != nil {
			t.Fatalf("commit in tx: %v", err)
		}
		// Adjust runs in a savepoint of the caller's transaction.
		if _, err := l.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpIncrement, Quantity: 1}}}); err != nil {
			t.Fatalf("adjust in tx: %v", err)
		}
		if commit {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	sell(false)
	if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 0 {
		t.Errorf("after rollback: on hand %d, reserved %d; want 5 and 0", info.OnHand, info.Reserved)
	}
	sell(true)
	if info := f.shop.Info(t, "A", ""); info.OnHand != 4 || info.Reserved != 0 {
		t.Errorf("after commit: on hand %d, reserved %d; want 4 and 0", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}
