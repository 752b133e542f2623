package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/checkoutd/checkoutd/inventory"
)

// A StockInfo miss names the sku's other variant keys, the first few in
// byte order, and still matches ErrStockLineNotFound.
func TestStockInfoMissNamesOtherVariantKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "SHIRT", "size:M", "default", 1)
	f.stock(t, "SHIRT", "size:L", "default", 1)
	f.stock(t, "PLAIN", "", "default", 1)
	for i := range 7 {
		f.stock(t, "SOCK", fmt.Sprintf("n:%d", i), "default", 1)
	}

	for _, tc := range []struct {
		sku, variantKey string
		want            []string
		more            bool
	}{
		{"SHIRT", "", []string{"size:L", "size:M"}, false},
		{"SHIRT", "size:m", []string{"size:L", "size:M"}, false},
		{"PLAIN", "size:M", []string{""}, false},
		{"SOCK", "", []string{"n:0", "n:1", "n:2", "n:3", "n:4"}, true},
		{"SOCK", "n:1x", []string{"n:0", "n:1", "n:2", "n:3", "n:4"}, true},
		{"NEVER", "", nil, false},
	} {
		_, err := f.ledger.StockInfo(ctx, f.shopID, tc.sku, tc.variantKey)
		var missing *inventory.StockLineNotFoundError
		if !errors.Is(err, inventory.ErrStockLineNotFound) || !errors.As(err, &missing) {
			t.Errorf("StockInfo(%s[%s]): error %v, want a StockLineNotFoundError", tc.sku, tc.variantKey, err)
			continue
		}
		if missing.SKU != tc.sku || missing.VariantKey != tc.variantKey ||
			!reflect.DeepEqual(missing.OtherVariantKeys, tc.want) || missing.More != tc.more {
			t.Errorf("StockInfo(%s[%s]): %+v, want other keys %q, more %v", tc.sku, tc.variantKey, missing, tc.want, tc.more)
		}
	}
}
