package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/ids"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/inventory"
)

// SessionEvent is a Checkout Session event as the lifecycle reads it: the
// fields that are the same in every Stripe API version, decoded and
// verified by the webhooks package.
type SessionEvent struct {
	// ID is the Stripe event's id (evt_...).
	ID string
	// Type is one of the checkout.session.* event types; others are ignored.
	Type stripe.EventType
	// SessionID is the Checkout Session's id.
	SessionID string
	// PaymentStatus is the session's payment_status.
	PaymentStatus string
	// CheckoutID is the checkout the session's metadata names, "" if none.
	CheckoutID string
	// PaymentIntentID is the session's payment intent, when it names one.
	PaymentIntentID *string
}

// OversoldJobs enqueues the follow-up of an oversold order in the
// transaction that records it, so that the order, its alert and its refund
// commit together. jobs.Enqueuer implements it over River; the interface
// is here so that the lifecycle does not depend on the job runner.
type OversoldJobs interface {
	// EnqueueOversoldAlert asks for people to be told of the order.
	EnqueueOversoldAlert(ctx context.Context, tx pgx.Tx, shopID, oversoldID, checkoutID string) error
	// EnqueueOversoldRefund asks for the order's payment to be refunded;
	// eventID keys the refund so that it happens once.
	EnqueueOversoldRefund(ctx context.Context, tx pgx.Tx, shopID, oversoldID, paymentIntentID, sessionID, eventID string) error
}

// SettleConfig configures a Settler.
type SettleConfig struct {
	// AsyncPaymentHold is how long a hold keeps its stock for a delayed
	// payment (ASYNC_PAYMENT_HOLD_HOURS, default 72h).
	AsyncPaymentHold time.Duration
	// Jobs, when set, receives the jobs an oversold order causes: an alert,
	// and a refund with RefundOversold. They commit with the event.
	Jobs OversoldJobs
	// RefundOversold (STRIPE_REFUND_OVERSOLD=1) refunds oversold orders.
	RefundOversold bool
	// Sessions reads the line items of paid sessions whose customer could
	// change quantities (Prepare): without it, such a payment cannot be
	// settled and its event fails.
	Sessions stripeclient.Sessions
}

// Settler moves checkouts through their lifecycle as Stripe reports on
// their sessions: paid (the hold committed, or the stock sold again after
// the hold was released, or an oversold order), awaiting a delayed payment,
// failed or expired (the hold released).
type Settler struct {
	ledger  *inventory.Ledger
	queries *db.Queries
	cfg     SettleConfig
}

// NewSettler returns a Settler that moves stock through ledger.
func NewSettler(ledger *inventory.Ledger, cfg SettleConfig) *Settler {
	if cfg.AsyncPaymentHold == 0 {
		cfg.AsyncPaymentHold = 72 * time.Hour
	}
	return &Settler{ledger: ledger, queries: db.New(), cfg: cfg}
}

// Settlement is what Settle did.
type Settlement struct {
	// Outcome says what the event did.
	Outcome Outcome
	// Reason says, for an Ignored outcome, why the event changed nothing.
	Reason string

	ledger *inventory.Ledger
}

// Committed logs and counts the stock the settlement moved. Call it once
// the settlement's transaction has committed.
func (s Settlement) Committed() {
	if s.ledger != nil {
		s.ledger.Committed()
	}
}

