package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// A release whose hold lapsed while it waited in a group takes the hold's
// lock before the stock rows, as the reaper does: with the reaper closing
// the same hold, one waits for the other instead of both being killed as a
// deadlock. The lapsed hold is not recorded as released ("customer left"):
// it expired, and Release closes it as such.
func TestGroupReleaseOfLapsedHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "LR", "", "default", 10)
	lapsed := f.shop.Hold(t, time.Hour, 2, "LR")
	active := f.shop.Hold(t, time.Hour, 3, "LR")
	inventorytest.MakeDue(t, testdb.Pool(t), f.shopID, lapsed.ID)

	// The reaper, or a request closing lapsed holds, has locked the hold
	// and is about to lock its stock rows.
	reaper := f.holdLocks(t)
	if _, err := reaper.tx.Exec(ctx, `SELECT 1 FROM holds WHERE shop_id = $1 AND id = $2 FOR NO KEY UPDATE`, f.shopID, lapsed.ID); err != nil {
		t.Fatal(err)
	}
	type result struct {
		closed []int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		closed, err := inventory.ReleaseTogether(ctx, f.ledger, f.shopID, []string{lapsed.ID, active.ID}, "cart_abandoned")
		done <- result{closed, err}
	}()
	reaper.waitForWaiter(t)
	// The group waits for the hold without having taken the stock rows, so
	// the reaper gets them at once (before the fix it waited for the group,
	// which waited for it: deadlock detected after a second).
	if _, err := reaper.tx.Exec(ctx, `SELECT 1 FROM stock_levels WHERE shop_id = $1 AND sku = 'LR' FOR NO KEY UPDATE NOWAIT`, f.shopID); err != nil {
		t.Fatalf("the reaper could not lock the stock rows: %v (the group took them before the hold)", err)
	}
	reaper.commit(t)
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the group did not finish")
	}
	if r.err != nil {
		t.Fatalf("group release: %v", r.err)
	}
	if r.closed[0] != 0 || r.closed[1] != 1 {
		t.Errorf("the group closed %v holds, want 0 of the lapsed one and 1 of the active one", r.closed)
	}
	got, err := f.ledger.Release(ctx, f.shopID, lapsed.ID, "cart_abandoned")
	if err != nil || got.Status != inventory.HoldExpired {
		t.Fatalf("Release of the lapsed hold = %+v, %v; want it expired", got, err)
	}
	if st := inventorytest.ReadHold(t, testdb.Pool(t), f.shopID, lapsed.ID); st.Status != "expired" {
		t.Errorf("lapsed hold stored as %s, want expired", st.Status)
	}
	if info := f.shop.Info(t, "LR", ""); info.Reserved != 0 || info.OnHand != 10 {
		t.Errorf("LR: on hand %d, reserved %d; want 10, 0", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}
