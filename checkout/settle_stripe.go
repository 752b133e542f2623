package checkout

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/internal/aftercommit"
)

// StripeSettler settles checkouts from their Stripe sessions as read from
// Stripe's API rather than from a webhook: the session-expiry job uses it
// when Stripe refuses to expire a session because the customer has paid,
// so that the payment commits the expiring hold at once instead of waiting
// for the webhook (which then finds the checkout settled).
type StripeSettler struct {
	db      *pgxpool.Pool
	settler *Settler
	log     *slog.Logger
}

// NewStripeSettler returns a StripeSettler that settles in transactions on
// pool with settler.
func NewStripeSettler(pool *pgxpool.Pool, settler *Settler, logger *slog.Logger) *StripeSettler {
	if logger == nil {
		logger = slog.Default()
	}
	return &StripeSettler{db: pool, settler: settler, log: logger}
}

// SettleSession applies what sess says, as a checkout.session.completed
// event for it would: paid commits the hold (or sells the stock again),
// for what the session's line items say was bought when the customer could
// change quantities; unpaid keeps it for the delayed payment. A session of
// another status changes nothing. An error, ErrPaymentProviderUnavailable
// among them, means nothing was settled.
func (s *StripeSettler) SettleSession(ctx context.Context, shopID string, sess *stripe.CheckoutSession) error {
	if sess.Status != stripe.CheckoutSessionStatusComplete {
		return nil
	}
	ev := SessionEvent{
		// Not a Stripe event: the id names the session it was read from, so
		// an oversold order's refund is keyed once per session.
		ID:            "session_read:" + sess.ID,
		Type:          stripe.EventTypeCheckoutSessionCompleted,
		SessionID:     sess.ID,
		PaymentStatus: string(sess.PaymentStatus),
		CheckoutID:    sess.Metadata["checkout_id"],
	}
	if pi := sess.PaymentIntent; pi != nil && pi.ID != "" {
		ev.PaymentIntentID = &pi.ID
	}
	// What the payment bought is read from Stripe before the transaction
	// opens, as for a webhook.
	prepared, err := s.settler.Prepare(ctx, s.db, shopID, ev)
	if err != nil {
		return fmt.Errorf("settle session %s: %w", sess.ID, err)
	}
	var (
		after   aftercommit.Queue
		settled Settlement
	)
	log := aftercommit.Logger(s.log.With("shop_id", shopID, "stripe_session_id", sess.ID, "by", "session_read"), &after)
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		settled, err = s.settler.Settle(ctx, tx, shopID, ev, prepared, log)
		return err
	})
	if err != nil {
		return fmt.Errorf("settle session %s: %w", sess.ID, err)
	}
	settled.Committed()
	after.Flush()
	s.log.InfoContext(ctx, "checkout settled from its Stripe session", "shop_id", shopID, "stripe_session_id", sess.ID, "outcome", string(settled.Outcome))
	return nil
}
