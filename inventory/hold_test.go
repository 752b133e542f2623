package inventory_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// Helpers shared by the test files of this package.

// longTTL is the TTL of every hold that is not meant to expire. The package's
// database is shared, and ExpireDue expires due holds of every shop: the race
// tests reap up to now+2m and TestExpireDue up to now+30m, which must never
// reach a hold another test counts on.
const longTTL = 24 * time.Hour

// item asks for qty of a product-level line (variant key "").
func item(sku string, qty int64) inventory.Line {
	return inventory.Line{SKU: sku, Quantity: qty}
}

// variantItem asks for qty of one variant of a product.
func variantItem(sku, variantKey string, qty int64) inventory.Line {
	return inventory.Line{SKU: sku, VariantKey: variantKey, Quantity: qty}
}

func ptr[T any](v T) *T { return &v }

// reserve places a hold with longTTL that must succeed.
func (f *fixture) reserve(tb testing.TB, items ...inventory.Line) *inventory.Hold {
	tb.Helper()
	hold, created, err := f.ledger.Reserve(context.Background(), f.shopID, inventory.ReserveRequest{Items: items, TTL: longTTL})
	if err != nil {
		tb.Fatalf("reserve %v: %v", items, err)
	}
	if !created {
		tb.Fatalf("reserve %v: created = false for a request without idempotency key", items)
	}
	return hold
}

// settings changes a line's settings and must succeed.
func (f *fixture) settings(tb testing.TB, sku, variantKey string, s inventory.StockSettings) {
	tb.Helper()
	if _, err := f.ledger.UpdateSettings(context.Background(), f.shopID, sku, variantKey, s); err != nil {
		tb.Fatalf("settings of %s[%s]: %v", sku, variantKey, err)
	}
}

// lapse moves a hold's expiry into the past, as if its TTL had run out, without
// closing it: what the database sees when a hold lapsed and no reaper has run
// yet. It saves the tests from sleeping through TTLs.
func (f *fixture) lapse(tb testing.TB, holdID string) {
	tb.Helper()
	tag, err := testdb.Pool(tb).Exec(context.Background(),
		"UPDATE holds SET expires_at = now() - interval '1 second' WHERE shop_id = $1 AND id = $2", f.shopID, holdID)
	if err != nil || tag.RowsAffected() != 1 {
		tb.Fatalf("lapse hold %s: %v (%d rows)", holdID, err, tag.RowsAffected())
	}
}

// hold reads a hold that must exist.
func (f *fixture) hold(tb testing.TB, holdID string) *inventory.Hold {
	tb.Helper()
	h, err := f.ledger.GetHold(context.Background(), f.shopID, holdID)
	if err != nil {
		tb.Fatalf("get hold %s: %v", holdID, err)
	}
	return h
}

