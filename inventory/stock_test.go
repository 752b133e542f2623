package inventory_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 3)
	f.stock(t, "A", "", "north", 2)
	f.stock(t, "B", "size:M", "default", 2)
	f.stock(t, "SAFE", "", "default", 5)
	f.settings(t, "SAFE", "", inventory.StockSettings{SafetyStock: ptr[int64](2)})
	f.settings(t, "PRE", "", inventory.StockSettings{BackorderLimit: ptr[int64](3)})
	f.stock(t, "HELD", "", "default", 5)
	f.reserve(t, item("HELD", 4))
	before := f.snapshot(t)

	tests := []struct {
		name  string
		items []inventory.Line
		want  []inventory.Shortfall // nil: ok
	}{
		{"single line", []inventory.Line{item("A", 5)}, nil},
		{"multi-line", []inventory.Line{item("A", 5), variantItem("B", "size:M", 2), item("HELD", 1)}, nil},
		{"short line", []inventory.Line{item("A", 6)}, []inventory.Shortfall{{SKU: "A", Requested: 6, Available: 5}}},
		{
			"only the short lines, in sku and variant order",
			[]inventory.Line{item("UNKNOWN", 1), item("A", 1), variantItem("B", "size:M", 3)},
			[]inventory.Shortfall{{SKU: "B", VariantKey: "size:M", Requested: 3, Available: 2}, {SKU: "UNKNOWN", Requested: 1, Available: 0}},
		},
		{"duplicates summed past the stock", []inventory.Line{item("A", 3), item("A", 3)}, []inventory.Shortfall{{SKU: "A", Requested: 6, Available: 5}}},
		{"duplicates summed within the stock", []inventory.Line{item("A", 2), item("A", 3)}, nil},
		{"unknown line", []inventory.Line{item("UNKNOWN", 1)}, []inventory.Shortfall{{SKU: "UNKNOWN", Requested: 1, Available: 0}}},
		{"unknown variant of a known sku", []inventory.Line{variantItem("B", "size:m", 1)}, []inventory.Shortfall{{SKU: "B", VariantKey: "size:m", Requested: 1, Available: 0}}},
		{"product line of a sku stocked only as variants", []inventory.Line{item("B", 1)}, []inventory.Shortfall{{SKU: "B", Requested: 1, Available: 0}}},
		{"safety stock kept back", []inventory.Line{item("SAFE", 4)}, []inventory.Shortfall{{SKU: "SAFE", Requested: 4, Available: 3}}},
		{"safety stock kept back, rest ok", []inventory.Line{item("SAFE", 3)}, nil},
		{"backorder within the limit", []inventory.Line{item("PRE", 3)}, nil},
		{"backorder past the limit", []inventory.Line{item("PRE", 4)}, []inventory.Shortfall{{SKU: "PRE", Requested: 4, Available: 3}}},
		{"held stock is not available", []inventory.Line{item("HELD", 2)}, []inventory.Shortfall{{SKU: "HELD", Requested: 2, Available: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := f.ledger.Validate(ctx, f.shopID, tt.items)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if res.OK != (tt.want == nil) || !slices.Equal(res.Insufficient, tt.want) {
				t.Errorf("Validate = %+v, want ok %v, insufficient %+v", res, tt.want == nil, tt.want)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		if _, err := f.ledger.Validate(ctx, "no-such-shop", []inventory.Line{item("A", 1)}); !errors.Is(err, checkoutd.ErrShopNotFound) {
			t.Errorf("Validate on an unknown shop: error = %v, want ErrShopNotFound", err)
		}
		_, err := f.ledger.Validate(ctx, f.shopID, []inventory.Line{item("A", 0), {SKU: "bad sku", Quantity: 1}})
		assertValidation(t, err, "items[0].quantity", "items[1].sku")
		_, err = f.ledger.Validate(ctx, f.shopID, nil)
		assertValidation(t, err, "items")
		_, err = f.ledger.Validate(ctx, "Bad", []inventory.Line{item("A", 1)})
		assertValidation(t, err, "shopId")
	})

	t.Cleanup(func() {
		// Validate creates nothing, not even the unknown lines it was asked about.
		f.assertUnchanged(t, before)
		for _, sku := range []string{"UNKNOWN", "B"} {
			if _, err := f.ledger.StockInfo(ctx, f.shopID, sku, ""); !errors.Is(err, inventory.ErrStockLineNotFound) {
				t.Errorf("StockInfo(%s) after Validate: error = %v, want ErrStockLineNotFound", sku, err)
			}
		}
	})
}

func TestStockInfo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "zeta", 1)
	f.location(t, "alpha", 2)
	f.stock(t, "A", "size:M", "default", 10)
	f.stock(t, "A", "size:M", "alpha", 4)
	f.stock(t, "A", "size:M", "zeta", 5)
	f.settings(t, "A", "size:M", inventory.StockSettings{SafetyStock: ptr[int64](2), BackorderLimit: ptr[int64](7)})
	f.reserve(t, variantItem("A", "size:M", 12)) // 10 from default, 2 from zeta

	got := f.shop.Info(t, "A", "size:M")
	want := &inventory.StockInfo{
		SKU: "A", VariantKey: "size:M",
		OnHand: 19, Reserved: 12, Available: 5, // 19 - 12 - 2
		SafetyStock: 2, LowStockThreshold: 10, LowStock: true,
		BackorderAllowed: true, BackorderLimit: 7,
		Locations: []inventory.LocationStock{ // in allocation order
			{LocationID: "default", OnHand: 10, Reserved: 10, Available: 0},
			{LocationID: "zeta", OnHand: 5, Reserved: 2, Available: 3},
			{LocationID: "alpha", OnHand: 4, Reserved: 0, Available: 4},
		},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("StockInfo =\n\t%+v\nwant\n\t%+v", got, want)
	}

	// The same line read through ListStock looks the same.
	page, err := f.ledger.ListStock(ctx, f.shopID, inventory.ListStockOptions{})
	if err != nil || len(page.Items) != 1 || fmt.Sprintf("%+v", page.Items[0]) != fmt.Sprintf("%+v", *want) {
		t.Errorf("ListStock = %+v, %v; want the one line %+v", page, err, *want)
	}

	t.Run("available never below 0", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "BACK", "", "default", 2)
		f.settings(t, "BACK", "", inventory.StockSettings{BackorderLimit: ptr[int64](4)})
		f.reserve(t, item("BACK", 4)) // two of them backordered
		if got := f.shop.Info(t, "BACK", ""); got.OnHand != 2 || got.Reserved != 4 || got.Available != 0 || got.Locations[0].Available != 0 {
			t.Errorf("backordered line: %+v; want on hand 2, reserved 4, available 0 (also at default)", got)
		}
		f.stock(t, "SAFE", "", "default", 2)
		f.settings(t, "SAFE", "", inventory.StockSettings{SafetyStock: ptr[int64](5)})
		if got := f.shop.Info(t, "SAFE", ""); got.OnHand != 2 || got.Available != 0 || got.Locations[0].Available != 2 {
			t.Errorf("safety stock above on hand: %+v; want on hand 2, available 0 (2 at default, which ignores safety stock)", got)
		}
	})

	t.Run("a line that was only configured", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.settings(t, "PRE", "", inventory.StockSettings{LowStockThreshold: ptr[int64](0)})
		got := f.shop.Info(t, "PRE", "")
		want := &inventory.StockInfo{SKU: "PRE", LowStockThreshold: 0, LowStock: true,
			Locations: []inventory.LocationStock{{LocationID: "default"}}}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("StockInfo = %+v, want %+v", got, want)
		}
	})

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct{ shopID, sku, variantKey string }{
			{f.shopID, "NEVER", ""},
			{f.shopID, "A", ""},       // stocked only as a variant
			{f.shopID, "A", "size:m"}, // variant keys are exact
		} {
			if _, err := f.ledger.StockInfo(ctx, tt.shopID, tt.sku, tt.variantKey); !errors.Is(err, inventory.ErrStockLineNotFound) {
				t.Errorf("StockInfo(%s[%s]): error = %v, want ErrStockLineNotFound", tt.sku, tt.variantKey, err)
			}
		}
		if _, err := f.ledger.StockInfo(ctx, "no-such-shop", "A", "size:M"); !errors.Is(err, checkoutd.ErrShopNotFound) {
			t.Errorf("StockInfo on an unknown shop: error = %v, want ErrShopNotFound", err)
		}
		_, err := f.ledger.StockInfo(ctx, f.shopID, "A B", "\x01")
		assertValidation(t, err, "sku", "variantKey")
		_, err = f.ledger.StockInfo(ctx, "", "A", "")
		assertValidation(t, err, "shopId")
	})
}

