package inventory

import (
	"fmt"
	"sort"

	"github.com/checkoutd/checkoutd"
)

// Line asks for a quantity of one stock line.
type Line struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	Quantity   int64  `json:"quantity"`
}

// lineKey identifies a stock line within a shop.
type lineKey struct {
	sku        string
	variantKey string
}

// checkLines validates lines as the items of a request under field.
func (c *checker) lines(field string, lines []Line) {
	c.itemCount(field, len(lines))
	if len(lines) > MaxItems {
		return
	}
	// Repeated lines are summed before any check, so their sum is held to
	// the same limit as one line's quantity.
	sums := make(map[lineKey]int64, len(lines))
	for i, l := range lines {
		// An item's field names are only spelled out for an item with
		// something to say: every validation on every cart comes through
		// here, and almost all of them are fine.
		item := func() string { return fmt.Sprintf("%s[%d]", field, i) }
		if !checkoutd.ValidSKU(l.SKU) || !checkoutd.ValidVariantKey(l.VariantKey) || l.Quantity < 1 || l.Quantity > MaxQuantity {
			f := item()
			c.sku(f+".sku", l.SKU)
			c.variantKey(f+".variantKey", l.VariantKey)
			c.quantity(f+".quantity", l.Quantity, 1)
		}
		k := lineKey{l.SKU, l.VariantKey}
		before := sums[k]
		sums[k] += l.Quantity
		if l.Quantity >= 1 && l.Quantity <= MaxQuantity && before <= MaxQuantity && sums[k] > MaxQuantity {
			c.add(item()+".quantity", "summed with the earlier items for the same sku and variantKey, must be at most %d", MaxQuantity)
		}
	}
}

// mergeLines sums lines that name the same stock line and sorts the result by
// (sku, variant key): the order stock rows are locked in.
func mergeLines(lines []Line) []Line {
	if len(lines) == 1 {
		// Most carts at the edge ask for one line: nothing to sum or sort.
		return []Line{lines[0]}
	}
	sums := make(map[lineKey]int64, len(lines))
	for _, l := range lines {
		sums[lineKey{l.SKU, l.VariantKey}] += l.Quantity
	}
	merged := make([]Line, 0, len(sums))
	for k, q := range sums {
		merged = append(merged, Line{SKU: k.sku, VariantKey: k.variantKey, Quantity: q})
	}
	sort.Slice(merged, func(i, j int) bool {
		if merged[i].SKU != merged[j].SKU {
			return merged[i].SKU < merged[j].SKU
		}
		return merged[i].VariantKey < merged[j].VariantKey
	})
	return merged
}

// lineColumns splits lines into the parallel arrays the queries take.
func lineColumns(lines []Line) (skus, variantKeys []string, quantities []int64) {
	skus = make([]string, len(lines))
	variantKeys = make([]string, len(lines))
	quantities = make([]int64, len(lines))
	for i, l := range lines {
		skus[i], variantKeys[i], quantities[i] = l.SKU, l.VariantKey, l.Quantity
	}
	return skus, variantKeys, quantities
}

// ValidateLines checks lines by the rules every hold and validation request
// follows (identifiers, quantities, at most MaxItems, repeated lines summed),
// naming problems under field, for callers that take lines in requests of
// their own.
func ValidateLines(field string, lines []Line) error {
	var c checker
	c.lines(field, lines)
	return c.err()
}
