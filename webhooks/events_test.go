package webhooks_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/webhooks"
)

// assertSold checks a checkout that was paid for through its own hold: the
// checkout completed with the payment intent, its hold committed, and one
// SALE movement taking qty.
func assertSold(t *testing.T, f *fixture, s *checkout.Session, paymentIntent string, qty int64) {
	t.Helper()
	c := f.checkoutOf(t, s)
	if c.Status != "completed" {
		t.Errorf("checkout status %q, want completed", c.Status)
	}
	if c.PaymentIntentID == nil || *c.PaymentIntentID != paymentIntent {
		t.Errorf("checkout payment_intent_id %v, want %s", c.PaymentIntentID, paymentIntent)
	}
	if c.HoldID == nil || *c.HoldID != *s.ReservationID {
		t.Errorf("checkout hold %v, want its own hold %s", c.HoldID, *s.ReservationID)
	}
	if status, _ := f.holdRow(t, *s.ReservationID); status != "committed" {
		t.Errorf("hold status %q, want committed", status)
	}
	if got := f.sales(t)[*s.ReservationID]; got != [2]int64{1, qty} {
		t.Errorf("SALE movements of the hold (count, units) %v, want [1 %d]", got, qty)
	}
}

// Every handled event type and payment status, each on a checkout of its
// own: what it does to the checkout, its hold, the stock and the inbox.
func TestEventTypesAndPaymentStatuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("completed/paid commits", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkoutd.ModeReserveTTL)
		s := f.checkout(t, 2)
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
			t.Fatalf("outcome %s, want committed", out)
		}
		assertSold(t, f, s, "pi_evt_paid", 2)
		if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
		}
		if got := f.recorded(t)["evt_paid"]; got != (recordedEvent{1, "committed"}) {
			t.Errorf("inbox %+v, want one row with outcome committed", got)
		}
		var apiVersion, typ string
		var session *string
		if err := f.pool.QueryRow(ctx, "SELECT api_version, type, stripe_session_id FROM stripe_events WHERE shop_id = $1 AND id = 'evt_paid'",
			f.shopID).Scan(&apiVersion, &typ, &session); err != nil {
			t.Fatal(err)
		}
		if apiVersion != stripe.APIVersion || typ != "checkout.session.completed" || session == nil || *session != s.ID {
			t.Errorf("inbox row: api_version %q, type %q, session %v", apiVersion, typ, session)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("completed/no_payment_required commits", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkoutd.ModeReserveTTL)
		s := f.checkout(t, 1)
		if out := f.deliver(t, "evt_free", stripe.EventTypeCheckoutSessionCompleted, s, "no_payment_required"); out != checkout.Committed {
			t.Fatalf("outcome %s, want committed", out)
		}
		assertSold(t, f, s, "pi_evt_free", 1)
		if onHand, reserved := f.stock(t); onHand != 4 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 4 and 0", onHand, reserved)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("expanded payment_intent and none", func(t *testing.T) {
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
	})

	for _, tc := range []struct {
		name  string
		hold  time.Duration // Config.AsyncPaymentHold; 0 is the default
		want  time.Duration
		final stripe.EventType
	}{
		{"default hold then succeeded", 0, 72 * time.Hour, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded},
		{"5h hold then failed", 5 * time.Hour, 5 * time.Hour, stripe.EventTypeCheckoutSessionAsyncPaymentFailed},
	} {
		t.Run("completed/unpaid awaits payment, "+tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkoutd.ModeReserveTTL)
			f.processor = webhooks.NewProcessor(f.pool, checkout.NewSettler(f.ledger, checkout.SettleConfig{AsyncPaymentHold: tc.hold}), webhooks.Config{Logger: slog.New(slog.DiscardHandler)})
			s := f.checkout(t, 2)
			before := time.Now()
			if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != checkout.AwaitingPayment {
				t.Fatalf("outcome %s, want awaiting_payment", out)
			}
			status, expiresAt := f.holdRow(t, *s.ReservationID)
			if status != "pending_payment" {
				t.Errorf("hold status %q, want pending_payment", status)
			}
			if lo, hi := before.Add(tc.want-time.Minute), time.Now().Add(tc.want+time.Minute); expiresAt.Before(lo) || expiresAt.After(hi) {
				t.Errorf("hold expires at %s, %s from now; want about %s", expiresAt, time.Until(expiresAt).Round(time.Second), tc.want)
			}
			if c := f.checkoutOf(t, s); c.Status != "pending_payment" {
				t.Errorf("checkout status %q, want pending_payment", c.Status)
			}
			if onHand, reserved := f.stock(t); onHand != 5 || reserved != 2 {
				t.Errorf("awaiting payment: on hand %d, reserved %d; want 5 and 2", onHand, reserved)
			}
			// A redelivery of the completed event changes nothing.
			if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != webhooks.Duplicate {
				t.Errorf("redelivered: %s, want duplicate", out)
			}

			switch out := f.deliver(t, "evt_final", tc.final, s, ""); tc.final {
			case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
				if out != checkout.Committed {
					t.Fatalf("async_payment_succeeded: %s, want committed", out)
				}
				assertSold(t, f, s, "pi_evt_final", 2)
				if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
					t.Errorf("paid: on hand %d, reserved %d; want 3 and 0", onHand, reserved)
				}
			default:
				if out != checkout.Released {
					t.Fatalf("async_payment_failed: %s, want released", out)
				}
				if status, _ := f.holdRow(t, *s.ReservationID); status != "released" {
					t.Errorf("hold status %q, want released", status)
				}
				if c := f.checkoutOf(t, s); c.Status != "payment_failed" {
					t.Errorf("checkout status %q, want payment_failed", c.Status)
				}
				if onHand, reserved := f.stock(t); onHand != 5 || reserved != 0 {
					t.Errorf("payment failed: on hand %d, reserved %d; want 5 and 0", onHand, reserved)
				}
				if sales := f.sales(t); len(sales) != 0 {
					t.Errorf("SALE movements after a failed payment: %v", sales)
				}
			}
			f.shop.RequireLedgerClean(t)
		})
	}

	t.Run("expired releases", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkoutd.ModeReserveTTL)
		s := f.checkout(t, 3)
		if out := f.deliver(t, "evt_expired", stripe.EventTypeCheckoutSessionExpired, s, "unpaid"); out != checkout.Released {
			t.Fatalf("outcome %s, want released", out)
		}
		var status, reason string
		if err := f.pool.QueryRow(ctx, "SELECT status, release_reason FROM holds WHERE shop_id = $1 AND id = $2",
			f.shopID, *s.ReservationID).Scan(&status, &reason); err != nil {
			t.Fatal(err)
		}
		if status != "released" || reason != "session_expired" {
			t.Errorf("hold %s (%s), want released (session_expired)", status, reason)
		}
		if c := f.checkoutOf(t, s); c.Status != "expired" {
			t.Errorf("checkout status %q, want expired", c.Status)
		}
		if onHand, reserved := f.stock(t); onHand != 5 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 5 and 0", onHand, reserved)
		}
		// Stale events for the expired session change nothing.
		before := f.snapshot(t)
		for id, typ := range map[string]stripe.EventType{
			"evt_late_unpaid": stripe.EventTypeCheckoutSessionCompleted,
			"evt_late_failed": stripe.EventTypeCheckoutSessionAsyncPaymentFailed,
		} {
			if out := f.deliver(t, id, typ, s, "unpaid"); out != checkout.Unchanged {
				t.Errorf("%s after expiry: %s, want unchanged", typ, out)
			}
		}
		f.assertUnchanged(t, before)
		f.shop.RequireLedgerClean(t)
	})

	t.Run("validate_only: unpaid then succeeded sells", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkoutd.ModeValidateOnly)
		s := f.checkout(t, 2)
		if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != checkout.AwaitingPayment {
			t.Fatalf("completed/unpaid: %s, want awaiting_payment", out)
		}
		if onHand, reserved := f.stock(t); onHand != 5 || reserved != 0 {
			t.Errorf("awaiting payment without a hold: on hand %d, reserved %d; want 5 and 0", onHand, reserved)
		}
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, s, "paid"); out != checkout.Committed {
			t.Fatalf("async_payment_succeeded: %s, want committed", out)
		}
		c := f.checkoutOf(t, s)
		if c.Status != "completed" || c.HoldID == nil {
			t.Fatalf("checkout %+v, want completed with the sale's hold", c)
		}
		if got := f.sales(t)[*c.HoldID]; got != [2]int64{1, 2} {
			t.Errorf("SALE movements of the sale (count, units) %v, want [1 2]", got)
		}
		if onHand, reserved := f.stock(t); onHand != 3 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("unknown types and payment statuses are ignored", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, checkoutd.ModeReserveTTL)
		s := f.checkout(t, 2)
		before := f.snapshot(t)
		for i, tc := range []struct {
			typ           stripe.EventType
			paymentStatus string
			// inbox is the shop the event is recorded under: checkoutd reads
			// the metadata of checkout sessions only, so other events go
			// under shop ''.
			inbox string
		}{
			{"payment_intent.succeeded", "paid", ""},
			{"charge.refunded", "paid", ""},
			{"customer.created", "", ""},
			{"checkout.session.some_future_event", "paid", f.shopID},
			{stripe.EventTypeCheckoutSessionCompleted, "processing", f.shopID},
		} {
			// Unique: shop '' is shared by every test.
			id := "evt_unknown_" + f.shopID + "_" + string(rune('a'+i))
			if out := f.deliver(t, id, tc.typ, s, tc.paymentStatus); out != checkout.Ignored {
				t.Errorf("%s (%s): %s, want ignored", tc.typ, tc.paymentStatus, out)
			}
			if got := recordedIn(t, f.pool, tc.inbox)[id]; got != (recordedEvent{1, "ignored"}) {
				t.Errorf("%s: inbox of shop %q has %+v, want one row, ignored", tc.typ, tc.inbox, got)
			}
			if out := f.deliver(t, id, tc.typ, s, tc.paymentStatus); out != webhooks.Duplicate {
				t.Errorf("%s redelivered: %s, want duplicate", tc.typ, out)
			}
		}
		f.assertUnchanged(t, before)
		// The checkout still works.
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
			t.Errorf("completed/paid after the ignored ones: %s, want committed", out)
		}
	})
}

