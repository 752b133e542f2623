package inventory_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// A group works its holds out in Go (group_reserve.go) instead of running
// the reserve statement once per hold. Over random shops (locations of
// tied and differing priorities, safety stock, backorder limits, low-stock
// thresholds, stock already held, idempotency keys used before and within
// the group, lines nobody stocks), two identical shops get the same holds:
// one by one through the statement, and as one group. Every hold must read
// the same rows either way, and the shops must end the same: stock, holds,
// allocations, movements and low-stock checks.
func TestGroupPlanMatchesReserveHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Pool(t)
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l := inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: 3, Logger: logger})
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 14))
		setup := randomShopSetup(rng)
		initial, holds := randomHolds(rng, seed, 5), randomHolds(rng, seed+1000, 12)
		alone := inventorytest.NewShop(t, l, nil)
		together := inventorytest.NewShop(t, l, nil)

		var aloneRows, togetherRows [][]inventory.ReserveRow
		for _, shop := range []*inventorytest.Shop{alone, together} {
			setup(t, shop)
			for _, h := range initial {
				h.ShopID = shop.ID
				if _, err := inventory.ReserveAlone(ctx, l, h); err != nil {
					t.Fatalf("seed %d: initial hold: %v", seed, err)
				}
			}
		}
		for _, h := range holds {
			h.ShopID = alone.ID
			rows, err := inventory.ReserveAlone(ctx, l, h)
			if err != nil {
				t.Fatalf("seed %d: hold alone: %v", seed, err)
			}
			aloneRows = append(aloneRows, rows)
		}
		args := slices.Clone(holds)
		for i := range args {
			args[i].ShopID = together.ID
		}
		togetherRows, err := inventory.ReserveTogether(ctx, l, args)
		if err != nil {
			t.Fatalf("seed %d: holds together: %v", seed, err)
		}

		for i := range holds {
			if got, want := reserveRowsText(togetherRows[i]), reserveRowsText(aloneRows[i]); got != want {
				t.Errorf("seed %d, hold %d (%v x %v):\n together %s\n alone    %s", seed, i, holds[i].Skus, holds[i].Quantities, got, want)
			}
		}
		if got, want := storedShop(t, pool, together.ID), storedShop(t, pool, alone.ID); got != want {
			t.Errorf("seed %d: the shops differ:\n together %s\n alone    %s", seed, got, want)
		}
		inventorytest.RequireLedgerClean(t, l, together.ID)
	}
}

// randomShopSetup returns what stocks a shop the same way each time it is
// called: two locations besides the default, and four lines with random
// stock at random locations and random settings.
func randomShopSetup(rng *rand.Rand) func(testing.TB, *inventorytest.Shop) {
	priorities := []int64{rng.Int64N(3) - 1, rng.Int64N(3) - 1}
	type level struct {
		sku, variantKey, location string
		onHand                    int64
	}
	var levels []level
	settings := map[[2]string]inventory.StockSettings{}
	for _, line := range groupPlanLines {
		for _, loc := range []string{"", "north", "south"} {
			if rng.IntN(10) < 6 {
				levels = append(levels, level{line[0], line[1], loc, rng.Int64N(6)})
			}
		}
		var s inventory.StockSettings
		if rng.IntN(2) == 0 {
			s.SafetyStock = ptr(rng.Int64N(3))
		}
		if rng.IntN(2) == 0 {
			s.LowStockThreshold = ptr(rng.Int64N(5))
		}
		if rng.IntN(2) == 0 {
			s.BackorderLimit = ptr(rng.Int64N(7))
		}
		settings[line] = s
	}
	return func(tb testing.TB, shop *inventorytest.Shop) {
		tb.Helper()
		shop.Location(tb, "north", priorities[0])
		shop.Location(tb, "south", priorities[1])
		for _, v := range levels {
			shop.StockLine(tb, v.sku, v.variantKey, v.location, v.onHand)
		}
		for _, line := range groupPlanLines {
			if settings[line] == (inventory.StockSettings{}) {
				continue
			}
			if _, err := shop.Ledger.UpdateSettings(context.Background(), shop.ID, line[0], line[1], settings[line]); err != nil {
				tb.Fatalf("settings of %v: %v", line, err)
			}
		}
	}
}

