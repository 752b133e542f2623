package checkout_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/checkout/checkouttest"
	"github.com/checkoutd/checkoutd/inventory"
)

// resizable is an inline-priced line of sku that the customer may resize on
// Stripe's page from minimum to maximum, shown at quantity.
func resizable(sku string, quantity, minimum, maximum int64) checkout.Item {
	it := item(sku, "", quantity)
	it.AdjustableQuantity = &checkout.AdjustableQuantity{Enabled: true, Minimum: &minimum, Maximum: &maximum}
	return it
}

// adjustableCheckout is a reserve_ttl (or validate_only) shop with 5 of A
// and 3 of B, and a checkout of A, which the customer may resize from 0 to
// 4 (shown at 2), and one fixed B: its hold, in reserve_ttl, holds 4 of A
// and 1 of B. Stripe's line items are A's (index 0), then B's.
func adjustableCheckout(t *testing.T, mode checkoutd.InventoryMode) (*settleFixture, *checkout.Session) {
	t.Helper()
	f := newSettleFixture(t, mode)
	f.stock(t, "B", "", 3)
	s, _ := f.create(t, f.request("", resizable("A", 2, 0, 4), item("B", "", 1)))
	return f, s
}

// stockOf is the on hand and reserved of A and B.
func (f *settleFixture) stockOf(t *testing.T) [2][2]int64 {
	t.Helper()
	var st [2][2]int64
	st[0][0], st[0][1] = f.level(t, "A")
	st[1][0], st[1][1] = f.level(t, "B")
	return st
}

// holdMovements lists the movements of a hold as "TYPE SKU quantity
// reference", sorted.
func (f *settleFixture) holdMovements(t *testing.T, holdID string) []string {
	t.Helper()
	page, err := f.ledger.Movements(context.Background(), f.shopID, inventory.MovementsOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range page.Items {
		if m.HoldID != nil && *m.HoldID == holdID {
			out = append(out, fmt.Sprintf("%s %s %+d %s", m.Type, m.SKU, m.Quantity, m.Reference))
		}
	}
	slices.Sort(out)
	return out
}

// bought is what the checkout of s was recorded as bought for.
func (f *settleFixture) bought(t *testing.T, s *checkout.Session) ([]inventory.Line, *string) {
	t.Helper()
	return checkouttest.Bought(t, f.pool, f.shopID, f.checkoutOf(t, s).ID)
}

// Each quantity the customer can pick commits exactly that, and the rest
// of the hold goes back: fewer than the maximum, the maximum, the quantity
// shown, none of the optional line.
func TestAdjustableSettle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// pick is A's quantity on Stripe's page (0 removes the line).
		pick      int64
		stock     [2][2]int64
		movements []string
		holdItems []inventory.Line
	}{
		{"fewer than the maximum", 3, [2][2]int64{{2, 0}, {2, 0}},
			[]string{"RELEASE A -1 not_bought", "RESERVATION A +4 chk", "RESERVATION B +1 chk", "SALE A -3 pi", "SALE B -1 pi"},
			[]inventory.Line{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 1}}},
		{"exactly the maximum", 4, [2][2]int64{{1, 0}, {2, 0}},
			[]string{"RESERVATION A +4 chk", "RESERVATION B +1 chk", "SALE A -4 pi", "SALE B -1 pi"},
			[]inventory.Line{{SKU: "A", Quantity: 4}, {SKU: "B", Quantity: 1}}},
		{"the quantity shown", 2, [2][2]int64{{3, 0}, {2, 0}},
			[]string{"RELEASE A -2 not_bought", "RESERVATION A +4 chk", "RESERVATION B +1 chk", "SALE A -2 pi", "SALE B -1 pi"},
			[]inventory.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}},
		{"none of the optional line", 0, [2][2]int64{{5, 0}, {2, 0}},
			[]string{"RELEASE A -4 not_bought", "RESERVATION A +4 chk", "RESERVATION B +1 chk", "SALE B -1 pi"},
			[]inventory.Line{{SKU: "B", Quantity: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
			if got := f.stockOf(t); got != [2][2]int64{{5, 4}, {3, 1}} {
				t.Fatalf("stock (on hand, reserved) of A and B before payment %v, want the hold's maximum reserved", got)
			}
			if tc.pick != 2 {
				f.stripe.SetQuantity(s.ID, 0, tc.pick)
			}
			if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
				t.Fatalf("outcome %s, want committed", out)
			}
			assertBoughtSettled(t, f, s, tc.pick, tc.stock, tc.movements, tc.holdItems)
		})
	}
}

