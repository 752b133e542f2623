package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A 404 for a stock line names the variant keys the sku does have, so a
// client that forgot or misspelt variantKey sees what to send.
func TestStockInfoMissHint(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SHIRT", "size:M", "", 3)
	h.stock(t, shop, "SHIRT", "size:L", "", 3)
	h.stock(t, shop, "PLAIN", "", "", 3)
	// The longest keys, with characters that need quoting, stay well
	// inside the 64 KiB error body.
	for i := range 8 {
		h.stock(t, shop, "WIDE", fmt.Sprintf("%d%s", i, strings.Repeat(`"\é`, 42)), "", 1)
	}

	get := func(sku, variantKey string, withKey bool) *response {
		path := shopPath(shop, "/stock/"+sku)
		if withKey {
			path += "?variantKey=" + url.QueryEscape(variantKey)
		}
		r := h.svc(t, http.MethodGet, path, nil)
		expect(t, r, http.StatusNotFound, "not_found")
		assertKeys(t, r.Obj(t), "error", "message")
		return r
	}
	message := func(r *response) string { s, _ := r.Obj(t)["message"].(string); return s }

	for _, tc := range []struct {
		sku, variantKey string
		withKey         bool
		want            string
	}{
		{"SHIRT", "", false, `no stock line for sku "SHIRT" with variantKey "" — this sku has variantKey "size:L", "size:M"; pass one as ?variantKey=`},
		{"SHIRT", "size:m", true, `no stock line for sku "SHIRT" with variantKey "size:m" — this sku has variantKey "size:L", "size:M"; pass one as ?variantKey=`},
		{"PLAIN", "size:M", true, `no stock line for sku "PLAIN" with variantKey "size:M" — this sku has variantKey ""; pass one as ?variantKey=`},
		{"NEVER", "", false, "stock line not found"},
		{"NEVER", "size:M", true, "stock line not found"},
	} {
		if got := message(get(tc.sku, tc.variantKey, tc.withKey)); got != tc.want {
			t.Errorf("GET stock/%s?variantKey=%s: message %q, want %q", tc.sku, tc.variantKey, got, tc.want)
		}
	}

	r := get("WIDE", "", false)
	msg := message(r)
	if !strings.HasSuffix(msg, ` and more; pass one as ?variantKey=`) || strings.Count(msg, `\"\\é`) != 5*42 {
		t.Errorf("GET stock/WIDE: message %q, want the first 5 keys quoted and \"and more\"", msg)
	}
	if len(r.Raw) > 8<<10 {
		t.Errorf("GET stock/WIDE: %d-byte body", len(r.Raw))
	}
}
