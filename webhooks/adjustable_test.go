package webhooks_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/webhooks"
)

// adjustableCheckout is a checkout of A, which the customer may resize
// from 0 to 4 (shown at 2; its hold holds 4), and one fixed B, in a shop
// with 5 of A and 3 of B.
func (f *fixture) adjustableCheckout(t *testing.T) *checkout.Session {
	t.Helper()
	f.shop.Stock(t, "B", 3)
	amount, minimum, maximum := int64(1000), int64(0), int64(4)
	s, _, err := f.checkouts.Create(context.Background(), checkout.Request{
		ShopID: f.shopID, Mode: "sale",
		Items: []checkout.Item{
			{SKU: "A", Quantity: 2, Name: "A", UnitAmount: &amount, Currency: "eur",
				AdjustableQuantity: &checkout.AdjustableQuantity{Enabled: true, Minimum: &minimum, Maximum: &maximum}},
			{SKU: "B", Quantity: 1, Name: "B", UnitAmount: &amount, Currency: "eur"},
		},
		SuccessURL: "https://shop.example/ok", CancelURL: "https://shop.example/cart",
	})
	if err != nil {
		t.Fatalf("create checkout: %v", err)
	}
	return s
}

// Stripe failing to list a paid session's line items is answered 503, so
// Stripe retries, and leaves nothing behind, the inbox included; once
// Stripe answers, the retry commits what was bought, and a redelivery is
// a duplicate that asks Stripe nothing.
func TestAdjustablePaymentWithStripeDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	s := f.adjustableCheckout(t)
	f.sessions.SetQuantity(s.ID, 0, 3)
	f.sessions.FailLineItems(s.ID, &stripe.Error{HTTPStatusCode: http.StatusServiceUnavailable, Type: stripe.ErrorTypeAPI, Msg: "unavailable"})
	e := f.event("evt_adj_"+f.shopID, stripe.EventTypeCheckoutSessionCompleted, s, "paid")
	payload := e.payload()
	before := f.snapshot(t)

	_, err := f.processor.Process(context.Background(), f.verified(t, e))
	if !errors.Is(err, checkout.ErrPaymentProviderUnavailable) {
		t.Errorf("process with Stripe down: %v, want ErrPaymentProviderUnavailable", err)
	}
	for range 2 {
		rec := postWebhook(t, f, payload)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("HTTP with Stripe down: %d (Retry-After %q) %s, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	f.assertUnchanged(t, before)
	if n := countEvent(t, f, e.ID); n != 0 {
		t.Errorf("the failed event is in the inbox (%d rows)", n)
	}

	f.sessions.FailLineItems(s.ID, nil)
	rec := postWebhook(t, f, payload)
	if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"outcome":"committed"`)) {
		t.Fatalf("HTTP once Stripe answers: %d %s, want 200 committed", rec.Code, rec.Body)
	}
	listings := f.sessions.LineItemListings(s.ID)
	if out := f.sendEvent(t, e); out != webhooks.Duplicate {
		t.Errorf("redelivery: %s, want duplicate", out)
	}
	if out := f.deliver(t, "evt_adj_async_"+f.shopID, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, s, "paid"); out != checkout.Unchanged {
		t.Errorf("another paid event: %s, want unchanged", out)
	}
	if got := f.sessions.LineItemListings(s.ID); got != listings {
		t.Errorf("line items listed %d times after the commit, want none more", got-listings)
	}
	if n := countEvent(t, f, e.ID); n != 1 {
		t.Errorf("the event has %d inbox rows, want 1", n)
	}
	if onHand, reserved := f.stockOf(t, "A"); onHand != 2 || reserved != 0 {
		t.Errorf("A: on hand %d, reserved %d; want 3 sold (2 left), none reserved", onHand, reserved)
	}
	if onHand, reserved := f.stockOf(t, "B"); onHand != 2 || reserved != 0 {
		t.Errorf("B: on hand %d, reserved %d; want 2 and 0", onHand, reserved)
	}
	if got := f.sales(t)[*s.ReservationID]; got != [2]int64{2, 4} {
		t.Errorf("SALE movements of the hold (count, units) %v, want [2 4]", got)
	}
	f.shop.RequireLedgerClean(t)
}
