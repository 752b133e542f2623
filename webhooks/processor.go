package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd/internal/aftercommit"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/ids"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/jobs"
	"github.com/checkoutd/checkoutd/webhooks/internal/db"
)

// Outcome says what an event did.
type Outcome string

// The outcomes of an event.
const (
	// Duplicate: the event was applied before; nothing changed.
	Duplicate Outcome = "duplicate"
	// Ignored: not an event checkoutd acts on, or a session it did not
	// create; recorded, nothing else changed.
	Ignored Outcome = "ignored"
	// Unchanged: the checkout had already moved past what the event says.
	Unchanged Outcome = "unchanged"
	// Committed: the sale took its stock.
	Committed Outcome = "committed"
	// Oversold: paid, but the stock was gone; recorded as an oversold order.
	Oversold Outcome = "oversold"
	// AwaitingPayment: the hold keeps its stock for a delayed payment.
	AwaitingPayment Outcome = "awaiting_payment"
	// Released: the hold gave its stock back.
	Released Outcome = "released"
)

// JobInserter enqueues River jobs in a transaction; *river.Client[pgx.Tx]
// is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Config configures a Processor.
type Config struct {
	// AsyncPaymentHold is how long a hold keeps its stock for a delayed
	// payment (ASYNC_PAYMENT_HOLD_HOURS, default 72h).
	AsyncPaymentHold time.Duration
	// Jobs, when set, receives the jobs an oversold order causes: an alert,
	// and a refund with RefundOversold. They commit with the event.
	Jobs JobInserter
	// RefundOversold (STRIPE_REFUND_OVERSOLD=1) refunds oversold orders.
	RefundOversold bool
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
}

// Processor applies verified Stripe events.
type Processor struct {
	db      *pgxpool.Pool
	queries *db.Queries
	ledger  *inventory.Ledger
	cfg     Config
	log     *slog.Logger
	// beforeCommit, set by tests, runs after an event's effect and before
	// its transaction commits.
	beforeCommit func() error
}