// movements returns the shop's whole ledger, newest first.
func (f *fixture) movements(tb testing.TB) []inventory.Movement {
	tb.Helper()
	var all []inventory.Movement
	opts := inventory.MovementsOptions{Limit: 500}
	for {
		page, err := f.ledger.Movements(context.Background(), f.shopID, opts)
		if err != nil {
			tb.Fatalf("movements: %v", err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		opts.Cursor = *page.NextCursor
	}
}

// lastMovementID is the id of the shop's newest movement, 0 if it has none.
func (f *fixture) lastMovementID(tb testing.TB) int64 {
	tb.Helper()
	page, err := f.ledger.Movements(context.Background(), f.shopID, inventory.MovementsOptions{Limit: 1})
	if err != nil {
		tb.Fatalf("movements: %v", err)
	}
	if len(page.Items) == 0 {
		return 0
	}
	return movementID(tb, page.Items[0])
}

// movementsAfter returns the movements newer than afterID, newest first.
func (f *fixture) movementsAfter(tb testing.TB, afterID int64) []inventory.Movement {
	tb.Helper()
	var newer []inventory.Movement
	for _, m := range f.movements(tb) {
		if movementID(tb, m) > afterID {
			newer = append(newer, m)
		}
	}
	return newer
}

func movementID(tb testing.TB, m inventory.Movement) int64 {
	tb.Helper()
	id, err := strconv.ParseInt(m.ID, 10, 64)
	if err != nil {
		tb.Fatalf("movement id %q is not a number: %v", m.ID, err)
	}
	return id
}

// mv is the part of a movement a test states exactly.
type mv struct {
	Type       inventory.MovementType
	SKU        string
	VariantKey string
	LocationID string
	Quantity   int64
	Reference  string
	HoldID     string
}

func (m mv) String() string {
	s := fmt.Sprintf("%s %s[%s]@%s %+d ref=%q", m.Type, m.SKU, m.VariantKey, m.LocationID, m.Quantity, m.Reference)
	if m.HoldID != "" {
		s += " hold=" + m.HoldID
	}
	return s
}

// sortedMVs reduces movements to mv, sorted so that sets of movements written
// by one statement (whose relative order is not specified) compare equal.
func sortedMVs(ms []inventory.Movement) []mv {
	out := make([]mv, len(ms))
	for i, m := range ms {
		out[i] = mv{Type: m.Type, SKU: m.SKU, VariantKey: m.VariantKey, LocationID: m.LocationID, Quantity: m.Quantity, Reference: m.Reference}
		if m.HoldID != nil {
			out[i].HoldID = *m.HoldID
		}
	}
	slices.SortFunc(out, func(a, b mv) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func assertMovements(tb testing.TB, what string, got []inventory.Movement, want ...mv) {
	tb.Helper()
	slices.SortFunc(want, func(a, b mv) int { return strings.Compare(a.String(), b.String()) })
	if g := sortedMVs(got); !slices.Equal(g, want) {
		tb.Errorf("%s wrote movements\n\t%v\nwant\n\t%v", what, g, want)
	}
}

// snapshot is everything about a shop a failed request must leave alone.
type snapshot struct {
	Stock         []string // every stock line, as ListStock has it
	Movements     int
	LastMovement  int64
	Holds         int64
	IdempotentKey int64
}

func (f *fixture) snapshot(tb testing.TB) snapshot {
	tb.Helper()
	ctx := context.Background()
	var s snapshot
	opts := inventory.ListStockOptions{Limit: 500}
	for {
		page, err := f.ledger.ListStock(ctx, f.shopID, opts)
		if err != nil {
			tb.Fatalf("list stock: %v", err)
		}
		for _, info := range page.Items {
			s.Stock = append(s.Stock, fmt.Sprintf("%+v", info))
		}
		if page.NextCursor == nil {
			break
		}
		opts.Cursor = *page.NextCursor
	}
	s.Movements = len(f.movements(tb))
	s.LastMovement = f.lastMovementID(tb)
	pool := testdb.Pool(tb)
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM holds WHERE shop_id = $1", f.shopID).Scan(&s.Holds); err != nil {
		tb.Fatalf("count holds: %v", err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM idempotency_keys WHERE shop_id = $1", f.shopID).Scan(&s.IdempotentKey); err != nil {
		tb.Fatalf("count idempotency keys: %v", err)
	}
	return s
}

// assertUnchanged fails tb unless the shop is as it was at before.
func (f *fixture) assertUnchanged(tb testing.TB, before snapshot) {
	tb.Helper()
	after := f.snapshot(tb)
	if !slices.Equal(before.Stock, after.Stock) {
		tb.Errorf("stock changed:\n\tbefore %v\n\tafter  %v", before.Stock, after.Stock)
	}
	if before.Movements != after.Movements || before.LastMovement != after.LastMovement {
		tb.Errorf("movements changed: %d (newest %d) before, %d (newest %d) after",
			before.Movements, before.LastMovement, after.Movements, after.LastMovement)
	}
	if before.Holds != after.Holds {
		tb.Errorf("holds changed: %d before, %d after", before.Holds, after.Holds)
	}
	if before.IdempotentKey != after.IdempotentKey {
		tb.Errorf("idempotency keys changed: %d before, %d after", before.IdempotentKey, after.IdempotentKey)
	}
}

// assertValidation fails tb unless err is a *ValidationError whose details
// name exactly the given fields.
func assertValidation(tb testing.TB, err error, fields ...string) {
	tb.Helper()
	verr, ok := errors.AsType[*checkoutd.ValidationError](err)
	if !ok {
		tb.Fatalf("error = %v, want *checkoutd.ValidationError naming %q", err, fields)
	}
	got := make([]string, len(verr.Details))
	for i, d := range verr.Details {
		got[i] = d.Field
		if d.Issue == "" {
			tb.Errorf("field %s has an empty issue", d.Field)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(fields))
	if !slices.Equal(got, want) {
		tb.Errorf("ValidationError names %q, want %q (%v)", got, want, err)
	}
}

// assertInsufficient fails tb unless err is an *InsufficientStockError with
// exactly the given shortfalls.
func assertInsufficient(tb testing.TB, err error, want ...inventory.Shortfall) {
	tb.Helper()
	short, ok := errors.AsType[*inventory.InsufficientStockError](err)
	if !ok {
		tb.Fatalf("error = %v, want *inventory.InsufficientStockError %+v", err, want)
	}
	if !slices.Equal(short.Lines, want) {
		tb.Errorf("shortfalls = %+v, want %+v", short.Lines, want)
	}
}

// assertNotActive fails tb unless err is a *HoldNotActiveError for holdID in
// status want.
func assertNotActive(tb testing.TB, err error, holdID string, want inventory.HoldStatus) {
	tb.Helper()
	na, ok := errors.AsType[*inventory.HoldNotActiveError](err)
	if !ok {
		tb.Fatalf("error = %v, want *inventory.HoldNotActiveError (status %s)", err, want)
	}
	if na.HoldID != holdID || na.Status != want {
		tb.Errorf("HoldNotActiveError{HoldID: %s, Status: %s}, want {%s, %s}", na.HoldID, na.Status, holdID, want)
	}
}

// sortAllocations orders each item's allocations by location id, for
// comparisons that do not test the order.
func sortAllocations(items []inventory.HoldItem) []inventory.HoldItem {
	out := slices.Clone(items)
	for i := range out {
		out[i].Allocations = slices.SortedFunc(slices.Values(out[i].Allocations), func(a, b inventory.Allocation) int {
			return cmp.Compare(a.LocationID, b.LocationID)
		})
	}
	return out
}

// The tests of holds.

func TestReserve(t *testing.T) {
	t.Parallel()
	type loc struct {
		id       string
		priority int64
	}
	tests := []struct {
		name      string
		locations []loc
		stock     map[string]int64 // "sku@location" -> on hand
		settings  map[string]inventory.StockSettings
		items     []inventory.Line
		want      []inventory.HoldItem // allocations in priority order
		// wantReserved is the reserved total of each line afterwards.
		wantReserved map[string]int64
	}{
		{
			name:  "single line",
			stock: map[string]int64{"A@default": 5},
			items: []inventory.Line{item("A", 2)},
			want: []inventory.HoldItem{
				{SKU: "A", Quantity: 2, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 2}}},
			},
			wantReserved: map[string]int64{"A": 2},
		},
		{
			name:  "multi-line, items come back in sku and variant order",
			stock: map[string]int64{"B@default": 3, "A@default": 5},
			items: []inventory.Line{item("B", 3), item("A", 1)},
			want: []inventory.HoldItem{
				{SKU: "A", Quantity: 1, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 1}}},
				{SKU: "B", Quantity: 3, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 3}}},
			},
			wantReserved: map[string]int64{"A": 1, "B": 3},
		},
		{
			name:  "duplicate lines are summed",
			stock: map[string]int64{"A@default": 5},
			items: []inventory.Line{item("A", 1), item("A", 2), item("A", 1)},
			want: []inventory.HoldItem{
				{SKU: "A", Quantity: 4, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 4}}},
			},
			wantReserved: map[string]int64{"A": 4},
		},
		{
			name:      "split across locations in priority order",
			locations: []loc{{"zeta", 1}, {"alpha", 2}},
			stock:     map[string]int64{"A@default": 1, "A@zeta": 2, "A@alpha": 5},
			items:     []inventory.Line{item("A", 4)},
			want: []inventory.HoldItem{{SKU: "A", Quantity: 4, Allocations: []inventory.Allocation{
				{LocationID: "default", Quantity: 1}, {LocationID: "zeta", Quantity: 2}, {LocationID: "alpha", Quantity: 1},
			}}},
			wantReserved: map[string]int64{"A": 4},
		},
		{
			name:      "equal priorities are taken in id order",
			locations: []loc{{"b-store", 1}, {"a-store", 1}},
			stock:     map[string]int64{"A@b-store": 5, "A@a-store": 1},
			items:     []inventory.Line{item("A", 3)},
			want: []inventory.HoldItem{{SKU: "A", Quantity: 3, Allocations: []inventory.Allocation{
				{LocationID: "a-store", Quantity: 1}, {LocationID: "b-store", Quantity: 2},
			}}},
			wantReserved: map[string]int64{"A": 3},
		},
		{
			name:     "backorder up to the limit on the default location",
			stock:    map[string]int64{"A@default": 2},
			settings: map[string]inventory.StockSettings{"A": {BackorderLimit: ptr[int64](3)}},
			items:    []inventory.Line{item("A", 5)},
			want: []inventory.HoldItem{
				{SKU: "A", Quantity: 5, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 5, Backordered: 3}}},
			},
			wantReserved: map[string]int64{"A": 5},
		},
		{
			name:      "free stock everywhere first, then backorder on default",
			locations: []loc{{"north", 1}},
			stock:     map[string]int64{"A@default": 1, "A@north": 2},
			settings:  map[string]inventory.StockSettings{"A": {BackorderLimit: ptr[int64](3)}},
			items:     []inventory.Line{item("A", 5)},
			want: []inventory.HoldItem{{SKU: "A", Quantity: 5, Allocations: []inventory.Allocation{
				{LocationID: "default", Quantity: 3, Backordered: 2}, {LocationID: "north", Quantity: 2},
			}}},
			wantReserved: map[string]int64{"A": 5},
		},
		{
			name:     "pre-order line with no stock at all",
			settings: map[string]inventory.StockSettings{"PRE": {BackorderLimit: ptr[int64](4)}},
			items:    []inventory.Line{item("PRE", 4)},
			want: []inventory.HoldItem{
				{SKU: "PRE", Quantity: 4, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 4, Backordered: 4}}},
			},
			wantReserved: map[string]int64{"PRE": 4},
		},
		{
			name:     "safety stock is kept back",
			stock:    map[string]int64{"A@default": 5},
			settings: map[string]inventory.StockSettings{"A": {SafetyStock: ptr[int64](2)}},
			items:    []inventory.Line{item("A", 3)},
			want: []inventory.HoldItem{
				{SKU: "A", Quantity: 3, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 3}}},
			},
			wantReserved: map[string]int64{"A": 3},
		},
		{
			name:      "safety stock is kept back across locations",
			locations: []loc{{"north", 1}},
			stock:     map[string]int64{"A@default": 2, "A@north": 2},
			settings:  map[string]inventory.StockSettings{"A": {SafetyStock: ptr[int64](1)}},
			items:     []inventory.Line{item("A", 3)},
			want: []inventory.HoldItem{{SKU: "A", Quantity: 3, Allocations: []inventory.Allocation{
				{LocationID: "default", Quantity: 2}, {LocationID: "north", Quantity: 1},
			}}},
			wantReserved: map[string]int64{"A": 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t)
			for _, l := range tt.locations {
				f.location(t, l.id, l.priority)
			}
			for key, onHand := range tt.stock {
				sku, location, _ := strings.Cut(key, "@")
				f.stock(t, sku, "", location, onHand)
			}
			for sku, s := range tt.settings {
				f.settings(t, sku, "", s)
			}
			before := f.lastMovementID(t)
			start := time.Now()

			hold, created, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: tt.items, TTL: longTTL, Reference: "cart-1"})
			if err != nil {
				t.Fatalf("Reserve: %v", err)
			}
			if !created {
				t.Error("created = false for a new hold")
			}
			if !strings.HasPrefix(hold.ID, "hold_") || hold.ShopID != f.shopID || hold.Status != inventory.HoldActive ||
				hold.Reference != "cart-1" || hold.CheckoutSessionID != nil {
				t.Errorf("hold = {ID: %s, ShopID: %s, Status: %s, Reference: %q, CheckoutSessionID: %v}, want a hold_ id, shop %s, active, cart-1, nil",
					hold.ID, hold.ShopID, hold.Status, hold.Reference, hold.CheckoutSessionID, f.shopID)
			}
			// Expiries are whole seconds, rounded down.
			if d := hold.ExpiresAt.Sub(hold.CreatedAt); d > longTTL || d <= longTTL-time.Second || hold.ExpiresAt.Nanosecond() != 0 {
				t.Errorf("expiresAt %s - createdAt = %s, want the TTL %s to the whole second below", hold.ExpiresAt, d, longTTL)
			}
			if d := hold.CreatedAt.Sub(start); d < -time.Minute || d > time.Minute {
				t.Errorf("createdAt %s is %s away from now", hold.CreatedAt, d)
			}
			if got, want := sortAllocations(hold.Items), sortAllocations(tt.want); !slices.EqualFunc(got, want, equalItem) {
				t.Errorf("Reserve items = %+v, want %+v", got, want)
			}

			stored := f.hold(t, hold.ID)
			if !slices.EqualFunc(stored.Items, tt.want, equalItem) {
				t.Errorf("GetHold items = %+v, want %+v", stored.Items, tt.want)
			}
			if stored.Status != inventory.HoldActive || !stored.ExpiresAt.Equal(hold.ExpiresAt) || !stored.CreatedAt.Equal(hold.CreatedAt) || stored.Reference != hold.Reference {
				t.Errorf("GetHold = %+v, want what Reserve returned: %+v", stored, hold)
			}

			for sku, want := range tt.wantReserved {
				if got := f.shop.Info(t, sku, "").Reserved; got != want {
					t.Errorf("%s reserved = %d, want %d", sku, got, want)
				}
			}
			var wantMoves []mv
			for _, it := range tt.want {
				for _, a := range it.Allocations {
					wantMoves = append(wantMoves, mv{Type: inventory.MovementReservation, SKU: it.SKU, VariantKey: it.VariantKey,
						LocationID: a.LocationID, Quantity: a.Quantity, Reference: "cart-1", HoldID: hold.ID})
				}
			}
			assertMovements(t, "Reserve", f.movementsAfter(t, before), wantMoves...)
			inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
		})
	}
}

