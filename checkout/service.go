package checkout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout/internal/db"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/internal/ids"
	"github.com/checkoutd/checkoutd/internal/stripeclient"
	"github.com/checkoutd/checkoutd/inventory"
)

// bypass is the inventory mode recorded on checkouts made with
// SKIP_INVENTORY_VALIDATION=1.
const bypass checkoutd.InventoryMode = "bypass"

// Config configures a Service.
type Config struct {
	// InventoryMode is INVENTORY_MODE.
	InventoryMode checkoutd.InventoryMode
	// HoldTTL is how long a reserve_ttl hold lasts (INVENTORY_HOLD_TTL_SECONDS).
	HoldTTL time.Duration
	// SkipInventoryValidation is the SKIP_INVENTORY_VALIDATION=1 bypass.
	SkipInventoryValidation bool
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
}

// abandonedAfter is how long a checkout still being created must have made no
// progress before a replay takes it over: longer than any request to create
// one can last.
const abandonedAfter = time.Minute

// Service creates checkout sessions.
type Service struct {
	db      *pgxpool.Pool
	queries *db.Queries
	ledger  *inventory.Ledger
	stripe  stripeclient.Sessions
	cfg     Config
	log     *slog.Logger
}

// NewService returns a Service that keeps its records in db, its stock in
// ledger and its sessions in stripe.
func NewService(pool *pgxpool.Pool, ledger *inventory.Ledger, stripe stripeclient.Sessions, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{db: pool, queries: db.New(), ledger: ledger, stripe: stripe, cfg: cfg, log: cfg.Logger}
}

// Session is a checkout session as the shop sees it.
type Session struct {
	ID string `json:"id"`
	// URL is where a hosted session's customer pays; nil when embedded.
	URL           *string                 `json:"url"`
	InventoryMode checkoutd.InventoryMode `json:"inventoryMode"`
	ReservationID *string                 `json:"reservationId"`
	ExpiresAt     time.Time               `json:"expiresAt"`
	// UIMode is UIModeHosted or UIModeEmbedded.
	UIMode string `json:"uiMode"`
	// ClientSecret mounts an embedded session on the shop's page
	// (Stripe.js initEmbeddedCheckout); nil when hosted.
	ClientSecret *string `json:"clientSecret"`
}

