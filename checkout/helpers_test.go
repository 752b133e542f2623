package checkout_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/checkout/checkouttest"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// fixture is a fresh shop on the package's test database with a checkout
// service whose Stripe is an in-process fake.
type fixture struct {
	pool   *pgxpool.Pool
	ledger *inventory.Ledger
	shopID string
	shop   *inventorytest.Shop
	stripe *testkit.FakeStripe
	svc    *checkout.Service
	cfg    checkout.Config
	logs   *testkit.SyncBuffer
}

// newFixture creates a shop and a Service configured by cfg (HoldTTL
// defaults to 20 minutes, the production default).
func newFixture(tb testing.TB, cfg checkout.Config) *fixture {
	tb.Helper()
	pool := testdb.Pool(tb)
	logs := &testkit.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: logger})
	shop := inventorytest.NewShop(tb, ledger, &inventorytest.ShopOpts{Name: "Checkout test shop"})
	f := &fixture{pool: pool, ledger: ledger, shopID: shop.ID, shop: shop, stripe: testkit.NewFakeStripe(), logs: logs}
	if cfg.HoldTTL == 0 {
		cfg.HoldTTL = 20 * time.Minute
	}
	cfg.Logger = logger
	f.cfg = cfg
	f.svc = checkout.NewService(pool, ledger, f.stripe, cfg)
	return f
}

// serviceOn returns a Service like f.svc that works through pool.
func (f *fixture) serviceOn(pool *pgxpool.Pool) *checkout.Service {
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: f.cfg.Logger})
	return checkout.NewService(pool, ledger, f.stripe, f.cfg)
}

// serviceWith returns a Service like f.svc that creates its sessions with
// sessions.
func (f *fixture) serviceWith(sessions stripeclient.Sessions) *checkout.Service {
	return checkout.NewService(f.pool, f.ledger, sessions, f.cfg)
}

// stock sets on_hand of a line at the default location.
func (f *fixture) stock(tb testing.TB, sku, variantKey string, onHand int64) {
	tb.Helper()
	f.shop.StockLine(tb, sku, variantKey, "", onHand)
}

// assertReserved fails the test unless the line has reserved units reserved.
func (f *fixture) assertReserved(tb testing.TB, sku, variantKey string, reserved int64) {
	tb.Helper()
	if got := f.shop.Info(tb, sku, variantKey).Reserved; got != reserved {
		tb.Errorf("%s[%s] reserved = %d, want %d", sku, variantKey, got, reserved)
	}
}

// request is a sale for the shop with the URLs and customer fields filled in.
func (f *fixture) request(key string, items ...checkout.Item) checkout.Request {
	return checkout.Request{
		ShopID:            f.shopID,
		Mode:              "sale",
		IdempotencyKey:    key,
		Items:             items,
		SuccessURL:        "https://shop.example/ok?cart=" + key,
		CancelURL:         "https://shop.example/cart",
		CustomerEmail:     "a@b.example",
		ClientReferenceID: "ref-" + key,
	}
}

// item is a line priced inline: 45.00 EUR a unit.
func item(sku, variantKey string, quantity int64) checkout.Item {
	return checkout.Item{
		SKU: sku, VariantKey: variantKey, Quantity: quantity,
		Name: "Linen shirt " + sku, UnitAmount: amount(4500), Currency: "eur",
	}
}

// pricedItem is a line priced by a Stripe price id.
func pricedItem(sku, variantKey string, quantity int64, price string) checkout.Item {
	return checkout.Item{SKU: sku, VariantKey: variantKey, Quantity: quantity, Price: price}
}

func amount(v int64) *int64 { return &v }

// create runs Create and fails the test on an error.
func (f *fixture) create(tb testing.TB, req checkout.Request) (*checkout.Session, bool) {
	tb.Helper()
	sess, created, err := f.svc.Create(context.Background(), req)
	if err != nil {
		tb.Fatalf("create checkout %q: %v", req.IdempotencyKey, err)
	}
	return sess, created
}

// hold reads a hold as stored.
func (f *fixture) hold(tb testing.TB, id string) inventorytest.StoredHold {
	tb.Helper()
	return inventorytest.ReadHold(tb, f.pool, f.shopID, id)
}

// holdIDs lists the shop's holds, optionally only those with a status.
func (f *fixture) holdIDs(tb testing.TB, status string) []string {
	tb.Helper()
	return inventorytest.HoldIDs(tb, f.pool, f.shopID, status)
}

// checkouts lists the shop's checkout records as stored, oldest first.
func (f *fixture) checkouts(tb testing.TB) []checkouttest.StoredCheckout {
	tb.Helper()
	return checkouttest.Checkouts(tb, f.pool, f.shopID)
}

// onlyCheckout returns the shop's one checkout record.
func (f *fixture) onlyCheckout(tb testing.TB) checkouttest.StoredCheckout {
	tb.Helper()
	list := f.checkouts(tb)
	if len(list) != 1 {
		tb.Fatalf("shop has %d checkout records, want 1: %+v", len(list), list)
	}
	return list[0]
}

func (f *fixture) exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
