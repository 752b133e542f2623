package webhooks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/webhooks"
)

// FuzzVerifyAndProcess feeds arbitrary bodies, signed with the endpoint's
// secret, through Verify and Process against a shop with open checkouts.
// Whatever the body, nothing panics; Verify either refuses it with
// ErrInvalidSignature or returns an event with an id and a type; Process
// gives such an event one of the outcomes, never an error Stripe would retry
// for days; and the shop's ledger still adds up.
//
// go test runs the seeds only. To fuzz:
//
//	go test -run '^$' -fuzz FuzzVerifyAndProcess -fuzztime 10s ./webhooks/
func FuzzVerifyAndProcess(f *testing.F) {
	fx := newFixture(f, checkoutd.ModeReserveTTL)
	fx.shop.Stock(f, "A", 1_000_000)
	paid, async, failed, expired := fx.checkout(f, 1), fx.checkout(f, 2), fx.checkout(f, 1), fx.checkout(f, 3)
	validateOnly := newFixture(f, checkoutd.ModeValidateOnly)
	unheld := validateOnly.checkout(f, 1)

	seeds := []sessionEvent{
		fx.event("evt_seed_paid", stripe.EventTypeCheckoutSessionCompleted, paid, "paid"),
		fx.event("evt_seed_unpaid", stripe.EventTypeCheckoutSessionCompleted, async, "unpaid"),
		fx.event("evt_seed_succeeded", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, async, "paid"),
		fx.event("evt_seed_failed", stripe.EventTypeCheckoutSessionAsyncPaymentFailed, failed, "unpaid"),
		fx.event("evt_seed_expired", stripe.EventTypeCheckoutSessionExpired, expired, "unpaid"),
		fx.event("evt_seed_free", stripe.EventTypeCheckoutSessionCompleted, paid, "no_payment_required"),
		fx.event("evt_seed_unknown", "charge.refunded", paid, "paid"),
		validateOnly.event("evt_seed_validate_only", stripe.EventTypeCheckoutSessionCompleted, unheld, "paid"),
		{ID: "evt_seed_no_metadata", Type: stripe.EventTypeCheckoutSessionCompleted, SessionID: paid.ID, PaymentStatus: "paid"},
		{ID: "evt_seed_unknown_session", Type: stripe.EventTypeCheckoutSessionExpired, SessionID: "cs_unknown", Metadata: fx.metadata(paid)},
		{ID: "evt_seed_expanded", Type: stripe.EventTypeCheckoutSessionCompleted, SessionID: expired.ID, PaymentStatus: "paid",
			PaymentIntent: map[string]any{"id": "pi_expanded", "object": "payment_intent"}, Metadata: fx.metadata(expired)},
		{ID: "evt_seed_version", Type: stripe.EventTypeCheckoutSessionCompleted, SessionID: paid.ID, PaymentStatus: "paid",
			Metadata: fx.metadata(paid), APIVersion: "2020-08-27"},
	}
	for _, e := range seeds {
		f.Add(e.payload())
	}
	for _, body := range []string{
		`{"id": "evt_seed_no_data", "object": "event", "type": "checkout.session.completed"}`,
		`{"id": "evt_seed_null_data", "object": "event", "type": "checkout.session.completed", "data": null}`,
		`{"id": "evt_seed_null_object", "object": "event", "type": "checkout.session.expired", "data": {"object": null}}`,
		`{"id": "evt_seed_odd_types", "type": "checkout.session.completed", "data": {"object": {"id": 7, "metadata": {"shop_id": 5}, "payment_status": true}}}`,
		`{"id": "evt_seed_no_type"}`,
		`{"type": "checkout.session.completed"}`,
		`{}`, `[]`, `null`, `"evt"`, ``, `{"id": "evt_seed_trailing", "type": "x"} {}`, "\x00\xff{",
	} {
		f.Add([]byte(body))
	}

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := fx.verifier.Verify(payload, sign(payload, secret, time.Time{}))
		if err != nil {
			if !errors.Is(err, webhooks.ErrInvalidSignature) {
				t.Fatalf("Verify refused a signed body with %v, which is not ErrInvalidSignature (400)", err)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" {
			t.Fatalf("Verify passed an event without id or type: %q %q", ev.ID, ev.Type)
		}
		out, err := fx.processor.Process(ctx, ev)
		t.Logf("%s %s: %q %v", ev.Type, ev.ID, out, err)
		switch {
		case err == nil:
			switch out {
			case webhooks.Duplicate, checkout.Ignored, checkout.Unchanged, checkout.Committed,
				checkout.Oversold, checkout.AwaitingPayment, checkout.Released, checkout.Refunded, checkout.Restocked:
			default:
				t.Fatalf("Process: outcome %q", out)
			}
		default:
			t.Fatalf("Process failed on a verified event (answered 5xx, so Stripe retries it forever): %v", err)
		}
		for _, shop := range []*fixture{fx, validateOnly} {
			report, err := shop.ledger.CheckLedger(ctx, shop.shopID)
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Discrepancies) > 0 {
				t.Fatalf("ledger discrepancies after %s: %v", payload, report.Discrepancies)
			}
		}
	})
}
