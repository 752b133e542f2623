package webhooks_test

import (
	"context"
	"testing"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
)

// payment_intent is an id, an expanded object or null: each reaches the
// checkout as its id, or as none.
func TestPaymentIntentDecoded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	expanded, none := f.checkout(t, 1), f.checkout(t, 1)
	e := f.event("evt_expanded", stripe.EventTypeCheckoutSessionCompleted, expanded, "paid")
	e.PaymentIntent = map[string]any{"id": "pi_expanded", "object": "payment_intent"}
	if out := f.sendEvent(t, e); out != checkout.Committed {
		t.Fatalf("outcome %s, want committed", out)
	}
	assertSold(t, f, expanded, "pi_expanded", 1)
	e = f.event("evt_no_pi", stripe.EventTypeCheckoutSessionCompleted, none, "no_payment_required")
	e.PaymentIntent = nil
	if out := f.sendEvent(t, e); out != checkout.Committed {
		t.Fatalf("outcome %s, want committed", out)
	}
	if c := f.checkoutOf(t, none); c.Status != "completed" || c.PaymentIntentID != nil {
		t.Errorf("checkout without a payment intent: status %q, payment_intent_id %v", c.Status, c.PaymentIntentID)
	}
	f.shop.RequireLedgerClean(t)
}

// Events for sessions checkoutd did not create are acknowledged, recorded as
// ignored, and change nothing: an unknown session, a metadata shop_id that
// is not the checkout's shop, no metadata at all, a checkout_id that names
// another checkout. Which shop an event goes to is read from its metadata
// here; what the checkout lifecycle does with an event for a session it
// does not know is checkout's TestSettleIgnoresOtherSessions.
func TestEventsForOtherSessionsAreIgnored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	other := newFixture(t, checkoutd.ModeReserveTTL) // another shop, with checkouts of its own
	ours, second := f.checkout(t, 2), f.checkout(t, 1)
	theirs := other.checkout(t, 1)
	before, otherBefore := f.snapshot(t), other.snapshot(t)

	unique := f.shopID // event ids without a valid shop are recorded under shop '', shared by every test
	cases := []struct {
		name     string
		session  string
		metadata map[string]string
		// inbox is the shop the event is recorded under.
		inbox string
	}{
		{"unknown session", "cs_test_never_created", f.metadata(ours), f.shopID},
		{"another shop's session", theirs.ID, f.metadata(ours), f.shopID},
		{"shop_id of another shop", ours.ID, other.metadata(theirs), other.shopID},
		{"shop_id of a shop that does not exist", ours.ID, map[string]string{"shop_id": "no-such-shop-" + unique[len(unique)-12:]}, "no-such-shop-" + unique[len(unique)-12:]},
		{"invalid shop_id", ours.ID, map[string]string{"shop_id": "Not A Shop!"}, ""},
		{"no metadata", ours.ID, nil, ""},
		{"checkout_id of another checkout", ours.ID, f.metadata(second), f.shopID},
	}
	types := []struct {
		typ           stripe.EventType
		paymentStatus string
	}{
		{stripe.EventTypeCheckoutSessionCompleted, "paid"},
		{stripe.EventTypeCheckoutSessionCompleted, "unpaid"},
		{stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, "paid"},
		{stripe.EventTypeCheckoutSessionAsyncPaymentFailed, "unpaid"},
		{stripe.EventTypeCheckoutSessionExpired, "unpaid"},
	}
	for i, tc := range cases {
		for j, ty := range types {
			id := "evt_not_ours_" + unique + "_" + string(rune('a'+i)) + string(rune('a'+j))
			e := sessionEvent{ID: id, Type: ty.typ, SessionID: tc.session, PaymentStatus: ty.paymentStatus, PaymentIntent: "pi_" + id, Metadata: tc.metadata}
			if out := f.sendEvent(t, e); out != checkout.Ignored {
				t.Errorf("%s, %s/%s: %s, want ignored", tc.name, ty.typ, ty.paymentStatus, out)
			}
			if got := recordedIn(t, f.pool, tc.inbox)[id]; got != (recordedEvent{1, "ignored"}) {
				t.Errorf("%s, %s: inbox of shop %q has %+v, want one row, ignored", tc.name, ty.typ, tc.inbox, got)
			}
		}
	}
	f.assertUnchanged(t, before)
	other.assertUnchanged(t, otherBefore)
	for _, shopID := range []string{f.shopID, other.shopID} {
		if p, err := checkout.ListOversold(ctx, f.pool, shopID, 0, ""); err != nil || len(p.Items) != 0 {
			t.Errorf("oversold orders of %s: %+v, %v", shopID, p, err)
		}
	}

	// The real events still settle both checkouts.
	if out := f.deliver(t, "evt_real", stripe.EventTypeCheckoutSessionCompleted, ours, "paid"); out != checkout.Committed {
		t.Errorf("the real event for our session: %s, want committed", out)
	}
	if out := other.deliver(t, "evt_real", stripe.EventTypeCheckoutSessionExpired, theirs, "unpaid"); out != checkout.Released {
		t.Errorf("the real event for the other shop's session: %s, want released", out)
	}
	f.shop.RequireLedgerClean(t)
	other.shop.RequireLedgerClean(t)
}
