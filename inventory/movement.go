package inventory

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/checkoutd/checkoutd/internal/page"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// Movement is one entry of the append-only stock ledger. Quantity is the
// signed change to on_hand, except for RESERVATION and RELEASE, where it is
// the signed change to reserved.
type Movement struct {
	ID         string       `json:"id"`
	SKU        string       `json:"sku"`
	VariantKey string       `json:"variantKey"`
	LocationID string       `json:"locationId"`
	Type       MovementType `json:"type"`
	Quantity   int64        `json:"quantity"`
	Reference  string       `json:"reference"`
	Notes      string       `json:"notes"`
	CreatedBy  string       `json:"createdBy"`
	// HoldID is the hold a RESERVATION, RELEASE or SALE belongs to; null for
	// other movements. Every key is always present, so the shape is stable.
	HoldID    *string   `json:"holdId"`
	CreatedAt time.Time `json:"createdAt"`
}

// MovementsOptions selects a page of the ledger.
type MovementsOptions struct {
	// SKU, when set, keeps that sku's movements.
	SKU string
	// VariantKey, when set, keeps that variant's movements (with SKU).
	VariantKey *string
	// Limit is the page size, 1 to 500 (default 100).
	Limit int
	// Cursor is the NextCursor of the previous page, "" for the first.
	Cursor string
}

// MovementPage is a page of the ledger, newest first.
type MovementPage struct {
	Items      []Movement `json:"items"`
	NextCursor *string    `json:"nextCursor"`
}

// Movements returns a page of the shop's ledger, newest first.
func (l *Ledger) Movements(ctx context.Context, shopID string, opts MovementsOptions) (*MovementPage, error) {
	var c checker
	c.shopID("shopId", shopID)
	limit := pageLimit(&c, opts.Limit)
	if opts.SKU != "" {
		c.sku("sku", opts.SKU)
	}
	if opts.VariantKey != nil {
		if opts.SKU == "" {
			c.add("variantKey", "needs sku")
		}
		c.variantKey("variantKey", *opts.VariantKey)
	}
	before := int64(math.MaxInt64)
	if opts.Cursor != "" {
		if page.DecodeCursor(opts.Cursor, &before) != nil || before <= 0 {
			c.add("cursor", page.CursorIssue)
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	var rows []db.ListMovementsRow
	var err error
	if opts.SKU == "" {
		rows, err = l.queries.ListMovements(ctx, l.db, db.ListMovementsParams{ShopID: shopID, BeforeID: before, Max: int32(limit + 1)})
	} else {
		var skuRows []db.ListSKUMovementsRow
		skuRows, err = l.queries.ListSKUMovements(ctx, l.db, db.ListSKUMovementsParams{
			ShopID: shopID, Sku: opts.SKU, VariantKey: opts.VariantKey, BeforeID: before, Max: int32(limit + 1),
		})
		for _, r := range skuRows {
			rows = append(rows, db.ListMovementsRow(r))
		}
	}
	if err != nil {
		return nil, l.dbError("list movements", err)
	}
	out := &MovementPage{Items: make([]Movement, 0, len(rows))}
	if len(rows) > limit {
		rows = rows[:limit]
		next := page.EncodeCursor(rows[limit-1].ID)
		out.NextCursor = &next
	}
	if len(rows) == 0 {
		if err := l.requireShop(ctx, shopID); err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		out.Items = append(out.Items, Movement{
			ID: strconv.FormatInt(r.ID, 10), SKU: r.Sku, VariantKey: r.VariantKey, LocationID: r.LocationID,
			Type: MovementType(r.Type), Quantity: r.Quantity, Reference: r.Reference, Notes: r.Notes,
			CreatedBy: r.CreatedBy, HoldID: r.HoldID, CreatedAt: r.CreatedAt.UTC(),
		})
	}
	return out, nil
}
