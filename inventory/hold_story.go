package inventory

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// HoldRecord is a hold as stored, with what its lines alone do not say:
// how it was asked for and how it ended.
type HoldRecord struct {
	Hold
	// StoredStatus is the status in the database; Status reports a lapsed
	// open hold as expired before the reaper closes it, and a bound one past
	// its expiry as expiring before the reaper marks it.
	StoredStatus   HoldStatus
	IdempotencyKey *string
	// CheckoutMode is sale or rental when a checkout placed the hold.
	CheckoutMode *string
	// CommitReference and ReleaseReason say why the hold closed.
	CommitReference *string
	ReleaseReason   *string
	// UpdatedAt moves with every change of the hold, an extension included.
	UpdatedAt time.Time
	// ClosedAt is when the hold was committed, released or expired.
	ClosedAt *time.Time
}

// HoldStory is a hold's record and the movements that placed and closed it,
// oldest first.
type HoldStory struct {
	Record    HoldRecord
	Movements []Movement
}

// maxStoryMovements bounds a story's movements: a hold has at most
// MaxItems lines, each at a few locations, placed once and closed once.
const maxStoryMovements = 1000

// HoldStory returns a hold with every movement it wrote, or ErrHoldNotFound.
func (l *Ledger) HoldStory(ctx context.Context, shopID, holdID string) (*HoldStory, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.text("holdId", holdID, maxTextLen)
	if err := c.err(); err != nil {
		return nil, err
	}
	row, err := l.queries.GetHoldRecord(ctx, l.db, db.GetHoldRecordParams{ShopID: shopID, ID: holdID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrHoldNotFound
	}
	if err != nil {
		return nil, l.dbError("get hold record", err)
	}
	hold, err := l.GetHold(ctx, shopID, holdID)
	if err != nil {
		return nil, err
	}
	rec := HoldRecord{
		Hold: *hold, StoredStatus: HoldStatus(row.Status), IdempotencyKey: row.IdempotencyKey,
		CheckoutMode:    row.CheckoutMode,
		CommitReference: row.CommitReference, ReleaseReason: row.ReleaseReason,
		UpdatedAt: row.UpdatedAt.UTC(), ClosedAt: utcPtr(row.ClosedAt),
	}
	skus := make([]string, 0, len(hold.Items))
	for _, it := range hold.Items {
		skus = append(skus, it.SKU)
	}
	rows, err := l.queries.ListHoldMovements(ctx, l.db, db.ListHoldMovementsParams{
		ShopID: shopID, Skus: skus, HoldID: holdID, Since: row.CreatedAt, Max: maxStoryMovements,
	})
	if err != nil {
		return nil, l.dbError("list hold movements", err)
	}
	story := &HoldStory{Record: rec, Movements: make([]Movement, 0, len(rows))}
	for _, r := range rows {
		story.Movements = append(story.Movements, Movement{
			ID: strconv.FormatInt(r.ID, 10), SKU: r.Sku, VariantKey: r.VariantKey, LocationID: r.LocationID,
			Type: MovementType(r.Type), Quantity: r.Quantity, Reference: r.Reference, Notes: r.Notes,
			CreatedBy: r.CreatedBy, HoldID: r.HoldID, CreatedAt: r.CreatedAt.UTC(),
		})
	}
	return story, nil
}

// HoldSummary is a hold without its lines, as lists show it.
type HoldSummary struct {
	ID string
	// Status reports a lapsed open hold as expired.
	Status            HoldStatus
	ExpiresAt         time.Time
	Reference         string
	CheckoutSessionID *string
	CreatedAt         time.Time
}

// maxFound bounds FindHolds' answer.
const maxFound = 50

// FindHolds returns the shop's holds that word names, by id, reference,
// idempotency key or Stripe Checkout Session id, newest first (at most
// 50). Nothing found is an empty list.
func (l *Ledger) FindHolds(ctx context.Context, shopID, word string) ([]HoldSummary, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.text("q", word, maxTextLen)
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.FindHolds(ctx, l.db, db.FindHoldsParams{ShopID: shopID, Word: word, Max: maxFound})
	if err != nil {
		return nil, l.dbError("find holds", err)
	}
	out := make([]HoldSummary, len(rows))
	for i, r := range rows {
		out[i] = HoldSummary{ID: r.ID, Status: reportedStatus(r.Status, r.Lapsed, r.Expiring), ExpiresAt: r.ExpiresAt.UTC(),
			Reference: r.Reference, CheckoutSessionID: r.CheckoutSessionID, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// reportedStatus is a stored status as callers see it: an open hold that
// no longer holds stock has expired, and a bound one past its expiry that
// still holds it is expiring, whether or not the reaper has been by.
func reportedStatus(stored string, lapsed, expiring bool) HoldStatus {
	switch {
	case lapsed:
		return HoldExpired
	case expiring:
		return HoldExpiring
	}
	return HoldStatus(stored)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
