package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

func TestSeedDemoShopRunsOnce(t *testing.T) {
	ctx := context.Background()
	ledger := inventory.NewLedger(testdb.Pool(t), inventory.Config{Logger: slog.New(slog.DiscardHandler)})
	for range 2 {
		if err := seedDemoShop(ctx, ledger); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	info, err := ledger.StockInfo(ctx, devShop, "SHIRT-LINEN", "size:M")
	if err != nil {
		t.Fatalf("stock info: %v", err)
	}
	if info.OnHand != 28 || len(info.Locations) != 2 {
		t.Errorf("SHIRT-LINEN size:M after seeding twice: on hand %d at %d locations, want 28 at 2", info.OnHand, len(info.Locations))
	}
	report, err := ledger.CheckLedger(ctx, devShop)
	if err != nil || len(report.Discrepancies) > 0 {
		t.Errorf("ledger after seeding: %v %v", report, err)
	}
}

func TestDevDatabaseURLKeepsANamedDatabase(t *testing.T) {
	url := testdb.URL(t)
	got, err := devDatabaseURL(context.Background(), url)
	if err != nil || got != url {
		t.Errorf("devDatabaseURL(%q) = %q, %v; want it unchanged", url, got, err)
	}
}
