package inventory_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// validateGroupFixture has two ledgers on one database: grouped, whose
// validations run one group at a time and whose groups the test can hold
// back, and alone, which never groups, to say what each validation gets on
// its own.
type validateGroupFixture struct {
	grouped, alone *inventory.Ledger

	mu   sync.Mutex
	runs []inventory.GroupRun
	// hold, when set, is what the next group waits for before it runs.
	hold chan struct{}
}

func newValidateGroupFixture(t *testing.T) *validateGroupFixture {
	t.Helper()
	pool := testdb.Pool(t)
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f := &validateGroupFixture{
		grouped: inventory.NewLedger(pool, inventory.Config{Logger: logger, ReadGroupsInFlight: 1}),
		alone:   inventory.NewLedger(pool, inventory.Config{Logger: logger, ReadGroupSize: 1}),
	}
	inventory.ObserveValidateGroups(f.grouped, func(r inventory.GroupRun) {
		f.mu.Lock()
		f.runs = append(f.runs, r)
		hold := f.hold
		f.hold = nil
		f.mu.Unlock()
		if hold != nil {
			<-hold
		}
	})
	return f
}

func (f *validateGroupFixture) groups() []inventory.GroupRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]inventory.GroupRun(nil), f.runs...)
}

type validateCall struct {
	ctx   context.Context
	shop  string
	items []inventory.Line
}

type validateOutcome struct {
	res *inventory.ValidateResult
	err error
}

// asGroup runs a lone validation whose group it holds back until every call
// has queued behind it, then lets it go: the calls then run as one group.
func (f *validateGroupFixture) asGroup(t *testing.T, lead validateCall, calls []validateCall) []validateOutcome {
	t.Helper()
	release := make(chan struct{})
	f.mu.Lock()
	f.hold = release
	before := len(f.runs)
	f.mu.Unlock()
	out := make([]validateOutcome, len(calls))
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := f.grouped.Validate(lead.ctx, lead.shop, lead.items); err != nil {
			t.Errorf("lead validation: %v", err)
		}
	})
	waitUntil(t, func() bool { return len(f.groups()) == before+1 })
	for i, c := range calls {
		wg.Go(func() {
			res, err := f.grouped.Validate(c.ctx, c.shop, c.items)
			out[i] = validateOutcome{res, err}
		})
		waitUntil(t, func() bool { return inventory.QueuedValidations(f.grouped) == i+1 })
	}
	close(release)
	wg.Wait()
	return out
}

// waitUntil waits for a state the test drives towards; it asserts no timing.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestValidateGroupAnswersEachCaller: validations of different shops, with
// lines they share, lines they share with each other and lines no one
// stocks, answered by one query, each get exactly what they get alone.
func TestValidateGroupAnswersEachCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newValidateGroupFixture(t)
	a := inventorytest.NewShop(t, f.alone, nil)
	b := inventorytest.NewShop(t, f.alone, nil)
	a.Stock(t, "TEE", 5)
	a.StockLine(t, "TEE", "size:M", "default", 2)
	a.Stock(t, "MUG", 1)
	a.Hold(t, time.Minute, 1, "MUG")
	b.Stock(t, "TEE", 50)
	if _, err := f.alone.UpdateSettings(ctx, b.ID, "SAFE", "", inventory.StockSettings{BackorderLimit: ptr[int64](3)}); err != nil {
		t.Fatal(err)
	}
	line := func(sku, variantKey string, qty int64) inventory.Line {
		return inventory.Line{SKU: sku, VariantKey: variantKey, Quantity: qty}
	}
	unknownShop := testdb.ShopID(t)
	calls := []validateCall{
		{ctx, a.ID, []inventory.Line{line("TEE", "", 5)}},
		{ctx, a.ID, []inventory.Line{line("TEE", "", 6), line("TEE", "size:M", 1)}},
		{ctx, b.ID, []inventory.Line{line("TEE", "", 6)}},
		{ctx, b.ID, []inventory.Line{line("TEE", "", 30), line("TEE", "", 30)}},
		{ctx, a.ID, []inventory.Line{line("MUG", "", 1), line("NOPE", "", 1)}},
		{ctx, b.ID, []inventory.Line{line("SAFE", "", 3), line("MUG", "", 1)}},
		{ctx, unknownShop, []inventory.Line{line("TEE", "", 1)}},
		{ctx, a.ID, []inventory.Line{line("TEE", "size:M", 2)}},
	}
	got := f.asGroup(t, validateCall{ctx, a.ID, []inventory.Line{line("TEE", "", 1)}}, calls)

	if runs := f.groups(); len(runs) != 2 || runs[1] != (inventory.GroupRun{Size: len(calls), LeaderQueued: true}) {
		t.Fatalf("groups = %+v, want the lead alone, then all %d calls in one", runs, len(calls))
	}
	for i, c := range calls {
		res, err := f.alone.Validate(ctx, c.shop, c.items)
		want := validateOutcome{res, err}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("call %d (%s %+v): grouped %+v / %v, alone %+v / %v", i, c.shop, c.items, got[i].res, got[i].err, want.res, want.err)
		}
	}
	if !errors.Is(got[6].err, checkoutd.ErrShopNotFound) {
		t.Errorf("the unknown shop's validation = %v, want ErrShopNotFound", got[6].err)
	}
	if got[4].res == nil || got[4].res.OK || len(got[4].res.Insufficient) != 2 {
		t.Errorf("MUG (held) and NOPE (never stocked) = %+v, want both short", got[4].res)
	}
}

