package inventory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// A row locked past the lock budget makes operations give up with a
// BusyError carrying the retry delay, and change nothing.
func TestBusyWhenRowsStayLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 1}}, TTL: time.Hour})
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}

	impatient, err := database.Open(ctx, testdb.URL(t), database.PoolConfig{MaxConns: 4, LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	defer impatient.Close()
	l := inventory.NewLedger(impatient, inventory.Config{BusyRetryAfter: 250 * time.Millisecond})

	tx, err := testdb.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT 1 FROM stock_levels WHERE shop_id = $1 FOR UPDATE", f.shopID); err != nil {
		t.Fatal(err)
	}

	for name, op := range map[string]func() error{
		"reserve": func() error {
			_, _, err := l.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 1}}, TTL: time.Hour})
			return err
		},
		"commit": func() error { _, err := l.Commit(ctx, f.shopID, hold.ID, "order"); return err },
		"adjust": func() error {
			_, err := l.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpIncrement, Quantity: 1}}})
			return err
		},
	} {
		var busy *inventory.BusyError
		if err := op(); !errors.As(err, &busy) || busy.RetryAfter != 250*time.Millisecond {
			t.Errorf("%s with the row locked: %v, want a BusyError retrying after 250ms", name, err)
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 1 {
		t.Errorf("after the busy attempts: on hand %d, reserved %d; want 5 and 1", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}
