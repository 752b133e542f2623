package inventory

import (
	"context"

	"github.com/checkoutd/checkoutd/internal/page"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// StockSearch narrows a page of stock lines. The zero value lists them all.
type StockSearch struct {
	// Word, when set, keeps lines whose sku or variant key contains it, in
	// any case.
	Word string
	// LocationID, when set, keeps lines the location has a row for.
	LocationID string
	// LowStockOnly keeps lines at or below their low-stock threshold.
	LowStockOnly bool
	// BackorderedOnly keeps lines with units promised beyond what some
	// location has on hand.
	BackorderedOnly bool
	// Limit is the page size, 1 to 500 (default 100).
	Limit int
	// Cursor is the NextCursor of the previous page, "" for the first.
	Cursor string
}

// SearchStock returns a page of the shop's stock lines that match s, in
// (sku, variant key) order, as ListStock has them.
func (l *Ledger) SearchStock(ctx context.Context, shopID string, s StockSearch) (*StockPage, error) {
	var c checker
	c.shopID("shopId", shopID)
	c.text("q", s.Word, maxTextLen)
	if s.LocationID != "" {
		c.locationID("location", s.LocationID)
	}
	limit := pageLimit(&c, s.Limit)
	var after stockCursor
	if s.Cursor != "" && page.DecodeCursor(s.Cursor, &after) != nil {
		c.add("cursor", page.CursorIssue)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.SearchStockLines(ctx, l.db, db.SearchStockLinesParams{
		ShopID:           shopID,
		DefaultThreshold: l.cfg.DefaultLowStockThreshold,
		AfterSku:         after.SKU,
		AfterVariantKey:  after.VariantKey,
		Word:             s.Word,
		LocationID:       s.LocationID,
		LowStockOnly:     s.LowStockOnly,
		BackorderedOnly:  s.BackorderedOnly,
		Max:              int32(limit + 1),
	})
	if err != nil {
		return nil, l.dbError("search stock", err)
	}
	lines := make([]stockLineRow, len(rows))
	for i, r := range rows {
		lines[i] = stockLineRow(r)
	}
	return l.stockPage(ctx, shopID, lines, limit)
}

// stockPage makes a page of up to limit lines from lines, which were read
// with one line more than limit so that a next page shows: it sets the
// cursor, tells an empty page of an unknown shop by ErrShopNotFound, and
// completes the lines with their locations.
func (l *Ledger) stockPage(ctx context.Context, shopID string, lines []stockLineRow, limit int) (*StockPage, error) {
	out := &StockPage{Items: []StockInfo{}}
	if len(lines) > limit {
		lines = lines[:limit]
		last := lines[limit-1]
		next := page.EncodeCursor(stockCursor{SKU: last.Sku, VariantKey: last.VariantKey})
		out.NextCursor = &next
	}
	if len(lines) == 0 {
		if err := l.requireShop(ctx, shopID); err != nil {
			return nil, err
		}
		return out, nil
	}
	var err error
	if out.Items, err = l.withLocations(ctx, l.db, shopID, lines); err != nil {
		return nil, err
	}
	return out, nil
}

// CountLowStock counts the shop's lines at or below their low-stock
// threshold, up to upTo (1 to 10,000): a shop with thousands of low lines
// needs to know there are many, not how many, and counting them all would
// read every line.
func (l *Ledger) CountLowStock(ctx context.Context, shopID string, upTo int) (int64, error) {
	var c checker
	c.shopID("shopId", shopID)
	if upTo < 1 || upTo > 10_000 {
		c.add("upTo", "must be from 1 to 10000")
	}
	if err := c.err(); err != nil {
		return 0, err
	}
	n, err := l.queries.CountLowStockLines(ctx, l.db, db.CountLowStockLinesParams{ShopID: shopID, DefaultThreshold: l.cfg.DefaultLowStockThreshold, Max: int32(upTo)})
	if err != nil {
		return 0, l.dbError("count low stock", err)
	}
	return n, nil
}
