package httpapi

import (
	"encoding/json"
	"strconv"

	"github.com/checkoutd/checkoutd/inventory"
)

// appendStockInfo appends info as writeJSON encodes it, newline included,
// without encoding/json's reflection: a stock read is one of the two
// requests an edge worker makes on every cart. A test holds the two to the
// same bytes.
func appendStockInfo(b []byte, info *inventory.StockInfo) []byte {
	b = append(b, `{"sku":`...)
	b = appendJSONString(b, info.SKU)
	b = append(b, `,"variantKey":`...)
	b = appendJSONString(b, info.VariantKey)
	b = appendInt(b, `,"onHand":`, info.OnHand)
	b = appendInt(b, `,"reserved":`, info.Reserved)
	b = appendInt(b, `,"available":`, info.Available)
	b = appendInt(b, `,"safetyStock":`, info.SafetyStock)
	b = appendInt(b, `,"lowStockThreshold":`, info.LowStockThreshold)
	b = strconv.AppendBool(append(b, `,"lowStock":`...), info.LowStock)
	b = strconv.AppendBool(append(b, `,"backorderAllowed":`...), info.BackorderAllowed)
	b = appendInt(b, `,"backorderLimit":`, info.BackorderLimit)
	b = appendInt(b, `,"maxPerOrder":`, info.MaxPerOrder)
	b = appendInt(b, `,"maxPerCustomer":`, info.MaxPerCustomer)
	b = append(b, `,"locations":`...)
	if info.Locations == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, l := range info.Locations {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"locationId":`...)
			b = appendJSONString(b, l.LocationID)
			b = appendInt(b, `,"onHand":`, l.OnHand)
			b = appendInt(b, `,"reserved":`, l.Reserved)
			b = appendInt(b, `,"available":`, l.Available)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

func appendInt(b []byte, key string, n int64) []byte {
	return strconv.AppendInt(append(b, key...), n, 10)
}

// appendJSONString appends s as encoding/json does: as it stands when it
// is printable ASCII that needs no escape (every SKU and location id, most
// variant keys), else through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s)
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