// assertBoughtSettled checks a paid adjustable checkout of s: completed,
// its hold committed with holdItems and written movements, the stock of A
// and B as stock, and the purchase recorded with A's quantity pick.
func assertBoughtSettled(t *testing.T, f *settleFixture, s *checkout.Session, pick int64, stock [2][2]int64, movements []string, holdItems []inventory.Line) {
	t.Helper()
	c := f.checkoutOf(t, s)
	if c.Status != checkout.StatusCompleted || deref(c.HoldID) != *s.ReservationID {
		t.Errorf("checkout %s with hold %v, want completed with its own hold %s", c.Status, deref(c.HoldID), *s.ReservationID)
	}
	if got := f.stockOf(t); got != stock {
		t.Errorf("stock (on hand, reserved) of A and B %v, want %v", got, stock)
	}
	got := f.holdMovements(t, *s.ReservationID)
	want := slices.Clone(movements)
	for i := range want {
		want[i] = strings.Replace(strings.Replace(want[i], " chk", " "+c.ID, 1), " pi", " pi_evt_paid", 1)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("hold movements\n\t%v\nwant\n\t%v", got, want)
	}
	var sold int64
	for _, l := range holdItems {
		sold += l.Quantity
	}
	if got := f.sales(t)[*s.ReservationID]; got[1] != sold {
		t.Errorf("committed %d units, want %d", got[1], sold)
	}
	hold, err := f.ledger.GetHold(context.Background(), f.shopID, *s.ReservationID)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]inventory.Line, len(hold.Items))
	for i, it := range hold.Items {
		items[i] = inventory.Line{SKU: it.SKU, VariantKey: it.VariantKey, Quantity: it.Quantity}
	}
	if hold.Status != inventory.HoldCommitted || !reflect.DeepEqual(items, holdItems) {
		t.Errorf("hold %s with items %+v, want committed with %+v", hold.Status, items, holdItems)
	}
	lines, reason := f.bought(t, s)
	if wantLines := []inventory.Line{{SKU: "A", Quantity: pick}, {SKU: "B", Quantity: 1}}; !reflect.DeepEqual(lines, wantLines) || reason != nil {
		t.Errorf("recorded as bought %+v (review %v), want %+v and no review", lines, deref(reason), wantLines)
	}
	f.shop.RequireLedgerClean(t)
}

// A delayed payment keeps the whole hold while it is pending, then commits
// what was bought.
func TestAdjustableDelayedPayment(t *testing.T) {
	t.Parallel()
	f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
	f.stripe.SetQuantity(s.ID, 0, 3)
	if out := f.deliver(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, s, "unpaid"); out != checkout.AwaitingPayment {
		t.Fatalf("completed/unpaid: %s, want awaiting_payment", out)
	}
	if got := f.stripe.LineItemListings(s.ID); got != 0 {
		t.Errorf("Stripe's line items read %d times for an unpaid session, want 0", got)
	}
	if got := f.stockOf(t); got != [2][2]int64{{5, 4}, {3, 1}} {
		t.Errorf("stock while the payment is pending %v, want the whole hold reserved", got)
	}
	if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, s, "paid"); out != checkout.Committed {
		t.Fatalf("async_payment_succeeded: %s, want committed", out)
	}
	assertBoughtSettled(t, f, s, 3, [2][2]int64{{2, 0}, {2, 0}},
		[]string{"RELEASE A -1 not_bought", "RESERVATION A +4 chk", "RESERVATION B +1 chk", "SALE A -3 pi", "SALE B -1 pi"},
		[]inventory.Line{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 1}})
}

