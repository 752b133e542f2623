package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/checkout/checkouttest"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/internal/testkit"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
	"github.com/checkoutd/checkoutd/webhooks"
)

const secret = "whsec_test_secret"

type fixture struct {
	pool      *pgxpool.Pool
	ledger    *inventory.Ledger
	sessions  *testkit.FakeStripe
	shop      *inventorytest.Shop
	checkouts *checkout.Service
	processor *webhooks.Processor
	verifier  *webhooks.Verifier
	shopID    string
}

// newFixture makes a shop of the test's own with 5 of SKU "A" in stock, and
// a checkout service in mode over a fake Stripe.
func newFixture(t testing.TB, mode checkoutd.InventoryMode) *fixture {
	t.Helper()
	pool := testdb.Pool(t)
	log := slog.New(slog.DiscardHandler)
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: log})
	sessions := testkit.NewFakeStripe()
	f := &fixture{
		pool:      pool,
		ledger:    ledger,
		sessions:  sessions,
		checkouts: checkout.NewService(pool, ledger, sessions, checkout.Config{InventoryMode: mode, HoldTTL: 20 * time.Minute, Logger: log}),
		processor: webhooks.NewProcessor(pool, checkout.NewSettler(ledger, checkout.SettleConfig{Sessions: sessions}), webhooks.Config{Logger: log}),
		verifier:  webhooks.NewVerifier(secret, webhooks.DefaultTolerance),
		shopID:    testdb.ShopID(t),
	}
	f.shop = inventorytest.NewShop(t, ledger, &inventorytest.ShopOpts{ID: f.shopID})
	f.shop.Stock(t, "A", 5)
	return f
}

// checkout creates a sale checkout for qty of "A".
func (f *fixture) checkout(t testing.TB, qty int64) *checkout.Session {
	t.Helper()
	return f.checkoutFor(t, inventory.Line{SKU: "A", Quantity: qty})
}

// checkoutFor creates a sale checkout for lines.
func (f *fixture) checkoutFor(t testing.TB, lines ...inventory.Line) *checkout.Session {
	t.Helper()
	s, err := f.createCheckout(lines...)
	if err != nil {
		t.Fatalf("create checkout: %v", err)
	}
	return s
}

// createCheckout creates a sale checkout for lines; goroutines may call it.
func (f *fixture) createCheckout(lines ...inventory.Line) (*checkout.Session, error) {
	amount := int64(1000)
	items := make([]checkout.Item, len(lines))
	for i, l := range lines {
		items[i] = checkout.Item{SKU: l.SKU, VariantKey: l.VariantKey, Quantity: l.Quantity, Name: l.SKU, UnitAmount: &amount, Currency: "eur"}
	}
	s, _, err := f.checkouts.Create(context.Background(), checkout.Request{
		ShopID: f.shopID, Mode: "sale", Items: items,
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
	})
	return s, err
}

// metadata is the metadata Stripe was given for s, as its events carry it.
func (f *fixture) metadata(s *checkout.Session) map[string]string {
	if sess, ok := f.sessions.Session(s.ID); ok {
		return sess.Metadata
	}
	md := map[string]string{"shop_id": f.shopID}
	if s.ReservationID != nil {
		md["inventory_reservation_id"] = *s.ReservationID
	}
	return md
}

// event is the event Stripe sends about s.
func (f *fixture) event(id string, typ stripe.EventType, s *checkout.Session, paymentStatus string) sessionEvent {
	return sessionEvent{ID: id, Type: typ, SessionID: s.ID, PaymentStatus: paymentStatus, PaymentIntent: "pi_" + id, Metadata: f.metadata(s)}
}

// sessionEvent is a Stripe event about a Checkout Session, as Stripe renders
// it.
type sessionEvent struct {
	ID            string
	Type          stripe.EventType
	SessionID     string
	PaymentStatus string
	// PaymentIntent is the payment_intent field: an id, an expanded object
	// or nil (null).
	PaymentIntent any
	// Metadata is the session's metadata (nil is sent as {}).
	Metadata map[string]string
	// APIVersion defaults to the version stripe-go speaks.
	APIVersion string
}

func (e sessionEvent) payload() []byte {
	status := "complete"
	switch e.Type {
	case stripe.EventTypeCheckoutSessionExpired:
		status = "expired"
	}
	md := e.Metadata
	if md == nil {
		md = map[string]string{}
	}
	obj, err := json.Marshal(map[string]any{
		"id": e.SessionID, "object": "checkout.session", "mode": "payment", "status": status,
		"payment_status": e.PaymentStatus, "payment_intent": e.PaymentIntent, "metadata": md,
		"livemode": false, "currency": "eur", "amount_total": 2000,
	})
	if err != nil {
		panic(err)
	}
	version := e.APIVersion
	if version == "" {
		version = stripe.APIVersion
	}
	payload, err := json.Marshal(map[string]any{
		"id": e.ID, "object": "event", "type": e.Type, "api_version": version, "livemode": false,
		"created": time.Now().Unix(), "pending_webhooks": 1, "data": map[string]any{"object": json.RawMessage(obj)},
	})
	if err != nil {
		panic(err)
	}
	return payload
}