// Create creates a checkout session for req, holding or checking its stock
// as configured. A replay of a request with the same IdempotencyKey returns
// the same session (created is false); the same key with another request is
// inventory.ErrIdempotencyConflict.
//
// Errors: *checkoutd.ValidationError, *inventory.InsufficientStockError,
// *inventory.BusyError, database.ErrContended (another request still holds
// the idempotency key past the lock timeout), inventory.ErrUnavailable (the
// database does not answer: no session is created, unchecked stock is never
// sold),
// ErrPaymentProvider (Stripe failed; any hold it placed was released) and
// ErrInProgress. With req.HoldID, also inventory.ErrHoldNotFound,
// *inventory.HoldNotActiveError and inventory.ErrHoldInCheckout.
func (s *Service) Create(ctx context.Context, req Request) (sess *Session, created bool, err error) {
	if err := req.validate(); err != nil {
		return nil, false, err
	}
	c, replay, err := s.claim(ctx, req)
	if err != nil || replay != nil {
		return replay, false, err
	}
	log := s.log.With("shop_id", req.ShopID, "checkout_id", c.id)
	if c.holdID != "" {
		// Resuming a checkout whose creator died after placing its hold: if
		// the hold has lapsed or closed meanwhile, a session on it would sell
		// stock nobody holds. Give it up and start afresh.
		hold, err := s.ledger.GetHold(ctx, req.ShopID, c.holdID)
		if err != nil {
			return nil, false, err
		}
		if hold.Status != inventory.HoldActive && hold.Status != inventory.HoldPendingPayment {
			log.InfoContext(ctx, "abandoned checkout's hold is no longer open; starting afresh", "hold_id", c.holdID, "status", string(hold.Status))
			s.abandon(ctx, req.ShopID, c, log)
			if c, replay, err = s.claim(ctx, req); err != nil || replay != nil {
				return replay, false, err
			}
			log = s.log.With("shop_id", req.ShopID, "checkout_id", c.id)
		}
	}

	holdExpiresAt := c.createdAt
	mode := c.mode
	if req.HoldID != "" {
		// The cart's hold is the checkout's reservation in every mode: its
		// stock is held already.
		mode = checkoutd.ModeReserveTTL
	}
	switch mode {
	case checkoutd.ModeReserveTTL:
		switch {
		case c.holdID == "" && req.HoldID != "":
			hold, err := s.adopt(ctx, req, c.id)
			if err != nil {
				s.forget(ctx, req.ShopID, c.id, log)
				return nil, false, err
			}
			c.holdID = hold.ID
			holdExpiresAt = hold.ExpiresAt
		case c.holdID == "":
			hold, placed, err := s.ledger.Reserve(ctx, req.ShopID, inventory.ReserveRequest{
				Items:          inventoryLines(req.storedLines()),
				TTL:            s.cfg.HoldTTL,
				IdempotencyKey: "checkout:" + c.id,
				Reference:      c.id,
				CheckoutMode:   req.Mode,
				CustomerKey:    req.customerKey(),
			})
			if err != nil {
				s.forget(ctx, req.ShopID, c.id, log)
				return nil, false, err
			}
			c.holdID = hold.ID
			if !placed && hold.Status != inventory.HoldActive && hold.Status != inventory.HoldPendingPayment {
				// A resumed checkout whose creator died before recording its
				// hold, which has lapsed since: start afresh.
				s.abandon(ctx, req.ShopID, c, log)
				return s.Create(ctx, req)
			}
			if err := s.queries.SetCheckoutHold(ctx, s.db, db.SetCheckoutHoldParams{ShopID: req.ShopID, ID: c.id, HoldID: &hold.ID}); err != nil {
				s.abandon(ctx, req.ShopID, c, log)
				return nil, false, database.WrapError("record the checkout's hold", err)
			}
			holdExpiresAt = hold.ExpiresAt
		default:
			hold, err := s.ledger.GetHold(ctx, req.ShopID, c.holdID)
			if err != nil {
				return nil, false, err
			}
			holdExpiresAt = hold.ExpiresAt
		}
		log = log.With("hold_id", c.holdID)
	case checkoutd.ModeValidateOnly:
		res, err := s.ledger.Validate(ctx, req.ShopID, inventoryLines(req.storedLines()))
		if err == nil && !res.OK {
			err = &inventory.InsufficientStockError{Lines: res.Insufficient}
		}
		if err != nil {
			s.forget(ctx, req.ShopID, c.id, log)
			return nil, false, err
		}
	case bypass:
		log.WarnContext(ctx, "checkout created without an inventory check: SKIP_INVENTORY_VALIDATION=1")
	}

	// Computed from when the checkout was first recorded, so a resumed
	// checkout sends Stripe the same parameters under the same idempotency
	// key (Stripe refuses a key reused with other parameters).
	expiresAt := sessionExpiry(c.createdAt, holdExpiresAt)
	params := sessionParams(req, c.id, c.holdID, expiresAt)
	params.Context = ctx
	stripeSession, err := s.stripe.New(params)
	if err != nil && c.resumed && refusedExpiry(err) {
		// A resumed checkout first asks with its original parameters, to get
		// back a session Stripe may have made before the crash. Refused for
		// an expiry now too close, Stripe made none (it would have answered
		// with that session): ask again, under the same key, with a fresh one.
		expiresAt = sessionExpiry(time.Now(), holdExpiresAt)
		params = sessionParams(req, c.id, c.holdID, expiresAt)
		params.Context = ctx
		stripeSession, err = s.stripe.New(params)
	}
	if err != nil {
		log.ErrorContext(ctx, "stripe checkout session failed", "error", err.Error())
		s.abandon(ctx, req.ShopID, c, log)
		return nil, false, fmt.Errorf("create checkout session: %w: %w", ErrPaymentProvider, err)
	}
	if stripeSession.ExpiresAt != 0 {
		expiresAt = time.Unix(stripeSession.ExpiresAt, 0).UTC()
	}
	var rentalDue *time.Time
	if due, ok := req.rentalDue(); ok {
		rentalDue = &due
	}
	if err := s.open(ctx, req.ShopID, c.id, stripeSession, expiresAt, rentalDue); err != nil {
		// The session exists and its metadata names the checkout, so the
		// webhooks can still settle it; a replay will record it.
		return nil, false, database.WrapError("record the checkout session", err)
	}
	log.InfoContext(ctx, "checkout session created", "stripe_session_id", stripeSession.ID,
		"inventory_mode", string(c.mode), "mode", req.Mode, "expires_at", expiresAt)
	return s.session(c.mode, req.uiMode(), stripeSession.ID, nonEmpty(stripeSession.URL), nonEmpty(stripeSession.ClientSecret), c.holdID, expiresAt), true, nil
}

