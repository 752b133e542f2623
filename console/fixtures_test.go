package console_test

import (
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

func inventorytestLines(sku, variantKey string, qty int64) inventorytest.HoldOpts {
	return inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: sku, VariantKey: variantKey, Quantity: qty}}}
}

func inventorytestHold(sku string, qty int64, reference string) inventorytest.HoldOpts {
	return inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: sku, Quantity: qty}}, Reference: reference}
}
