package webhooks_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/checkout/checkouttest"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/webhooks"
)

// refundEvent is a charge.refunded event for the payment intent pi, as
// Stripe renders it: the charge carries the payment intent's metadata.
func refundEvent(id, pi string, metadata map[string]string, amount, refunded int64) []byte {
	obj, err := json.Marshal(map[string]any{
		"id": "ch_" + id, "object": "charge", "payment_intent": pi, "amount": amount,
		"amount_refunded": refunded, "refunded": refunded >= amount, "currency": "eur",
		"metadata": metadata, "livemode": false,
	})
	if err != nil {
		panic(err)
	}
	payload, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": stripe.EventTypeChargeRefunded, "api_version": stripe.APIVersion,
		"livemode": false, "created": time.Now().Unix(), "pending_webhooks": 1,
		"data": map[string]any{"object": json.RawMessage(obj)},
	})
	if err != nil {
		panic(err)
	}
	return payload
}

// paidCheckout is a checkout for qty of "A", paid with payment intent
// "pi_<eventID>".
func (f *fixture) paidCheckout(t *testing.T, qty int64, eventID string) (*checkout.Session, string) {
	t.Helper()
	s := f.checkout(t, qty)
	if out := f.deliver(t, eventID, stripe.EventTypeCheckoutSessionCompleted, s, "paid"); out != checkout.Committed {
		t.Fatalf("paid: %s", out)
	}
	return s, "pi_" + eventID
}

func (f *fixture) restockOnRefund(t *testing.T, on bool) {
	t.Helper()
	if _, err := f.ledger.UpdateShop(context.Background(), f.shopID, inventory.ShopUpdate{RestockOnRefund: &on}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) sendRefund(t *testing.T, payload []byte) checkout.Outcome {
	t.Helper()
	out, err := f.send(payload)
	if err != nil {
		t.Fatalf("deliver refund: %v", err)
	}
	return out
}

func TestFullRefundRestocksOnce(t *testing.T) {
	f := newFixture(t, checkoutd.ModeReserveTTL)
	f.restockOnRefund(t, true)
	s, pi := f.paidCheckout(t, 2, "evt_paid")
	md := f.metadata(s)
	if onHand, _ := f.stock(t); onHand != 3 {
		t.Fatalf("on hand after sale = %d, want 3", onHand)
	}
	c := f.checkoutOf(t, s)

	// A partial refund is recorded and moves no stock.
	if out := f.sendRefund(t, refundEvent("evt_r1", pi, md, 2000, 500)); out != checkout.Refunded {
		t.Fatalf("partial refund: %s", out)
	}
	if amount, full := checkouttest.Refund(t, f.pool, f.shopID, c.ID); amount != 500 || full {
		t.Fatalf("after partial refund: %d %v", amount, full)
	}
	if onHand, _ := f.stock(t); onHand != 3 {
		t.Fatalf("a partial refund restocked: on hand %d", onHand)
	}

	// The full refund returns both units, with the inbox record.
	full := refundEvent("evt_r2", pi, md, 2000, 2000)
	if out := f.sendRefund(t, full); out != checkout.Restocked {
		t.Fatalf("full refund: %s", out)
	}
	if onHand, _ := f.stock(t); onHand != 5 {
		t.Fatalf("on hand after full refund = %d, want 5", onHand)
	}
	rets, err := f.ledger.ListReturns(context.Background(), f.shopID, *c.HoldID)
	if err != nil || len(rets) != 1 || rets[0].Reason != inventory.RefundReturnReason || !rets[0].Restock || rets[0].Items[0].Quantity != 2 {
		t.Fatalf("returns = %+v, %v", rets, err)
	}

	// Redelivered, and another full-refund event of the same payment: once.
	if out := f.sendRefund(t, full); out != webhooks.Duplicate {
		t.Fatalf("redelivery: %s", out)
	}
	if out := f.sendRefund(t, refundEvent("evt_r3", pi, md, 2000, 2000)); out != checkout.Refunded {
		t.Fatalf("second full refund event: %s", out)
	}
	if onHand, _ := f.stock(t); onHand != 5 {
		t.Fatalf("restocked twice: on hand %d", onHand)
	}
	if amount, refunded := checkouttest.Refund(t, f.pool, f.shopID, c.ID); amount != 2000 || !refunded {
		t.Fatalf("after full refund: %d %v", amount, refunded)
	}
	if got := f.recorded(t); got["evt_r2"].Outcome != string(checkout.Restocked) || got["evt_r2"].Rows != 1 {
		t.Fatalf("inbox: %+v", got)
	}
	f.shop.RequireLedgerClean(t)
}

func TestFullRefundWithoutRestockOnRefund(t *testing.T) {
	f := newFixture(t, checkoutd.ModeReserveTTL)
	s, pi := f.paidCheckout(t, 2, "evt_paid")
	if out := f.sendRefund(t, refundEvent("evt_r", pi, f.metadata(s), 2000, 2000)); out != checkout.Refunded {
		t.Fatalf("full refund: %s", out)
	}
	if onHand, _ := f.stock(t); onHand != 3 {
		t.Fatalf("restocked without restockOnRefund: on hand %d", onHand)
	}
	if amount, full := checkouttest.Refund(t, f.pool, f.shopID, f.checkoutOf(t, s).ID); amount != 2000 || !full {
		t.Fatalf("refund not recorded: %d %v", amount, full)
	}
	f.shop.RequireLedgerClean(t)
}

func TestRefundIgnored(t *testing.T) {
	f := newFixture(t, checkoutd.ModeReserveTTL)
	f.restockOnRefund(t, true)
	s, pi := f.paidCheckout(t, 1, "evt_paid")
	md := f.metadata(s)
	before := checkouttest.Snapshot(t, f.pool, f.shopID)
	for name, payload := range map[string][]byte{
		"unknown payment": refundEvent("evt_x1", "pi_other", md, 1000, 1000),
		"no shop":         refundEvent("evt_x2", pi, map[string]string{}, 1000, 1000),
		"no intent":       refundEvent("evt_x3", "", md, 1000, 1000),
	} {
		if out := f.sendRefund(t, payload); out != checkout.Ignored {
			t.Errorf("%s: %s", name, out)
		}
	}
	if after := checkouttest.Snapshot(t, f.pool, f.shopID); after != before {
		t.Fatalf("an ignored refund changed the shop:\n%s\n%s", before, after)
	}
}
