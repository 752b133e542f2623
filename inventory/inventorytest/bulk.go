package inventorytest

import (
	"context"
	"testing"

	"github.com/checkoutd/checkoutd/internal/database"
)

// LoadBulk gives a shop lines stock lines (SKU-00001, ...) at its default
// location, each with perLine movements spread over the last day: a
// receipt, then holds that were placed and sold, or placed and released or
// expired, in turn, so rates have something to count. Every tenth line
// received only 3 units and is low on stock. The books balance: on_hand is
// the sum of each row's movements and nothing is reserved.
//
// It writes SQL because it is for benchmarks: through the ledger, 100,000
// movements take minutes; this takes seconds. The holds it names are not
// rows of holds (movements have no key to them).
func LoadBulk(tb testing.TB, exec database.Executor, shopID string, lines, perLine int) {
	tb.Helper()
	ctx := context.Background()
	for _, step := range []struct {
		sql  string
		args []any
	}{{`
		INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, hold_id, created_by, created_at)
		SELECT $1, 'SKU-' || lpad(l::text, 5, '0'), '', 'default',
		       CASE WHEN k = 0 THEN 'PURCHASE_ORDER' WHEN k % 2 = 1 THEN 'RESERVATION' WHEN k % 4 = 2 THEN 'SALE' ELSE 'RELEASE' END,
		       CASE WHEN k = 0 THEN (CASE WHEN l % 10 = 0 THEN 3 ELSE 100 END) WHEN k % 2 = 1 THEN 1 ELSE -1 END,
		       CASE WHEN k > 0 AND k % 4 = 0 THEN (CASE WHEN k % 8 = 0 THEN 'expired' ELSE 'released' END) ELSE 'bulk' END,
		       CASE WHEN k = 0 THEN NULL ELSE 'hold_bulk_' || l || '_' || (k + 1) / 2 END,
		       'bulk',
		       now() - make_interval(secs => ((l * 7919 + k * 104729) % 86400)::double precision)
		FROM generate_series(1, $2::int) l, generate_series(0, $3::int - 1) k`, []any{shopID, lines, perLine}}, {`
		INSERT INTO stock_lines (shop_id, sku, variant_key)
		SELECT DISTINCT shop_id, sku, variant_key FROM movements WHERE shop_id = $1 AND created_by = 'bulk'
		ON CONFLICT DO NOTHING`, []any{shopID}}, {`
		INSERT INTO stock_levels (shop_id, sku, variant_key, location_id, on_hand)
		SELECT shop_id, sku, variant_key, location_id, sum(quantity) FILTER (WHERE type NOT IN ('RESERVATION', 'RELEASE'))
		FROM movements WHERE shop_id = $1 AND created_by = 'bulk'
		GROUP BY shop_id, sku, variant_key, location_id
		ON CONFLICT DO NOTHING`, []any{shopID}},
		{`ANALYZE movements, stock_lines, stock_levels, holds, hold_allocations`, nil},
	} {
		if _, err := exec.Exec(ctx, step.sql, step.args...); err != nil {
			tb.Fatalf("bulk load %s: %v", shopID, err)
		}
	}
}
