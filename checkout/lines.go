package checkout

import (
	"encoding/json"
	"fmt"

	"github.com/checkoutd/checkoutd/inventory"
)

// storedLine is one line of a checkout as its record keeps it
// (checkouts.lines): the stock its hold or check covers and what the
// settler needs to match it to the session's line items. A line the
// customer may resize on Stripe's page holds its Maximum (Quantity is then
// the maximum), so whatever the customer picks is covered; Minimum is the
// least they may pick.
type storedLine struct {
	SKU        string `json:"sku"`
	VariantKey string `json:"variantKey"`
	// Quantity is what the hold reserves: the line's maximum when it is
	// Adjustable.
	Quantity int64 `json:"quantity"`
	// Adjustable is set when the customer may change the quantity on
	// Stripe's page; Stripe's line items then say what was bought.
	Adjustable bool  `json:"adjustable,omitempty"`
	Minimum    int64 `json:"minimum,omitempty"`
	// Price is the Stripe price id of a line priced by id, the other way
	// than product metadata to match a line item back to this line.
	Price string `json:"price,omitempty"`
}

// decodeLines reads a checkout's stored lines. Records written before
// adjustable quantities have the same keys, without the new ones.
func decodeLines(raw []byte) ([]storedLine, error) {
	var lines []storedLine
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("decode checkout lines: %w", err)
	}
	return lines, nil
}

// inventoryLines is the stock lines hold or check, in order.
func inventoryLines(lines []storedLine) []inventory.Line {
	out := make([]inventory.Line, len(lines))
	for i, l := range lines {
		out[i] = inventory.Line{SKU: l.SKU, VariantKey: l.VariantKey, Quantity: l.Quantity}
	}
	return out
}

// adjustable reports whether any line may be resized on Stripe's page.
func adjustable(lines []storedLine) bool {
	for _, l := range lines {
		if l.Adjustable {
			return true
		}
	}
	return false
}
