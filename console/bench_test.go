package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// BenchmarkPages times each page of a shop with 10,000 stock lines and
// 100,000 movements, over loopback HTTP: the server's time plus a little
// for the round trip (docs/benchmarks.md). Not part of make test:
//
//	WITH_POSTGRES_SKIP_SYSTEM=1 scripts/with-postgres --ephemeral \
//	  go test -run '^$' -bench Pages -benchtime 20x ./console/
func BenchmarkPages(b *testing.B) {
	h := start(b)
	s := h.newShop(b)
	inventorytest.LoadBulk(b, h.pool, s.ID, 10_000, 10)
	hold := s.Reserve(b, inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: "SKU-00042", Quantity: 2}}, TTL: 3 * time.Minute, Reference: "bench"})
	br := signedIn(b, h.url, s.key)
	shop := "/console/s/" + s.ID
	csrf := br.formCSRF(s.ID)
	for _, p := range []struct{ name, path string }{
		{"overview", "/"},
		{"stock", "/stock"},
		{"stock-low", "/stock?low=1"},
		{"stock-search", "/stock?q=sku-0999"},
		{"stock-backordered", "/stock?backordered=1"},
		{"line", "/stock/line?sku=SKU-00042&variant="},
		{"holds-search", "/holds?q=bench"},
		{"hold-story", "/holds/" + hold.ID},
		{"changes", "/changes"},
		{"alerts", "/alerts"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if pg := br.get(shop + p.path); pg.status != http.StatusOK {
					b.Fatalf("%s: status %d", p.path, pg.status)
				}
			}
		})
	}
	// What the overview's first render in a minute pays on top (the charts'
	// read of a day of the ledger, then reused; see outcomesTTL).
	b.Run("overview-charts-read", func(b *testing.B) {
		since := time.Now().UTC().Truncate(time.Hour).Add(-23 * time.Hour)
		for b.Loop() {
			if _, err := h.ledger.HoldOutcomesSince(context.Background(), s.ID, since, 5*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("receipt", func(b *testing.B) {
		for b.Loop() {
			pg := br.post(shop+"/changes/receive", url.Values{"csrf": {csrf}, "purchaseOrderId": {"PO-bench"},
				"items[0].sku": {"SKU-00007"}, "items[0].quantity": {"1"}})
			if pg.status != http.StatusOK {
				b.Fatalf("receipt: status %d", pg.status)
			}
		}
	})
}
