package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/internal/aftercommit"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/webhooks/internal/db"
)

// Duplicate is the outcome of an event applied before: nothing changed.
// The other outcomes are the checkout lifecycle's (checkout.Outcome).
const Duplicate checkout.Outcome = "duplicate"

// Config configures a Processor.
type Config struct {
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
}

// Processor applies verified Stripe events: it records each in the
// stripe_events inbox and hands a checkout session's event to the checkout
// lifecycle, both in one transaction, so that an event is applied exactly
// once and the jobs it causes commit with it.
type Processor struct {
	db      *pgxpool.Pool
	queries *db.Queries
	settler *checkout.Settler
	log     *slog.Logger
	// beforeCommit, set by tests, runs after an event's effect and before
	// its transaction commits.
	beforeCommit func() error
}

// NewProcessor returns a Processor that records events in pool and settles
// their checkouts with settler.
func NewProcessor(pool *pgxpool.Pool, settler *checkout.Settler, cfg Config) *Processor {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Processor{db: pool, queries: db.New(), settler: settler, log: cfg.Logger}
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

// event is what the checkout lifecycle reads of ev, about s.
func (s checkoutSession) event(ev stripe.Event) checkout.SessionEvent {
	return checkout.SessionEvent{
		ID: ev.ID, Type: ev.Type, SessionID: s.ID, PaymentStatus: s.PaymentStatus,
		CheckoutID: s.Metadata["checkout_id"], PaymentIntentID: s.paymentIntentID(),
	}
}

// Result is what processing an event did.
type Result struct {
	// Outcome is Duplicate or the checkout lifecycle's outcome.
	Outcome checkout.Outcome
	// Reason says, for a checkout.Ignored outcome, why the event changed
	// nothing: for whoever sent it, Stripe's dashboard or a developer's
	// checkoutd stripe send-event.
	Reason string
}

// Process applies ev and reports what it did. An error means nothing was
// applied or recorded and the event should be delivered again.
func (p *Processor) Process(ctx context.Context, ev stripe.Event) (checkout.Outcome, error) {
	res, err := p.ProcessEvent(ctx, ev)
	return res.Outcome, err
}

// ProcessEvent is Process, saying also why an ignored event was ignored.
func (p *Processor) ProcessEvent(ctx context.Context, ev stripe.Event) (Result, error) {
	if ev.Type == stripe.EventTypeChargeRefunded {
		return p.processRefund(ctx, ev)
	}
	var sess checkoutSession
	handled := strings.HasPrefix(string(ev.Type), "checkout.session.")
	ignored := ""
	if !handled {
		ignored = fmt.Sprintf("event type %s is not handled", ev.Type)
	} else if ev.Data != nil {
		if err := json.Unmarshal(ev.Data.Raw, &sess); err != nil {
			handled, ignored = false, "the event's data.object is not a Checkout Session"
		}
	}
	shopID := sess.Metadata["shop_id"]
	if !checkoutd.ValidShopID(shopID) {
		shopID = ""
	}
	switch {
	case ignored != "":
	case sess.ID == "":
		ignored = "the event names no Checkout Session"
	case shopID == "":
		ignored = "the session's metadata has no valid shop_id"
	}
	log := p.log.With("event_id", ev.ID, "event_type", string(ev.Type), "api_version", ev.APIVersion,
		"shop_id", shopID, "stripe_session_id", sess.ID)

	// What settling the event needs from Stripe (the line items of a
	// payment whose quantities the customer could change) is read before
	// its transaction opens: no lock waits on the network.
	var prepared checkout.Prepared
	if handled && shopID != "" && sess.ID != "" {
		var err error
		if prepared, err = p.settler.Prepare(ctx, p.db, shopID, sess.event(ev)); err != nil {
			return Result{}, fmt.Errorf("process event %s: %w", ev.ID, err)
		}
	}

	var sessionID *string
	if sess.ID != "" {
		sessionID = &sess.ID
	}
	var settle func(pgx.Tx, *slog.Logger) (checkout.Settlement, error)
	if handled && shopID != "" && sess.ID != "" {
		settle = func(tx pgx.Tx, txLog *slog.Logger) (checkout.Settlement, error) {
			return p.settler.Settle(ctx, tx, shopID, sess.event(ev), prepared, txLog)
		}
	}
	return p.apply(ctx, ev, shopID, sessionID, ignored, log, settle)
}

// apply records ev in the inbox and, unless settle is nil (the event is
// ignored for the reason ignored), applies it with settle, in one
// transaction: the event's effect and its record commit together or not at
// all, and a duplicate changes nothing. What the event changes is not done
// until the transaction commits: the logs and metrics of the change wait
// for it.
func (p *Processor) apply(ctx context.Context, ev stripe.Event, shopID string, sessionID *string, ignored string, log *slog.Logger,
	settle func(pgx.Tx, *slog.Logger) (checkout.Settlement, error)) (Result, error) {
	var (
		outcome checkout.Outcome
		after   aftercommit.Queue
		settled checkout.Settlement
	)
	txLog := aftercommit.Logger(log, &after)
	err := pgx.BeginFunc(ctx, p.db, func(tx pgx.Tx) error {
		_, err := p.queries.RecordStripeEvent(ctx, tx, db.RecordStripeEventParams{
			ShopID: shopID, ID: ev.ID, Type: string(ev.Type), StripeSessionID: sessionID,
			ApiVersion: ev.APIVersion, Outcome: string(checkout.Ignored),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			outcome = Duplicate
			return nil
		}
		if err != nil {
			return fmt.Errorf("record event: %w", err)
		}
		outcome = checkout.Ignored
		if settle != nil {
			if settled, err = settle(tx, txLog); err != nil {
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
