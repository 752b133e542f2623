package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/webhooks"
)

const secret = "whsec_test_secret"

// fakeSessions hands out session ids; it is all checkout needs of Stripe here.
type fakeSessions struct{ n atomic.Int64 }

func (f *fakeSessions) New(p *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	id := fmt.Sprintf("cs_test_%d_%d", time.Now().UnixNano(), f.n.Add(1))
	return &stripe.CheckoutSession{ID: id, URL: "https://checkout.stripe.com/pay/" + id, ExpiresAt: *p.ExpiresAt}, nil
}
func (f *fakeSessions) Get(string, *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	return nil, fmt.Errorf("not faked")
}
func (f *fakeSessions) Expire(string, *stripe.CheckoutSessionExpireParams) (*stripe.CheckoutSession, error) {
	return nil, fmt.Errorf("not faked")
}

type fixture struct {
	ledger    *inventory.Ledger
	checkouts *checkout.Service
	processor *webhooks.Processor
	verifier  *webhooks.Verifier
	shopID    string
}

func newFixture(t *testing.T, mode checkout.InventoryMode) *fixture {
	t.Helper()
	pool := testdb.Pool(t)
	log := slog.New(slog.DiscardHandler)
	ledger := inventory.NewLedger(pool, inventory.Config{Logger: log})
	f := &fixture{
		ledger:    ledger,
		checkouts: checkout.NewService(pool, ledger, &fakeSessions{}, checkout.Config{InventoryMode: mode, HoldTTL: 20 * time.Minute, Logger: log}),
		processor: webhooks.NewProcessor(pool, ledger, webhooks.Config{Logger: log}),
		verifier:  webhooks.NewVerifier(secret, webhooks.DefaultTolerance),
		shopID:    testdb.ShopID(t),
	}
	ctx := context.Background()
	if err := ledger.CreateShop(ctx, f.shopID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Adjust(ctx, f.shopID, inventory.AdjustRequest{Changes: []inventory.StockChange{{SKU: "A", Op: inventory.OpSet, Quantity: 5}}}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) checkout(t *testing.T, qty int64) *checkout.Session {
	t.Helper()
	amount := int64(1000)
	s, _, err := f.checkouts.Create(context.Background(), checkout.Request{
		ShopID: f.shopID, Mode: "sale",
		Items:      []checkout.Item{{SKU: "A", Quantity: qty, Name: "A", UnitAmount: &amount, Currency: "eur"}},
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
	})
	if err != nil {
		t.Fatalf("create checkout: %v", err)
	}
	return s
}

// deliver signs an event as Stripe would and runs it through verification
// and processing.
func (f *fixture) deliver(t *testing.T, id string, typ stripe.EventType, s *checkout.Session, paymentStatus string) webhooks.Outcome {
	t.Helper()
	metadata := map[string]string{"shop_id": f.shopID}
	if s.ReservationID != nil {
		metadata["inventory_reservation_id"] = *s.ReservationID
	}
	obj, _ := json.Marshal(map[string]any{
		"id": s.ID, "object": "checkout.session", "payment_status": paymentStatus,
		"payment_intent": "pi_" + id, "metadata": metadata,
	})
	payload, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "data": map[string]any{"object": json.RawMessage(obj)},
	})
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret})
	ev, err := f.verifier.Verify(signed.Payload, signed.Header)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	out, err := f.processor.Process(context.Background(), ev)
	if err != nil {
		t.Fatalf("process %s: %v", id, err)
	}
	return out
}

func (f *fixture) stock(t *testing.T) (onHand, reserved int64) {
	t.Helper()
	info, err := f.ledger.StockInfo(context.Background(), f.shopID, "A", "")
	if err != nil {
		t.Fatal(err)
	}
	return info.OnHand, info.Reserved
}

func TestPaidCommitsOnceAndExpiredReleases(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.ReserveTTL)
	paid, expired := f.checkout(t, 2), f.checkout(t, 1)

	if out := f.deliver(t, "evt_1", stripe.EventTypeCheckoutSessionCompleted, paid, "paid"); out != webhooks.Committed {
		t.Errorf("completed/paid: %s, want committed", out)
	}
	if out := f.deliver(t, "evt_1", stripe.EventTypeCheckoutSessionCompleted, paid, "paid"); out != webhooks.Duplicate {
		t.Errorf("the same event again: %s, want duplicate", out)
	}
	if out := f.deliver(t, "evt_2", stripe.EventTypeCheckoutSessionExpired, paid, "paid"); out != webhooks.Unchanged {
		t.Errorf("a late expired for a paid session: %s, want unchanged", out)
	}
	if out := f.deliver(t, "evt_3", stripe.EventTypeCheckoutSessionExpired, expired, "unpaid"); out != webhooks.Released {
		t.Errorf("expired: %s, want released", out)
	}
	if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
	}
	report, err := f.ledger.CheckLedger(context.Background(), f.shopID)
	if err != nil || len(report.Discrepancies) > 0 {
		t.Errorf("ledger: %+v %v", report, err)
	}
}

func TestValidateOnlySaleTakesStockOffOnHand(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkout.ValidateOnly)
	s := f.checkout(t, 2)
	if out := f.deliver(t, "evt_v1", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != webhooks.Committed {
		t.Errorf("completed/paid: %s, want committed", out)
	}
	if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
	}
}