// Replays and every order of the events apply the purchase once, and a
// checkout already settled costs no call to Stripe.
func TestAdjustableSettleAppliesOnce(t *testing.T) {
	t.Parallel()

	t.Run("replayed, then expired", func(t *testing.T) {
		t.Parallel()
		f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
		f.stripe.SetQuantity(s.ID, 0, 1)
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
			t.Fatalf("first delivery: %s, want committed", out)
		}
		before := f.snapshot(t)
		// The customer cannot change a paid session; had Stripe's answer
		// changed anyway, nothing is read again.
		f.stripe.SetQuantity(s.ID, 0, 4)
		for _, e := range []struct {
			id  string
			typ stripe.EventType
		}{
			{"evt_paid", stripe.EventTypeCheckoutSessionCompleted},
			{"evt_paid_again", stripe.EventTypeCheckoutSessionCompleted},
			{"evt_async", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded},
			{"evt_expired", stripe.EventTypeCheckoutSessionExpired},
		} {
			if out := f.deliver(t, e.id, e.typ, s, "paid"); out != checkout.Unchanged {
				t.Errorf("%s %s after the payment: %s, want unchanged", e.typ, e.id, out)
			}
		}
		f.assertUnchanged(t, before)
		if got := f.stripe.LineItemListings(s.ID); got != 1 {
			t.Errorf("Stripe's line items read %d times, want once", got)
		}
		assertBoughtSettled(t, f, s, 1, [2][2]int64{{4, 0}, {2, 0}},
			[]string{"RELEASE A -3 not_bought", "RESERVATION A +4 chk", "RESERVATION B +1 chk", "SALE A -1 pi", "SALE B -1 pi"},
			[]inventory.Line{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 1}})
	})

	// Stripe's expired event first: the stock went back, and a completed
	// event after it (which Stripe would not send for one session) changes
	// nothing and asks Stripe nothing.
	t.Run("expired, then completed", func(t *testing.T) {
		t.Parallel()
		f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
		if out := f.deliver(t, "evt_expired", stripe.EventTypeCheckoutSessionExpired, s, "unpaid"); out != checkout.Released {
			t.Fatalf("expired: %s, want released", out)
		}
		before := f.snapshot(t)
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Unchanged {
			t.Errorf("completed after expired: %s, want unchanged", out)
		}
		f.assertUnchanged(t, before)
		if got := f.stripe.LineItemListings(s.ID); got != 0 {
			t.Errorf("Stripe's line items read %d times for an expired checkout, want 0", got)
		}
		if got := f.stockOf(t); got != [2][2]int64{{5, 0}, {3, 0}} {
			t.Errorf("stock %v, want everything back", got)
		}
		if lines, _ := f.bought(t, s); lines != nil {
			t.Errorf("an expired checkout recorded as bought %+v", lines)
		}
		f.shop.RequireLedgerClean(t)
	})
}

// Line items that do not account for the checkout's lines are not guessed
// at: the whole hold, every line's maximum, is committed, the checkout is
// completed and marked for review, and an error is logged.
func TestAdjustableLineItemsMismatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(f *settleFixture, s *checkout.Session)
		issue  string
	}{
		{"more than the maximum", func(f *settleFixture, s *checkout.Session) { f.stripe.SetQuantity(s.ID, 0, 5) },
			"line 0 (A[]) was bought 5 times, outside its 0 to 4"},
		{"a fixed line changed", func(f *settleFixture, s *checkout.Session) { f.stripe.SetQuantity(s.ID, 1, 2) },
			"line 1 (B[]) was bought 2 times, not the 1 asked for"},
		{"a fixed line missing", func(f *settleFixture, s *checkout.Session) { f.stripe.SetQuantity(s.ID, 1, 0) },
			"line 1 (B[]) was bought 0 times, not the 1 asked for"},
		{"a line item of no line", func(f *settleFixture, s *checkout.Session) {
			f.stripe.AddLineItem(s.ID, stripe.LineItem{ID: "li_gift", Quantity: 1, Price: &stripe.Price{ID: "price_gift"}})
		}, "line item li_gift (price price_gift"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := adjustableCheckout(t, checkoutd.ModeReserveTTL)
			tc.change(f, s)
			if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
				t.Fatalf("outcome %s, want committed", out)
			}
			c := f.checkoutOf(t, s)
			if c.Status != checkout.StatusCompleted {
				t.Errorf("checkout %s, want completed", c.Status)
			}
			if got := f.stockOf(t); got != [2][2]int64{{1, 0}, {2, 0}} {
				t.Errorf("stock %v, want the whole hold (4 of A, 1 of B) sold", got)
			}
			if got := f.holdMovements(t, *s.ReservationID); slices.ContainsFunc(got, func(m string) bool { return strings.HasPrefix(m, "RELEASE") }) {
				t.Errorf("movements %v: something was given back", got)
			}
			lines, reason := f.bought(t, s)
			if want := []inventory.Line{{SKU: "A", Quantity: 4}, {SKU: "B", Quantity: 1}}; !reflect.DeepEqual(lines, want) {
				t.Errorf("recorded as bought %+v, want the maxima %+v", lines, want)
			}
			if reason == nil || !strings.Contains(*reason, tc.issue) {
				t.Errorf("review reason %q, want it to say %q", deref(reason), tc.issue)
			}
			logs := f.logs.String()
			line := ""
			for _, l := range strings.Split(logs, "\n") {
				if strings.Contains(l, "do not account for the checkout's lines") {
					line = l
				}
			}
			for _, want := range []string{`"level":"ERROR"`, `"hold_id":"` + *s.ReservationID + `"`, `"checkout_id":"` + c.ID + `"`, tc.issue} {
				if !strings.Contains(line, want) {
					t.Errorf("error log line %q lacks %s", line, want)
				}
			}
			f.shop.RequireLedgerClean(t)
		})
	}
}

