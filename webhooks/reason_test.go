package webhooks_test

import (
	"context"
	"testing"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/webhooks"
)

// An ignored event says why, for whoever sent it; an event acted on gives
// no reason.
func TestIgnoredEventsSayWhy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	ours, second := f.checkout(t, 1), f.checkout(t, 1)
	unique := f.shopID
	withCheckout := f.metadata(ours)
	otherCheckout := map[string]string{}
	for k, v := range withCheckout {
		otherCheckout[k] = v
	}
	otherCheckout["checkout_id"] = f.metadata(second)["checkout_id"]

	process := func(e sessionEvent) webhooks.Result {
		t.Helper()
		res, err := f.processor.ProcessEvent(context.Background(), f.verified(t, e))
		if err != nil {
			t.Fatalf("process %s: %v", e.ID, err)
		}
		return res
	}
	for i, tc := range []struct {
		name     string
		typ      stripe.EventType
		session  string
		status   string
		metadata map[string]string
		reason   string
	}{
		{"unknown session", stripe.EventTypeCheckoutSessionExpired, ours.ID + "x", "unpaid", withCheckout,
			"no checkout of shop " + f.shopID + " has session " + ours.ID + "x"},
		{"no shop_id", stripe.EventTypeCheckoutSessionExpired, ours.ID, "unpaid", nil,
			"the session's metadata has no valid shop_id"},
		{"another checkout", stripe.EventTypeCheckoutSessionExpired, ours.ID, "unpaid", otherCheckout,
			"the session's metadata names checkout " + otherCheckout["checkout_id"] + ", not the session's own"},
		{"unknown payment status", stripe.EventTypeCheckoutSessionCompleted, ours.ID, "refunded", withCheckout,
			`unknown payment_status "refunded"`},
		{"unhandled session event", "checkout.session.renamed", ours.ID, "unpaid", withCheckout,
			"event type checkout.session.renamed is not handled"},
		{"not a session event", "payment_intent.created", ours.ID, "unpaid", withCheckout,
			"event type payment_intent.created is not handled"},
	} {
		id := "evt_reason_" + unique + "_" + string(rune('a'+i))
		res := process(sessionEvent{ID: id, Type: tc.typ, SessionID: tc.session, PaymentStatus: tc.status, Metadata: tc.metadata})
		if res != (webhooks.Result{Outcome: checkout.Ignored, Reason: tc.reason}) {
			t.Errorf("%s: %+v, want ignored because %q", tc.name, res, tc.reason)
		}
	}

	paid := process(f.event("evt_reason_paid_"+unique, stripe.EventTypeCheckoutSessionCompleted, ours, "paid"))
	if paid != (webhooks.Result{Outcome: checkout.Committed}) {
		t.Errorf("paid: %+v, want committed without a reason", paid)
	}
	again := process(f.event("evt_reason_paid_"+unique, stripe.EventTypeCheckoutSessionCompleted, ours, "paid"))
	if again != (webhooks.Result{Outcome: webhooks.Duplicate}) {
		t.Errorf("the same event again: %+v, want duplicate without a reason", again)
	}
}
