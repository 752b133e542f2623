package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/aftercommit"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/webhooks/internal/db"
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
	var (
		outcome checkout.Outcome
		after   aftercommit.Queue
		settled checkout.Settlement
	)
	txLog := aftercommit.Logger(log, &after)
	err := pgx.BeginFunc(ctx, p.db, func(tx pgx.Tx) error {
		_, err := p.queries.RecordStripeEvent(ctx, tx, db.RecordStripeEventParams{
			ShopID: shopID, ID: ev.ID, Type: string(ev.Type), ApiVersion: ev.APIVersion, Outcome: string(checkout.Ignored),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			outcome = Duplicate
			return nil
		}
		if err != nil {
			return fmt.Errorf("record event: %w", err)
		}
		outcome = checkout.Ignored
		if ignored == "" {
			settled, err = p.settler.SettleRefund(ctx, tx, shopID, checkout.RefundEvent{
				ID: ev.ID, ChargeID: ch.ID, PaymentIntentID: *pi,
				Amount: ch.Amount, AmountRefunded: ch.AmountRefunded, Refunded: ch.Refunded,
			}, txLog)
			if err != nil {
				return err
			}
			outcome, ignored = settled.Outcome, settled.Reason
			if err := p.queries.SetStripeEventOutcome(ctx, tx, db.SetStripeEventOutcomeParams{ShopID: shopID, ID: ev.ID, Outcome: string(outcome)}); err != nil {
				return fmt.Errorf("record outcome: %w", err)
			}
		}
		if p.beforeCommit != nil {
			return p.beforeCommit()
		}
		return nil
	})
	if err != nil {
		return Result{}, database.WrapError("process event "+ev.ID, err)
	}
	settled.Committed()
	after.Flush()
	log.InfoContext(ctx, "stripe event processed", "outcome", string(outcome))
	res := Result{Outcome: outcome}
	if outcome == checkout.Ignored {
		res.Reason = ignored
	}
	return res, nil
}
