package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// lockHolder is a transaction that changed stock and keeps the rows it
// locked until the test commits it, so another operation can be made to
// wait for those rows and then run on the versions the commit leaves.
type lockHolder struct {
	tx     pgx.Tx
	ledger *inventory.Ledger
	pid    uint32
}

func (f *fixture) holdLocks(t *testing.T) *lockHolder {
	t.Helper()
	ctx := context.Background()
	tx, err := testdb.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	var pid uint32
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return &lockHolder{tx: tx, ledger: f.ledger.WithTx(tx), pid: pid}
}

// waitForWaiter returns once another backend is blocked on a lock this
// transaction holds: the operation under test has taken its snapshot and
// is waiting for the row.
func (h *lockHolder) waitForWaiter(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := testdb.Pool(t).QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))", int32(h.pid)).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("nothing came to wait for the locked rows")
}

func (h *lockHolder) commit(t *testing.T) {
	t.Helper()
	if err := h.tx.Commit(context.Background()); err != nil {
		t.Fatalf("commit the lock holder: %v", err)
	}
}

// whileLocked runs op in the background, waits until it is blocked on the
// holder's rows, commits the holder, and returns op's error.
func whileLocked(t *testing.T, h *lockHolder, op func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op() }()
	h.waitForWaiter(t)
	h.commit(t)
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting operation did not finish")
		return nil
	}
}

