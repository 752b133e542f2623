package availability_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

func TestReaderItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ledger := inventory.NewLedger(testdb.Pool(t), inventory.Config{DefaultLowStockThreshold: 3})
	shop := inventorytest.NewShop(t, ledger, nil)
	shop.StockLine(t, "B", "size:M", "", 10)
	shop.StockLine(t, "B", "size:L", "", 2)
	shop.Stock(t, "A", 4)
	shop.Stock(t, "Z", 9)
	safety := int64(3)
	if _, err := ledger.UpdateSettings(ctx, shop.ID, "A", "", inventory.StockSettings{SafetyStock: &safety}); err != nil {
		t.Fatal(err)
	}
	limit := int64(5)
	if _, err := ledger.UpdateSettings(ctx, shop.ID, "B", "size:L", inventory.StockSettings{BackorderLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	shop.Reserve(t, inventorytest.HoldOpts{Lines: []inventory.Line{{SKU: "B", VariantKey: "size:L", Quantity: 3}}})

	r := availability.NewReader(ledger)
	items, err := r.Items(ctx, shop.ID, []string{"B", "A", "UNKNOWN", "A"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"sku":"A","variantKey":"","available":1,"lowStock":true,"backorderAllowed":false}`,
		`{"sku":"B","variantKey":"size:L","available":0,"lowStock":true,"backorderAllowed":true}`,
		`{"sku":"B","variantKey":"size:M","available":10,"lowStock":false,"backorderAllowed":false}`,
	}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d: %+v", len(items), len(want), items)
	}
	for i, it := range items {
		got, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want[i] {
			t.Errorf("item %d: %s, want %s", i, got, want[i])
		}
	}
	private, err := json.Marshal(items[1].Private())
	if err != nil {
		t.Fatal(err)
	}
	if w := `{"sku":"B","variantKey":"size:L","available":0,"lowStock":true,"backorderAllowed":true,"onHand":2,"reserved":3}`; string(private) != w {
		t.Errorf("private item %s, want %s", private, w)
	}

	page, err := r.ShopPage(ctx, shop.ID, "", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := r.ShopPage(ctx, shop.ID, page[1].SKU, page[1].VariantKey, availability.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	var skus []string
	for _, it := range append(page, rest...) {
		skus = append(skus, it.SKU+"/"+it.VariantKey)
	}
	if got := strings.Join(skus, " "); got != "A/ B/size:L B/size:M Z/" {
		t.Errorf("pages: %s", got)
	}

	var verr *checkoutd.ValidationError
	if _, err := r.Items(ctx, shop.ID, nil); !errors.As(err, &verr) {
		t.Errorf("no SKUs: %v, want a ValidationError", err)
	}
	if items, err := r.Items(ctx, "no-such-shop", []string{"A"}); err != nil || len(items) != 0 {
		t.Errorf("unknown shop: %v, %v; want no items", items, err)
	}
}

// The ETag follows what a storefront sees, and only that.
func TestETag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ledger := inventory.NewLedger(testdb.Pool(t), inventory.Config{})
	shop := inventorytest.NewShop(t, ledger, nil)
	shop.Stock(t, "A", 5)
	r := availability.NewReader(ledger)
	etag := func() string {
		t.Helper()
		items, err := r.Items(ctx, shop.ID, []string{"A"})
		if err != nil {
			t.Fatal(err)
		}
		return availability.ETag(items)
	}
	first := etag()
	if !strings.HasPrefix(first, `"`) || !strings.HasSuffix(first, `"`) || strings.HasPrefix(first, `W/`) {
		t.Fatalf("ETag %s is not a strong, quoted tag", first)
	}
	if again := etag(); again != first {
		t.Errorf("ETag changed without a change: %s then %s", first, again)
	}
	h := shop.Hold(t, 0, 1, "A")
	held := etag()
	if held == first {
		t.Error("ETag unchanged after available went down")
	}
	// Selling the held unit lowers on hand and reserved alike: available,
	// and so the tag, stay as they were.
	shop.Commit(t, h.ID)
	if got := etag(); got != held {
		t.Errorf("ETag changed though only private numbers did: %s then %s", held, got)
	}
	if availability.ETag(nil) == first {
		t.Error("no items share an ETag with some")
	}
}