// sign signs payload with secret as Stripe would at the time at (now when
// zero) and returns the Stripe-Signature header.
func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

// send delivers payload as Stripe would: signed, verified, processed.
// Goroutines may call it.
func (f *fixture) send(payload []byte) (checkout.Outcome, error) {
	ev, err := f.verifier.Verify(payload, sign(payload, secret, time.Time{}))
	if err != nil {
		return "", fmt.Errorf("verify: %w", err)
	}
	return f.processor.Process(context.Background(), ev)
}

// verified is e as Verify hands it to Process.
func (f *fixture) verified(t testing.TB, e sessionEvent) stripe.Event {
	t.Helper()
	payload := e.payload()
	ev, err := f.verifier.Verify(payload, sign(payload, secret, time.Time{}))
	if err != nil {
		t.Fatalf("verify %s: %v", e.ID, err)
	}
	return ev
}

// sendEvent delivers e and fails the test on an error.
func (f *fixture) sendEvent(t testing.TB, e sessionEvent) checkout.Outcome {
	t.Helper()
	out, err := f.send(e.payload())
	if err != nil {
		t.Fatalf("deliver %s %s: %v", e.Type, e.ID, err)
	}
	return out
}

// deliver signs an event as Stripe would and runs it through verification
// and processing.
func (f *fixture) deliver(t testing.TB, id string, typ stripe.EventType, s *checkout.Session, paymentStatus string) checkout.Outcome {
	t.Helper()
	return f.sendEvent(t, f.event(id, typ, s, paymentStatus))
}

func (f *fixture) stock(t testing.TB) (onHand, reserved int64) {
	t.Helper()
	return f.stockOf(t, "A")
}

func (f *fixture) stockOf(t testing.TB, sku string) (onHand, reserved int64) {
	t.Helper()
	info, err := f.ledger.StockInfo(context.Background(), f.shopID, sku, "")
	if err != nil {
		t.Fatal(err)
	}
	return info.OnHand, info.Reserved
}

// checkoutOf reads the record of the checkout behind Stripe session s.
func (f *fixture) checkoutOf(t testing.TB, s *checkout.Session) checkouttest.StoredCheckout {
	t.Helper()
	return checkouttest.OfSession(t, f.pool, f.shopID, s.ID)
}

// holdRow reads a hold as stored (not as GetHold reports a lapsed one).
func (f *fixture) holdRow(t testing.TB, holdID string) (status string, expiresAt time.Time) {
	t.Helper()
	h := inventorytest.ReadHold(t, f.pool, f.shopID, holdID)
	return h.Status, h.ExpiresAt
}

// sales returns the SALE movements of the shop per hold: how many, and the
// units they took.
func (f *fixture) sales(t testing.TB) map[string][2]int64 {
	t.Helper()
	return inventorytest.Sales(t, f.pool, f.shopID)
}

// recordedEvent is an event's row(s) in the inbox.
type recordedEvent struct {
	Rows    int
	Outcome string
}

// recorded returns the inbox rows of the shop's events, by event id.
func (f *fixture) recorded(t testing.TB) map[string]recordedEvent {
	t.Helper()
	return recordedIn(t, f.pool, f.shopID)
}

func recordedIn(t testing.TB, pool *pgxpool.Pool, shopID string) map[string]recordedEvent {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT id, count(*), max(outcome) FROM stripe_events WHERE shop_id = $1 GROUP BY id", shopID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]recordedEvent{}
	for rows.Next() {
		var id string
		var r recordedEvent
		if err := rows.Scan(&id, &r.Rows, &r.Outcome); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot is everything an event could change in the shop apart from the
// inbox: stock, holds, movements, checkouts and oversold orders.
func (f *fixture) snapshot(t testing.TB) string {
	t.Helper()
	return checkouttest.Snapshot(t, f.pool, f.shopID)
}

// assertUnchanged fails the test if the shop changed since before.
func (f *fixture) assertUnchanged(t testing.TB, before string) {
	t.Helper()
	if after := f.snapshot(t); after != before {
		t.Errorf("shop changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestPaidCommitsOnceAndExpiredReleases(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	paid, expired := f.checkout(t, 2), f.checkout(t, 1)

	if out := f.deliver(t, "evt_1", stripe.EventTypeCheckoutSessionCompleted, paid, "paid"); out != checkout.Committed {
		t.Errorf("completed/paid: %s, want committed", out)
	}
	if out := f.deliver(t, "evt_1", stripe.EventTypeCheckoutSessionCompleted, paid, "paid"); out != webhooks.Duplicate {
		t.Errorf("the same event again: %s, want duplicate", out)
	}
	if out := f.deliver(t, "evt_2", stripe.EventTypeCheckoutSessionExpired, paid, "paid"); out != checkout.Unchanged {
		t.Errorf("a late expired for a paid session: %s, want unchanged", out)
	}
	if out := f.deliver(t, "evt_3", stripe.EventTypeCheckoutSessionExpired, expired, "unpaid"); out != checkout.Released {
		t.Errorf("expired: %s, want released", out)
	}
	if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
	}
	f.shop.RequireLedgerClean(t)
}
