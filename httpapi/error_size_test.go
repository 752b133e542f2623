package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd/httpapi"
)

// No error body is larger than 64 KiB, however much is wrong with a request
// of up to 1 MiB: the details are capped, and so is each field and issue.
func TestErrorBodySize(t *testing.T) {
	t.Parallel()
	h := env(t)
	shop := h.newShop(t)
	h.stock(t, shop, "SKU-1", "", "", 10)

	manyFields := func(value string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; b.Len()+len(value)+20 < httpapi.MaxBodyBytes; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"f%d":%s`, i, value)
		}
		b.WriteString("}")
		return b.String()
	}
	manyNULs := func() string {
		var b strings.Builder
		b.WriteString(`{"items":[{"sku":"SKU-1","quantity":1}],"reference":"r","idempotencyKey":"\u0000","x":[`)
		for i := 0; b.Len() < httpapi.MaxBodyBytes-100; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"\u0000"`)
		}
		b.WriteString("]}")
		return b.String()
	}
	longKey := `{"` + strings.Repeat("k", httpapi.MaxBodyBytes-100) + `":1}`
	nestedLongKeys := `{"items":[{"` + strings.Repeat("s", httpapi.MaxBodyBytes/2) + `":1},{"` + strings.Repeat("t", httpapi.MaxBodyBytes/3) + `":2}]}`
	items := make([]any, 5000)
	for i := range items {
		items[i] = map[string]any{"sku": strings.Repeat("?", 100), "quantity": -1}
	}
	before := h.snapshot(t, shop)
	for name, body := range map[string]any{
		"1 MiB of unknown fields":     manyFields("1"),
		"unknown fields, long values": manyFields(`"` + strings.Repeat("v", 1000) + `"`),
		"1 MiB of NUL strings":        manyNULs(),
		"a 1 MiB unknown key":         longKey,
		"long nested keys":            nestedLongKeys,
		"5000 invalid items":          map[string]any{"items": items},
	} {
		t.Run(name, func(t *testing.T) {
			r := h.svc(t, http.MethodPost, shopPath(shop, "/holds"), body)
			expectInvalid(t, r, "")
			if len(r.Raw) >= 64<<10 {
				t.Errorf("error body is %d bytes, want under 64 KiB", len(r.Raw))
			}
			details := r.Obj(t)["details"].([]any)
			if len(details) > 20 {
				t.Errorf("%d details, want at most 20", len(details))
			}
		})
	}
	h.assertUnchanged(t, shop, before)
}
