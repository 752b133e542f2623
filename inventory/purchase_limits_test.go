package inventory_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

func int64p(n int64) *int64 { return &n }

// setLimits sets a line's purchase limits.
func setLimits(t *testing.T, f *fixture, sku string, perOrder, perCustomer int64) {
	t.Helper()
	info, err := f.ledger.UpdateSettings(context.Background(), f.shopID, sku, "", inventory.StockSettings{
		MaxPerOrder: int64p(perOrder), MaxPerCustomer: int64p(perCustomer),
	})
	if err != nil {
		t.Fatalf("set limits of %s: %v", sku, err)
	}
	if info.MaxPerOrder != perOrder || info.MaxPerCustomer != perCustomer {
		t.Fatalf("settings answer limits %d/%d, want %d/%d", info.MaxPerOrder, info.MaxPerCustomer, perOrder, perCustomer)
	}
}

func reserveFor(f *fixture, customer string, qty int64, skus ...string) (*inventory.Hold, error) {
	lines := make([]inventory.Line, len(skus))
	for i, sku := range skus {
		lines[i] = inventory.Line{SKU: sku, Quantity: qty}
	}
	h, _, err := f.ledger.Reserve(context.Background(), f.shopID, inventory.ReserveRequest{
		Items: lines, TTL: time.Hour, CustomerKey: customer,
	})
	return h, err
}

// limitBreach returns the breaches of err, failing the test unless it is a
// *LimitExceededError.
func limitBreach(t *testing.T, err error) []inventory.LimitBreach {
	t.Helper()
	var over *inventory.LimitExceededError
	if !errors.As(err, &over) {
		t.Fatalf("err = %v, want a *LimitExceededError", err)
	}
	return over.Lines
}

func TestStockSettingsCarryPurchaseLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "TEE", "", "", 10)
	setLimits(t, f, "TEE", 3, 5)
	info := f.shop.Info(t, "TEE", "")
	if info.MaxPerOrder != 3 || info.MaxPerCustomer != 5 {
		t.Errorf("StockInfo limits = %d/%d, want 3/5", info.MaxPerOrder, info.MaxPerCustomer)
	}
	page, err := f.ledger.ListStock(context.Background(), f.shopID, inventory.ListStockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].MaxPerOrder != 3 || page.Items[0].MaxPerCustomer != 5 {
		t.Errorf("ListStock = %+v, want the line with limits 3/5", page.Items)
	}
	_, err = f.ledger.UpdateSettings(context.Background(), f.shopID, "TEE", "", inventory.StockSettings{MaxPerOrder: int64p(-1)})
	var invalid *checkoutd.ValidationError
	if !errors.As(err, &invalid) || invalid.Details[0].Field != "maxPerOrder" {
		t.Errorf("negative maxPerOrder: err = %v, want a validation error on maxPerOrder", err)
	}
}

func TestPerOrderLimitRefusesAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "TEE", "", "", 10)
	f.stock(t, "CAP", "", "", 10)
	setLimits(t, f, "TEE", 2, 0)
	before := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID)

	// Repeated lines are summed before the limit applies.
	_, _, err := f.ledger.Reserve(context.Background(), f.shopID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "TEE", Quantity: 2}, {SKU: "CAP", Quantity: 1}, {SKU: "TEE", Quantity: 1}}, TTL: time.Hour,
	})
	got := limitBreach(t, err)
	want := inventory.LimitBreach{SKU: "TEE", Requested: 3, Limit: 2, Kind: inventory.LimitPerOrder}
	if len(got) != 1 || got[0].SKU != want.SKU || got[0].Requested != 3 || got[0].Limit != 2 || got[0].Kind != want.Kind || got[0].Remaining != nil {
		t.Errorf("breaches = %+v, want [%+v]", got, want)
	}
	if after := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID); after != before {
		t.Errorf("a refused hold changed the ledger:\nbefore %s\nafter  %s", before, after)
	}
	f.shop.RequireLedgerClean(t)

	if _, err := reserveFor(f, "", 2, "TEE"); err != nil {
		t.Errorf("a hold at the limit: %v", err)
	}
}

func TestPerCustomerLimitNeedsCustomerKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "TEE", "", "", 10)
	setLimits(t, f, "TEE", 0, 2)
	for _, key := range []string{"", "tab\there"} {
		_, err := reserveFor(f, key, 1, "TEE")
		var invalid *checkoutd.ValidationError
		if !errors.As(err, &invalid) || invalid.Details[0].Field != "customerKey" {
			t.Errorf("customer key %q: err = %v, want a validation error on customerKey", key, err)
		}
	}
	f.shop.RequireLedgerClean(t)
}

func TestPerCustomerLimitCountsOpenAndSoldUnits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "TEE", "", "", 20)
	setLimits(t, f, "TEE", 0, 3)

	first, err := reserveFor(f, "alice", 2, "TEE")
	if err != nil {
		t.Fatal(err)
	}
	f.shop.Commit(t, first.ID)
	before := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID)
	_, err = reserveFor(f, "alice", 2, "TEE")
	got := limitBreach(t, err)
	if len(got) != 1 || got[0].Kind != inventory.LimitPerCustomer || got[0].Limit != 3 || got[0].Remaining == nil || *got[0].Remaining != 1 {
		t.Errorf("breaches = %+v, want per_customer limit 3 remaining 1", got)
	}
	if after := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID); after != before {
		t.Errorf("a refused hold changed the ledger:\nbefore %s\nafter  %s", before, after)
	}
	// Another customer has a limit of their own.
	if _, err := reserveFor(f, "bob", 3, "TEE"); err != nil {
		t.Errorf("bob's hold: %v", err)
	}
	// Released units count no more.
	second, err := reserveFor(f, "alice", 1, "TEE")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reserveFor(f, "alice", 1, "TEE"); err == nil {
		t.Fatal("alice passed her limit")
	}
	f.shop.Release(t, second.ID)
	if _, err := reserveFor(f, "alice", 1, "TEE"); err != nil {
		t.Errorf("after a release: %v", err)
	}
	f.shop.RequireLedgerClean(t)
}

func TestPerCustomerLimitWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "TEE", "", "", 20)
	setLimits(t, f, "TEE", 0, 2)
	h, err := reserveFor(f, "alice", 2, "TEE")
	if err != nil {
		t.Fatal(err)
	}
	f.shop.Commit(t, h.ID)
	if _, err := reserveFor(f, "alice", 1, "TEE"); err == nil {
		t.Fatal("alice passed her limit within the window")
	}
	// The purchase falls out of the 24 hours the window has by default.
	if _, err := testdb.Pool(t).Exec(context.Background(),
		`UPDATE purchase_limit_holds SET created_at = now() - interval '24 hours 1 minute' WHERE shop_id = $1`, f.shopID); err != nil {
		t.Fatal(err)
	}
	if _, err := reserveFor(f, "alice", 2, "TEE"); err != nil {
		t.Errorf("a purchase older than the window still counts: %v", err)
	}
	f.shop.RequireLedgerClean(t)
}

func TestPerCustomerLimitReplayCountsOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "TEE", "", "", 20)
	setLimits(t, f, "TEE", 0, 2)
	req := inventory.ReserveRequest{Items: []inventory.Line{{SKU: "TEE", Quantity: 2}}, TTL: time.Hour, CustomerKey: "alice", IdempotencyKey: "k1"}
	first, created, err := f.ledger.Reserve(context.Background(), f.shopID, req)
	if err != nil || !created {
		t.Fatalf("first: created %v, err %v", created, err)
	}
	again, created, err := f.ledger.Reserve(context.Background(), f.shopID, req)
	if err != nil || created || again.ID != first.ID {
		t.Errorf("replay: hold %v created %v err %v, want the first hold", again, created, err)
	}
	f.shop.RequireLedgerClean(t)
}