func equalItem(a, b inventory.HoldItem) bool {
	return a.SKU == b.SKU && a.VariantKey == b.VariantKey && a.Quantity == b.Quantity && slices.Equal(a.Allocations, b.Allocations)
}

func TestReserveVariantKeysAreExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "TEE", "size:M", "default", 2)
	f.stock(t, "TEE", "size:m", "default", 7)

	hold := f.reserve(t, variantItem("TEE", "size:M", 2))
	want := []inventory.HoldItem{{SKU: "TEE", VariantKey: "size:M", Quantity: 2, Allocations: []inventory.Allocation{{LocationID: "default", Quantity: 2}}}}
	if !slices.EqualFunc(hold.Items, want, equalItem) {
		t.Errorf("items = %+v, want %+v", hold.Items, want)
	}
	if got := f.shop.Info(t, "TEE", "size:m").Reserved; got != 0 {
		t.Errorf("size:m reserved = %d, want 0: variant keys are compared byte for byte", got)
	}
	// Neither the other variant nor the product itself stand in for size:M.
	_, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{variantItem("TEE", "size:M", 1), item("TEE", 1)}, TTL: longTTL})
	assertInsufficient(t, err,
		inventory.Shortfall{SKU: "TEE", VariantKey: "", Requested: 1, Available: 0},
		inventory.Shortfall{SKU: "TEE", VariantKey: "size:M", Requested: 1, Available: 0},
	)
}

func TestReserveAllocationOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.location(t, "zeta", 1)
	f.location(t, "alpha", 2)
	f.stock(t, "A", "", "default", 1)
	f.stock(t, "A", "", "zeta", 1)
	f.stock(t, "A", "", "alpha", 1)

	hold := f.reserve(t, item("A", 3))
	want := []inventory.Allocation{{LocationID: "default", Quantity: 1}, {LocationID: "zeta", Quantity: 1}, {LocationID: "alpha", Quantity: 1}}
	if got := f.hold(t, hold.ID).Items[0].Allocations; !slices.Equal(got, want) {
		t.Errorf("GetHold allocations = %+v, want priority order %+v", got, want)
	}
	if got := hold.Items[0].Allocations; !slices.Equal(got, want) {
		t.Fatalf("Reserve allocations = %+v, want %+v", got, want)
	}
}

func TestReserveInsufficient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture)
		items []inventory.Line
		want  []inventory.Shortfall
	}{
		{
			name:  "one line short",
			setup: func(t *testing.T, f *fixture) { f.stock(t, "A", "", "default", 2) },
			items: []inventory.Line{item("A", 3)},
			want:  []inventory.Shortfall{{SKU: "A", Requested: 3, Available: 2}},
		},
		{
			name: "only the short lines are listed, the others are not held either",
			setup: func(t *testing.T, f *fixture) {
				f.stock(t, "A", "", "default", 5)
				f.stock(t, "B", "size:M", "default", 1)
				f.stock(t, "C", "", "default", 0)
			},
			items: []inventory.Line{item("C", 1), item("A", 2), variantItem("B", "size:M", 2)},
			want: []inventory.Shortfall{
				{SKU: "B", VariantKey: "size:M", Requested: 2, Available: 1},
				{SKU: "C", Requested: 1, Available: 0},
			},
		},
		{
			name:  "duplicates are summed before the check",
			setup: func(t *testing.T, f *fixture) { f.stock(t, "A", "", "default", 3) },
			items: []inventory.Line{item("A", 2), item("A", 2)},
			want:  []inventory.Shortfall{{SKU: "A", Requested: 4, Available: 3}},
		},
		{
			name:  "unknown line has 0 available",
			setup: func(t *testing.T, f *fixture) { f.stock(t, "A", "", "default", 3) },
			items: []inventory.Line{item("A", 1), item("NEVER-STOCKED", 1)},
			want:  []inventory.Shortfall{{SKU: "NEVER-STOCKED", Requested: 1, Available: 0}},
		},
		{
			name: "safety stock is not available",
			setup: func(t *testing.T, f *fixture) {
				f.stock(t, "A", "", "default", 5)
				f.settings(t, "A", "", inventory.StockSettings{SafetyStock: ptr[int64](2)})
			},
			items: []inventory.Line{item("A", 4)},
			want:  []inventory.Shortfall{{SKU: "A", Requested: 4, Available: 3}},
		},
		{
			name: "backorder beyond the limit",
			setup: func(t *testing.T, f *fixture) {
				f.stock(t, "A", "", "default", 2)
				f.settings(t, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](3)})
			},
			items: []inventory.Line{item("A", 6)},
			want:  []inventory.Shortfall{{SKU: "A", Requested: 6, Available: 5}},
		},
		{
			name: "backorder room already used by another hold",
			setup: func(t *testing.T, f *fixture) {
				f.stock(t, "A", "", "default", 2)
				f.settings(t, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](3)})
				f.reserve(t, item("A", 4))
			},
			items: []inventory.Line{item("A", 2)},
			want:  []inventory.Shortfall{{SKU: "A", Requested: 2, Available: 1}},
		},
		{
			name: "stock held by another hold",
			setup: func(t *testing.T, f *fixture) {
				f.location(t, "north", 1)
				f.stock(t, "A", "", "default", 3)
				f.stock(t, "A", "", "north", 2)
				f.reserve(t, item("A", 4))
			},
			items: []inventory.Line{item("A", 2)},
			want:  []inventory.Shortfall{{SKU: "A", Requested: 2, Available: 1}},
		},
		{
			name: "committed stock is gone",
			setup: func(t *testing.T, f *fixture) {
				f.stock(t, "A", "", "default", 3)
				h := f.reserve(t, item("A", 3))
				if _, err := f.ledger.Commit(context.Background(), f.shopID, h.ID, "order-1"); err != nil {
					t.Fatalf("commit: %v", err)
				}
			},
			items: []inventory.Line{item("A", 1)},
			want:  []inventory.Shortfall{{SKU: "A", Requested: 1, Available: 0}},
		},
		{
			name:  "the largest quantity is checked against stock, not refused as malformed",
			setup: func(t *testing.T, f *fixture) { f.stock(t, "A", "", "default", 3) },
			items: []inventory.Line{item("A", inventory.MaxQuantity)},
			want:  []inventory.Shortfall{{SKU: "A", Requested: inventory.MaxQuantity, Available: 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t)
			tt.setup(t, f)
			before := f.snapshot(t)
			infos := map[inventory.Line]*inventory.StockInfo{}
			for _, it := range tt.items {
				key := inventory.Line{SKU: it.SKU, VariantKey: it.VariantKey}
				if info, err := f.ledger.StockInfo(ctx, f.shopID, it.SKU, it.VariantKey); err == nil {
					infos[key] = info
				}
			}

			hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: tt.items, TTL: longTTL, IdempotencyKey: "cart-1"})
			if hold != nil {
				t.Errorf("Reserve returned hold %s despite the shortfall", hold.ID)
			}
			assertInsufficient(t, err, tt.want...)

			for key, was := range infos {
				if now := f.shop.Info(t, key.SKU, key.VariantKey); now.OnHand != was.OnHand || now.Reserved != was.Reserved || now.Available != was.Available {
					t.Errorf("%s[%s] changed: on hand %d, reserved %d, available %d; was %d, %d, %d",
						key.SKU, key.VariantKey, now.OnHand, now.Reserved, now.Available, was.OnHand, was.Reserved, was.Available)
				}
			}
			f.assertUnchanged(t, before)
			inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
		})
	}
}

