package inventory

import "context"

// StockInfoFromTotals reads a line as ListStock and UpdateSettings do (its
// totals, then its locations), to compare with StockInfo's one query.
func StockInfoFromTotals(ctx context.Context, l *Ledger, shopID, sku, variantKey string) ([]StockInfo, error) {
	return l.stockInfos(ctx, l.db, shopID, []lineKey{{sku, variantKey}})
}