// Fifty concurrent holds of one customer, one unit each, on a line with
// maxPerCustomer 2 and plenty of stock, through two Ledgers (two replicas:
// each has its own group commit) on one database: exactly two are placed.
// Holds of other customers run beside them, and go through groups.
func TestPerCustomerLimitRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	other := inventory.NewLedger(testdb.Pool(t), inventory.Config{DefaultLowStockThreshold: 10, Logger: logger})
	f.stock(t, "DROP", "", "", 500)
	f.stock(t, "FREE", "", "", 500)
	setLimits(t, f, "DROP", 0, 2)

	ledgers := []*inventory.Ledger{f.ledger, other}
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		placed, limited int
		others          int
	)
	for i := range 50 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, err := ledgers[i%2].Reserve(context.Background(), f.shopID, inventory.ReserveRequest{
				Items: []inventory.Line{{SKU: "DROP", Quantity: 1}, {SKU: "FREE", Quantity: 1}}, TTL: time.Hour, CustomerKey: "alice",
			})
			var over *inventory.LimitExceededError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				placed++
			case errors.As(err, &over):
				limited++
			default:
				t.Errorf("reserve: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			_, _, err := ledgers[i%2].Reserve(context.Background(), f.shopID, inventory.ReserveRequest{
				Items: []inventory.Line{{SKU: "FREE", Quantity: 1}}, TTL: time.Hour,
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("unlimited hold: %v", err)
			} else {
				others++
			}
		}()
	}
	wg.Wait()
	if placed != 2 || limited != 48 || others != 50 {
		t.Errorf("placed %d, limited %d, unlimited %d; want 2, 48, 50", placed, limited, others)
	}
	if info := f.shop.Info(t, "DROP", ""); info.Reserved != 2 {
		t.Errorf("DROP reserved %d, want 2", info.Reserved)
	}
	if info := f.shop.Info(t, "FREE", ""); info.Reserved != 52 {
		t.Errorf("FREE reserved %d, want 52", info.Reserved)
	}
	f.shop.RequireLedgerClean(t)
}

// Setting a hold's lines counts its new lines against the customer's
// limits in place of its old ones, and a per-order limit applies to them.
func TestPerCustomerLimitOnSetHoldItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "DROP", "", "", 20)
	setLimits(t, f, "DROP", 4, 3)
	other, err := reserveFor(f, "alice", 1, "DROP")
	if err != nil {
		t.Fatal(err)
	}
	cart, err := reserveFor(f, "alice", 1, "DROP")
	if err != nil {
		t.Fatal(err)
	}
	grow := func(qty int64, customer string) error {
		_, err := f.ledger.SetHoldItems(ctx, f.shopID, cart.ID, inventory.SetHoldItemsRequest{
			Items: []inventory.Line{{SKU: "DROP", Quantity: qty}}, CustomerKey: customer,
		})
		return err
	}
	if err := grow(2, "alice"); err != nil {
		t.Fatalf("growing the cart to alice's limit: %v", err)
	}
	before := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID)
	// Remaining is what the cart's line may be set to: the limit less
	// alice's other hold.
	if got := limitBreach(t, grow(3, "alice")); got[0].Kind != inventory.LimitPerCustomer || *got[0].Remaining != 2 {
		t.Errorf("breaches = %+v, want per_customer with 2 remaining", got)
	}
	if got := limitBreach(t, grow(5, "bob")); got[0].Kind != inventory.LimitPerOrder {
		t.Errorf("breaches = %+v, want per_order", got)
	}
	var invalid *checkoutd.ValidationError
	if err := grow(1, ""); !errors.As(err, &invalid) {
		t.Errorf("no customer key: err = %v, want a validation error", err)
	}
	if after := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID); after != before {
		t.Errorf("a refused resize changed the ledger:\nbefore %s\nafter  %s", before, after)
	}
	f.shop.Release(t, other.ID)
	if err := grow(3, "alice"); err != nil {
		t.Errorf("after a release: %v", err)
	}
	f.shop.RequireLedgerClean(t)
}

// A payment that arrives for stock nobody holds is sold whatever the
// limits: the customer has paid.
func TestSellIgnoresPurchaseLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "DROP", "", "", 10)
	setLimits(t, f, "DROP", 1, 1)
	sold, err := f.ledger.Sell(context.Background(), f.shopID, []inventory.Line{{SKU: "DROP", Quantity: 2}}, "late-payment", "sale")
	if err != nil || sold.Status != inventory.HoldCommitted {
		t.Fatalf("Sell = %+v, %v; want a committed sale", sold, err)
	}
	f.shop.RequireLedgerClean(t)
}
