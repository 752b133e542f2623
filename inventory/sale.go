package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// AwaitPayment keeps an open hold's stock for a payment that is on its way
// (a delayed payment method): the hold becomes pending_payment and lasts at
// least until now + wait, past its TTL. A hold that is not open, or has
// lapsed, is a *HoldNotActiveError.
func (l *Ledger) AwaitPayment(ctx context.Context, shopID, holdID string, wait time.Duration) (*Hold, error) {
	n, err := l.queries.AwaitHoldPayment(ctx, l.db, db.AwaitHoldPaymentParams{ShopID: shopID, ID: holdID, Hours: int32((wait + time.Hour - 1) / time.Hour)})
	if err != nil {
		return nil, l.dbError("await payment", err)
	}
	hold, err := l.GetHold(ctx, shopID, holdID)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, &HoldNotActiveError{HoldID: holdID, Status: hold.Status}
	}
	l.log.InfoContext(ctx, "hold awaits payment", "shop_id", shopID, "hold_id", holdID, "expires_at", hold.ExpiresAt)
	return hold, nil
}

// AttachSession records on a hold the Stripe Checkout Session that sells
// it and when that session expires. From then on the hold keeps its stock
// past its expiry, since the customer may still be paying: the reaper makes
// it expiring and has the session expired, and the stock goes back once
// Stripe says the session is expired, or SessionGrace after the session's
// own expiry if Stripe never says; a payment meanwhile commits it. The
// checkout package calls it on a Ledger bound to the transaction that
// records the session on the checkout (WithTx). Errors are wrapped but not
// classified: the caller's wrapping does that.
func (l *Ledger) AttachSession(ctx context.Context, shopID, holdID, sessionID string, expiresAt time.Time) error {
	err := l.queries.AttachCheckoutSession(ctx, l.db, db.AttachCheckoutSessionParams{
		ShopID: shopID, ID: holdID, StripeSessionID: &sessionID, ExpiresAt: &expiresAt,
	})
	if err != nil {
		return fmt.Errorf("attach checkout session to hold %s: %w", holdID, err)
	}
	return nil
}

// Sell takes lines off stock at once, as a hold committed on the spot: for a
// payment whose hold was released before it arrived, or a sale that never
// had one (validate_only). All lines or none; a shortfall is an
// *InsufficientStockError and changes nothing. Purchase limits do not
// apply: they are for placing holds, and this customer has paid.
func (l *Ledger) Sell(ctx context.Context, shopID string, lines []Line, reference, checkoutMode string) (*Hold, error) {
	req := ReserveRequest{Items: lines, TTL: time.Minute, Reference: reference, CheckoutMode: checkoutMode}
	if err := req.validate(shopID); err != nil {
		return nil, err
	}
	var sold *Hold
	err := l.inBoundTx(ctx, func(bound *Ledger) error {
		hold, _, err := bound.reserveLines(ctx, shopID, mergeLines(lines), req)
		if err != nil {
			return err
		}
		sold, err = bound.Commit(ctx, shopID, hold.ID, reference)
		return err
	})
	if errors.As(err, new(*InsufficientStockError)) {
		// Counted inside the transaction, the refusal went with its
		// rollback; it stands all the same.
		l.metrics.insufficientStock()
	}
	if err != nil {
		return nil, err
	}
	return sold, nil
}
