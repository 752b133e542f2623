package inventory_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// Every committed stock change is published on the checkoutd_stock channel,
// and a change that rolls back is not.
func TestStockChangesAreNotifiedAfterCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "size:M", "default", 5)

	conn, err := pgx.Connect(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN checkoutd_stock"); err != nil {
		t.Fatal(err)
	}
	// next returns this shop's next notification, or nil after wait.
	next := func(wait time.Duration) map[string]string {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			wctx, cancel := context.WithDeadline(ctx, deadline)
			n, err := conn.WaitForNotification(wctx)
			cancel()
			if err != nil {
				return nil
			}
			var p map[string]string
			if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
				t.Fatalf("payload %q: %v", n.Payload, err)
			}
			if p["shopId"] == f.shopID {
				return p
			}
		}
	}

	tx, err := testdb.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.WithTx(tx).Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", VariantKey: "size:M", Quantity: 1}}, TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", VariantKey: "size:M", Quantity: 2}}, TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	got := next(5 * time.Second)
	if got == nil || got["sku"] != "A" || got["variantKey"] != "size:M" {
		t.Fatalf("notification after the committed hold: %v, want A size:M", got)
	}
	if info := f.shop.Info(t, "A", "size:M"); info.Reserved != 2 {
		t.Fatalf("reserved %d, want 2: the rolled-back hold must not count", info.Reserved)
	}
	if extra := next(300 * time.Millisecond); extra != nil {
		t.Errorf("a second notification %v: the rolled-back change must not be published", extra)
	}
}

// Sessions opened with QuietStock (STOCK_NOTIFY=0) publish nothing.
func TestQuietStockPublishesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)

	quiet, err := database.Open(ctx, testdb.URL(t), database.PoolConfig{MaxConns: 2, QuietStock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	conn, err := pgx.Connect(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN checkoutd_stock"); err != nil {
		t.Fatal(err)
	}
	l := inventory.NewLedger(quiet, inventory.Config{})
	if _, _, err := l.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 1}}, TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			return // nothing for this shop: as wanted
		}
		var p map[string]string
		if json.Unmarshal([]byte(n.Payload), &p) == nil && p["shopId"] == f.shopID {
			t.Fatalf("a quiet session published %s", n.Payload)
		}
	}
}
