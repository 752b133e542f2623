package checkout_test

import (
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
)

// assertSold checks a checkout that was paid for through its own hold: the
// checkout completed with the payment intent, its hold committed, and one
// SALE movement taking qty.
func assertSold(t *testing.T, f *settleFixture, s *checkout.Session, paymentIntent string, qty int64) {
	t.Helper()
	c := f.checkoutOf(t, s)
	if c.Status != checkout.StatusCompleted {
		t.Errorf("checkout status %q, want completed", c.Status)
	}
	if c.PaymentIntentID == nil || *c.PaymentIntentID != paymentIntent {
		t.Errorf("checkout payment_intent_id %v, want %s", c.PaymentIntentID, paymentIntent)
	}
	if c.HoldID == nil || *c.HoldID != *s.ReservationID {
		t.Errorf("checkout hold %v, want its own hold %s", c.HoldID, *s.ReservationID)
	}
	if status := f.holdStatus(t, *s.ReservationID); status != "committed" {
		t.Errorf("hold status %q, want committed", status)
	}
	if got := f.sales(t)[*s.ReservationID]; got != [2]int64{1, qty} {
		t.Errorf("SALE movements of the hold (count, units) %v, want [1 %d]", got, qty)
	}
}

func TestPaidCommitsAndExpiredReleases(t *testing.T) {
	t.Parallel()
	f := newSettleFixture(t, checkoutd.ModeReserveTTL)
	paid, expired := f.checkout(t, 2), f.checkout(t, 1)

	if out := f.deliver(t, "evt_1", stripe.EventTypeCheckoutSessionCompleted, paid, "paid"); out != checkout.Committed {
		t.Errorf("completed/paid: %s, want committed", out)
	}
	if out := f.deliver(t, "evt_1", stripe.EventTypeCheckoutSessionCompleted, paid, "paid"); out != checkout.Unchanged {
		t.Errorf("the same event settled again: %s, want unchanged", out)
	}
	if out := f.deliver(t, "evt_2", stripe.EventTypeCheckoutSessionExpired, paid, "paid"); out != checkout.Unchanged {
		t.Errorf("a late expired for a paid session: %s, want unchanged", out)
	}
	if out := f.deliver(t, "evt_3", stripe.EventTypeCheckoutSessionExpired, expired, "unpaid"); out != checkout.Released {
		t.Errorf("expired: %s, want released", out)
	}
	if onHand, reserved := f.level(t, "A"); onHand != 3 || reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
	}
	f.shop.RequireLedgerClean(t)
}

func TestValidateOnlySaleTakesStockOffOnHand(t *testing.T) {
	t.Parallel()
	f := newSettleFixture(t, checkoutd.ModeValidateOnly)
	s := f.checkout(t, 2)
	if out := f.deliver(t, "evt_v1", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
		t.Errorf("completed/paid: %s, want committed", out)
	}
	if onHand, reserved := f.level(t, "A"); onHand != 3 || reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
	}
}

