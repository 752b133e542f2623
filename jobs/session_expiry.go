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

// ExpireSessionArgs asks for the Stripe Checkout Session of an expired hold
// to be expired too.
type ExpireSessionArgs struct {
	ShopID    string `json:"shop_id"`
	HoldID    string `json:"hold_id"`
	SessionID string `json:"session_id"`
}

// Kind identifies the job.
func (ExpireSessionArgs) Kind() string { return "expire_checkout_session" }

// ExpireSessionWorker expires a lapsed hold's Stripe session. If Stripe
// refuses, it looks at the session: complete means the customer paid in the
// meantime, which the webhooks settle (selling the stock again, or recording
// the order as oversold); expired means there is nothing left to do. Other
// failures are retried with River's backoff. It never expires the session of
// a committed hold.
type ExpireSessionWorker struct {
	river.WorkerDefaults[ExpireSessionArgs]
	ledger   *inventory.Ledger
	sessions stripeclient.Sessions
	log      *slog.Logger
}

// NewExpireSessionWorker returns the worker.
func NewExpireSessionWorker(ledger *inventory.Ledger, sessions stripeclient.Sessions, logger *slog.Logger) *ExpireSessionWorker {
	return &ExpireSessionWorker{ledger: ledger, sessions: sessions, log: logger}
}

// Work expires the session.
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
		log.InfoContext(ctx, "stripe session expired with its hold")
		return nil
	}
	getParams := &stripe.CheckoutSessionParams{}
	getParams.Context = ctx
	sess, err := w.sessions.Get(a.SessionID, getParams)
	if err != nil {
		return fmt.Errorf("expire session %s: %w (and reading it: %w)", a.SessionID, expireErr, err)
	}
	switch sess.Status {
	case stripe.CheckoutSessionStatusComplete:
		log.WarnContext(ctx, "session was paid after its hold expired; the webhook settles it")
		return nil
	case stripe.CheckoutSessionStatusExpired:
		return nil
	}
	return fmt.Errorf("expire session %s: %w", a.SessionID, expireErr)
}
