package checkout_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/checkout/checkouttest"
	"github.com/checkoutd/checkoutd/internal/aftercommit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// settleFixture is a shop with 5 of SKU "A" in stock, a checkout service in
// one inventory mode, and a Settler that moves its checkouts on as the
// webhooks package hands it Stripe's events: each in a transaction of its
// own, the logs and stock counters of the change waiting for the commit.
type settleFixture struct {
	*fixture
	settler *checkout.Settler
}

// newSettleFixture makes the shop and a Settler with the default
// SettleConfig, reading line items from the fixture's fake Stripe.
func newSettleFixture(t testing.TB, mode checkoutd.InventoryMode) *settleFixture {
	t.Helper()
	f := &settleFixture{fixture: newFixture(t, checkout.Config{InventoryMode: mode})}
	f.settler = checkout.NewSettler(f.ledger, checkout.SettleConfig{Sessions: f.stripe})
	f.stock(t, "A", "", 5)
	return f
}

// checkout creates a sale checkout for qty of "A".
func (f *settleFixture) checkout(t testing.TB, qty int64) *checkout.Session {
	t.Helper()
	return f.checkoutFor(t, inventory.Line{SKU: "A", Quantity: qty})
}

// checkoutFor creates a sale checkout for lines.
func (f *settleFixture) checkoutFor(t testing.TB, lines ...inventory.Line) *checkout.Session {
	t.Helper()
	items := make([]checkout.Item, len(lines))
	for i, l := range lines {
		items[i] = checkout.Item{SKU: l.SKU, VariantKey: l.VariantKey, Quantity: l.Quantity, Name: l.SKU, UnitAmount: amount(1000), Currency: "eur"}
	}
	s, _, err := f.svc.Create(context.Background(), checkout.Request{
		ShopID: f.shopID, Mode: "sale", Items: items,
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
	})
	if err != nil {
		t.Fatalf("create checkout: %v", err)
	}
	return s
}

// event is the event Stripe sends about s, as webhooks decodes it: its
// payment intent is "pi_" and the event's id, its checkout the one the
// session's metadata names.
func (f *settleFixture) event(id string, typ stripe.EventType, s *checkout.Session, paymentStatus string) checkout.SessionEvent {
	pi := "pi_" + id
	ev := checkout.SessionEvent{ID: id, Type: typ, SessionID: s.ID, PaymentStatus: paymentStatus, PaymentIntentID: &pi}
	if sess, ok := f.stripe.Session(s.ID); ok {
		ev.CheckoutID = sess.Metadata["checkout_id"]
	}
	return ev
}

// deliver settles the event Stripe sends about s and fails the test on an
// error.
func (f *settleFixture) deliver(t testing.TB, id string, typ stripe.EventType, s *checkout.Session, paymentStatus string) checkout.Outcome {
	t.Helper()
	return f.settle(t, f.event(id, typ, s, paymentStatus))
}

// settle settles ev in the shop and fails the test on an error.
func (f *settleFixture) settle(t testing.TB, ev checkout.SessionEvent) checkout.Outcome {
	t.Helper()
	out, err := settleIn(context.Background(), f.pool, f.settler, f.shopID, ev, f.cfg.Logger, nil)
	if err != nil {
		t.Fatalf("settle %s %s: %v", ev.Type, ev.ID, err)
	}
	return out
}

// settleIn settles ev in shopID with settler in a transaction on pool, as
// the webhooks package does, what it needs from Stripe read before the
// transaction opens: beforeCommit, when set, runs after the effect
// and its error rolls the transaction back. What the settlement logs and
// counts waits for the commit. Goroutines may call it.
func settleIn(ctx context.Context, pool *pgxpool.Pool, settler *checkout.Settler, shopID string, ev checkout.SessionEvent, log *slog.Logger, beforeCommit func() error) (checkout.Outcome, error) {
	prepared, err := settler.Prepare(ctx, pool, shopID, ev)
	if err != nil {
		return "", err
	}
	var (
		after   aftercommit.Queue
		settled checkout.Settlement
	)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		if settled, err = settler.Settle(ctx, tx, shopID, ev, prepared, aftercommit.Logger(log, &after)); err != nil {
			return err
		}
		if beforeCommit != nil {
			return beforeCommit()
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	settled.Committed()
	after.Flush()
	return settled.Outcome, nil
}

// level is the stock of sku: on hand and reserved.
func (f *settleFixture) level(t testing.TB, sku string) (onHand, reserved int64) {
	t.Helper()
	info := f.shop.Info(t, sku, "")
	return info.OnHand, info.Reserved
}

// checkoutOf returns the record of the checkout behind Stripe session s.
func (f *settleFixture) checkoutOf(t testing.TB, s *checkout.Session) checkouttest.StoredCheckout {
	t.Helper()
	return checkouttest.OfSession(t, f.pool, f.shopID, s.ID)
}

// holdStatus is the status of a hold as stored.
func (f *settleFixture) holdStatus(t testing.TB, holdID string) string {
	t.Helper()
	return f.hold(t, holdID).Status
}

// oversold lists the shop's oversold orders, newest first.
func (f *settleFixture) oversold(t testing.TB) []checkout.OversoldOrder {
	t.Helper()
	p, err := checkout.ListOversold(context.Background(), f.pool, f.shopID, 0, "")
	if err != nil {
		t.Fatalf("list oversold orders: %v", err)
	}
	return p.Items
}

// snapshot is everything an event could change in the shop.
func (f *settleFixture) snapshot(t testing.TB) string {
	t.Helper()
	return checkouttest.Snapshot(t, f.pool, f.shopID)
}

// assertUnchanged fails the test if the shop changed since before.
func (f *settleFixture) assertUnchanged(t testing.TB, before string) {
	t.Helper()
	if after := f.snapshot(t); after != before {
		t.Errorf("shop changed:\nbefore %s\nafter  %s", before, after)
	}
}

// sales returns the SALE movements of the shop per hold: how many, and the
// units they took.
func (f *settleFixture) sales(t testing.TB) map[string][2]int64 {
	t.Helper()
	return inventorytest.Sales(t, f.pool, f.shopID)
}