// Settle applies ev to the checkout of its session in shopID, inside tx:
// the checkout's row is locked first, so that events for one session apply
// one at a time whatever order they arrive in, then its hold's. prepared is
// what Prepare read for ev before tx began. log carries the event's
// attributes and should hold its lines until tx commits
// (aftercommit.Logger), like the stock the Settlement moved.
func (s *Settler) Settle(ctx context.Context, tx pgx.Tx, shopID string, ev SessionEvent, prepared Prepared, log *slog.Logger) (Settlement, error) {
	res := Settlement{Outcome: Ignored, ledger: s.ledger.WithTx(tx)}
	c, err := s.queries.LockCheckoutBySession(ctx, tx, db.LockCheckoutBySessionParams{ShopID: shopID, StripeSessionID: &ev.SessionID})
	if errors.Is(err, pgx.ErrNoRows) {
		log.InfoContext(ctx, "event for a session checkoutd did not create; ignored")
		res.Reason = fmt.Sprintf("no checkout of shop %s has session %s", shopID, ev.SessionID)
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("lock checkout: %w", err)
	}
	if ev.CheckoutID != "" && ev.CheckoutID != c.ID {
		log.WarnContext(ctx, "event metadata names another checkout; ignored", "checkout_id", c.ID, "metadata_checkout_id", ev.CheckoutID)
		res.Reason = fmt.Sprintf("the session's metadata names checkout %s, not the session's own", ev.CheckoutID)
		return res, nil
	}
	holdID := ""
	if c.HoldID != nil {
		holdID = *c.HoldID
	}
	log = log.With("checkout_id", c.ID, "hold_id", holdID)
	st := settlement{s: s, tx: tx, ledger: res.ledger, ev: ev, prepared: prepared, shopID: shopID, checkout: c, status: Status(c.Status), holdID: holdID, log: log}

	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		switch ev.PaymentStatus {
		case string(stripe.CheckoutSessionPaymentStatusPaid), string(stripe.CheckoutSessionPaymentStatusNoPaymentRequired):
			res.Outcome, err = st.paid(ctx)
		case string(stripe.CheckoutSessionPaymentStatusUnpaid):
			res.Outcome, err = st.awaitPayment(ctx)
		default:
			log.WarnContext(ctx, "completed session with an unknown payment status; ignored", "payment_status", ev.PaymentStatus)
			res.Reason = fmt.Sprintf("unknown payment_status %q", ev.PaymentStatus)
		}
	case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		res.Outcome, err = st.paid(ctx)
	case stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		res.Outcome, err = st.release(ctx, StatusPaymentFailed, "payment_failed")
	case stripe.EventTypeCheckoutSessionExpired:
		res.Outcome, err = st.release(ctx, StatusExpired, "session_expired")
	default:
		res.Reason = fmt.Sprintf("event type %s is not handled", ev.Type)
	}
	return res, err
}

// settlement applies one event to one locked checkout.
type settlement struct {
	s        *Settler
	tx       pgx.Tx
	ledger   *inventory.Ledger
	ev       SessionEvent
	prepared Prepared
	shopID   string
	checkout db.LockCheckoutBySessionRow
	status   Status
	holdID   string
	log      *slog.Logger
}

// paid takes the sold stock: commits the hold, or sells the recorded lines
// at once when there is no open hold; records the order as oversold when the
// stock is gone. Of a checkout with adjustable lines it takes what the
// session's line items say was bought, and gives the rest of the hold back.
func (s settlement) paid(ctx context.Context) (Outcome, error) {
	if s.status.Settled() {
		return Unchanged, nil
	}
	reference := s.checkout.ID
	if pi := s.ev.PaymentIntentID; pi != nil {
		reference = *pi
	}
	stored, err := decodeLines(s.checkout.Lines)
	if err != nil {
		return "", err
	}
	lines, partial := inventoryLines(stored), false
	if adjustable(stored) {
		p, err := s.purchase(ctx, stored)
		if err != nil {
			return "", err
		}
		lines, partial = p.lines, p.issue == ""
	}
	if s.holdID != "" {
		if partial {
			_, err = s.ledger.CommitBought(ctx, s.shopID, s.holdID, lines, reference)
		} else {
			_, err = s.ledger.Commit(ctx, s.shopID, s.holdID, reference)
		}
		var notActive *inventory.HoldNotActiveError
		switch {
		case err == nil:
			return s.finish(ctx, StatusCompleted, Committed, nil)
		case !errors.As(err, &notActive):
			return "", err
		}
		s.log.WarnContext(ctx, "paid after the hold was closed; selling the stock again", "hold_status", string(notActive.Status))
	}
	if lines = sold(lines); len(lines) == 0 {
		// The customer dropped every line: nothing to take off stock.
		return s.finish(ctx, StatusCompleted, Committed, nil)
	}
	hold, err := s.ledger.Sell(ctx, s.shopID, lines, reference, s.checkout.Mode)
	var short *inventory.InsufficientStockError
	switch {
	case err == nil:
		return s.finish(ctx, StatusCompleted, Committed, &hold.ID)
	case errors.As(err, &short):
		return s.oversold(ctx, lines, short)
	default:
		return "", err
	}
}

