package inventory

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// StockCheck is a requested low-stock check of one line. Stock changes that
// can make a line low request one in their own transaction (the outbox);
// the alerts package takes them.
type StockCheck struct {
	ShopID     string
	SKU        string
	VariantKey string
}

// TakeStockChecks takes up to max requested low-stock checks in tx, oldest
// first. Takers running side by side take different requests; what tx took
// is asked again if it rolls back. A taken request blocks stock changes that
// would request the same line until tx ends.
func (l *Ledger) TakeStockChecks(ctx context.Context, tx pgx.Tx, max int) ([]StockCheck, error) {
	rows, err := l.queries.TakeStockChecks(ctx, tx, int32(max))
	if err != nil {
		return nil, database.WrapError("take stock checks", err)
	}
	checks := make([]StockCheck, len(rows))
	for i, r := range rows {
		checks[i] = StockCheck{ShopID: r.ShopID, SKU: r.Sku, VariantKey: r.VariantKey}
	}
	return checks, nil
}

// ClaimLowStockAlert is the low-stock debounce: in tx, it claims the line's
// alert unless one was claimed within interval (whole seconds, at least
// one), and reports whether it did. Concurrent claims for one line
// serialize on its row until tx ends; one wins.
func (l *Ledger) ClaimLowStockAlert(ctx context.Context, tx pgx.Tx, shopID, sku, variantKey string, interval time.Duration) (bool, error) {
	_, err := l.queries.ClaimLowStockAlert(ctx, tx, db.ClaimLowStockAlertParams{
		ShopID: shopID, Sku: sku, VariantKey: variantKey, IntervalSeconds: int32(max(interval/time.Second, 1)),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, database.WrapError("claim low-stock alert", err)
	}
	return true, nil
}