func TestReserveUnknownShop(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, err := f.ledger.Reserve(context.Background(), "no-such-shop", inventory.ReserveRequest{Items: []inventory.Line{item("A", 1)}, TTL: longTTL})
	if !errors.Is(err, checkoutd.ErrShopNotFound) {
		t.Errorf("Reserve on an unknown shop: error = %v, want ErrShopNotFound", err)
	}
}

func TestReserveIdempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reserve := func(f *fixture, key string, items ...inventory.Line) (*inventory.Hold, bool, error) {
		return f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: items, TTL: longTTL, IdempotencyKey: key, Reference: key})
	}

	t.Run("same key and items return the same hold", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		f.stock(t, "B", "", "default", 10)
		first, created, err := reserve(f, "cart-1", item("A", 2), item("B", 1))
		if err != nil || !created {
			t.Fatalf("first Reserve: created %v, error %v", created, err)
		}
		before := f.snapshot(t)

		// Order and splitting of lines do not make it another request.
		for _, items := range [][]inventory.Line{
			{item("A", 2), item("B", 1)},
			{item("B", 1), item("A", 2)},
			{item("A", 1), item("B", 1), item("A", 1)},
		} {
			again, created, err := reserve(f, "cart-1", items...)
			if err != nil {
				t.Fatalf("replay %v: %v", items, err)
			}
			if created {
				t.Errorf("replay %v: created = true, want false", items)
			}
			if again.ID != first.ID || again.Status != inventory.HoldActive || !again.ExpiresAt.Equal(first.ExpiresAt) ||
				!slices.EqualFunc(sortAllocations(again.Items), sortAllocations(first.Items), equalItem) {
				t.Errorf("replay %v returned %+v, want the first hold %+v", items, again, first)
			}
		}
		f.assertUnchanged(t, before)
		if got := f.shop.Info(t, "A", "").Reserved; got != 2 {
			t.Errorf("A reserved = %d after replays, want 2", got)
		}
	})

	t.Run("same key with other items is a conflict", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 10)
		f.stock(t, "B", "", "default", 10)
		if _, _, err := reserve(f, "cart-1", item("A", 2)); err != nil {
			t.Fatalf("first Reserve: %v", err)
		}
		before := f.snapshot(t)
		for _, items := range [][]inventory.Line{
			{item("A", 3)},
			{item("A", 2), item("B", 1)},
			{item("B", 2)},
			{variantItem("A", "size:M", 2)},
			{item("A", 11)}, // more than there is: still a conflict, not a shortfall
		} {
			hold, _, err := reserve(f, "cart-1", items...)
			if !errors.Is(err, inventory.ErrIdempotencyConflict) || hold != nil {
				t.Errorf("Reserve %v under a used key: hold %v, error %v; want ErrIdempotencyConflict", items, hold, err)
			}
		}
		f.assertUnchanged(t, before)
	})

	t.Run("same key after the stock ran out still returns the hold", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 2)
		first, _, err := reserve(f, "cart-1", item("A", 2))
		if err != nil {
			t.Fatalf("first Reserve: %v", err)
		}
		again, created, err := reserve(f, "cart-1", item("A", 2))
		if err != nil || created || again == nil || again.ID != first.ID {
			t.Fatalf("replay with no stock left: hold %+v, created %v, error %v; want hold %s", again, created, err, first.ID)
		}
		// A hold that has since been committed is returned as it is now.
		if _, err := f.ledger.Commit(ctx, f.shopID, first.ID, "order-1"); err != nil {
			t.Fatalf("commit: %v", err)
		}
		again, created, err = reserve(f, "cart-1", item("A", 2))
		if err != nil || created || again.ID != first.ID || again.Status != inventory.HoldCommitted {
			t.Errorf("replay after commit: hold %+v, created %v, error %v; want hold %s, committed", again, created, err, first.ID)
		}
	})

	t.Run("a key whose request fell short can be used again", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 1)
		_, _, err := reserve(f, "cart-1", item("A", 2))
		assertInsufficient(t, err, inventory.Shortfall{SKU: "A", Requested: 2, Available: 1})
		f.stock(t, "A", "", "default", 2)
		if _, created, err := reserve(f, "cart-1", item("A", 2)); err != nil || !created {
			t.Errorf("retry after restock: created %v, error %v; want a new hold", created, err)
		}
	})

	t.Run("keys belong to their shop", func(t *testing.T) {
		t.Parallel()
		f1, f2 := newFixture(t), newFixture(t)
		f1.stock(t, "A", "", "default", 5)
		f2.stock(t, "A", "", "default", 5)
		h1, _, err1 := reserve(f1, "cart-1", item("A", 1))
		h2, created, err2 := reserve(f2, "cart-1", item("A", 3))
		if err1 != nil || err2 != nil || !created || h1.ID == h2.ID {
			t.Errorf("same key in two shops: holds %v and %v (created %v), errors %v, %v; want two holds", h1, h2, created, err1, err2)
		}
	})
}

func TestReserveValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)

	many := func(n int) []inventory.Line {
		items := make([]inventory.Line, n)
		for i := range items {
			items[i] = item(fmt.Sprintf("SKU-%03d", i), 1)
		}
		return items
	}
	valid := inventory.ReserveRequest{Items: []inventory.Line{item("A", 1)}, TTL: longTTL}
	tests := []struct {
		name   string
		shopID *string // nil: the fixture's shop
		req    func(r *inventory.ReserveRequest)
		fields []string
	}{
		{"zero quantity", nil, func(r *inventory.ReserveRequest) { r.Items[0].Quantity = 0 }, []string{"items[0].quantity"}},
		{"negative quantity", nil, func(r *inventory.ReserveRequest) { r.Items[0].Quantity = -1 }, []string{"items[0].quantity"}},
		{"quantity above 1,000,000", nil, func(r *inventory.ReserveRequest) { r.Items[0].Quantity = inventory.MaxQuantity + 1 }, []string{"items[0].quantity"}},
		{"no items", nil, func(r *inventory.ReserveRequest) { r.Items = []inventory.Line{} }, []string{"items"}},
		{"nil items", nil, func(r *inventory.ReserveRequest) { r.Items = nil }, []string{"items"}},
		{"101 items", nil, func(r *inventory.ReserveRequest) { r.Items = many(101) }, []string{"items"}},
		{"empty sku", nil, func(r *inventory.ReserveRequest) { r.Items[0].SKU = "" }, []string{"items[0].sku"}},
		{"sku with a space", nil, func(r *inventory.ReserveRequest) { r.Items[0].SKU = "A B" }, []string{"items[0].sku"}},
		{"sku of 65 characters", nil, func(r *inventory.ReserveRequest) { r.Items[0].SKU = strings.Repeat("A", 65) }, []string{"items[0].sku"}},
		{"sku with a non-ASCII letter", nil, func(r *inventory.ReserveRequest) { r.Items[0].SKU = "SKÜ" }, []string{"items[0].sku"}},
		{"variant key with a control character", nil, func(r *inventory.ReserveRequest) { r.Items[0].VariantKey = "size:M\x00" }, []string{"items[0].variantKey"}},
		{"variant key with a newline", nil, func(r *inventory.ReserveRequest) { r.Items[0].VariantKey = "size:\nM" }, []string{"items[0].variantKey"}},
		{"variant key of 129 characters", nil, func(r *inventory.ReserveRequest) { r.Items[0].VariantKey = strings.Repeat("é", 129) }, []string{"items[0].variantKey"}},
		{"variant key not UTF-8", nil, func(r *inventory.ReserveRequest) { r.Items[0].VariantKey = "size:\xff" }, []string{"items[0].variantKey"}},
		{"empty shop id", ptr(""), func(r *inventory.ReserveRequest) {}, []string{"shopId"}},
		{"shop id in capitals", ptr("Shop"), func(r *inventory.ReserveRequest) {}, []string{"shopId"}},
		{"shop id of 65 characters", ptr(strings.Repeat("s", 65)), func(r *inventory.ReserveRequest) {}, []string{"shopId"}},
		{"TTL 0", nil, func(r *inventory.ReserveRequest) { r.TTL = 0 }, []string{"ttlSeconds"}},
		{"negative TTL", nil, func(r *inventory.ReserveRequest) { r.TTL = -time.Second }, []string{"ttlSeconds"}},
		{"TTL above 86400 s", nil, func(r *inventory.ReserveRequest) { r.TTL = (inventory.MaxTTLSeconds + 1) * time.Second }, []string{"ttlSeconds"}},
		{"TTL not whole seconds", nil, func(r *inventory.ReserveRequest) { r.TTL = 1500 * time.Millisecond }, []string{"ttlSeconds"}},
		{"reference of 256 characters", nil, func(r *inventory.ReserveRequest) { r.Reference = strings.Repeat("r", 256) }, []string{"reference"}},
		{"idempotency key of 256 characters", nil, func(r *inventory.ReserveRequest) { r.IdempotencyKey = strings.Repeat("k", 256) }, []string{"idempotencyKey"}},
		{"every problem at once", nil, func(r *inventory.ReserveRequest) {
			r.Items = []inventory.Line{{SKU: "", Quantity: 1}, {SKU: "A", VariantKey: "\t", Quantity: 0}}
			r.TTL = 0
		}, []string{"items[0].sku", "items[1].variantKey", "items[1].quantity", "ttlSeconds"}},
	}
	before := f.snapshot(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := valid
			req.Items = slices.Clone(valid.Items)
			req.IdempotencyKey = "cart-" + tt.name
			tt.req(&req)
			shopID := f.shopID
			if tt.shopID != nil {
				shopID = *tt.shopID
			}
			hold, _, err := f.ledger.Reserve(ctx, shopID, req)
			if hold != nil {
				t.Errorf("Reserve placed hold %s", hold.ID)
			}
			assertValidation(t, err, tt.fields...)
		})
	}
	f.assertUnchanged(t, before)

	// The limits themselves are fine.
	t.Run("limits", func(t *testing.T) {
		for _, items := range [][]inventory.Line{many(100), {variantItem("A", strings.Repeat("é", 128), 1)}} {
			_, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: items, TTL: inventory.MaxTTLSeconds * time.Second})
			if _, ok := errors.AsType[*inventory.InsufficientStockError](err); !ok {
				t.Errorf("Reserve of %d items: error = %v, want an InsufficientStockError (they are not stocked)", len(items), err)
			}
		}
		if _, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 1)}, TTL: time.Second}); err != nil {
			t.Errorf("Reserve with a TTL of 1 s: %v", err)
		}
	})
}

func TestGetHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, other := newFixture(t), newFixture(t)
	f.stock(t, "A", "", "default", 5)
	hold := f.reserve(t, item("A", 2))

	for _, tt := range []struct {
		name, shopID, holdID string
	}{
		{"unknown hold", f.shopID, "hold_doesnotexist"},
		{"empty id", f.shopID, ""},
		{"another shop's hold", other.shopID, hold.ID},
		{"unknown shop", "no-such-shop", hold.ID},
	} {
		if h, err := f.ledger.GetHold(ctx, tt.shopID, tt.holdID); !errors.Is(err, inventory.ErrHoldNotFound) {
			t.Errorf("%s: GetHold = %v, %v; want ErrHoldNotFound", tt.name, h, err)
		}
	}

	// Another shop cannot touch the hold either.
	before := f.snapshot(t)
	if _, err := other.ledger.Commit(ctx, other.shopID, hold.ID, "order-1"); !errors.Is(err, inventory.ErrHoldNotFound) {
		t.Errorf("Commit from another shop: error = %v, want ErrHoldNotFound", err)
	}
	if _, err := other.ledger.Release(ctx, other.shopID, hold.ID, "x"); !errors.Is(err, inventory.ErrHoldNotFound) {
		t.Errorf("Release from another shop: error = %v, want ErrHoldNotFound", err)
	}
	if _, err := other.ledger.Extend(ctx, other.shopID, hold.ID, time.Hour); !errors.Is(err, inventory.ErrHoldNotFound) {
		t.Errorf("Extend from another shop: error = %v, want ErrHoldNotFound", err)
	}
	f.assertUnchanged(t, before)
	if got := f.hold(t, hold.ID); got.Status != inventory.HoldActive || !got.ExpiresAt.Equal(hold.ExpiresAt) {
		t.Errorf("hold after other shop's attempts: %s until %s, want active until %s", got.Status, got.ExpiresAt, hold.ExpiresAt)
	}
}

func TestCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 5)
	f.stock(t, "A", "", "north", 3)
	f.stock(t, "B", "size:M", "default", 4)
	hold := f.reserve(t, item("A", 6), variantItem("B", "size:M", 1))
	before := f.lastMovementID(t)

	committed, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "order-123")
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if committed.ID != hold.ID || committed.Status != inventory.HoldCommitted {
		t.Errorf("Commit returned hold %s in status %s, want %s committed", committed.ID, committed.Status, hold.ID)
	}
	if !slices.EqualFunc(committed.Items, f.hold(t, hold.ID).Items, equalItem) {
		t.Errorf("Commit items %+v differ from GetHold's", committed.Items)
	}

	a := f.shop.Info(t, "A", "")
	if a.OnHand != 2 || a.Reserved != 0 || a.Available != 2 {
		t.Errorf("A after commit: on hand %d, reserved %d, available %d; want 2, 0, 2", a.OnHand, a.Reserved, a.Available)
	}
	wantLocs := []inventory.LocationStock{{LocationID: "default", OnHand: 0}, {LocationID: "north", OnHand: 2, Available: 2}}
	if !slices.Equal(a.Locations, wantLocs) {
		t.Errorf("A locations = %+v, want %+v", a.Locations, wantLocs)
	}
	if b := f.shop.Info(t, "B", "size:M"); b.OnHand != 3 || b.Reserved != 0 {
		t.Errorf("B[size:M] after commit: on hand %d, reserved %d; want 3, 0", b.OnHand, b.Reserved)
	}
	assertMovements(t, "Commit", f.movementsAfter(t, before),
		mv{Type: inventory.MovementSale, SKU: "A", LocationID: "default", Quantity: -5, Reference: "order-123", HoldID: hold.ID},
		mv{Type: inventory.MovementSale, SKU: "A", LocationID: "north", Quantity: -1, Reference: "order-123", HoldID: hold.ID},
		mv{Type: inventory.MovementSale, SKU: "B", VariantKey: "size:M", LocationID: "default", Quantity: -1, Reference: "order-123", HoldID: hold.ID},
	)
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)

	// Committing again changes nothing and returns the hold as it is.
	snap := f.snapshot(t)
	again, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "order-456")
	if err != nil {
		t.Fatalf("second Commit: %v", err)
	}
	if again.Status != inventory.HoldCommitted || !slices.EqualFunc(again.Items, committed.Items, equalItem) {
		t.Errorf("second Commit returned %+v, want %+v", again, committed)
	}
	f.assertUnchanged(t, snap)

	if _, err := f.ledger.Commit(ctx, f.shopID, "hold_doesnotexist", "order-1"); !errors.Is(err, inventory.ErrHoldNotFound) {
		t.Errorf("Commit of an unknown hold: error = %v, want ErrHoldNotFound", err)
	}
}

func TestCommitBackorderedHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 1)
	f.settings(t, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](5)})
	hold := f.reserve(t, item("A", 3))
	if _, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "order-1"); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	// Two units are sold that the shop does not have yet.
	info := f.shop.Info(t, "A", "")
	if info.OnHand != -2 || info.Reserved != 0 || info.Available != 0 {
		t.Errorf("after committing a backordered hold: on hand %d, reserved %d, available %d; want -2, 0, 0", info.OnHand, info.Reserved, info.Available)
	}
	// The backorder room stays used until stock arrives.
	v, err := f.ledger.Validate(ctx, f.shopID, []inventory.Line{item("A", 4)})
	if err != nil || v.OK || !slices.Equal(v.Insufficient, []inventory.Shortfall{{SKU: "A", Requested: 4, Available: 3}}) {
		t.Errorf("Validate after the sale = %+v, %v; want 3 available", v, err)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

func TestCommitNotActive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		close func(t *testing.T, f *fixture, holdID string)
		want  inventory.HoldStatus
	}{
		{"released", func(t *testing.T, f *fixture, holdID string) {
			if _, err := f.ledger.Release(ctx, f.shopID, holdID, "cart_abandoned"); err != nil {
				t.Fatalf("release: %v", err)
			}
		}, inventory.HoldReleased},
		{"lapsed, not reaped yet", func(t *testing.T, f *fixture, holdID string) {
			f.lapse(t, holdID)
		}, inventory.HoldExpired},
		{"expired and closed", func(t *testing.T, f *fixture, holdID string) {
			f.lapse(t, holdID)
			// A refused commit closes the lapsed hold as the reaper would;
			// the reaper itself (ExpireDue) acts on every shop, so only
			// tests that run alone call it.
			if _, err := f.ledger.Commit(ctx, f.shopID, holdID, "late"); !errors.As(err, new(*inventory.HoldNotActiveError)) {
				t.Fatalf("commit of a lapsed hold: %v", err)
			}
			if got := f.hold(t, holdID).Status; got != inventory.HoldExpired {
				t.Fatalf("after ExpireDue the hold is %s, want expired", got)
			}
		}, inventory.HoldExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.stock(t, "A", "", "default", 5)
			hold := f.reserve(t, item("A", 2))
			tt.close(t, f, hold.ID)
			before := f.lastMovementID(t)

			got, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "order-1")
			if got != nil {
				t.Errorf("Commit returned hold %+v", got)
			}
			assertNotActive(t, err, hold.ID, tt.want)

			if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 0 || info.Available != 5 {
				t.Errorf("after the refused commit: on hand %d, reserved %d, available %d; want 5, 0, 5", info.OnHand, info.Reserved, info.Available)
			}
			for _, m := range f.movementsAfter(t, before) {
				if m.Type == inventory.MovementSale {
					t.Errorf("refused commit wrote a sale: %+v", m)
				}
			}
			if got := f.hold(t, hold.ID).Status; got != tt.want {
				t.Errorf("hold status after the refused commit = %s, want %s", got, tt.want)
			}
			inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
		})
	}
}

// TestHoldExpiresInRealTime is the one test that waits for a TTL to run out,
// to show that the database's own clock retires a hold with no help.
func TestHoldExpiresInRealTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 3)}, TTL: time.Second})
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	before := f.lastMovementID(t)

	time.Sleep(time.Until(hold.ExpiresAt) + 200*time.Millisecond)

	if got := f.hold(t, hold.ID).Status; got != inventory.HoldExpired {
		t.Errorf("GetHold status after the TTL = %s, want expired", got)
	}
	// Not counted as reserved any more, though nothing has closed it (unless
	// another test's reaper happened by).
	if info := f.shop.Info(t, "A", ""); info.Reserved != 0 || info.Available != 5 || info.Locations[0].Reserved != 0 {
		t.Errorf("StockInfo after the TTL: reserved %d, available %d, default reserved %d; want 0, 5, 0",
			info.Reserved, info.Available, info.Locations[0].Reserved)
	}
	if v, err := f.ledger.Validate(ctx, f.shopID, []inventory.Line{item("A", 5)}); err != nil || !v.OK {
		t.Errorf("Validate of all 5 after the TTL = %+v, %v; want ok", v, err)
	}

	_, err = f.ledger.Commit(ctx, f.shopID, hold.ID, "order-1")
	assertNotActive(t, err, hold.ID, inventory.HoldExpired)

	// The refused commit closed the hold for good: its stock is back in the
	// rows themselves, not only in the view.
	if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 0 || info.Available != 5 {
		t.Errorf("after the refused commit: on hand %d, reserved %d, available %d; want 5, 0, 5", info.OnHand, info.Reserved, info.Available)
	}
	assertMovements(t, "closing the lapsed hold", f.movementsAfter(t, before),
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -3, Reference: "expired", HoldID: hold.ID})
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
	if _, err := f.ledger.Extend(ctx, f.shopID, hold.ID, time.Hour); err == nil {
		t.Error("Extend revived an expired hold")
	}
}

func TestRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 2)
	f.stock(t, "A", "", "north", 3)
	hold := f.reserve(t, item("A", 4))
	before := f.lastMovementID(t)

	released, err := f.ledger.Release(ctx, f.shopID, hold.ID, "cart_abandoned")
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	if released.ID != hold.ID || released.Status != inventory.HoldReleased {
		t.Errorf("Release returned %s in status %s, want %s released", released.ID, released.Status, hold.ID)
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 0 || info.Available != 5 {
		t.Errorf("after release: on hand %d, reserved %d, available %d; want 5, 0, 5", info.OnHand, info.Reserved, info.Available)
	}
	assertMovements(t, "Release", f.movementsAfter(t, before),
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -2, Reference: "cart_abandoned", HoldID: hold.ID},
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "north", Quantity: -2, Reference: "cart_abandoned", HoldID: hold.ID},
	)
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)

	// Releasing again is a no-op that returns the hold.
	snap := f.snapshot(t)
	again, err := f.ledger.Release(ctx, f.shopID, hold.ID, "again")
	if err != nil || again.Status != inventory.HoldReleased {
		t.Errorf("second Release = %+v, %v; want the released hold", again, err)
	}
	f.assertUnchanged(t, snap)

	if _, err := f.ledger.Release(ctx, f.shopID, "hold_doesnotexist", "x"); !errors.Is(err, inventory.ErrHoldNotFound) {
		t.Errorf("Release of an unknown hold: error = %v, want ErrHoldNotFound", err)
	}
}

