package httpapi_test

import (
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"
)

// An event acknowledged but ignored answers 200 with why, in "reason", so
// that whoever sent it by hand learns it did nothing; Stripe still gets the
// 200 it needs.
func TestWebhookIgnoredReason(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 5)
	c := h.newWebhookCheckout(t, shop, "SKU-1", 1)
	for i, tc := range []struct {
		typ      stripe.EventType
		session  string
		metadata map[string]string
		reason   string
	}{
		{stripe.EventTypeCheckoutSessionExpired, c.session + "x", c.metadata, "no checkout of shop " + shop + " has session " + c.session + "x"},
		{stripe.EventTypeCheckoutSessionExpired, c.session, nil, "the session's metadata has no valid shop_id"},
		{"customer.created", c.session, c.metadata, "event type customer.created is not handled"},
	} {
		p := stripeEvent("evt_reason_"+shop+"_"+string(rune('a'+i)), tc.typ, stripe.APIVersion, tc.session, "unpaid", tc.metadata)
		r := h.postWebhook(t, p, stripeSignature(p, "whsec_new", time.Time{}), false)
		expectWebhook(t, r, "ignored")
		if got := r.Obj(t)["reason"]; got != tc.reason {
			t.Errorf("%s for %s: reason %q, want %q", tc.typ, tc.session, got, tc.reason)
		}
	}
}