// TestValidateGroupErrorsPerCaller: a caller whose validation is wrong, or
// who goes away while queued, hears of it alone; the group answers the rest.
func TestValidateGroupErrorsPerCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newValidateGroupFixture(t)
	a := inventorytest.NewShop(t, f.alone, nil)
	a.Stock(t, "TEE", 5)
	gone, cancel := context.WithCancel(ctx)
	ok := []inventory.Line{{SKU: "TEE", Quantity: 5}}
	calls := []validateCall{
		{ctx, a.ID, ok},
		{gone, a.ID, ok},
		{ctx, a.ID, ok},
	}
	release := make(chan struct{})
	f.mu.Lock()
	f.hold = release
	f.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = f.grouped.Validate(ctx, a.ID, ok) })
	waitUntil(t, func() bool { return len(f.groups()) == 1 })
	out := make([]validateOutcome, len(calls))
	for i, c := range calls {
		wg.Go(func() {
			res, err := f.grouped.Validate(c.ctx, c.shop, c.items)
			out[i] = validateOutcome{res, err}
		})
		waitUntil(t, func() bool { return inventory.QueuedValidations(f.grouped) == i+1 })
	}
	// Bad input never queues: it is refused on the caller's goroutine.
	if _, err := f.grouped.Validate(ctx, a.ID, []inventory.Line{{SKU: "TEE", Quantity: 0}}); !errors.As(err, new(*checkoutd.ValidationError)) {
		t.Errorf("a zero quantity = %v, want a ValidationError", err)
	}
	cancel()
	waitUntil(t, func() bool { return inventory.QueuedValidations(f.grouped) == 2 })
	close(release)
	wg.Wait()

	if !errors.Is(out[1].err, context.Canceled) {
		t.Errorf("the caller that went away got %+v / %v, want context.Canceled", out[1].res, out[1].err)
	}
	for _, i := range []int{0, 2} {
		if out[i].err != nil || !out[i].res.OK {
			t.Errorf("call %d = %+v / %v, want ok", i, out[i].res, out[i].err)
		}
	}
	if runs := f.groups(); len(runs) != 2 || runs[1].Size != 2 {
		t.Errorf("groups = %+v, want the lead, then the two callers still there", runs)
	}
}

// TestLoneValidateRunsAtOnce: a validation that finds no other under way
// leads a group of one at once; it never queues for company.
func TestLoneValidateRunsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newValidateGroupFixture(t)
	a := inventorytest.NewShop(t, f.alone, nil)
	a.Stock(t, "TEE", 5)
	for range 3 {
		res, err := f.grouped.Validate(ctx, a.ID, []inventory.Line{{SKU: "TEE", Quantity: 5}})
		if err != nil || !res.OK {
			t.Fatalf("validate = %+v, %v", res, err)
		}
	}
	want := []inventory.GroupRun{{Size: 1}, {Size: 1}, {Size: 1}}
	if runs := f.groups(); !reflect.DeepEqual(runs, want) {
		t.Errorf("groups = %+v, want %+v: each lone validation led a group of one without queuing", runs, want)
	}
}

type stockRead struct{ shop, sku, variantKey string }

type stockOutcome struct {
	info *inventory.StockInfo
	err  error
}

