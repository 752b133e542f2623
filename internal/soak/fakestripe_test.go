package soak

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/internal/stripeclient"
)

// fakeStripeBundle is the fake served on loopback, reached through the
// client checkoutd uses, with the events it raised.
type fakeStripeBundle struct {
	fake     *fakeStripe
	sessions stripeclient.Sessions

	mu     sync.Mutex
	events []stripe.EventType
}

func setupFakeStripe(t *testing.T) *fakeStripeBundle {
	t.Helper()
	b := &fakeStripeBundle{}
	b.fake = newFakeStripe(func(ev pendingEvent) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.events = append(b.events, ev.Type)
	})
	base, err := b.fake.serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.fake.close)
	b.sessions = stripeclient.NewSessions(stripeclient.Config{SecretKey: "sk_test_soak", APIBase: base})
	return b
}

// raised returns the events raised so far.
func (b *fakeStripeBundle) raised() []stripe.EventType {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]stripe.EventType(nil), b.events...)
}

// line is a session line as checkoutd sends it, adjustable when max > 0.
func line(sku string, quantity, min, max int64) *stripe.CheckoutSessionLineItemParams {
	li := &stripe.CheckoutSessionLineItemParams{
		Quantity: stripe.Int64(quantity),
		PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
			Currency: stripe.String("eur"), UnitAmount: stripe.Int64(1500),
			ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{
				Name: stripe.String("Soak item " + sku), Metadata: map[string]string{"sku": sku, "variant_key": ""},
			},
		},
	}
	if max > 0 {
		li.AdjustableQuantity = &stripe.CheckoutSessionLineItemAdjustableQuantityParams{
			Enabled: stripe.Bool(true), Minimum: stripe.Int64(min), Maximum: stripe.Int64(max),
		}
	}
	return li
}

func (b *fakeStripeBundle) create(t *testing.T, lines ...*stripe.CheckoutSessionLineItemParams) (*stripe.CheckoutSession, error) {
	t.Helper()
	p := &stripe.CheckoutSessionParams{
		Mode: stripe.String("payment"), SuccessURL: stripe.String("https://shop.example/ok"), CancelURL: stripe.String("https://shop.example/cart"),
		ExpiresAt: stripe.Int64(time.Now().Add(32 * time.Minute).Unix()), LineItems: lines,
	}
	p.AddMetadata("checkout_id", "chk_1")
	return b.sessions.New(p)
}

// bought lists the session's line items as checkoutd's settler reads them:
// quantity by SKU from the expanded product's metadata.
func (b *fakeStripeBundle) bought(t *testing.T, id string, pageSize int64) map[string]int64 {
	t.Helper()
	p := &stripe.CheckoutSessionListLineItemsParams{Session: stripe.String(id)}
	p.AddExpand("data.price.product")
	p.Limit = stripe.Int64(pageSize)
	out := map[string]int64{}
	it := b.sessions.ListLineItems(p)
	for it.Next() {
		li := it.LineItem()
		out[li.Price.Product.Metadata["sku"]] = li.Quantity
	}
	if err := it.Err(); err != nil {
		t.Fatalf("list line items of %s: %v", id, err)
	}
	return out
}

func statusOf(err error) int {
	var se *stripe.Error
	if errors.As(err, &se) {
		return se.HTTPStatusCode
	}
	return 0
}

