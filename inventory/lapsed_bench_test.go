package inventory_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// seedLapsedHolds books n lapsed, unreaped holds of one unit each on the
// fixture's shop, as Reserve books them (allocation, RESERVATION movement,
// reserved) so the ledger stays consistent: hold i is on skus[i % len(skus)].
// They lapsed a second to a minute ago, like a backlog built up while no
// reaper ran.
func seedLapsedHolds(tb testing.TB, f *fixture, skus []string, n int) {
	tb.Helper()
	ctx := context.Background()
	tx, err := testdb.Pool(tb).Begin(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, q := range []string{
		`INSERT INTO holds (shop_id, id, status, expires_at, reference)
		 SELECT $1, 'hold_lapsed_' || g, 'active', now() - interval '1 second' - (g % 60) * interval '1 second', 'bench'
		 FROM generate_series(0, $3::int - 1) g
		 WHERE cardinality($2::text[]) > 0`,
		`INSERT INTO hold_allocations (shop_id, hold_id, sku, variant_key, location_id, quantity)
		 SELECT $1, 'hold_lapsed_' || g, ($2::text[])[1 + g % cardinality($2::text[])], '', 'default', 1
		 FROM generate_series(0, $3::int - 1) g`,
		`INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference, hold_id)
		 SELECT $1, ($2::text[])[1 + g % cardinality($2::text[])], '', 'default', 'RESERVATION', 1, 'bench', 'hold_lapsed_' || g
		 FROM generate_series(0, $3::int - 1) g`,
		`UPDATE stock_levels s SET reserved = s.reserved + k.n
		 FROM (SELECT ($2::text[])[1 + g % cardinality($2::text[])] AS sku, count(*) AS n
		       FROM generate_series(0, $3::int - 1) g GROUP BY 1) k
		 WHERE s.shop_id = $1 AND s.sku = k.sku AND s.location_id = 'default'`,
	} {
		if _, err := tx.Exec(ctx, q, f.shopID, skus, n); err != nil {
			tb.Fatalf("seed lapsed holds: %v", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := testdb.Pool(tb).Exec(ctx, "VACUUM ANALYZE holds, hold_allocations, stock_levels"); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkReadsWithLapsedHolds measures Validate and StockInfo of one line
// while 100,000 lapsed holds wait for a reaper that does not come: spread
// over 1,000 other lines of the shop, or all on the line being read; and
// with none, the clean case the others are compared to. One operation is
// one Validate and one StockInfo; p50 and p99 are reported for each.
func BenchmarkReadsWithLapsedHolds(b *testing.B) {
	const lapsed = 100_000
	for _, shape := range []struct {
		name   string
		holds  int
		onRead bool
	}{{"clean", 0, false}, {"spread", lapsed, false}, {"same-line", lapsed, true}} {
		b.Run(shape.name, func(b *testing.B) {
			ctx := context.Background()
			f := newFixture(b)
			skus := benchStock(b, f, "SKU", 1_001)
			read, others := skus[0], skus[1:]
			if shape.onRead {
				others = skus[:1]
			}
			if shape.holds > 0 {
				seedLapsedHolds(b, f, others, shape.holds)
			}
			lines := []inventory.Line{{SKU: read, Quantity: 1}}
			validate := make([]time.Duration, 0, b.N)
			info := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := f.ledger.Validate(ctx, f.shopID, lines); err != nil {
					b.Fatalf("validate: %v", err)
				}
				mid := time.Now()
				if _, err := f.ledger.StockInfo(ctx, f.shopID, read, ""); err != nil {
					b.Fatalf("stock info: %v", err)
				}
				validate = append(validate, mid.Sub(start))
				info = append(info, time.Since(mid))
			}
			b.StopTimer()
			reportPercentiles(b, "validate", validate)
			reportPercentiles(b, "info", info)
		})
	}
}

// reportPercentiles reports the p50 and p99 of samples in microseconds.
func reportPercentiles(b *testing.B, name string, samples []time.Duration) {
	b.Helper()
	slices.Sort(samples)
	at := func(p float64) float64 {
		return float64(samples[int(p*float64(len(samples)-1))].Microseconds())
	}
	b.ReportMetric(at(0.50), name+"-p50-µs")
	b.ReportMetric(at(0.99), name+"-p99-µs")
}
