package availability_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// fixture is a shop of the test's own and a running Feed whose reads go
// through a pool of its own, named so the test can find its connections.
type fixture struct {
	shop    *inventorytest.Shop
	feed    *availability.Feed
	appName string
	stop    func()
}

func newFixture(t testing.TB, cfg availability.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	shop := inventorytest.NewShop(t, inventory.NewLedger(testdb.Pool(t), inventory.Config{DefaultLowStockThreshold: 2}), nil)
	appName := "feed " + shop.ID
	pool, err := database.Open(ctx, testdb.URL(t), database.PoolConfig{MaxConns: 2, ApplicationName: appName})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	feed := availability.NewFeed(inventory.NewLedger(pool, inventory.Config{DefaultLowStockThreshold: 2}), cfg)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- feed.Run(runCtx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	var stopped bool
	f := &fixture{shop: shop, feed: feed, appName: appName, stop: func() {
		if !stopped {
			stopped = true
			stop()
		}
	}}
	t.Cleanup(f.stop)
	return f
}

// subscribe watches the given SKUs; with none, the whole shop.
func (f *fixture) subscribe(t *testing.T, skus ...string) *availability.Subscription {
	t.Helper()
	return f.subscribeTo(t, skus)
}

func (f *fixture) subscribeTo(t *testing.T, skus []string) *availability.Subscription {
	t.Helper()
	sub, err := f.feed.Subscribe(context.Background(), f.shop.ID, skus)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// state is what a subscription has seen: the last item of each line, and
// how many changes arrived in all.
type state struct {
	items  map[string]availability.Item
	count  int
	lastID uint64
}

func line(sku, variantKey string) string { return sku + "[" + variantKey + "]" }

// waitFor takes changes into st until cond holds, failing after 5 s. IDs
// must increase.
func waitFor(t *testing.T, sub *availability.Subscription, st *state, what string, cond func(st *state) bool) {
	t.Helper()
	if st.items == nil {
		st.items = make(map[string]availability.Item)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for !cond(st) {
		changes, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v; seen %s", what, err, st)
		}
		for _, c := range changes {
			if c.ID <= st.lastID {
				t.Fatalf("change id %d after %d: ids must increase", c.ID, st.lastID)
			}
			st.lastID = c.ID
			st.items[line(c.Item.SKU, c.Item.VariantKey)] = c.Item
			st.count++
		}
	}
}

func (st *state) String() string {
	var b strings.Builder
	for k, it := range st.items {
		fmt.Fprintf(&b, "%s=%d ", k, it.Available)
	}
	return fmt.Sprintf("%d changes: %s", st.count, b.String())
}

// available is a condition: the line shows n available.
func available(sku, variantKey string, n int64) func(st *state) bool {
	return func(st *state) bool {
		it, ok := st.items[line(sku, variantKey)]
		return ok && it.Available == n
	}
}
