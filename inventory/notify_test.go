package inventory_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// changesOf reads the change log from cursor and keeps shopID's lines, as
// "sku[variant]"; it returns the next cursor.
func changesOf(t *testing.T, l *inventory.Ledger, shopID string, cursor inventory.ChangeCursor) ([]string, inventory.ChangeCursor) {
	t.Helper()
	changed, next, err := l.StockChangesSince(context.Background(), cursor)
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, c := range changed {
		if c.ShopID == shopID {
			mine = append(mine, c.SKU+"["+c.VariantKey+"]")
		}
	}
	return mine, next
}

// Every committed stock change is in the change log once its transaction
// commits, read exactly once from the cursor before it; a change that rolls
// back never is, and one still in flight is read after it commits.
func TestStockChangesAreLoggedAtCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "size:M", "default", 5)
	f.stock(t, "B", "", "default", 5)
	f.stock(t, "C", "", "default", 5)
	cursor, err := f.ledger.StockChangeCursor(ctx)
	if err != nil {
		t.Fatal(err)
	}

	rolledBack, err := testdb.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.WithTx(rolledBack).Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "B", Quantity: 1}}, TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	late, err := testdb.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.WithTx(late).Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "C", Quantity: 1}}, TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := rolledBack.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	f.shop.Reserve(t, inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: "A", VariantKey: "size:M", Quantity: 2}}})

	got, cursor := changesOf(t, f.ledger, f.shopID, cursor)
	if len(got) != 1 || got[0] != "A[size:M]" {
		t.Fatalf("changes %v, want the committed hold on A[size:M] alone", got)
	}
	if again, _ := changesOf(t, f.ledger, f.shopID, cursor); len(again) != 0 {
		t.Fatalf("changes %v read twice", again)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, cursor = changesOf(t, f.ledger, f.shopID, cursor)
	if len(got) != 1 || got[0] != "C[]" {
		t.Fatalf("changes %v, want the late commit's C[]", got)
	}

	// Settings change what the storefront sees too.
	safety := int64(1)
	if _, err := f.ledger.UpdateSettings(ctx, f.shopID, "B", "", inventory.StockSettings{SafetyStock: &safety}); err != nil {
		t.Fatal(err)
	}
	if got, _ := changesOf(t, f.ledger, f.shopID, cursor); len(got) != 1 || got[0] != "B[]" {
		t.Fatalf("changes %v, want B[] after its settings changed", got)
	}
}

// Sessions opened with QuietStock (STOCK_NOTIFY=0) log nothing.
func TestQuietStockLogsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	quiet, err := database.Open(ctx, testdb.URL(t), database.PoolConfig{MaxConns: 2, QuietStock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	cursor, err := f.ledger.StockChangeCursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := inventory.NewLedger(quiet, inventory.Config{})
	if _, _, err := l.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 1}}, TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got, _ := changesOf(t, f.ledger, f.shopID, cursor); len(got) != 0 {
		t.Fatalf("a quiet session logged %v", got)
	}
}

// Pruning deletes what every transaction finished before the cursor wrote,
// and nothing after it. Not parallel: pruning is for every shop at once, and
// would take the log from under the other tests of the package.
func TestPruneStockChanges(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	start, err := f.ledger.StockChangeCursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.stock(t, "A", "", "default", 5)
	middle, err := f.ledger.StockChangeCursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.stock(t, "B", "", "default", 5)
	if _, err := f.ledger.PruneStockChanges(ctx, middle); err != nil {
		t.Fatal(err)
	}
	// What pruning must never do: lose a change made after its cursor.
	// A may stay: pruning goes by the oldest transaction still running on
	// the whole server when the cursor was taken, and other databases'
	// tests may hold one open, so it is exact only on a quiet server.
	got, _ := changesOf(t, f.ledger, f.shopID, start)
	if !slices.Contains(got, "B[]") {
		t.Fatalf("after pruning up to the middle: %v, want B[] kept", got)
	}
	// And what it must do: with cursors taken later, everything goes once
	// the transactions around it have finished.
	deadline := time.Now().Add(30 * time.Second)
	for {
		now, err := f.ledger.StockChangeCursor(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ledger.PruneStockChanges(ctx, now); err != nil {
			t.Fatal(err)
		}
		if got, _ = changesOf(t, f.ledger, f.shopID, start); len(got) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after pruning with later cursors for 30 s: %v left, want none", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, _, err := f.ledger.StockChangesSince(ctx, inventory.ChangeCursor{}); err == nil || errors.Is(err, inventory.ErrStockChangesLost) {
		t.Fatalf("reading from no position: %v, want a plain error", err)
	}
}