// NewProcessor returns a Processor over db and ledger.
func NewProcessor(pool *pgxpool.Pool, ledger *inventory.Ledger, cfg Config) *Processor {
	if cfg.AsyncPaymentHold == 0 {
		cfg.AsyncPaymentHold = 72 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Processor{db: pool, queries: db.New(), ledger: ledger, cfg: cfg, log: cfg.Logger}
}

// checkoutSession is the part of a Checkout Session event checkoutd reads:
// fields that are the same in every Stripe API version.
type checkoutSession struct {
	ID            string            `json:"id"`
	PaymentStatus string            `json:"payment_status"`
	Metadata      map[string]string `json:"metadata"`
	PaymentIntent json.RawMessage   `json:"payment_intent"`
}

// paymentIntentID reads payment_intent, which is an id, an expanded object
// or null. Anything that does not look like an id is left out.
func (s checkoutSession) paymentIntentID() *string {
	var id string
	if json.Unmarshal(s.PaymentIntent, &id) != nil {
		var obj struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(s.PaymentIntent, &obj)
		id = obj.ID
	}
	if id == "" || len(id) > 255 {
		return nil
	}
	return &id
}

// Process applies ev and reports what it did. An error means nothing was
// applied or recorded and the event should be delivered again.
func (p *Processor) Process(ctx context.Context, ev stripe.Event) (Outcome, error) {
	var sess checkoutSession
	handled := strings.HasPrefix(string(ev.Type), "checkout.session.")
	if handled && ev.Data != nil {
		if err := json.Unmarshal(ev.Data.Raw, &sess); err != nil {
			handled = false
		}
	}
	shopID := sess.Metadata["shop_id"]
	if !inventory.ValidShopID(shopID) {
		shopID = ""
	}
	log := p.log.With("event_id", ev.ID, "event_type", string(ev.Type), "api_version", ev.APIVersion,
		"shop_id", shopID, "stripe_session_id", sess.ID)

	// What the event changes is not done until its transaction commits:
	// the logs and metrics of the change wait for it.
	var (
		outcome Outcome
		after   aftercommit.Queue
		ledger  *inventory.Ledger
	)
	txLog := aftercommit.Logger(log, &after)
	err := pgx.BeginFunc(ctx, p.db, func(tx pgx.Tx) error {
		ledger = p.ledger.WithTx(tx)
		var sessionID *string
		if sess.ID != "" {
			sessionID = &sess.ID
		}
		_, err := p.queries.RecordStripeEvent(ctx, tx, db.RecordStripeEventParams{
			ShopID: shopID, ID: ev.ID, Type: string(ev.Type), StripeSessionID: sessionID,
			ApiVersion: ev.APIVersion, Outcome: string(Ignored),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			outcome = Duplicate
			return nil
		}
		if err != nil {
			return fmt.Errorf("record event: %w", err)
		}
		outcome = Ignored
		if handled && shopID != "" && sess.ID != "" {
			if outcome, err = p.apply(ctx, tx, ledger, ev, sess, shopID, txLog); err != nil {
				return err
			}
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
		return "", database.WrapError("process event "+ev.ID, err)
	}
	ledger.Committed()
	after.Flush()
	log.InfoContext(ctx, "stripe event processed", "outcome", string(outcome))
	return outcome, nil
}

// The checkout states, by how far along they are. A checkout only moves to
// a later rank.
var statusRank = map[string]int{
	"creating": 0, "open": 1, "pending_payment": 2,
	"completed": 3, "oversold": 3, "payment_failed": 3, "expired": 3,
}

// apply is the state machine, inside the event's transaction; ledger is
// bound to it.
func (p *Processor) apply(ctx context.Context, tx pgx.Tx, ledger *inventory.Ledger, ev stripe.Event, sess checkoutSession, shopID string, log *slog.Logger) (Outcome, error) {
	c, err := p.queries.LockCheckoutBySession(ctx, tx, db.LockCheckoutBySessionParams{ShopID: shopID, StripeSessionID: &sess.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		log.InfoContext(ctx, "event for a session checkoutd did not create; ignored")
		return Ignored, nil
	}
	if err != nil {
		return "", fmt.Errorf("lock checkout: %w", err)
	}
	if id := sess.Metadata["checkout_id"]; id != "" && id != c.ID {
		log.WarnContext(ctx, "event metadata names another checkout; ignored", "checkout_id", c.ID, "metadata_checkout_id", id)
		return Ignored, nil
	}
	holdID := ""
	if c.HoldID != nil {
		holdID = *c.HoldID
	}
	log = log.With("checkout_id", c.ID, "hold_id", holdID)
	st := settlement{p: p, tx: tx, ledger: ledger, ev: ev, sess: sess, shopID: shopID, checkout: c, holdID: holdID, log: log}

	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		switch sess.PaymentStatus {
		case string(stripe.CheckoutSessionPaymentStatusPaid), string(stripe.CheckoutSessionPaymentStatusNoPaymentRequired):
			return st.paid(ctx)
		case string(stripe.CheckoutSessionPaymentStatusUnpaid):
			return st.awaitPayment(ctx)
		}
		log.WarnContext(ctx, "completed session with an unknown payment status; ignored", "payment_status", sess.PaymentStatus)
		return Ignored, nil
	case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		return st.paid(ctx)
	case stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		return st.release(ctx, "payment_failed", "payment_failed")
	case stripe.EventTypeCheckoutSessionExpired:
		return st.release(ctx, "expired", "session_expired")
	}
	return Ignored, nil
}

// settlement applies one event to one locked checkout.
type settlement struct {
	p        *Processor
	tx       pgx.Tx
	ledger   *inventory.Ledger
	ev       stripe.Event
	sess     checkoutSession
	shopID   string
	checkout db.LockCheckoutBySessionRow
	holdID   string
	log      *slog.Logger
}

func (s settlement) settled() bool { return statusRank[s.checkout.Status] >= 3 }

// paid takes the sold stock: commits the hold, or sells the recorded lines
// at once when there is no open hold; records the order as oversold when the
// stock is gone.
func (s settlement) paid(ctx context.Context) (Outcome, error) {
	if s.settled() {
		return Unchanged, nil
	}
	reference := s.checkout.ID
	if pi := s.sess.paymentIntentID(); pi != nil {
		reference = *pi
	}
	var lines []inventory.Line
	if err := json.Unmarshal(s.checkout.Lines, &lines); err != nil {
		return "", fmt.Errorf("decode checkout lines: %w", err)
	}
	soldHold := s.holdID
	if s.holdID != "" {
		_, err := s.ledger.Commit(ctx, s.shopID, s.holdID, reference)
		var notActive *inventory.HoldNotActiveError
		switch {
		case err == nil:
			return s.finish(ctx, "completed", Committed, nil)
		case !errors.As(err, &notActive):
			return "", err
		}
		s.log.WarnContext(ctx, "paid after the hold was closed; selling the stock again", "hold_status", string(notActive.Status))
	}
	hold, err := s.ledger.Sell(ctx, s.shopID, lines, reference, s.checkout.Mode)
	var short *inventory.InsufficientStockError
	switch {
	case err == nil:
		soldHold = hold.ID
		return s.finish(ctx, "completed", Committed, &soldHold)
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
	paymentIntent := s.sess.paymentIntentID()
	refund := s.p.cfg.RefundOversold && paymentIntent != nil
	err := s.p.queries.InsertOversoldOrder(ctx, s.tx, db.InsertOversoldOrderParams{
		ShopID: s.shopID, ID: id, CheckoutID: s.checkout.ID, StripeSessionID: s.sess.ID,
		PaymentIntentID: paymentIntent, EventID: s.ev.ID, Lines: linesJSON, Shortfall: shortJSON,
		RefundRequested: refund,
	})
	if err != nil {
		return "", fmt.Errorf("record oversold order: %w", err)
	}
	if s.p.cfg.Jobs != nil {
		if _, err := s.p.cfg.Jobs.InsertTx(ctx, s.tx, jobs.OversoldAlertArgs{ShopID: s.shopID, OversoldID: id, CheckoutID: s.checkout.ID}, nil); err != nil {
			return "", fmt.Errorf("enqueue oversold alert: %w", err)
		}
		if refund {
			if _, err := s.p.cfg.Jobs.InsertTx(ctx, s.tx, jobs.RefundOversoldArgs{ShopID: s.shopID, OversoldID: id, PaymentIntentID: *paymentIntent, SessionID: s.sess.ID, EventID: s.ev.ID}, nil); err != nil {
				return "", fmt.Errorf("enqueue oversold refund: %w", err)
			}
		}
	}
	s.log.ErrorContext(ctx, "paid order oversold: the stock was gone when the payment arrived", "shortfall", string(shortJSON))
	return s.finish(ctx, "oversold", Oversold, nil)
}

// awaitPayment keeps the hold's stock for a delayed payment.
func (s settlement) awaitPayment(ctx context.Context) (Outcome, error) {
	if statusRank[s.checkout.Status] >= statusRank["pending_payment"] {
		return Unchanged, nil
	}
	if s.holdID != "" {
		_, err := s.ledger.AwaitPayment(ctx, s.shopID, s.holdID, s.p.cfg.AsyncPaymentHold)
		var notActive *inventory.HoldNotActiveError
		if err != nil && !errors.As(err, &notActive) {
			return "", err
		}
		// A hold that lapsed before the customer finished keeps nothing;
		// if the payment does arrive, paid sells the stock again.
	}
	return s.finish(ctx, "pending_payment", AwaitingPayment, nil)
}

// release gives the hold's stock back, unless the checkout is settled.
func (s settlement) release(ctx context.Context, status, reason string) (Outcome, error) {
	if s.settled() {
		return Unchanged, nil
	}
	if s.holdID != "" {
		_, err := s.ledger.Release(ctx, s.shopID, s.holdID, reason)
		var notActive *inventory.HoldNotActiveError
		if err != nil && !errors.As(err, &notActive) {
			return "", err
		}
	}
	return s.finish(ctx, status, Released, nil)
}

// finish moves the checkout to status.
func (s settlement) finish(ctx context.Context, status string, outcome Outcome, holdID *string) (Outcome, error) {
	err := s.p.queries.SettleCheckout(ctx, s.tx, db.SettleCheckoutParams{
		ShopID: s.shopID, ID: s.checkout.ID, Status: status, HoldID: holdID, PaymentIntentID: s.sess.paymentIntentID(),
	})
	if err != nil {
		return "", fmt.Errorf("settle checkout: %w", err)
	}
	return outcome, nil
}