func TestReserveWaitingForRestock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 32)

	h := f.holdLocks(t)
	if _, err := h.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpIncrement, Quantity: 2}}}); err != nil {
		t.Fatalf("increment: %v", err)
	}
	var hold *inventory.Hold
	err := whileLocked(t, h, func() error {
		var err error
		hold, _, err = f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 34}}, TTL: time.Minute})
		return err
	})
	if err != nil {
		t.Fatalf("reserve after the restock: %v", err)
	}
	if hold.Items[0].Quantity != 34 {
		t.Errorf("hold took %d, want 34", hold.Items[0].Quantity)
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != 34 || info.Reserved != 34 {
		t.Errorf("on hand %d, reserved %d; want 34 and 34", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

// Each statement that changes a stock row locks it and then updates it in
// one statement. The tests below make each wait for the lock while another
// transaction changes the row, so that the version its snapshot saw is
// stale by the time it writes, in the way that makes a stale write break a
// CHECK; the write must be judged on the newest version and succeed.

func TestCommitWaitingForBackorders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.settings(t, "A", "", inventory.StockSettings{BackorderLimit: ptr(int64(5))})
	hold := f.reserve(t, inventory.Line{SKU: "A", Quantity: 5})

	h := f.holdLocks(t)
	h.backorderLimit(t, f, "A", 8)
	if _, _, err := h.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 3}}, TTL: time.Minute}); err != nil {
		t.Fatalf("backorder 3 more: %v", err)
	}
	err := whileLocked(t, h, func() error {
		_, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "order")
		return err
	})
	if err != nil {
		t.Fatalf("commit after the limit was raised and more backordered: %v", err)
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != -5 || info.Reserved != 3 || info.BackorderLimit != 8 {
		t.Errorf("on hand %d, reserved %d, limit %d; want -5, 3 and 8", info.OnHand, info.Reserved, info.BackorderLimit)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestReleaseWaitingForRestockAndHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)
	first := f.reserve(t, inventory.Line{SKU: "A", Quantity: 1})
	f.reserve(t, inventory.Line{SKU: "A", Quantity: 9})

	h := f.holdLocks(t)
	h.restockAndHold(t, f, "A", 5)
	err := whileLocked(t, h, func() error {
		_, err := f.ledger.Release(ctx, f.shopID, first.ID, "abandoned")
		return err
	})
	if err != nil {
		t.Fatalf("release after a restock and a hold: %v", err)
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != 15 || info.Reserved != 14 {
		t.Errorf("on hand %d, reserved %d; want 15 and 14", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestExpiryWaitingForRestockAndHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)
	first := f.reserve(t, inventory.Line{SKU: "A", Quantity: 1})
	f.reserve(t, inventory.Line{SKU: "A", Quantity: 9})
	f.lapse(t, first.ID)

	h := f.holdLocks(t)
	h.restockAndHold(t, f, "A", 5)
	// Releasing a lapsed hold expires it.
	err := whileLocked(t, h, func() error {
		_, err := f.ledger.Release(ctx, f.shopID, first.ID, "abandoned")
		return err
	})
	if err != nil {
		t.Fatalf("expire after a restock and a hold: %v", err)
	}
	if got, err := f.ledger.GetHold(ctx, f.shopID, first.ID); err != nil || got.Status != inventory.HoldExpired {
		t.Errorf("hold after expiry: %+v, %v; want expired", got, err)
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != 15 || info.Reserved != 14 {
		t.Errorf("on hand %d, reserved %d; want 15 and 14", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestAdjustWaitingForRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)
	hold := f.reserve(t, inventory.Line{SKU: "A", Quantity: 10})

	h := f.holdLocks(t)
	if _, err := h.ledger.Release(ctx, f.shopID, hold.ID, "abandoned"); err != nil {
		t.Fatalf("release: %v", err)
	}
	err := whileLocked(t, h, func() error {
		_, err := f.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpDecrement, Quantity: 5, Type: inventory.MovementDamage}}})
		return err
	})
	if err != nil {
		t.Fatalf("decrement after the release: %v", err)
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 5 and 0", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestTransferWaitingForRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 10)
	hold := f.reserve(t, inventory.Line{SKU: "A", Quantity: 10})

	h := f.holdLocks(t)
	if _, err := h.ledger.Release(ctx, f.shopID, hold.ID, "abandoned"); err != nil {
		t.Fatalf("release: %v", err)
	}
	err := whileLocked(t, h, func() error {
		_, err := f.ledger.Transfer(ctx, f.shopID, inventory.TransferRequest{
			FromLocationID: "default", ToLocationID: "north", Items: []inventory.Line{{SKU: "A", Quantity: 5}},
		})
		return err
	})
	if err != nil {
		t.Fatalf("transfer after the release: %v", err)
	}
	info := f.shop.Info(t, "A", "")
	if info.OnHand != 10 || info.Reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 10 and 0", info.OnHand, info.Reserved)
	}
	for _, loc := range info.Locations {
		if loc.OnHand != 5 {
			t.Errorf("%s has %d on hand, want 5", loc.LocationID, loc.OnHand)
		}
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestBackorderLimitWaitingForRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.settings(t, "A", "", inventory.StockSettings{BackorderLimit: ptr(int64(5))})
	hold := f.reserve(t, inventory.Line{SKU: "A", Quantity: 5})

	h := f.holdLocks(t)
	if _, err := h.ledger.Release(ctx, f.shopID, hold.ID, "abandoned"); err != nil {
		t.Fatalf("release: %v", err)
	}
	err := whileLocked(t, h, func() error {
		zero := int64(0)
		_, err := f.ledger.UpdateSettings(ctx, f.shopID, "A", "", inventory.StockSettings{BackorderLimit: &zero})
		return err
	})
	if err != nil {
		t.Fatalf("lower the backorder limit after the release: %v", err)
	}
	if info := f.shop.Info(t, "A", ""); info.BackorderLimit != 0 || info.Reserved != 0 {
		t.Errorf("limit %d, reserved %d; want 0 and 0", info.BackorderLimit, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func (h *lockHolder) backorderLimit(t *testing.T, f *fixture, sku string, limit int64) {
	t.Helper()
	if _, err := h.ledger.UpdateSettings(context.Background(), f.shopID, sku, "", inventory.StockSettings{BackorderLimit: &limit}); err != nil {
		t.Fatalf("backorder limit of %s: %v", sku, err)
	}
}

// restockAndHold receives n units of sku and holds them, in the holder's
// transaction: the row ends with n more on hand and n more reserved.
func (h *lockHolder) restockAndHold(t *testing.T, f *fixture, sku string, n int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := h.ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: sku, Op: inventory.OpIncrement, Quantity: n}}}); err != nil {
		t.Fatalf("restock: %v", err)
	}
	if _, _, err := h.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: sku, Quantity: n}}, TTL: time.Hour}); err != nil {
		t.Fatalf("hold the restock: %v", err)
	}
}