func TestStockInfoLowStock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		onHand    int64
		reserve   int64
		safety    int64
		threshold *int64 // nil: the ledger's default, 10
		wantAvail int64
		wantLow   bool
	}{
		{name: "above the default threshold", onHand: 11, wantAvail: 11, wantLow: false},
		{name: "at the default threshold", onHand: 10, wantAvail: 10, wantLow: true},
		{name: "below the default threshold", onHand: 3, wantAvail: 3, wantLow: true},
		{name: "out of stock", onHand: 0, wantAvail: 0, wantLow: true},
		{name: "held stock counts against availability", onHand: 15, reserve: 5, wantAvail: 10, wantLow: true},
		{name: "safety stock counts against availability", onHand: 12, safety: 2, wantAvail: 10, wantLow: true},
		{name: "own threshold above availability", onHand: 5, threshold: ptr[int64](3), wantAvail: 5, wantLow: false},
		{name: "at its own threshold", onHand: 3, threshold: ptr[int64](3), wantAvail: 3, wantLow: true},
		{name: "own threshold 0", onHand: 1, threshold: ptr[int64](0), wantAvail: 1, wantLow: false},
		{name: "own threshold 0, out of stock", onHand: 0, threshold: ptr[int64](0), wantAvail: 0, wantLow: true},
		{name: "own threshold above the default", onHand: 20, threshold: ptr[int64](25), wantAvail: 20, wantLow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t)
			f.stock(t, "A", "", "default", tt.onHand)
			if tt.safety > 0 || tt.threshold != nil {
				s := inventory.StockSettings{LowStockThreshold: tt.threshold}
				if tt.safety > 0 {
					s.SafetyStock = &tt.safety
				}
				f.settings(t, "A", "", s)
			}
			if tt.reserve > 0 {
				f.reserve(t, item("A", tt.reserve))
			}
			wantThreshold := int64(10)
			if tt.threshold != nil {
				wantThreshold = *tt.threshold
			}
			got := f.shop.Info(t, "A", "")
			if got.Available != tt.wantAvail || got.LowStock != tt.wantLow || got.LowStockThreshold != wantThreshold {
				t.Errorf("available %d, lowStock %v, threshold %d; want %d, %v, %d",
					got.Available, got.LowStock, got.LowStockThreshold, tt.wantAvail, tt.wantLow, wantThreshold)
			}
			// ListStock's filter agrees.
			page, err := f.ledger.ListStock(ctx, f.shopID, inventory.ListStockOptions{LowStockOnly: true})
			if err != nil {
				t.Fatalf("ListStock: %v", err)
			}
			if listed := len(page.Items) == 1; listed != tt.wantLow {
				t.Errorf("ListStock(lowStock) lists %d lines, want the line listed: %v", len(page.Items), tt.wantLow)
			}
		})
	}
}