func TestReleaseNotActive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("committed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 5)
		hold := f.reserve(t, item("A", 2))
		if _, err := f.ledger.Commit(ctx, f.shopID, hold.ID, "order-1"); err != nil {
			t.Fatalf("commit: %v", err)
		}
		before := f.snapshot(t)
		got, err := f.ledger.Release(ctx, f.shopID, hold.ID, "too late")
		if got != nil {
			t.Errorf("Release returned %+v", got)
		}
		assertNotActive(t, err, hold.ID, inventory.HoldCommitted)
		f.assertUnchanged(t, before)
	})

	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.stock(t, "A", "", "default", 5)
		hold := f.reserve(t, item("A", 2))
		f.lapse(t, hold.ID)
		got, err := f.ledger.Release(ctx, f.shopID, hold.ID, "cart_abandoned")
		if err != nil {
			t.Fatalf("Release of an expired hold: %v", err)
		}
		if info := f.shop.Info(t, "A", ""); info.OnHand != 5 || info.Reserved != 0 {
			t.Errorf("after release: on hand %d, reserved %d; want 5, 0", info.OnHand, info.Reserved)
		}
		inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
		if got.Status != inventory.HoldExpired {
			t.Fatalf("Release of a hold GetHold called expired returned status %s", got.Status)
		}
	})
}

func TestExtend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)

	// Short of the longest TTL, so that the extensions are not capped.
	hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 1)}, TTL: time.Hour})
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	extended, err := f.ledger.Extend(ctx, f.shopID, hold.ID, 10*time.Minute)
	if err != nil {
		t.Fatalf("Extend: %v", err)
	}
	if !extended.ExpiresAt.After(hold.ExpiresAt) || extended.Status != inventory.HoldActive {
		t.Errorf("Extend: %s until %s, want active until after %s", extended.Status, extended.ExpiresAt, hold.ExpiresAt)
	}
	if got := f.hold(t, hold.ID).ExpiresAt; !got.Equal(extended.ExpiresAt) {
		t.Errorf("GetHold expiresAt = %s, want the extended %s", got, extended.ExpiresAt)
	}
	// Extending once more pushes it further still.
	again, err := f.ledger.Extend(ctx, f.shopID, hold.ID, time.Second)
	if err != nil || !again.ExpiresAt.After(extended.ExpiresAt) {
		t.Errorf("second Extend = %v, %v; want expiry after %s", again, err, extended.ExpiresAt)
	}

	notActive := []struct {
		name  string
		close func(t *testing.T, holdID string)
		want  inventory.HoldStatus
	}{
		{"released", func(t *testing.T, holdID string) {
			if _, err := f.ledger.Release(ctx, f.shopID, holdID, "x"); err != nil {
				t.Fatalf("release: %v", err)
			}
		}, inventory.HoldReleased},
		{"committed", func(t *testing.T, holdID string) {
			if _, err := f.ledger.Commit(ctx, f.shopID, holdID, "order-1"); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}, inventory.HoldCommitted},
		{"lapsed", func(t *testing.T, holdID string) { f.lapse(t, holdID) }, inventory.HoldExpired},
	}
	for _, tt := range notActive {
		t.Run(tt.name, func(t *testing.T) {
			h := f.reserve(t, item("A", 1))
			tt.close(t, h.ID)
			was := f.hold(t, h.ID)
			got, err := f.ledger.Extend(ctx, f.shopID, h.ID, time.Hour)
			if got != nil {
				t.Errorf("Extend returned %+v", got)
			}
			assertNotActive(t, err, h.ID, tt.want)
			if now := f.hold(t, h.ID); now.Status != tt.want || !now.ExpiresAt.Equal(was.ExpiresAt) {
				t.Errorf("after the refused extend: %s until %s, want %s until %s", now.Status, now.ExpiresAt, tt.want, was.ExpiresAt)
			}
		})
	}

	for _, ttl := range []time.Duration{0, -time.Second, 1500 * time.Millisecond, (inventory.MaxTTLSeconds + 1) * time.Second} {
		_, err := f.ledger.Extend(ctx, f.shopID, hold.ID, ttl)
		assertValidation(t, err, "ttlSeconds")
	}
	if _, err := f.ledger.Extend(ctx, f.shopID, "hold_doesnotexist", time.Hour); !errors.Is(err, inventory.ErrHoldNotFound) {
		t.Errorf("Extend of an unknown hold: error = %v, want ErrHoldNotFound", err)
	}
}

// Extending again and again never keeps a hold more than MaxTTLSeconds past
// now: the expiry is capped there, and reads and the reaper see the capped
// expiry too.
func TestExtendCapsAtMaxTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)
	hold := f.reserve(t, item("A", 1))

	for range 3 {
		before := time.Now()
		extended, err := f.ledger.Extend(ctx, f.shopID, hold.ID, inventory.MaxTTLSeconds*time.Second)
		if err != nil {
			t.Fatalf("Extend: %v", err)
		}
		limit := time.Now().Add(inventory.MaxTTLSeconds * time.Second)
		if extended.ExpiresAt.After(limit) {
			t.Fatalf("expires at %s, more than %d s after the request", extended.ExpiresAt, inventory.MaxTTLSeconds)
		}
		if floor := before.Add(inventory.MaxTTLSeconds*time.Second - 5*time.Second); extended.ExpiresAt.Before(floor) {
			t.Errorf("expires at %s, want the cap, about %s", extended.ExpiresAt, limit)
		}
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

// TestReserveClosesLapsedHolds shows that a hold request that needs the stock
// of lapsed holds closes them itself, without waiting for the reaper.
func TestReserveClosesLapsedHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.location(t, "north", 1)
	f.stock(t, "A", "", "default", 2)
	f.stock(t, "A", "", "north", 1)
	f.stock(t, "B", "", "default", 5)
	stale := f.reserve(t, item("A", 3), item("B", 1))
	f.lapse(t, stale.ID)
	before := f.lastMovementID(t)

	fresh, created, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 3)}, TTL: longTTL, Reference: "cart-2"})
	if _, ok := errors.AsType[*inventory.InsufficientStockError](err); ok {
		// Another test's reaper had the lapsed hold locked; see
		// TestReserveWhileReaperHoldsLapsedHold.
		t.Fatalf("Reserve: %v", err)
	}
	if err != nil || !created {
		t.Fatalf("Reserve of the lapsed hold's stock: created %v, error %v", created, err)
	}
	if got := f.hold(t, stale.ID).Status; got != inventory.HoldExpired {
		t.Errorf("lapsed hold is %s, want expired", got)
	}
	if got := f.shop.Info(t, "A", ""); got.Reserved != 3 || got.Available != 0 {
		t.Errorf("A: reserved %d, available %d; want 3 (the new hold), 0", got.Reserved, got.Available)
	}
	if got := f.shop.Info(t, "B", ""); got.Reserved != 0 || got.Available != 5 {
		t.Errorf("B: reserved %d, available %d; want 0, 5", got.Reserved, got.Available)
	}
	assertMovements(t, "Reserve over a lapsed hold", f.movementsAfter(t, before),
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -2, Reference: "expired", HoldID: stale.ID},
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "north", Quantity: -1, Reference: "expired", HoldID: stale.ID},
		mv{Type: inventory.MovementRelease, SKU: "B", LocationID: "default", Quantity: -1, Reference: "expired", HoldID: stale.ID},
		mv{Type: inventory.MovementReservation, SKU: "A", LocationID: "default", Quantity: 2, Reference: "cart-2", HoldID: fresh.ID},
		mv{Type: inventory.MovementReservation, SKU: "A", LocationID: "north", Quantity: 1, Reference: "cart-2", HoldID: fresh.ID},
	)
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

