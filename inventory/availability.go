package inventory

import (
	"context"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// MaxLineStockPage is the most lines LineStockPage returns at once.
const MaxLineStockPage = 1000

// LineStock is a stock line's totals across the shop's locations, as the
// storefront sees them: the arithmetic of StockInfo without the
// per-location rows.
type LineStock struct {
	SKU        string
	VariantKey string
	// OnHand and Reserved are summed over locations; Reserved does not
	// count lapsed holds.
	OnHand   int64
	Reserved int64
	// Available is OnHand - Reserved - SafetyStock, never below 0.
	Available int64
	// LowStock is whether Available is at or below the line's low-stock
	// threshold (the default threshold for lines without one).
	LowStock bool
	// BackorderAllowed is whether the line may be sold past its stock.
	BackorderAllowed bool
}

// LineRef names one stock line of a shop.
type LineRef struct {
	SKU        string
	VariantKey string
}

// LineStockOfSKUs returns every line of the given SKUs, in (sku, variant
// key) order. SKUs the shop has never stocked, and unknown shops, give no
// lines.
func (l *Ledger) LineStockOfSKUs(ctx context.Context, shopID string, skus []string) ([]LineStock, error) {
	var c checker
	c.shopID("shopId", shopID)
	for _, s := range skus {
		c.sku("sku", s)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.AvailabilityOfSKUs(ctx, l.db, db.AvailabilityOfSKUsParams{
		ShopID: shopID, Skus: skus, DefaultThreshold: l.cfg.DefaultLowStockThreshold,
	})
	if err != nil {
		return nil, l.dbError("read line stock", err)
	}
	out := make([]LineStock, len(rows))
	for i, r := range rows {
		out[i] = lineStock(availabilityRow(r))
	}
	return out, nil
}

// LineStockOf returns the given lines in (sku, variant key) order, leaving
// out lines the shop does not have.
func (l *Ledger) LineStockOf(ctx context.Context, shopID string, lines []LineRef) ([]LineStock, error) {
	var c checker
	c.shopID("shopId", shopID)
	skus := make([]string, len(lines))
	variantKeys := make([]string, len(lines))
	for i, r := range lines {
		c.sku("sku", r.SKU)
		c.variantKey("variantKey", r.VariantKey)
		skus[i], variantKeys[i] = r.SKU, r.VariantKey
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.GetStockLines(ctx, l.db, db.GetStockLinesParams{
		ShopID: shopID, Skus: skus, VariantKeys: variantKeys, DefaultThreshold: l.cfg.DefaultLowStockThreshold,
	})
	if err != nil {
		return nil, l.dbError("read line stock", err)
	}
	out := make([]LineStock, len(rows))
	for i, r := range rows {
		out[i] = lineStock(availabilityRow(r))
	}
	return out, nil
}

// LineStockPage returns up to limit (1 to MaxLineStockPage) of the shop's
// lines after the line after, in (sku, variant key) order; the zero
// LineRef starts at the first line. Fewer than limit lines means the shop
// has no more.
func (l *Ledger) LineStockPage(ctx context.Context, shopID string, after LineRef, limit int) ([]LineStock, error) {
	var c checker
	c.shopID("shopId", shopID)
	if limit < 1 || limit > MaxLineStockPage {
		c.add("limit", "must be an integer from 1 to %d", MaxLineStockPage)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	rows, err := l.queries.ListStockLines(ctx, l.db, db.ListStockLinesParams{
		ShopID: shopID, AfterSku: after.SKU, AfterVariantKey: after.VariantKey,
		DefaultThreshold: l.cfg.DefaultLowStockThreshold, Max: int32(limit),
	})
	if err != nil {
		return nil, l.dbError("read line stock", err)
	}
	out := make([]LineStock, len(rows))
	for i, r := range rows {
		out[i] = lineStock(availabilityRow(r))
	}
	return out, nil
}

// availabilityRow is a line's totals, as AvailabilityOfSKUs and the stock
// queries it shares with StockInfo (GetStockLines, ListStockLines) return
// them.
type availabilityRow db.AvailabilityOfSKUsRow

func lineStock(r availabilityRow) LineStock {
	available := max(r.OnHand-r.Reserved-r.SafetyStock, 0)
	return LineStock{
		SKU:              r.Sku,
		VariantKey:       r.VariantKey,
		OnHand:           r.OnHand,
		Reserved:         r.Reserved,
		Available:        available,
		LowStock:         available <= r.LowStockThreshold,
		BackorderAllowed: r.BackorderLimit > 0,
	}
}
