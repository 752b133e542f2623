package inventory_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// benchStock gives the fixture's shop n lines named prefix-i with more stock
// than any benchmark can sell, booked with one movement each so the ledger
// stays consistent.
func benchStock(b testing.TB, f *fixture, prefix string, n int) []string {
	b.Helper()
	const plenty = 1_000_000_000_000
	_, err := testdb.Pool(b).Exec(context.Background(), `
		WITH lines AS (
			INSERT INTO stock_lines (shop_id, sku, variant_key)
			SELECT $1, $2 || '-' || i, '' FROM generate_series(1, $3::int) AS i
			RETURNING sku
		), levels AS (
			INSERT INTO stock_levels (shop_id, sku, variant_key, location_id, on_hand)
			SELECT $1, sku, '', 'default', $4 FROM lines
		)
		INSERT INTO movements (shop_id, sku, variant_key, location_id, type, quantity, reference)
		SELECT $1, sku, '', 'default', 'ADJUSTMENT', $4, 'bench' FROM lines`,
		f.shopID, prefix, n, plenty)
	if err != nil {
		b.Fatalf("stock benchmark lines: %v", err)
	}
	// Statistics for the stock just loaded, as autoanalyze would give a
	// production database a minute later, so cached plans are made for
	// 10,000 lines rather than for an empty table. Tables the run itself
	// fills are left alone: analyzed near-empty, they would get plans that
	// scan them whole as they grow.
	if _, err := testdb.Pool(b).Exec(context.Background(), "ANALYZE stock_lines, stock_levels"); err != nil {
		b.Fatalf("analyze: %v", err)
	}
	skus := make([]string, n)
	for i := range skus {
		skus[i] = fmt.Sprintf("%s-%d", prefix, i+1)
	}
	return skus
}

// BenchmarkReserveCommit measures full hold lifecycles (Reserve, then Commit)
// on one hot SKU every caller fights over, and spread over 10,000 cold SKUs,
// with 1, 8 and 32 concurrent callers. Each lifecycle is two transactions.
func BenchmarkReserveCommit(b *testing.B) {
	for _, shape := range []struct {
		name string
		skus int
	}{{"hot", 1}, {"cold", 10_000}} {
		for _, callers := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/callers=%d", shape.name, callers), func(b *testing.B) {
				f := newFixture(b)
				skus := benchStock(b, f, "SKU", shape.skus)
				ctx := context.Background()
				var next atomic.Int64
				var wg sync.WaitGroup
				walStart := walLSN(b)
				b.ResetTimer()
				start := time.Now()
				for range callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1) - 1
							if i >= int64(b.N) {
								return
							}
							sku := skus[int(i)%len(skus)]
							hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{
								Items: []inventory.Line{{SKU: sku, Quantity: 1}},
								TTL:   time.Minute,
							})
							if err != nil {
								b.Errorf("reserve: %v", err)
								return
							}
							if _, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "bench"); err != nil {
								b.Errorf("commit: %v", err)
								return
							}
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "holds/s")
				b.ReportMetric(2*float64(b.N)/elapsed.Seconds(), "tx/s")
				b.ReportMetric(float64(walLSN(b)-walStart)/float64(b.N), "WAL-B/hold")
			})
		}
	}
}

// walLSN returns the server's current WAL position in bytes. Its growth over
// a run is the WAL the run wrote (and whatever else the server did
// meanwhile): a measure of work that does not depend on the machine's
// speed or load.
func walLSN(b testing.TB) int64 {
	b.Helper()
	var lsn int64
	if err := testdb.Pool(b).QueryRow(context.Background(), "SELECT (pg_current_wal_lsn() - '0/0')::bigint").Scan(&lsn); err != nil {
		b.Fatalf("read the WAL position: %v", err)
	}
	return lsn
}
