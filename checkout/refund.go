package checkout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/inventory"
)

// The outcomes of a refund event.
const (
	// Refunded: the refund was recorded on the checkout; no stock moved.
	Refunded Outcome = "refunded"
	// Restocked: a full refund returned the order's units to stock.
	Restocked Outcome = "restocked"
)

// RefundEvent is a charge.refunded event as the lifecycle reads it: the
// charge's fields that are the same in every Stripe API version, decoded
// by the webhooks package.
type RefundEvent struct {
	// ID is the Stripe event's id (evt_...).
	ID string
	// ChargeID is the refunded charge (ch_...).
	ChargeID string
	// PaymentIntentID is the charge's payment intent: the checkout's
	// payment, as settling its session recorded it.
	PaymentIntentID string
	// Amount and AmountRefunded are the charge's amount and what has been
	// refunded of it so far, in the currency's minor units.
	Amount, AmountRefunded int64
	// Refunded is Stripe's word that the charge is refunded in full.
	Refunded bool
}

// full reports whether the charge is refunded in full.
func (e RefundEvent) full() bool {
	return e.Refunded || e.Amount > 0 && e.AmountRefunded >= e.Amount
}

// SettleRefund records a refund of a checkout's payment on the checkout of
// shopID that the payment intent belongs to, inside tx, the checkout's row
// locked first. A full refund of a checkout whose stock was sold returns
// every unit not yet returned to stock, once, when the shop has
// RestockOnRefund: a RETURN with reason inventory.RefundReturnReason,
// keyed by the payment so that a second full-refund event returns nothing
// more. log should hold its lines until tx commits (aftercommit.Logger).
func (s *Settler) SettleRefund(ctx context.Context, tx pgx.Tx, shopID string, ev RefundEvent, log *slog.Logger) (Settlement, error) {
	res := Settlement{Outcome: Ignored, ledger: s.ledger.WithTx(tx)}
	c, err := s.queries.LockCheckoutByPaymentIntent(ctx, tx, db.LockCheckoutByPaymentIntentParams{ShopID: shopID, PaymentIntentID: &ev.PaymentIntentID})
	if errors.Is(err, pgx.ErrNoRows) {
		log.InfoContext(ctx, "refund of a payment checkoutd did not settle; ignored")
		res.Reason = fmt.Sprintf("no checkout of shop %s has payment intent %s", shopID, ev.PaymentIntentID)
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("lock checkout: %w", err)
	}
	holdID := ""
	if c.HoldID != nil {
		holdID = *c.HoldID
	}
	log = log.With("checkout_id", c.ID, "hold_id", holdID)
	if err := s.queries.RecordCheckoutRefund(ctx, tx, db.RecordCheckoutRefundParams{
		ShopID: shopID, ID: c.ID, AmountRefunded: ev.AmountRefunded, Refunded: ev.full(),
	}); err != nil {
		return res, fmt.Errorf("record refund: %w", err)
	}
	res.Outcome = Refunded
	// Only a sale took stock: an oversold order sold nothing, and a
	// checkout that was never paid has nothing to refund.
	if !ev.full() || Status(c.Status) != StatusCompleted || holdID == "" {
		log.InfoContext(ctx, "refund recorded", "amount_refunded", ev.AmountRefunded, "full", ev.full())
		return res, nil
	}
	shop, err := res.ledger.GetShop(ctx, shopID)
	if err != nil {
		return res, fmt.Errorf("read shop settings: %w", err)
	}
	if !shop.RestockOnRefund {
		log.InfoContext(ctx, "full refund recorded; the shop does not restock on refund", "amount_refunded", ev.AmountRefunded)
		return res, nil
	}
	ret, created, err := res.ledger.ReturnRemaining(ctx, shopID, holdID, inventory.RefundReturnReason, "stripe_refund:"+ev.PaymentIntentID)
	var notActive *inventory.HoldNotActiveError
	if errors.As(err, &notActive) {
		// Retrying would not change the hold: the refund stays recorded
		// and someone must look at the stock.
		log.WarnContext(ctx, "full refund of a checkout whose hold is not committed; nothing returned", "hold_status", string(notActive.Status))
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("return refunded units: %w", err)
	}
	if ret == nil || !created {
		log.InfoContext(ctx, "full refund recorded; nothing left to return", "amount_refunded", ev.AmountRefunded)
		return res, nil
	}
	log.InfoContext(ctx, "full refund returned the order's units to stock", "return_id", ret.ID)
	res.Outcome = Restocked
	return res, nil
}