// Every handled event type and payment status, each on a checkout of its
// own: what it does to the checkout, its hold and the stock.
func TestEventTypesAndPaymentStatuses(t *testing.T) {
	t.Parallel()

	t.Run("completed/paid commits", func(t *testing.T) {
		t.Parallel()
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		s := f.checkout(t, 2)
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
			t.Fatalf("outcome %s, want committed", out)
		}
		assertSold(t, f, s, "pi_evt_paid", 2)
		if onHand, reserved := f.level(t, "A"); onHand != 3 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("completed/no_payment_required commits", func(t *testing.T) {
		t.Parallel()
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		s := f.checkout(t, 1)
		if out := f.deliver(t, "evt_free", stripe.EventTypeCheckoutSessionCompleted, s, "no_payment_required"); out != checkout.Committed {
			t.Fatalf("outcome %s, want committed", out)
		}
		assertSold(t, f, s, "pi_evt_free", 1)
		if onHand, reserved := f.level(t, "A"); onHand != 4 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 4 and 0", onHand, reserved)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("a payment intent and none", func(t *testing.T) {
		t.Parallel()
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		expanded, none := f.checkout(t, 1), f.checkout(t, 1)
		e := f.event("evt_expanded", stripe.EventTypeCheckoutSessionCompleted, expanded, "paid")
		e.PaymentIntentID = stripe.String("pi_expanded")
		if out := f.settle(t, e); out != checkout.Committed {
			t.Fatalf("outcome %s, want committed", out)
		}
		assertSold(t, f, expanded, "pi_expanded", 1)
		e = f.event("evt_no_pi", stripe.EventTypeCheckoutSessionCompleted, none, "no_payment_required")
		e.PaymentIntentID = nil
		if out := f.settle(t, e); out != checkout.Committed {
			t.Fatalf("outcome %s, want committed", out)
		}
		if c := f.checkoutOf(t, none); c.Status != checkout.StatusCompleted || c.PaymentIntentID != nil {
			t.Errorf("checkout without a payment intent: status %q, payment_intent_id %v", c.Status, c.PaymentIntentID)
		}
		f.shop.RequireLedgerClean(t)
	})

	for _, tc := range []struct {
		name  string
		hold  time.Duration // SettleConfig.AsyncPaymentHold; 0 is the default
		want  time.Duration
		final stripe.EventType
	}{
		{"default hold then succeeded", 0, 72 * time.Hour, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded},
		{"5h hold then failed", 5 * time.Hour, 5 * time.Hour, stripe.EventTypeCheckoutSessionAsyncPaymentFailed},
	} {
		t.Run("completed/unpaid awaits payment, "+tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSettleFixture(t, checkoutd.ModeReserveTTL)
			f.settler = checkout.NewSettler(f.ledger, checkout.SettleConfig{AsyncPaymentHold: tc.hold})
			s := f.checkout(t, 2)
			before := time.Now()
			if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != checkout.AwaitingPayment {
				t.Fatalf("outcome %s, want awaiting_payment", out)
			}
			h := f.hold(t, *s.ReservationID)
			if h.Status != "pending_payment" {
				t.Errorf("hold status %q, want pending_payment", h.Status)
			}
			if lo, hi := before.Add(tc.want-time.Minute), time.Now().Add(tc.want+time.Minute); h.ExpiresAt.Before(lo) || h.ExpiresAt.After(hi) {
				t.Errorf("hold expires at %s, %s from now; want about %s", h.ExpiresAt, time.Until(h.ExpiresAt).Round(time.Second), tc.want)
			}
			if c := f.checkoutOf(t, s); c.Status != checkout.StatusPendingPayment {
				t.Errorf("checkout status %q, want pending_payment", c.Status)
			}
			if onHand, reserved := f.level(t, "A"); onHand != 5 || reserved != 2 {
				t.Errorf("awaiting payment: on hand %d, reserved %d; want 5 and 2", onHand, reserved)
			}
			// The completed event settled again changes nothing.
			snap := f.snapshot(t)
			if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != checkout.Unchanged {
				t.Errorf("settled again: %s, want unchanged", out)
			}
			f.assertUnchanged(t, snap)

			switch out := f.deliver(t, "evt_final", tc.final, s, ""); tc.final {
			case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
				if out != checkout.Committed {
					t.Fatalf("async_payment_succeeded: %s, want committed", out)
				}
				assertSold(t, f, s, "pi_evt_final", 2)
				if onHand, reserved := f.level(t, "A"); onHand != 3 || reserved != 0 {
					t.Errorf("paid: on hand %d, reserved %d; want 3 and 0", onHand, reserved)
				}
			default:
				if out != checkout.Released {
					t.Fatalf("async_payment_failed: %s, want released", out)
				}
				if status := f.holdStatus(t, *s.ReservationID); status != "released" {
					t.Errorf("hold status %q, want released", status)
				}
				if c := f.checkoutOf(t, s); c.Status != checkout.StatusPaymentFailed {
					t.Errorf("checkout status %q, want payment_failed", c.Status)
				}
				if onHand, reserved := f.level(t, "A"); onHand != 5 || reserved != 0 {
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
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		s := f.checkout(t, 3)
		if out := f.deliver(t, "evt_expired", stripe.EventTypeCheckoutSessionExpired, s, "unpaid"); out != checkout.Released {
			t.Fatalf("outcome %s, want released", out)
		}
		h := f.hold(t, *s.ReservationID)
		if h.Status != "expired" || deref(h.ReleaseReason) != "session_expired" {
			t.Errorf("hold %s (%s), want expired (session_expired)", h.Status, deref(h.ReleaseReason))
		}
		if c := f.checkoutOf(t, s); c.Status != checkout.StatusExpired {
			t.Errorf("checkout status %q, want expired", c.Status)
		}
		if onHand, reserved := f.level(t, "A"); onHand != 5 || reserved != 0 {
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
		f := newSettleFixture(t, checkoutd.ModeValidateOnly)
		s := f.checkout(t, 2)
		if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != checkout.AwaitingPayment {
			t.Fatalf("completed/unpaid: %s, want awaiting_payment", out)
		}
		if onHand, reserved := f.level(t, "A"); onHand != 5 || reserved != 0 {
			t.Errorf("awaiting payment without a hold: on hand %d, reserved %d; want 5 and 0", onHand, reserved)
		}
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, s, "paid"); out != checkout.Committed {
			t.Fatalf("async_payment_succeeded: %s, want committed", out)
		}
		c := f.checkoutOf(t, s)
		if c.Status != checkout.StatusCompleted || c.HoldID == nil {
			t.Fatalf("checkout %+v, want completed with the sale's hold", c)
		}
		if got := f.sales(t)[*c.HoldID]; got != [2]int64{1, 2} {
			t.Errorf("SALE movements of the sale (count, units) %v, want [1 2]", got)
		}
		if onHand, reserved := f.level(t, "A"); onHand != 3 || reserved != 0 {
			t.Errorf("on hand %d, reserved %d; want 3 and 0", onHand, reserved)
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("unknown types and payment statuses are ignored", func(t *testing.T) {
		t.Parallel()
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		s := f.checkout(t, 2)
		before := f.snapshot(t)
		for i, tc := range []struct {
			typ           stripe.EventType
			paymentStatus string
		}{
			{"payment_intent.succeeded", "paid"},
			{"charge.refunded", "paid"},
			{"customer.created", ""},
			{"checkout.session.some_future_event", "paid"},
			{stripe.EventTypeCheckoutSessionCompleted, "processing"},
		} {
			if out := f.deliver(t, "evt_unknown_"+string(rune('a'+i)), tc.typ, s, tc.paymentStatus); out != checkout.Ignored {
				t.Errorf("%s (%s): %s, want ignored", tc.typ, tc.paymentStatus, out)
			}
		}
		f.assertUnchanged(t, before)
		// The checkout still works.
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
			t.Errorf("completed/paid after the ignored ones: %s, want committed", out)
		}
	})
}

// Events that name a session the shop did not create, or another checkout
// than the session's, are ignored and change nothing: an unknown session,
// another shop's session, our session settled in another shop or in a shop
// that does not exist, a checkout_id that names another checkout. (Which
// shop an event is settled in is the webhooks package's reading of its
// metadata; see its TestEventsForOtherSessionsAreIgnored.)
func TestSettleIgnoresOtherSessions(t *testing.T) {
	t.Parallel()
	f := newSettleFixture(t, checkoutd.ModeReserveTTL)
	other := newSettleFixture(t, checkoutd.ModeReserveTTL) // another shop, with checkouts of its own
	ours, second := f.checkout(t, 2), f.checkout(t, 1)
	theirs := other.checkout(t, 1)
	before, otherBefore := f.snapshot(t), other.snapshot(t)

	oursEvent := func(id string, typ stripe.EventType, paymentStatus string) checkout.SessionEvent {
		return f.event(id, typ, ours, paymentStatus)
	}
	cases := []struct {
		name   string
		shopID string
		event  func(id string, typ stripe.EventType, paymentStatus string) checkout.SessionEvent
	}{
		{"unknown session", f.shopID, func(id string, typ stripe.EventType, ps string) checkout.SessionEvent {
			e := oursEvent(id, typ, ps)
			e.SessionID, e.CheckoutID = "cs_test_never_created", ""
			return e
		}},
		{"another shop's session", f.shopID, func(id string, typ stripe.EventType, ps string) checkout.SessionEvent {
			return other.event(id, typ, theirs, ps)
		}},
		{"our session in another shop", other.shopID, oursEvent},
		{"our session in a shop that does not exist", "no-such-shop-" + f.shopID[len(f.shopID)-12:], oursEvent},
		{"checkout_id of another checkout", f.shopID, func(id string, typ stripe.EventType, ps string) checkout.SessionEvent {
			e := oursEvent(id, typ, ps)
			e.CheckoutID = f.event(id, typ, second, ps).CheckoutID
			return e
		}},
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
			e := tc.event("evt_not_ours_"+string(rune('a'+i))+string(rune('a'+j)), ty.typ, ty.paymentStatus)
			out, err := settleIn(t.Context(), f.pool, f.settler, tc.shopID, e, f.cfg.Logger, nil)
			if err != nil || out != checkout.Ignored {
				t.Errorf("%s, %s/%s: %s, %v; want ignored", tc.name, ty.typ, ty.paymentStatus, out, err)
			}
		}
	}
	f.assertUnchanged(t, before)
	other.assertUnchanged(t, otherBefore)
	if n := len(f.oversold(t)) + len(other.oversold(t)); n != 0 {
		t.Errorf("oversold orders: %d", n)
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
		status     checkout.Status
		holdStatus string
		onHand     int64
	}{
		{"unpaid, succeeded", []ev{unpaid, succeeded}, checkout.StatusCompleted, "committed", 3},
		{"succeeded, unpaid", []ev{succeeded, unpaid}, checkout.StatusCompleted, "committed", 3},
		{"unpaid, failed", []ev{unpaid, failed}, checkout.StatusPaymentFailed, "released", 5},
		{"failed, unpaid", []ev{failed, unpaid}, checkout.StatusPaymentFailed, "released", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSettleFixture(t, checkoutd.ModeReserveTTL)
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
			if status := f.holdStatus(t, *s.ReservationID); status != tc.holdStatus {
				t.Errorf("hold status %q, want %q", status, tc.holdStatus)
			}
			if onHand, reserved := f.level(t, "A"); onHand != tc.onHand || reserved != 0 {
				t.Errorf("on hand %d, reserved %d; want %d and 0", onHand, reserved, tc.onHand)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}