// TestReserveWhileReaperHoldsLapsedHold places a hold while the lapsed hold in
// its way is locked, as the reaper locks the holds it is closing. It waits for
// a 1 s TTL, side by side with TestHoldExpiresInRealTime.
func TestReserveWhileReaperHoldsLapsedHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 3)
	stale, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 3)}, TTL: time.Second})
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	// Locked before it lapses, so that no other test's reaper can close it
	// first, then left to lapse.
	reaper, err := testdb.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer func() { _ = reaper.Rollback(ctx) }()
	if _, err := reaper.Exec(ctx, "SELECT 1 FROM holds WHERE shop_id = $1 AND id = $2 FOR NO KEY UPDATE", f.shopID, stale.ID); err != nil {
		t.Fatalf("lock the hold: %v", err)
	}
	time.Sleep(time.Until(stale.ExpiresAt) + 100*time.Millisecond)
	type result struct {
		hold *inventory.Hold
		err  error
	}
	done := make(chan result, 1)
	go func() {
		hold, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 3)}, TTL: longTTL})
		done <- result{hold, err}
	}()
	// The reaper gives up (or finishes) a moment later; either way the
	// stock is free, as StockInfo has said all along.
	var res result
	select {
	case res = <-done:
	case <-time.After(200 * time.Millisecond):
		_ = reaper.Rollback(ctx)
		res = <-done
	}
	_ = reaper.Rollback(ctx)
	if _, ok := errors.AsType[*inventory.InsufficientStockError](res.err); ok {
		t.Fatalf("Reserve of 3 with StockInfo available %d: %v", f.shop.Info(t, "A", "").Available, res.err)
	}
	if res.err != nil {
		t.Fatalf("Reserve: %v", res.err)
	}
	if got := f.hold(t, stale.ID).Status; got != inventory.HoldExpired {
		t.Errorf("lapsed hold is %s, want expired", got)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

// Not parallel: ExpireDue acts on every shop, and would close other tests'
// lapsed holds under them. Go runs the tests that are not parallel first,
// alone.
func TestExpireDue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 20)
	// TTLs beyond the race tests' reach (now+2m), below this test's (now+30m).
	place := func(ttl time.Duration, qty int64) *inventory.Hold {
		t.Helper()
		h, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", qty)}, TTL: ttl})
		if err != nil {
			t.Fatalf("reserve: %v", err)
		}
		return h
	}
	due1, due2, due3 := place(10*time.Minute, 1), place(11*time.Minute, 2), place(12*time.Minute, 3)
	committed, released := place(10*time.Minute, 4), place(10*time.Minute, 5)
	notDue := place(longTTL, 1)
	if _, err := f.ledger.Commit(ctx, f.shopID, committed.ID, "order-1"); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if _, err := f.ledger.Release(ctx, f.shopID, released.ID, "x"); err != nil {
		t.Fatalf("release: %v", err)
	}
	before := f.lastMovementID(t)
	mine := func(expired []inventory.ExpiredHold) []string {
		var ids []string
		for _, e := range expired {
			if e.ShopID == f.shopID {
				ids = append(ids, e.HoldID)
			}
		}
		return ids
	}

	// Now, nothing of this shop is due.
	expired, err := f.ledger.ExpireDue(ctx, time.Now(), 1000)
	if err != nil {
		t.Fatalf("ExpireDue now: %v", err)
	}
	if ids := mine(expired); len(ids) != 0 {
		t.Errorf("ExpireDue(now) expired %v, none of which is due", ids)
	}

	// Half an hour on, three are. Other tests' holds may be due as well, so
	// only the batch size is checked exactly, then the rest is reaped.
	future := time.Now().Add(30 * time.Minute)
	var got []string
	reap := func(batch int) int {
		t.Helper()
		expired, err := f.ledger.ExpireDue(ctx, future, batch)
		if err != nil {
			t.Fatalf("ExpireDue(batch %d): %v", batch, err)
		}
		if len(expired) > batch {
			t.Errorf("ExpireDue(batch %d) returned %d holds", batch, len(expired))
		}
		for _, e := range expired {
			if e.ShopID == f.shopID && e.CheckoutSessionID != nil {
				t.Errorf("hold %s has checkout session %q, want none", e.HoldID, *e.CheckoutSessionID)
			}
		}
		got = append(got, mine(expired)...)
		return len(expired)
	}
	if n := reap(1); n != 1 {
		t.Errorf("ExpireDue(batch 1) returned %d holds, want 1", n)
	}
	for i := 0; reap(50) == 50; i++ {
		if i == 100 {
			t.Fatal("ExpireDue keeps returning full batches")
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values([]string{due1.ID, due2.ID, due3.ID}))
	if !slices.Equal(got, want) {
		t.Errorf("expired holds of the shop: %v, want %v (each once)", got, want)
	}

	for _, tt := range []struct {
		hold *inventory.Hold
		want inventory.HoldStatus
	}{
		{due1, inventory.HoldExpired}, {due2, inventory.HoldExpired}, {due3, inventory.HoldExpired},
		{committed, inventory.HoldCommitted}, {released, inventory.HoldReleased}, {notDue, inventory.HoldActive},
	} {
		if got := f.hold(t, tt.hold.ID).Status; got != tt.want {
			t.Errorf("hold %s is %s, want %s", tt.hold.ID, got, tt.want)
		}
	}
	if info := f.shop.Info(t, "A", ""); info.OnHand != 16 || info.Reserved != 1 {
		t.Errorf("after expiry: on hand %d, reserved %d; want 16, 1 (the hold not due)", info.OnHand, info.Reserved)
	}
	assertMovements(t, "ExpireDue", f.movementsAfter(t, before),
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -1, Reference: "expired", HoldID: due1.ID},
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -2, Reference: "expired", HoldID: due2.ID},
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -3, Reference: "expired", HoldID: due3.ID},
	)
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)

	// An expired hold stays expired.
	snap := f.snapshot(t)
	got = nil
	reap(1000)
	if len(got) != 0 {
		t.Errorf("second ExpireDue expired %v again", got)
	}
	f.assertUnchanged(t, snap)
}

func TestSafetyStockWithBackorder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	// Five on hand, all of it safety stock, and three may be backordered: at
	// most three units can be held.
	f.stock(t, "A", "", "default", 5)
	f.settings(t, "A", "", inventory.StockSettings{SafetyStock: ptr[int64](5), BackorderLimit: ptr[int64](3)})

	v, err := f.ledger.Validate(ctx, f.shopID, []inventory.Line{item("A", 4)})
	if err != nil || !slices.Equal(v.Insufficient, []inventory.Shortfall{{SKU: "A", Requested: 4, Available: 3}}) {
		t.Errorf("Validate 4 = %+v, %v; want 3 available", v, err)
	}
	hold := f.reserve(t, item("A", 3))
	want := []inventory.Allocation{{LocationID: "default", Quantity: 3, Backordered: 3}}
	if got := hold.Items[0].Allocations; !slices.Equal(got, want) {
		t.Errorf("allocations = %+v, want %+v", got, want)
	}

	_, _, err = f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("A", 1)}, TTL: longTTL})
	if err == nil {
		t.Fatalf("a 4th unit was held: reserved now %d with 0 free and a backorder limit of 3", f.shop.Info(t, "A", "").Reserved)
	}
	assertInsufficient(t, err, inventory.Shortfall{SKU: "A", Requested: 1, Available: 0})
}
