package inventory_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// readBuffers returns how many shared buffers the availability read of one
// line touches, as EXPLAIN (ANALYZE, BUFFERS) counts them: the work of the
// read, independent of the machine's speed.
func readBuffers(t *testing.T, f *fixture, sku string) int {
	t.Helper()
	var plan []struct {
		Plan struct {
			Hit  int `json:"Shared Hit Blocks"`
			Read int `json:"Shared Read Blocks"`
		} `json:"Plan"`
	}
	var raw []byte
	err := testdb.Pool(t).QueryRow(context.Background(), `
		EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
		SELECT sum(e.on_hand - e.reserved) FROM stock_levels_effective e
		WHERE e.shop_id = $1 AND e.sku = $2 AND e.variant_key = ''`, f.shopID, sku).Scan(&raw)
	if err != nil {
		t.Fatalf("explain the read: %v", err)
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("parse the plan %s: %v", raw, err)
	}
	return plan[0].Plan.Hit + plan[0].Plan.Read
}

// Reading a line costs the same however many lapsed holds, unreaped, sit on
// other lines: reads look only at the lapsed allocations of the rows they
// read. Once, every read walked every lapsed hold.
func TestReadCostIgnoresLapsedHoldsElsewhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	skus := benchStock(t, f, "SKU", 21)
	clean := readBuffers(t, f, skus[0])

	seedLapsedHolds(t, f, skus[1:], 5_000)
	if got := f.shop.Info(t, skus[1], ""); got.Reserved != 0 || got.Available != got.OnHand {
		t.Fatalf("a line whose holds all lapsed reads reserved %d, available %d; want 0 and %d", got.Reserved, got.Available, got.OnHand)
	}
	// Some slack for the inner pages of the index as it grows.
	busy := readBuffers(t, f, skus[0])
	if busy > clean+10 {
		t.Errorf("with 5,000 lapsed holds on other lines, reading a line touched %d buffers; %d without them", busy, clean)
	}
	t.Logf("buffers touched reading a line: %d, with 5,000 lapsed holds on other lines %d", clean, busy)
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}