// TestStockReadGroupAnswersEachCaller: stock reads of different shops,
// the same line twice, a line at several locations, one only configured,
// lines a shop does not have and a shop that does not exist, answered in
// one group with a validation, each get exactly what they get alone.
func TestStockReadGroupAnswersEachCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newValidateGroupFixture(t)
	a := inventorytest.NewShop(t, f.alone, nil)
	b := inventorytest.NewShop(t, f.alone, nil)
	a.Location(t, "north", 5)
	a.Location(t, "south", 1)
	a.StockLine(t, "TEE", "", "north", 4)
	a.StockLine(t, "TEE", "", "south", 2)
	a.Stock(t, "TEE", 3)
	a.StockLine(t, "TEE", "size:M", "default", 2)
	a.Hold(t, time.Minute, 2, "TEE")
	b.Stock(t, "TEE", 50)
	if _, err := f.alone.UpdateSettings(ctx, b.ID, "SAFE", "", inventory.StockSettings{BackorderLimit: ptr[int64](3)}); err != nil {
		t.Fatal(err)
	}
	reads := []stockRead{
		{a.ID, "TEE", ""},
		{a.ID, "TEE", ""},
		{a.ID, "TEE", "size:M"},
		{b.ID, "TEE", ""},
		{b.ID, "SAFE", ""},
		{a.ID, "TEE", "size:L"},
		{a.ID, "NOPE", ""},
		{testdb.ShopID(t), "TEE", ""},
	}

	release := make(chan struct{})
	f.mu.Lock()
	f.hold = release
	f.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = f.grouped.StockInfo(ctx, a.ID, "TEE", "") })
	waitUntil(t, func() bool { return len(f.groups()) == 1 })
	got := make([]stockOutcome, len(reads))
	for i, r := range reads {
		wg.Go(func() {
			info, err := f.grouped.StockInfo(ctx, r.shop, r.sku, r.variantKey)
			got[i] = stockOutcome{info, err}
		})
		waitUntil(t, func() bool { return inventory.QueuedValidations(f.grouped) == i+1 })
	}
	var validated validateOutcome
	wg.Go(func() {
		res, err := f.grouped.Validate(ctx, b.ID, []inventory.Line{{SKU: "TEE", Quantity: 50}})
		validated = validateOutcome{res, err}
	})
	waitUntil(t, func() bool { return inventory.QueuedValidations(f.grouped) == len(reads)+1 })
	close(release)
	wg.Wait()

	if runs := f.groups(); len(runs) != 2 || runs[1] != (inventory.GroupRun{Size: len(reads) + 1, LeaderQueued: true}) {
		t.Fatalf("groups = %+v, want the lead alone, then all %d reads in one", runs, len(reads)+1)
	}
	for i, r := range reads {
		info, err := f.alone.StockInfo(ctx, r.shop, r.sku, r.variantKey)
		if want := (stockOutcome{info, err}); !reflect.DeepEqual(got[i], want) {
			t.Errorf("read %d (%+v): grouped %+v / %v, alone %+v / %v", i, r, got[i].info, got[i].err, want.info, want.err)
		}
	}
	if info := got[0].info; info == nil || info.OnHand != 9 || info.Reserved != 2 || len(info.Locations) != 3 ||
		info.Locations[0].LocationID != "default" || info.Locations[1].LocationID != "south" {
		t.Errorf("TEE at three locations = %+v, want 9 on hand, 2 reserved, default then south then north", info)
	}
	if info := got[4].info; info == nil || info.OnHand != 0 || info.BackorderLimit != 3 {
		t.Errorf("SAFE, only configured = %+v, want none on hand and a backorder limit of 3", info)
	}
	if !errors.Is(got[6].err, inventory.ErrStockLineNotFound) || !errors.Is(got[7].err, checkoutd.ErrShopNotFound) {
		t.Errorf("a line the shop lacks = %v, an unknown shop = %v", got[6].err, got[7].err)
	}
	var missing *inventory.StockLineNotFoundError
	if !errors.As(got[5].err, &missing) || len(missing.OtherVariantKeys) != 2 {
		t.Errorf("TEE size:L = %v, want not found naming the sku's two variant keys", got[5].err)
	}
	if validated.err != nil || !validated.res.OK {
		t.Errorf("the validation in the group = %+v / %v, want ok", validated.res, validated.err)
	}
}