func TestListStock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	// Stocked out of order; listed in (sku, variant key) order.
	lines := []struct {
		sku, variantKey string
		onHand          int64
	}{
		{"B", "", 50},
		{"A", "size:M", 2},
		{"A", "", 30},
		{"C", "x", 0},
		{"A", "size:L", 40},
		{"B", "size:S", 7},
		{"D", "", 11},
	}
	for _, l := range lines {
		f.stock(t, l.sku, l.variantKey, "default", l.onHand)
	}
	wantOrder := []string{"A[]", "A[size:L]", "A[size:M]", "B[]", "B[size:S]", "C[x]", "D[]"}
	wantLow := []string{"A[size:M]", "B[size:S]", "C[x]"}

	list := func(t *testing.T, opts inventory.ListStockOptions) (keys []string, pages int) {
		t.Helper()
		for {
			page, err := f.ledger.ListStock(ctx, f.shopID, opts)
			if err != nil {
				t.Fatalf("ListStock(%+v): %v", opts, err)
			}
			pages++
			if page.Items == nil {
				t.Errorf("page %d has nil items, want a list", pages)
			}
			if len(page.Items) > cmp.Or(opts.Limit, 100) {
				t.Errorf("page %d has %d items, limit %d", pages, len(page.Items), opts.Limit)
			}
			for _, info := range page.Items {
				keys = append(keys, info.SKU+"["+info.VariantKey+"]")
			}
			if page.NextCursor == nil {
				return keys, pages
			}
			if len(page.Items) == 0 {
				t.Fatalf("page %d is empty but has a next cursor", pages)
			}
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
			opts.Cursor = *page.NextCursor
		}
	}

	for _, tt := range []struct {
		name      string
		opts      inventory.ListStockOptions
		want      []string
		wantPages int
	}{
		{"default limit", inventory.ListStockOptions{}, wantOrder, 1},
		{"pages of 3", inventory.ListStockOptions{Limit: 3}, wantOrder, 3},
		{"pages of 1", inventory.ListStockOptions{Limit: 1}, wantOrder, 7},
		{"limit equal to the number of lines", inventory.ListStockOptions{Limit: 7}, wantOrder, 1},
		{"largest limit", inventory.ListStockOptions{Limit: 500}, wantOrder, 1},
		{"low stock only", inventory.ListStockOptions{LowStockOnly: true}, wantLow, 1},
		{"low stock only, pages of 2", inventory.ListStockOptions{LowStockOnly: true, Limit: 2}, wantLow, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, pages := list(t, tt.opts)
			if !slices.Equal(got, tt.want) || pages != tt.wantPages {
				t.Errorf("listed %v in %d pages, want %v in %d", got, pages, tt.want, tt.wantPages)
			}
		})
	}

	t.Run("empty shop", func(t *testing.T) {
		t.Parallel()
		empty := newFixture(t)
		page, err := empty.ledger.ListStock(ctx, empty.shopID, inventory.ListStockOptions{})
		if err != nil || page.Items == nil || len(page.Items) != 0 || page.NextCursor != nil {
			t.Errorf("ListStock of an empty shop = %+v, %v; want no items, no cursor", page, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			name  string
			opts  inventory.ListStockOptions
			field string
		}{
			{"not base64", inventory.ListStockOptions{Cursor: "not a cursor!"}, "cursor"},
			{"base64 of no JSON", inventory.ListStockOptions{Cursor: base64.RawURLEncoding.EncodeToString([]byte("garbage"))}, "cursor"},
			{"a movements cursor", inventory.ListStockOptions{Cursor: base64.RawURLEncoding.EncodeToString([]byte("42"))}, "cursor"},
			{"negative limit", inventory.ListStockOptions{Limit: -1}, "limit"},
			{"limit above 500", inventory.ListStockOptions{Limit: 501}, "limit"},
		} {
			_, err := f.ledger.ListStock(ctx, f.shopID, tt.opts)
			assertValidation(t, err, tt.field)
		}
		if _, err := f.ledger.ListStock(ctx, "no-such-shop", inventory.ListStockOptions{}); !errors.Is(err, checkoutd.ErrShopNotFound) {
			t.Errorf("ListStock on an unknown shop: error = %v, want ErrShopNotFound", err)
		}
	})
}

func TestUpdateSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("partial updates leave the other settings alone", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 20)
		type view struct{ threshold, safety, limit, available int64 }
		steps := []struct {
			set  inventory.StockSettings
			want view
		}{
			{inventory.StockSettings{LowStockThreshold: ptr[int64](3)}, view{3, 0, 0, 20}},
			{inventory.StockSettings{SafetyStock: ptr[int64](5)}, view{3, 5, 0, 15}},
			{inventory.StockSettings{BackorderLimit: ptr[int64](8)}, view{3, 5, 8, 15}},
			{inventory.StockSettings{LowStockThreshold: ptr[int64](0), SafetyStock: ptr[int64](0)}, view{0, 0, 8, 20}},
			{inventory.StockSettings{BackorderLimit: ptr[int64](0)}, view{0, 0, 0, 20}},
		}
		for i, s := range steps {
			got, err := f.ledger.UpdateSettings(ctx, f.shopID, "A", "", s.set)
			if err != nil {
				t.Fatalf("step %d: UpdateSettings: %v", i, err)
			}
			read := f.shop.Info(t, "A", "")
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", read) {
				t.Errorf("step %d: UpdateSettings returned %+v, StockInfo reads %+v", i, got, read)
			}
			v := view{got.LowStockThreshold, got.SafetyStock, got.BackorderLimit, got.Available}
			if v != s.want || got.BackorderAllowed != (s.want.limit > 0) || got.OnHand != 20 {
				t.Errorf("step %d: threshold, safety, limit, available = %v (backorderAllowed %v, on hand %d); want %v",
					i, v, got.BackorderAllowed, got.OnHand, s.want)
			}
		}
	})

	t.Run("creates the line", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if _, err := f.ledger.StockInfo(ctx, f.shopID, "PRE", "color:red"); !errors.Is(err, inventory.ErrStockLineNotFound) {
			t.Fatalf("StockInfo before: error = %v, want ErrStockLineNotFound", err)
		}
		got, err := f.ledger.UpdateSettings(ctx, f.shopID, "PRE", "color:red", inventory.StockSettings{BackorderLimit: ptr[int64](20)})
		if err != nil {
			t.Fatalf("UpdateSettings: %v", err)
		}
		want := &inventory.StockInfo{SKU: "PRE", VariantKey: "color:red", LowStockThreshold: 10, LowStock: true,
			BackorderAllowed: true, BackorderLimit: 20, Locations: []inventory.LocationStock{{LocationID: "default"}}}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("UpdateSettings = %+v, want %+v", got, want)
		}
		if fmt.Sprintf("%+v", f.shop.Info(t, "PRE", "color:red")) != fmt.Sprintf("%+v", want) {
			t.Errorf("StockInfo disagrees with UpdateSettings")
		}
		if ms := f.movements(t); len(ms) != 0 {
			t.Errorf("configuring a line wrote movements: %+v", ms)
		}
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	})

	t.Run("backorder limit below what is backordered", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 1)
		f.settings(t, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](5)})
		hold := f.reserve(t, item("A", 5)) // 4 backordered
		before := f.snapshot(t)

		_, err := f.ledger.UpdateSettings(ctx, f.shopID, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](3), LowStockThreshold: ptr[int64](1)})
		conflict, ok := errors.AsType[*inventory.StockConflictError](err)
		if !ok {
			t.Fatalf("lowering the limit to 3 with 4 backordered: error = %v, want *StockConflictError", err)
		}
		if conflict.SKU != "A" || conflict.VariantKey != "" || conflict.LocationID != "default" || conflict.Reason == "" {
			t.Errorf("conflict = %+v, want A[] at default with a reason", conflict)
		}
		f.assertUnchanged(t, before) // the threshold in the same request was not applied either

		if _, err := f.ledger.UpdateSettings(ctx, f.shopID, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](4)}); err != nil {
			t.Errorf("lowering the limit to exactly what is backordered: %v", err)
		}
		if _, err := f.ledger.Release(ctx, f.shopID, hold.ID, "x"); err != nil {
			t.Fatalf("release: %v", err)
		}
		if _, err := f.ledger.UpdateSettings(ctx, f.shopID, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](0)}); err != nil {
			t.Errorf("turning backorders off with none left: %v", err)
		}
	})

	t.Run("backorders of a lapsed hold do not count", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.settings(t, "PRE", "", inventory.StockSettings{BackorderLimit: ptr[int64](5)})
		hold := f.reserve(t, item("PRE", 5))
		f.lapse(t, hold.ID)
		if got := f.shop.Info(t, "PRE", ""); got.Reserved != 0 {
			t.Fatalf("StockInfo reserved %d after the hold lapsed, want 0", got.Reserved)
		}
		_, err := f.ledger.UpdateSettings(ctx, f.shopID, "PRE", "", inventory.StockSettings{BackorderLimit: ptr[int64](0)})
		if _, ok := errors.AsType[*inventory.StockConflictError](err); ok {
			t.Fatalf("UpdateSettings: %v", err)
		}
		if err != nil {
			t.Fatalf("UpdateSettings: %v", err)
		}
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	})

	t.Run("bad requests", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		before := f.snapshot(t)
		for _, tt := range []struct {
			name            string
			shopID          string
			sku, variantKey string
			s               inventory.StockSettings
			fields          []string
		}{
			{"negative threshold", f.shopID, "A", "", inventory.StockSettings{LowStockThreshold: ptr[int64](-1)}, []string{"lowStockThreshold"}},
			{"negative safety stock", f.shopID, "A", "", inventory.StockSettings{SafetyStock: ptr[int64](-1)}, []string{"safetyStock"}},
			{"negative backorder limit", f.shopID, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](-1)}, []string{"backorderLimit"}},
			{"values above 1,000,000", f.shopID, "A", "", inventory.StockSettings{
				LowStockThreshold: ptr[int64](inventory.MaxQuantity + 1), SafetyStock: ptr[int64](inventory.MaxQuantity + 1), BackorderLimit: ptr[int64](inventory.MaxQuantity + 1),
			}, []string{"lowStockThreshold", "safetyStock", "backorderLimit"}},
			{"nothing to set", f.shopID, "A", "", inventory.StockSettings{}, []string{"body"}},
			{"bad sku", f.shopID, "", "", inventory.StockSettings{SafetyStock: ptr[int64](1)}, []string{"sku"}},
			{"bad variant key", f.shopID, "A", strings.Repeat("v", 129), inventory.StockSettings{SafetyStock: ptr[int64](1)}, []string{"variantKey"}},
			{"bad shop id", "_shop", "A", "", inventory.StockSettings{SafetyStock: ptr[int64](1)}, []string{"shopId"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				info, err := f.ledger.UpdateSettings(ctx, tt.shopID, tt.sku, tt.variantKey, tt.s)
				if info != nil {
					t.Errorf("UpdateSettings returned %+v", info)
				}
				assertValidation(t, err, tt.fields...)
			})
		}
		f.assertUnchanged(t, before)

		if _, err := f.ledger.UpdateSettings(ctx, f.shopID, "A", "", inventory.StockSettings{SafetyStock: ptr[int64](inventory.MaxQuantity)}); err != nil {
			t.Errorf("safety stock of 1,000,000: %v", err)
		}
		if _, err := f.ledger.UpdateSettings(ctx, "no-such-shop", "A", "", inventory.StockSettings{SafetyStock: ptr[int64](1)}); !errors.Is(err, checkoutd.ErrShopNotFound) {
			t.Errorf("UpdateSettings on an unknown shop: error = %v, want ErrShopNotFound", err)
		}
	})
}
