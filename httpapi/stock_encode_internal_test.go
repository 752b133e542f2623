package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/checkoutd/checkoutd/inventory"
)

// stockInfos are stock lines whose encodings cover every field and every
// kind of string appendStockInfo meets.
var stockInfos = []*inventory.StockInfo{
	{SKU: "TEE", Locations: []inventory.LocationStock{}},
	{SKU: "TEE", Locations: nil},
	{
		SKU: "a.b_c:d/e-F9", VariantKey: "size:M", OnHand: 9, Reserved: 2, Available: 7, SafetyStock: 1,
		LowStockThreshold: 10, LowStock: true, BackorderAllowed: true, BackorderLimit: 3,
		Locations: []inventory.LocationStock{{LocationID: "default", OnHand: 3, Reserved: 2, Available: 1}, {LocationID: "north", OnHand: 6}},
	},
	{SKU: "X", VariantKey: `colour:"red" <b> & \ co`, OnHand: -1, Reserved: -9223372036854775808, Available: 9223372036854775807},
	{SKU: "X", VariantKey: "taille:é ☃ \u2028 \u2029 \x7f", Locations: []inventory.LocationStock{{LocationID: "<x>"}}},
}

// appendStockInfo writes what writeJSON writes for the same line.
func TestAppendStockInfoIsWriteJSON(t *testing.T) {
	t.Parallel()
	for _, info := range stockInfos {
		checkStockInfoEncoding(t, info)
	}
}

func FuzzAppendStockInfo(f *testing.F) {
	f.Add("TEE", "size:M", "default", int64(3), int64(-1))
	f.Add("A", "\x00\xff<&>\"\\", "l\u2028", int64(0), int64(1<<62))
	f.Fuzz(func(t *testing.T, sku, variantKey, location string, onHand, reserved int64) {
		checkStockInfoEncoding(t, &inventory.StockInfo{
			SKU: sku, VariantKey: variantKey, OnHand: onHand, Reserved: reserved, LowStock: onHand > reserved,
			Locations: []inventory.LocationStock{{LocationID: location, OnHand: onHand, Reserved: reserved}},
		})
	})
}

func checkStockInfoEncoding(t *testing.T, info *inventory.StockInfo) {
	t.Helper()
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, info)
	if got, want := string(appendStockInfo(nil, info)), rec.Body.String(); got != want {
		t.Errorf("appendStockInfo:\n got  %s want %s", got, want)
	}
}

// BenchmarkStockInfoAnswer writes a stock line at two locations, appended
// by hand and through writeJSON.
func BenchmarkStockInfoAnswer(b *testing.B) {
	info := stockInfos[2]
	w := discardWriter{http.Header{}}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writeRaw(w, http.StatusOK, appendStockInfo(make([]byte, 0, 512), info))
		}
	})
	b.Run("writeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writeJSON(w, http.StatusOK, info)
		}
	})
}