func TestFakeStripeRefusesPaymentOfExpiredSession(t *testing.T) {
	t.Parallel()
	b := setupFakeStripe(t)
	s, err := b.create(t, line("SOAK-1", 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.sessions.Expire(s.ID, nil); err != nil {
		t.Fatalf("expire an open session: %v", err)
	}
	if b.fake.pay(s.ID, nil, false) {
		t.Error("a customer paid an expired session")
	}
	if _, err := b.sessions.Expire(s.ID, nil); statusOf(err) != http.StatusBadRequest {
		t.Errorf("expire an expired session: %v, want a 400", err)
	}
	if got := b.raised(); len(got) != 1 || got[0] != stripe.EventTypeCheckoutSessionExpired {
		t.Errorf("events %v, want one checkout.session.expired", got)
	}
}

func TestFakeStripeSessionLapsesAtItsExpiry(t *testing.T) {
	t.Parallel()
	b := setupFakeStripe(t)
	s, err := b.create(t, line("SOAK-1", 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	b.fake.mu.Lock()
	b.fake.sessions[s.ID].ExpiresAt = time.Now().Add(-time.Second).Unix()
	b.fake.mu.Unlock()
	if b.fake.pay(s.ID, nil, false) {
		t.Error("a customer paid a session past its expires_at")
	}
	got, err := b.sessions.Get(s.ID, nil)
	if err != nil || got.Status != stripe.CheckoutSessionStatusExpired {
		t.Errorf("session after its expires_at: %+v, %v; want expired", got, err)
	}
	if ev := b.raised(); len(ev) != 1 || ev[0] != stripe.EventTypeCheckoutSessionExpired {
		t.Errorf("events %v, want one checkout.session.expired", ev)
	}
}

func TestFakeStripeSweepExpiresUnwatchedSessions(t *testing.T) {
	t.Parallel()
	b := setupFakeStripe(t)
	s, err := b.create(t, line("SOAK-1", 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	b.fake.mu.Lock()
	b.fake.sessions[s.ID].ExpiresAt = time.Now().Unix()
	b.fake.mu.Unlock()
	for deadline := time.Now().Add(5 * time.Second); len(b.raised()) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no checkout.session.expired within 5s of the session's expires_at")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFakeStripeRefusesToExpirePaidSession(t *testing.T) {
	t.Parallel()
	b := setupFakeStripe(t)
	s, err := b.create(t, line("SOAK-1", 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !b.fake.pay(s.ID, nil, false) {
		t.Fatal("payment of an open session refused")
	}
	if _, err := b.sessions.Expire(s.ID, nil); statusOf(err) != http.StatusBadRequest {
		t.Errorf("expire a paid session: %v, want a 400", err)
	}
	got, err := b.sessions.Get(s.ID, nil)
	if err != nil || got.Status != stripe.CheckoutSessionStatusComplete || got.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid ||
		got.PaymentIntent == nil || got.PaymentIntent.ID == "" || got.Metadata["checkout_id"] != "chk_1" {
		t.Errorf("paid session read back: %+v, %v; want complete, paid, with its payment intent and metadata", got, err)
	}
}

func TestFakeStripeLineItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		picked map[string]int64
		want   map[string]int64
	}{
		{name: "as created", picked: nil, want: map[string]int64{"SOAK-1": 2, "SOAK-2": 1, "SOAK-3": 1}},
		{name: "the maximum", picked: map[string]int64{"SOAK-1": 4, "SOAK-3": 2}, want: map[string]int64{"SOAK-1": 4, "SOAK-2": 1, "SOAK-3": 2}},
		{name: "fewer, and an optional line dropped", picked: map[string]int64{"SOAK-1": 1, "SOAK-3": 0}, want: map[string]int64{"SOAK-1": 1, "SOAK-2": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupFakeStripe(t)
			s, err := b.create(t, line("SOAK-1", 2, 1, 4), line("SOAK-2", 1, 0, 0), line("SOAK-3", 1, 0, 2))
			if err != nil {
				t.Fatal(err)
			}
			if !b.fake.pay(s.ID, tt.picked, false) {
				t.Fatal("payment refused")
			}
			// A page of one line at a time, so the iterator pages through.
			for _, pageSize := range []int64{10, 1} {
				got := b.bought(t, s.ID, pageSize)
				if len(got) != len(tt.want) {
					t.Errorf("pages of %d: bought %v, want %v", pageSize, got, tt.want)
					continue
				}
				for sku, q := range tt.want {
					if got[sku] != q {
						t.Errorf("pages of %d: bought %v, want %v", pageSize, got, tt.want)
					}
				}
			}
			if got := b.fake.accounts().Bought[s.ID]; len(got) != len(tt.want) {
				t.Errorf("accounts: bought %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFakeStripeRefusesWhatStripeRefuses(t *testing.T) {
	t.Parallel()
	b := setupFakeStripe(t)
	if _, err := b.create(t, line("SOAK-1", 5, 0, 4)); statusOf(err) != http.StatusBadRequest {
		t.Errorf("a quantity above its adjustable maximum: %v, want a 400", err)
	}
	if _, err := b.create(t, line("SOAK-1", 1, 0, 1000)); statusOf(err) != http.StatusBadRequest {
		t.Errorf("an adjustable maximum above 999: %v, want a 400", err)
	}
	s, err := b.create(t, line("SOAK-1", 2, 0, 3), line("SOAK-2", 1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, picked := range []map[string]int64{
		{"SOAK-1": 4}, // above the maximum
		{"SOAK-2": 2}, // a fixed line changed
	} {
		if b.fake.pay(s.ID, picked, false) {
			t.Errorf("payment with %v went through", picked)
		}
	}
	one, err := b.create(t, line("SOAK-3", 1, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if b.fake.pay(one.ID, map[string]int64{"SOAK-3": 0}, false) {
		t.Error("a customer paid for nothing")
	}
	if !b.fake.pay(s.ID, map[string]int64{"SOAK-1": 0}, false) {
		t.Error("dropping an optional line beside a fixed one was refused")
	}
}