// open records the Stripe session on the checkout and, when it has a hold,
// on the hold too, with a rental's due date, in one transaction: the
// checkout's row is locked first, then the hold's, the order the webhooks
// take them in.
func (s *Service) open(ctx context.Context, shopID, checkoutID string, sess *stripe.CheckoutSession, expiresAt time.Time, rentalDueAt *time.Time) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		holdID, err := s.queries.OpenCheckout(ctx, tx, db.OpenCheckoutParams{
			ShopID: shopID, CheckoutID: checkoutID,
			StripeSessionID: &sess.ID, StripeUrl: nonEmpty(sess.URL), StripeClientSecret: nonEmpty(sess.ClientSecret), ExpiresAt: &expiresAt,
		})
		if errors.Is(err, pgx.ErrNoRows) || err == nil && holdID == nil {
			// A checkout forgotten meanwhile has nothing to record, as
			// before; one without a hold has no hold to tell.
			return nil
		}
		if err != nil {
			return err
		}
		bound := s.ledger.WithTx(tx)
		if err := bound.AttachSession(ctx, shopID, *holdID, sess.ID, expiresAt); err != nil {
			return err
		}
		if rentalDueAt != nil {
			return bound.SetRentalDue(ctx, shopID, *holdID, *rentalDueAt)
		}
		return nil
	})
}

// claimed is a checkout this request is creating.
type claimed struct {
	id        string
	mode      checkoutd.InventoryMode
	holdID    string
	createdAt time.Time
	// resumed is set when the checkout was begun by a request that died.
	resumed bool
	// adopted is set when the checkout's hold is the cart's (Request.HoldID).
	adopted bool
}