// oversold records a paid order the stock could not cover.
func (s settlement) oversold(ctx context.Context, lines []inventory.Line, short *inventory.InsufficientStockError) (Outcome, error) {
	linesJSON, _ := json.Marshal(lines)
	shortJSON, _ := json.Marshal(short.Lines)
	id := ids.New("ovs_")
	paymentIntent := s.ev.PaymentIntentID
	refund := s.s.cfg.RefundOversold && paymentIntent != nil
	err := s.s.queries.InsertOversoldOrder(ctx, s.tx, db.InsertOversoldOrderParams{
		ShopID: s.shopID, ID: id, CheckoutID: s.checkout.ID, StripeSessionID: s.ev.SessionID,
		PaymentIntentID: paymentIntent, EventID: s.ev.ID, Lines: linesJSON, Shortfall: shortJSON,
		RefundRequested: refund,
	})
	if err != nil {
		return "", fmt.Errorf("record oversold order: %w", err)
	}
	if jobs := s.s.cfg.Jobs; jobs != nil {
		if err := jobs.EnqueueOversoldAlert(ctx, s.tx, s.shopID, id, s.checkout.ID); err != nil {
			return "", fmt.Errorf("enqueue oversold alert: %w", err)
		}
		if refund {
			if err := jobs.EnqueueOversoldRefund(ctx, s.tx, s.shopID, id, *paymentIntent, s.ev.SessionID, s.ev.ID); err != nil {
				return "", fmt.Errorf("enqueue oversold refund: %w", err)
			}
		}
	}
	s.log.ErrorContext(ctx, "paid order oversold: the stock was gone when the payment arrived", "shortfall", string(shortJSON))
	return s.finish(ctx, StatusOversold, Oversold, nil)
}

// awaitPayment keeps the hold's stock for a delayed payment.
func (s settlement) awaitPayment(ctx context.Context) (Outcome, error) {
	if s.status.rank() >= StatusPendingPayment.rank() {
		return Unchanged, nil
	}
	if s.holdID != "" {
		_, err := s.ledger.AwaitPayment(ctx, s.shopID, s.holdID, s.s.cfg.AsyncPaymentHold)
		var notActive *inventory.HoldNotActiveError
		if err != nil && !errors.As(err, &notActive) {
			return "", err
		}
		// A hold that lapsed before the customer finished keeps nothing;
		// if the payment does arrive, paid sells the stock again.
	}
	return s.finish(ctx, StatusPendingPayment, AwaitingPayment, nil)
}

// release gives the hold's stock back, unless the checkout is settled. An
// expired session can no longer be paid, so its hold goes back even while
// it is expiring (Ledger.SessionClosed); a failed payment releases it.
func (s settlement) release(ctx context.Context, status Status, reason string) (Outcome, error) {
	if s.status.Settled() {
		return Unchanged, nil
	}
	if s.holdID != "" {
		giveBack := s.ledger.Release
		if status == StatusExpired {
			giveBack = s.ledger.SessionClosed
		}
		_, err := giveBack(ctx, s.shopID, s.holdID, reason)
		var notActive *inventory.HoldNotActiveError
		if err != nil && !errors.As(err, &notActive) {
			return "", err
		}
	}
	return s.finish(ctx, status, Released, nil)
}

// finish moves the checkout to status.
func (s settlement) finish(ctx context.Context, status Status, outcome Outcome, holdID *string) (Outcome, error) {
	err := s.s.queries.SettleCheckout(ctx, s.tx, db.SettleCheckoutParams{
		ShopID: s.shopID, ID: s.checkout.ID, Status: string(status), HoldID: holdID, PaymentIntentID: s.ev.PaymentIntentID,
	})
	if err != nil {
		return "", fmt.Errorf("settle checkout: %w", err)
	}
	return outcome, nil
}