// Events for sessions checkoutd did not create are acknowledged, recorded as
// ignored, and change nothing: an unknown session, a metadata shop_id that
// is not the checkout's shop, no metadata at all, a checkout_id that names
// another checkout.
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
	var n int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM oversold_orders WHERE shop_id IN ($1, $2)", f.shopID, other.shopID).Scan(&n); err != nil || n != 0 {
		t.Errorf("oversold orders: %d, %v", n, err)
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

// The events Stripe sends for one session, in every order they can arrive,
// end in the same state: the checkout only moves forward.
func TestEventOrderDoesNotMatter(t *testing.T) {
	t.Parallel()
	type ev struct {
		typ           stripe.EventType
		paymentStatus string
	}
	unpaid := ev{stripe.EventTypeCheckoutSessionCompleted, "unpaid"}
	succeeded := ev{stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, "paid"}
	failed := ev{stripe.EventTypeCheckoutSessionAsyncPaymentFailed, "unpaid"}
	for _, tc := range []struct {
		name       string
		events     []ev
		status     string
		holdStatus string
		onHand     int64
	}{
		{"unpaid, succeeded", []ev{unpaid, succeeded}, "completed", "committed", 3},
		{"succeeded, unpaid", []ev{succeeded, unpaid}, "completed", "committed", 3},
		{"unpaid, failed", []ev{unpaid, failed}, "payment_failed", "released", 5},
		{"failed, unpaid", []ev{failed, unpaid}, "payment_failed", "released", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, checkoutd.ModeReserveTTL)
			s := f.checkout(t, 2)
			for i, e := range tc.events {
				out := f.deliver(t, "evt_"+string(rune('a'+i)), e.typ, s, e.paymentStatus)
				if i > 0 && e == unpaid && out != checkout.Unchanged {
					t.Errorf("completed/unpaid after the payment's outcome: %s, want unchanged", out)
				}
			}
			if c := f.checkoutOf(t, s); c.Status != tc.status {
				t.Errorf("checkout status %q, want %q", c.Status, tc.status)
			}
			if status, _ := f.holdRow(t, *s.ReservationID); status != tc.holdStatus {
				t.Errorf("hold status %q, want %q", status, tc.holdStatus)
			}
			if onHand, reserved := f.stock(t); onHand != tc.onHand || reserved != 0 {
				t.Errorf("on hand %d, reserved %d; want %d and 0", onHand, reserved, tc.onHand)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}