// groupPlanLines are the lines randomShopSetup stocks; holds also ask for
// one it does not.
var groupPlanLines = [][2]string{{"A", ""}, {"B", ""}, {"B", "size:M"}, {"C", ""}}

// randomHolds returns n holds of one to three lines, some with
// idempotency keys drawn from a few, so that keys repeat.
func randomHolds(rng *rand.Rand, seed uint64, n int) []inventory.ReserveParams {
	lines := append(slices.Clone(groupPlanLines), [2]string{"NOPE", ""})
	holds := make([]inventory.ReserveParams, n)
	for i := range holds {
		h := inventory.ReserveParams{
			HoldID:           fmt.Sprintf("hold_plan_%d_%d", seed, i),
			TtlSeconds:       60,
			Reference:        fmt.Sprintf("ref-%d", i),
			DefaultThreshold: 3,
		}
		picked := map[[2]string]bool{}
		for range 1 + rng.IntN(3) {
			line := lines[rng.IntN(len(lines))]
			if picked[line] {
				continue
			}
			picked[line] = true
			h.Skus = append(h.Skus, line[0])
			h.VariantKeys = append(h.VariantKeys, line[1])
			h.Quantities = append(h.Quantities, 1+rng.Int64N(5))
		}
		if rng.IntN(3) == 0 {
			h.IdempotencyKey = ptr(fmt.Sprintf("key-%d", rng.IntN(3)))
		}
		if rng.IntN(2) == 0 {
			h.CheckoutMode = ptr("reserve_ttl")
		}
		holds[i] = h
	}
	return holds
}

// reserveRowsText is rows as text, without the times, which differ from
// one transaction to the next.
func reserveRowsText(rows []inventory.ReserveRow) string {
	out := ""
	for _, r := range rows {
		r.ExpiresAt, r.CreatedAt = time.Time{}, time.Time{}
		out += fmt.Sprintf("%+v ", r)
	}
	return out
}

// storedShop is what a shop's stock, holds, allocations, movements and
// low-stock checks hold, as text: movements as a multiset, since the
// order of one statement's rows is its plan's.
func storedShop(tb testing.TB, exec interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, shopID string) string {
	tb.Helper()
	var out string
	for _, q := range []string{
		`SELECT sku, variant_key, location_id, on_hand, reserved, backorder_limit FROM stock_levels WHERE shop_id = $1 ORDER BY 1, 2, 3`,
		`SELECT id, status, coalesce(idempotency_key, ''), reference, coalesce(checkout_mode, ''), expires_at - created_at <= interval '60 seconds'
		 FROM holds WHERE shop_id = $1 ORDER BY 1`,
		`SELECT a.hold_id, a.sku, a.variant_key, a.location_id, a.quantity, a.backordered, a.open_until = h.expires_at
		 FROM hold_allocations a JOIN holds h ON h.shop_id = a.shop_id AND h.id = a.hold_id WHERE a.shop_id = $1 ORDER BY 1, 2, 3, 4`,
		`SELECT coalesce(hold_id, ''), sku, variant_key, location_id, type, quantity, reference FROM movements WHERE shop_id = $1 ORDER BY 1, 2, 3, 4, 5, 6, 7`,
		`SELECT sku, variant_key FROM stock_checks WHERE shop_id = $1 ORDER BY 1, 2`,
	} {
		rows, err := exec.Query(context.Background(), q, shopID)
		if err != nil {
			tb.Fatalf("read shop %s: %v", shopID, err)
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			vals, err := r.Values()
			return fmt.Sprint(vals), err
		})
		if err != nil {
			tb.Fatalf("read shop %s: %v", shopID, err)
		}
		out += fmt.Sprint(all) + "\n"
	}
	return out
}
