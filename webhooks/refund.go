package webhooks

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
)

// charge is the part of a charge.refunded event's Charge checkoutd reads:
// fields that are the same in every Stripe API version. Its metadata is
// the payment intent's, which checkoutd set when it created the session.
type charge struct {
	ID             string            `json:"id"`
	PaymentIntent  json.RawMessage   `json:"payment_intent"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
	Refunded       bool              `json:"refunded"`
	Metadata       map[string]string `json:"metadata"`
}

// processRefund applies a charge.refunded event: the inbox record and the
// refund's effect on its checkout (and its stock) commit together.
func (p *Processor) processRefund(ctx context.Context, ev stripe.Event) (Result, error) {
	var ch charge
	ignored := ""
	if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &ch) != nil {
		ignored = "the event's data.object is not a Charge"
	}
	pi := checkoutSession{PaymentIntent: ch.PaymentIntent}.paymentIntentID()
	shopID := ch.Metadata["shop_id"]
	if !checkoutd.ValidShopID(shopID) {
		shopID = ""
	}
	switch {
	case ignored != "":
	case pi == nil:
		ignored = "the charge names no payment intent"
	case shopID == "":
		ignored = "the charge's metadata has no valid shop_id"
	case ch.AmountRefunded < 0 || ch.Amount < 0:
		ignored = "the charge's amounts are negative"
	}
	log := p.log.With("event_id", ev.ID, "event_type", string(ev.Type), "api_version", ev.APIVersion,
		"shop_id", shopID, "charge_id", ch.ID)
	var settle func(pgx.Tx, *slog.Logger) (checkout.Settlement, error)
	if ignored == "" {
		settle = func(tx pgx.Tx, txLog *slog.Logger) (checkout.Settlement, error) {
			return p.settler.SettleRefund(ctx, tx, shopID, checkout.RefundEvent{
				ID: ev.ID, ChargeID: ch.ID, PaymentIntentID: *pi,
				Amount: ch.Amount, AmountRefunded: ch.AmountRefunded, Refunded: ch.Refunded,
			}, txLog)
		}
	}
	return p.apply(ctx, ev, shopID, nil, ignored, log, settle)
}