// claim records the checkout and its idempotency key. For a key already
// used it returns the earlier session, or takes over a checkout whose
// creator died halfway.
func (s *Service) claim(ctx context.Context, req Request) (*claimed, *Session, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, nil, fmt.Errorf("hash request: %w", err)
	}
	hash := sha256.Sum256(body)
	lines, err := json.Marshal(req.storedLines())
	if err != nil {
		return nil, nil, fmt.Errorf("encode lines: %w", err)
	}
	c := &claimed{id: ids.New("chk_"), mode: s.mode(), adopted: req.HoldID != ""}
	var key *string
	if req.IdempotencyKey != "" {
		key = &req.IdempotencyKey
	}
	c.createdAt, err = s.queries.InsertCheckout(ctx, s.db, db.InsertCheckoutParams{
		ShopID: req.ShopID, ID: c.id, Mode: req.Mode, InventoryMode: string(c.mode), UiMode: req.uiMode(),
		IdempotencyKey: key, RequestHash: hash[:], Lines: lines,
	})
	switch {
	case err == nil:
		return c, nil, nil
	case errors.Is(err, pgx.ErrNoRows):
	case database.IsForeignKeyViolation(err):
		return nil, nil, checkoutd.ErrShopNotFound
	default:
		return nil, nil, database.WrapError("record checkout", err)
	}

	prev, err := s.queries.GetCheckoutByIdempotencyKey(ctx, s.db, db.GetCheckoutByIdempotencyKeyParams{
		ShopID: req.ShopID, IdempotencyKey: req.IdempotencyKey, AbandonedAfterSeconds: int32(abandonedAfter / time.Second),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		// Its creator failed and forgot it between our insert and this read.
		return nil, nil, ErrInProgress
	}
	if err != nil {
		return nil, nil, database.WrapError("read checkout", err)
	}
	if !bytes.Equal(prev.RequestHash, hash[:]) {
		return nil, nil, inventory.ErrIdempotencyConflict
	}
	if prev.StripeSessionID != nil {
		return nil, s.session(checkoutd.InventoryMode(prev.InventoryMode), prev.UiMode, *prev.StripeSessionID, prev.StripeUrl, prev.StripeClientSecret, deref(prev.HoldID), *prev.ExpiresAt), nil
	}
	if !prev.Abandoned {
		return nil, nil, ErrInProgress
	}
	s.log.InfoContext(ctx, "resuming an abandoned checkout", "shop_id", req.ShopID, "checkout_id", prev.ID)
	return &claimed{id: prev.ID, mode: checkoutd.InventoryMode(prev.InventoryMode), holdID: deref(prev.HoldID), createdAt: prev.CreatedAt, resumed: true, adopted: req.HoldID != ""}, nil, nil
}

func (s *Service) mode() checkoutd.InventoryMode {
	if s.cfg.SkipInventoryValidation {
		return bypass
	}
	return s.cfg.InventoryMode
}

// session is what the shop is told. A bypassed checkout reports the
// configured mode: the contract knows no other.
func (s *Service) session(mode checkoutd.InventoryMode, uiMode, id string, url, clientSecret *string, holdID string, expiresAt time.Time) *Session {
	if mode == bypass {
		mode = s.cfg.InventoryMode
	}
	sess := &Session{ID: id, URL: url, InventoryMode: mode, ExpiresAt: expiresAt.UTC(), UIMode: uiMode, ClientSecret: clientSecret}
	// Each mode answers the one way into its page, whatever else Stripe's
	// answer carried.
	if uiMode == UIModeEmbedded {
		sess.URL = nil
	} else {
		sess.ClientSecret = nil
	}
	if holdID != "" {
		sess.ReservationID = &holdID
	}
	return sess
}

// abandon undoes a checkout that will get no session: releases its hold at
// once and forgets the record, freeing the idempotency key for a retry.
// It runs even if the request's context is done.
func (s *Service) abandon(ctx context.Context, shopID string, c *claimed, log *slog.Logger) {
	ctx = context.WithoutCancel(ctx)
	// The cart's hold stays the cart's: forgetting the checkout frees it for
	// the next one.
	if c.holdID != "" && !c.adopted {
		if _, err := s.ledger.Release(ctx, shopID, c.holdID, "checkout_failed"); err != nil {
			// The hold expires by itself; log it so the gap is visible.
			log.ErrorContext(ctx, "could not release the hold of a failed checkout", "hold_id", c.holdID, "error", err.Error())
		}
	}
	s.forget(ctx, shopID, c.id, log)
}

func (s *Service) forget(ctx context.Context, shopID, checkoutID string, log *slog.Logger) {
	ctx = context.WithoutCancel(ctx)
	if err := s.queries.DeleteCheckout(ctx, s.db, db.DeleteCheckoutParams{ShopID: shopID, ID: checkoutID}); err != nil {
		log.ErrorContext(ctx, "could not forget a failed checkout", "error", err.Error())
	}
}

// refusedExpiry reports whether Stripe refused a session for its expires_at.
func refusedExpiry(err error) bool {
	var se *stripe.Error
	return errors.As(err, &se) && se.HTTPStatusCode == http.StatusBadRequest && se.Param == "expires_at"
}

// nonEmpty is &s, or nil for "": Stripe answers an embedded session with
// no url and a hosted one with no client secret.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
