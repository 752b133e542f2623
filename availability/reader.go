package availability

import (
	"context"
	"fmt"
	"slices"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

// MaxSKUs is the most SKUs one request or subscription may name, as the API
// allows.
const MaxSKUs = 50

// MaxPage is the most items ShopPage returns at once.
const MaxPage = inventory.MaxLineStockPage

// Reader reads the current items of a shop.
type Reader struct {
	ledger *inventory.Ledger
}

// NewReader returns a Reader over the ledger.
func NewReader(ledger *inventory.Ledger) *Reader {
	return &Reader{ledger: ledger}
}

// Items returns every line of the given SKUs (1 to MaxSKUs of them;
// repeats count once), in (sku, variant key) order. SKUs the shop has never
// stocked are absent, and so is everything of a shop that does not exist:
// whether the shop exists, and shows its stock, is the caller's to check.
// Bad input is a *checkoutd.ValidationError.
func (r *Reader) Items(ctx context.Context, shopID string, skus []string) ([]Item, error) {
	skus, err := checkSKUs(shopID, skus)
	if err != nil {
		return nil, err
	}
	lines, err := r.ledger.LineStockOfSKUs(ctx, shopID, skus)
	if err != nil {
		return nil, err
	}
	return itemsOf(lines), nil
}

// ShopPage returns up to limit (1 to MaxPage) of the shop's items after
// the line (afterSKU, afterVariantKey), in (sku, variant key) order; pass
// "" and "" for the first page, then the last item's. A page shorter than
// limit is the last. Reading a shop of any size this way holds one page in
// memory at a time.
func (r *Reader) ShopPage(ctx context.Context, shopID, afterSKU, afterVariantKey string, limit int) ([]Item, error) {
	lines, err := r.ledger.LineStockPage(ctx, shopID, inventory.LineRef{SKU: afterSKU, VariantKey: afterVariantKey}, limit)
	if err != nil {
		return nil, err
	}
	return itemsOf(lines), nil
}

// checkSKUs checks a shop id and a list of 1 to MaxSKUs SKUs, and returns
// the SKUs sorted without repeats.
func checkSKUs(shopID string, skus []string) ([]string, error) {
	var issues []checkoutd.FieldIssue
	if !checkoutd.ValidShopID(shopID) {
		issues = append(issues, checkoutd.FieldIssue{Field: "shopId", Issue: checkoutd.IDIssue})
	}
	switch {
	case len(skus) == 0:
		issues = append(issues, checkoutd.FieldIssue{Field: "sku", Issue: "must name at least one SKU"})
	case len(skus) > MaxSKUs:
		issues = append(issues, checkoutd.FieldIssue{Field: "sku", Issue: fmt.Sprintf("must name at most %d SKUs", MaxSKUs)})
	}
	for _, s := range skus {
		if !checkoutd.ValidSKU(s) {
			issues = append(issues, checkoutd.FieldIssue{Field: "sku", Issue: checkoutd.SKUIssue})
			break
		}
	}
	if len(issues) > 0 {
		return nil, &checkoutd.ValidationError{Details: issues}
	}
	sorted := slices.Clone(skus)
	slices.Sort(sorted)
	return slices.Compact(sorted), nil
}

func itemsOf(lines []inventory.LineStock) []Item {
	items := make([]Item, len(lines))
	for i, l := range lines {
		items[i] = itemOf(l)
	}
	return items
}