// A checkout's lines priced by Stripe price id are matched by it; lines of
// other stock sharing a price cannot be told apart once one of them may be
// resized, and go to review.
func TestAdjustableMatchedByPrice(t *testing.T) {
	t.Parallel()

	t.Run("by price id", func(t *testing.T) {
		t.Parallel()
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		f.stock(t, "B", "", 3)
		a := pricedItem("A", "", 1, "price_A")
		a.AdjustableQuantity = &checkout.AdjustableQuantity{Enabled: true, Minimum: amount(1), Maximum: amount(3)}
		s, _ := f.create(t, f.request("", a, pricedItem("B", "", 2, "price_B")))
		f.stripe.SetQuantity(s.ID, 0, 2)
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
			t.Fatalf("outcome %s, want committed", out)
		}
		if got := f.stockOf(t); got != [2][2]int64{{3, 0}, {1, 0}} {
			t.Errorf("stock %v, want 2 of A and 2 of B sold", got)
		}
		if lines, reason := f.bought(t, s); !reflect.DeepEqual(lines, []inventory.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 2}}) || reason != nil {
			t.Errorf("recorded as bought %+v (review %q)", lines, deref(reason))
		}
		f.shop.RequireLedgerClean(t)
	})

	t.Run("one price for lines of other stock", func(t *testing.T) {
		t.Parallel()
		f := newSettleFixture(t, checkoutd.ModeReserveTTL)
		f.stock(t, "B", "", 3)
		a := pricedItem("A", "", 1, "price_shirt")
		a.AdjustableQuantity = &checkout.AdjustableQuantity{Enabled: true, Minimum: amount(0), Maximum: amount(3)}
		s, _ := f.create(t, f.request("", a, pricedItem("B", "", 1, "price_shirt")))
		f.stripe.SetQuantity(s.ID, 0, 0) // B's line item alone is left: is it A's or B's?
		if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
			t.Fatalf("outcome %s, want committed", out)
		}
		if got := f.stockOf(t); got != [2][2]int64{{2, 0}, {2, 0}} {
			t.Errorf("stock %v, want the whole hold sold", got)
		}
		if _, reason := f.bought(t, s); reason == nil || !strings.Contains(*reason, "could be line 0 or line 1") {
			t.Errorf("review reason %q, want the ambiguity", deref(reason))
		}
		f.shop.RequireLedgerClean(t)
	})
}

// Stripe's line items come in pages; every page is read.
func TestAdjustableReadsEveryPage(t *testing.T) {
	t.Parallel()
	f := newSettleFixture(t, checkoutd.ModeReserveTTL)
	items := []checkout.Item{resizable("A", 1, 0, 2)}
	for _, sku := range []string{"B", "C", "D"} {
		f.stock(t, sku, "", 2)
		items = append(items, resizable(sku, 1, 0, 2))
	}
	s, _ := f.create(t, f.request("", items...))
	f.stripe.PageLineItems(1)
	for i := range items {
		f.stripe.SetQuantity(s.ID, i, 2)
	}
	if out := f.deliver(t, "evt_paid", stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
		t.Fatalf("outcome %s, want committed", out)
	}
	if got := f.stripe.LineItemListings(s.ID); got != len(items) {
		t.Errorf("%d pages read, want %d", got, len(items))
	}
	for sku, want := range map[string]int64{"A": 3, "B": 0, "C": 0, "D": 0} {
		if onHand, reserved := f.level(t, sku); onHand != want || reserved != 0 {
			t.Errorf("%s: on hand %d, reserved %d; want %d and 0", sku, onHand, reserved, want)
		}
	}
	if _, reason := f.bought(t, s); reason != nil {
		t.Errorf("review reason %q: a page was missed", *reason)
	}
	f.shop.RequireLedgerClean(t)
}
