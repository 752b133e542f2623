package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/inventory"
)

// ExpireSessionArgs asks for the Stripe Checkout Session of an expiring
// hold to be expired, so that the hold's stock can be given back.
type ExpireSessionArgs struct {
	ShopID    string `json:"shop_id"`
	HoldID    string `json:"hold_id"`
	SessionID string `json:"session_id"`
}

// Kind identifies the job.
func (ExpireSessionArgs) Kind() string { return "expire_checkout_session" }

// PaidSessions settles the checkout of a Stripe session that the expiry job
// found complete: the customer paid while the hold was expiring, so the
// payment commits it. checkout.StripeSettler implements it; the interface
// keeps the job runner from depending on the checkout lifecycle.
type PaidSessions interface {
	SettleSession(ctx context.Context, shopID string, sess *stripe.CheckoutSession) error
}

// ExpireSessionWorker expires an expiring hold's Stripe session, then gives
// the hold's stock back (inventory.Ledger.SessionClosed): only once Stripe
// can no longer take payment is the stock free to sell again. If Stripe
// refuses, it looks at the session: complete means the customer paid in the
// meantime, and the payment commits the hold; expired means Stripe closed it
// already, and the stock goes back. Any other failure is retried with
// River's backoff while the hold keeps its stock, at the latest until its
// session's own expiry plus inventory.SessionGrace, when the reaper gives
// it back. It never expires the session of a committed hold.
type ExpireSessionWorker struct {
	river.WorkerDefaults[ExpireSessionArgs]
	ledger   *inventory.Ledger
	sessions stripeclient.Sessions
	paid     PaidSessions
	log      *slog.Logger
}

// NewExpireSessionWorker returns the worker. paid settles sessions found
// complete; with none, their webhook does it.
func NewExpireSessionWorker(ledger *inventory.Ledger, sessions stripeclient.Sessions, paid PaidSessions, logger *slog.Logger) *ExpireSessionWorker {
	return &ExpireSessionWorker{ledger: ledger, sessions: sessions, paid: paid, log: logger}
}

// Work expires the session, and settles the hold by Stripe's answer.
func (w *ExpireSessionWorker) Work(ctx context.Context, job *river.Job[ExpireSessionArgs]) error {
	a := job.Args
	log := w.log.With("shop_id", a.ShopID, "hold_id", a.HoldID, "stripe_session_id", a.SessionID)
	hold, err := w.ledger.GetHold(ctx, a.ShopID, a.HoldID)
	if err != nil && !errors.Is(err, inventory.ErrHoldNotFound) {
		return err
	}
	if hold != nil && hold.Status == inventory.HoldCommitted {
		log.InfoContext(ctx, "hold was committed; its session is left alone")
		return nil
	}
	params := &stripe.CheckoutSessionExpireParams{}
	params.Context = ctx
	_, expireErr := w.sessions.Expire(a.SessionID, params)
	if expireErr == nil {
		log.InfoContext(ctx, "stripe session expired; giving the hold's stock back")
		return w.closed(ctx, a, log)
	}
	getParams := &stripe.CheckoutSessionParams{}
	getParams.Context = ctx
	sess, err := w.sessions.Get(a.SessionID, getParams)
	if err != nil {
		return fmt.Errorf("expire session %s: %w (and reading it: %w)", a.SessionID, expireErr, err)
	}
	switch sess.Status {
	case stripe.CheckoutSessionStatusComplete:
		if w.paid == nil {
			log.WarnContext(ctx, "session was paid while its hold was expiring; the webhook settles it")
			return nil
		}
		log.InfoContext(ctx, "session was paid while its hold was expiring; settling the payment")
		if err := w.paid.SettleSession(ctx, a.ShopID, sess); err != nil {
			return fmt.Errorf("settle paid session %s: %w", a.SessionID, err)
		}
		return nil
	case stripe.CheckoutSessionStatusExpired:
		log.InfoContext(ctx, "stripe session had expired already; giving the hold's stock back")
		return w.closed(ctx, a, log)
	}
	return fmt.Errorf("expire session %s: %w", a.SessionID, expireErr)
}

// closed gives back the stock of a hold whose session Stripe says is expired.
func (w *ExpireSessionWorker) closed(ctx context.Context, a ExpireSessionArgs, log *slog.Logger) error {
	_, err := w.ledger.SessionClosed(ctx, a.ShopID, a.HoldID, "session_expired")
	var notActive *inventory.HoldNotActiveError
	switch {
	case err == nil, errors.Is(err, inventory.ErrHoldNotFound):
		return nil
	case errors.As(err, &notActive):
		// Committed meanwhile: the payment won, and the stock is sold.
		log.InfoContext(ctx, "hold was committed while its session expired", "status", string(notActive.Status))
		return nil
	}
	return fmt.Errorf("release the hold of expired session %s: %w", a.SessionID, err)
}
