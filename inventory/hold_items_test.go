package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// setItems changes a hold's lines and must succeed.
func (f *fixture) setItems(tb testing.TB, holdID string, items ...inventory.Line) *inventory.Hold {
	tb.Helper()
	h, err := f.ledger.SetHoldItems(context.Background(), f.shopID, holdID, inventory.SetHoldItemsRequest{Items: items})
	if err != nil {
		tb.Fatalf("set items of %s to %v: %v", holdID, items, err)
	}
	return h
}

// heldLines is a hold's lines as "sku[variant]=qty" with each allocation.
func heldLines(h *inventory.Hold) string {
	s := ""
	for _, it := range h.Items {
		s += fmt.Sprintf("%s[%s]=%d", it.SKU, it.VariantKey, it.Quantity)
		for _, a := range it.Allocations {
			s += fmt.Sprintf(" %s:%d/%d", a.LocationID, a.Quantity, a.Backordered)
		}
		s += "; "
	}
	return s
}

// A hold's lines become exactly the request's, repeated lines summed, with
// movements for the differences only; the stock and the ledger agree.
func TestSetHoldItems(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 10)
	f.stock(t, "B", "red", "default", 5)
	f.stock(t, "C", "", "default", 5)
	h := f.reserve(t, inventory.Line{SKU: "A", Quantity: 2}, inventory.Line{SKU: "C", Quantity: 1})

	last := f.lastMovementID(t)
	got := f.setItems(t, h.ID,
		inventory.Line{SKU: "A", Quantity: 3}, inventory.Line{SKU: "B", VariantKey: "red", Quantity: 1},
		inventory.Line{SKU: "A", Quantity: 2}, inventory.Line{SKU: "C", Quantity: 1})
	if want := "A[]=5 default:5/0; B[red]=1 default:1/0; C[]=1 default:1/0; "; heldLines(got) != want {
		t.Errorf("hold %s, want %s", heldLines(got), want)
	}
	if got.Status != inventory.HoldActive || got.ID != h.ID {
		t.Errorf("hold %s is %s", got.ID, got.Status)
	}
	assertMovements(t, "growing A and adding B", f.movementsAfter(t, last),
		mv{Type: inventory.MovementReservation, SKU: "A", LocationID: "default", Quantity: 3, Reference: "resize", HoldID: h.ID},
		mv{Type: inventory.MovementReservation, SKU: "B", VariantKey: "red", LocationID: "default", Quantity: 1, Reference: "resize", HoldID: h.ID})

	last = f.lastMovementID(t)
	got = f.setItems(t, h.ID, inventory.Line{SKU: "B", VariantKey: "red", Quantity: 1}, inventory.Line{SKU: "C", Quantity: 3})
	if want := "B[red]=1 default:1/0; C[]=3 default:3/0; "; heldLines(got) != want {
		t.Errorf("hold %s, want %s", heldLines(got), want)
	}
	assertMovements(t, "dropping A and growing C", f.movementsAfter(t, last),
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -5, Reference: "resize", HoldID: h.ID},
		mv{Type: inventory.MovementReservation, SKU: "C", LocationID: "default", Quantity: 2, Reference: "resize", HoldID: h.ID})
	if info := f.shop.Info(t, "A", ""); info.Reserved != 0 {
		t.Errorf("A reserved %d after the hold dropped it", info.Reserved)
	}
	if info := f.shop.Info(t, "C", ""); info.Reserved != 3 || info.Available != 2 {
		t.Errorf("C reserved %d available %d, want 3 and 2", info.Reserved, info.Available)
	}

	last = f.lastMovementID(t)
	f.setItems(t, h.ID, inventory.Line{SKU: "C", Quantity: 3}, inventory.Line{SKU: "B", VariantKey: "red", Quantity: 1})
	if n := len(f.movementsAfter(t, last)); n != 0 {
		t.Errorf("setting the same lines wrote %d movements", n)
	}

	// The hold commits what it holds now.
	f.shop.Commit(t, h.ID)
	if info := f.shop.Info(t, "C", ""); info.OnHand != 2 || info.Reserved != 0 {
		t.Errorf("C on hand %d reserved %d after the commit, want 2 and 0", info.OnHand, info.Reserved)
	}
	f.shop.RequireLedgerClean(t)
}

// A growing line takes free stock location by location, then backorders at
// the default location; a shrinking one gives back backordered units
// first, then the units drawn last.
func TestSetHoldItemsAcrossLocationsAndBackorders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.location(t, "north", 10)
	f.stock(t, "A", "", "default", 2)
	f.stock(t, "A", "", "north", 2)
	f.settings(t, "A", "", inventory.StockSettings{BackorderLimit: ptr[int64](3)})
	h := f.reserve(t, inventory.Line{SKU: "A", Quantity: 1})

	got := f.setItems(t, h.ID, inventory.Line{SKU: "A", Quantity: 7})
	if want := "A[]=7 default:5/3 north:2/0; "; heldLines(got) != want {
		t.Errorf("grown to 7: %s, want %s", heldLines(got), want)
	}
	_, err := f.ledger.SetHoldItems(context.Background(), f.shopID, h.ID, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "A", Quantity: 8}}})
	if short, ok := errors.AsType[*inventory.InsufficientStockError](err); !ok || short.Lines[0].Available != 7 || short.Lines[0].Requested != 8 {
		t.Errorf("growing past the backorder limit: %v, want a shortfall of 8 with 7 available", err)
	}

	last := f.lastMovementID(t)
	got = f.setItems(t, h.ID, inventory.Line{SKU: "A", Quantity: 3})
	if want := "A[]=3 default:2/0 north:1/0; "; heldLines(got) != want {
		t.Errorf("shrunk to 3: %s, want %s", heldLines(got), want)
	}
	assertMovements(t, "shrinking by 4", f.movementsAfter(t, last),
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "default", Quantity: -3, Reference: "resize", HoldID: h.ID},
		mv{Type: inventory.MovementRelease, SKU: "A", LocationID: "north", Quantity: -1, Reference: "resize", HoldID: h.ID})
	got = f.setItems(t, h.ID, inventory.Line{SKU: "A", Quantity: 2})
	if want := "A[]=2 default:2/0; "; heldLines(got) != want {
		t.Errorf("shrunk to 2: %s, want %s", heldLines(got), want)
	}
	f.shop.RequireLedgerClean(t)
}

// ttl extends the hold as Extend does, in the same step.
func TestSetHoldItemsExtends(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	h := f.shop.Hold(t, time.Minute, 1, "A")
	got, err := f.ledger.SetHoldItems(context.Background(), f.shopID, h.ID, inventory.SetHoldItemsRequest{
		Items: []inventory.Line{{SKU: "A", Quantity: 2}}, TTL: 20 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(h.ExpiresAt.Add(20 * time.Minute)) {
		t.Errorf("expires at %v, want %v", got.ExpiresAt, h.ExpiresAt.Add(20*time.Minute))
	}
	// ExpiresIn sets the expiry outright, sooner than it was.
	before := time.Now().Truncate(time.Second)
	got, err = f.ledger.SetHoldItems(context.Background(), f.shopID, h.ID, inventory.SetHoldItemsRequest{
		Items: []inventory.Line{{SKU: "A", Quantity: 2}}, ExpiresIn: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.ExpiresAt.Sub(before); d < 5*time.Minute-time.Second || d > 5*time.Minute+time.Second {
		t.Errorf("expires %v after the request, want 5m", d)
	}
	f.shop.RequireLedgerClean(t)
}

// Every refusal leaves the shop as it was: no movement, no stock or hold
// changed, the ledger clean.
func TestSetHoldItemsRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 3)
	f.stock(t, "B", "", "default", 10)
	active := f.reserve(t, inventory.Line{SKU: "A", Quantity: 2}, inventory.Line{SKU: "B", Quantity: 1})
	committed := f.reserve(t, inventory.Line{SKU: "B", Quantity: 1})
	f.shop.Commit(t, committed.ID)
	released := f.reserve(t, inventory.Line{SKU: "B", Quantity: 1})
	f.shop.Release(t, released.ID)
	lapsed := f.reserve(t, inventory.Line{SKU: "B", Quantity: 1})
	f.lapse(t, lapsed.ID)
	bound := f.reserve(t, inventory.Line{SKU: "B", Quantity: 1})
	if err := f.ledger.AttachSession(ctx, f.shopID, bound.ID, "cs_bound", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	expiring := f.reserve(t, inventory.Line{SKU: "B", Quantity: 1})
	if err := f.ledger.AttachSession(ctx, f.shopID, expiring.ID, "cs_expiring", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	inventorytest.MakeExpiring(t, testdb.Pool(t), f.shopID, expiring.ID)

	many := make([]inventory.Line, 101)
	for i := range many {
		many[i] = inventory.Line{SKU: fmt.Sprintf("S%d", i), Quantity: 1}
	}
	one := []inventory.Line{{SKU: "B", Quantity: 1}}
	for _, tc := range []struct {
		name   string
		holdID string
		req    inventory.SetHoldItemsRequest
		check  func(t *testing.T, err error)
	}{
		{"more than there is", active.ID, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "A", Quantity: 4}, {SKU: "B", Quantity: 5}}}, func(t *testing.T, err error) {
			short, ok := errors.AsType[*inventory.InsufficientStockError](err)
			if !ok || len(short.Lines) != 1 || short.Lines[0] != (inventory.Shortfall{SKU: "A", Requested: 4, Available: 3}) {
				t.Errorf("got %v, want a shortfall of A: 4 asked, 3 available", err)
			}
		}},
		{"a line without stock", active.ID, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "NONE", Quantity: 1}}}, func(t *testing.T, err error) {
			if _, ok := errors.AsType[*inventory.InsufficientStockError](err); !ok {
				t.Errorf("got %v, want a shortfall", err)
			}
		}},
		{"unknown hold", "hold_unknown", inventory.SetHoldItemsRequest{Items: one}, func(t *testing.T, err error) {
			if !errors.Is(err, inventory.ErrHoldNotFound) {
				t.Errorf("got %v, want ErrHoldNotFound", err)
			}
		}},
		{"committed", committed.ID, inventory.SetHoldItemsRequest{Items: one}, wantNotActive(inventory.HoldCommitted)},
		{"released", released.ID, inventory.SetHoldItemsRequest{Items: one}, wantNotActive(inventory.HoldReleased)},
		{"lapsed", lapsed.ID, inventory.SetHoldItemsRequest{Items: one}, wantNotActive(inventory.HoldExpired)},
		{"expiring", expiring.ID, inventory.SetHoldItemsRequest{Items: one}, wantNotActive(inventory.HoldExpiring)},
		{"in checkout", bound.ID, inventory.SetHoldItemsRequest{Items: one}, func(t *testing.T, err error) {
			if !errors.Is(err, inventory.ErrHoldInCheckout) {
				t.Errorf("got %v, want ErrHoldInCheckout", err)
			}
		}},
		{"no items", active.ID, inventory.SetHoldItemsRequest{}, wantInvalid("items")},
		{"101 items", active.ID, inventory.SetHoldItemsRequest{Items: many}, wantInvalid("items")},
		{"zero quantity", active.ID, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "A", Quantity: 0}}}, wantInvalid("items[0].quantity")},
		{"ttl and expiresIn", active.ID, inventory.SetHoldItemsRequest{Items: one, TTL: time.Minute, ExpiresIn: time.Minute}, wantInvalid("ttlSeconds")},
		{"ttl too long", active.ID, inventory.SetHoldItemsRequest{Items: one, TTL: (inventory.MaxTTLSeconds + 1) * time.Second}, wantInvalid("ttlSeconds")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.snapshot(t)
			stored := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID)
			_, err := f.ledger.SetHoldItems(ctx, f.shopID, tc.holdID, tc.req)
			tc.check(t, err)
			f.assertUnchanged(t, before)
			if after := inventorytest.Snapshot(t, testdb.Pool(t), f.shopID); after != stored {
				t.Errorf("stored stock, holds or movements changed:\n\tbefore %s\n\tafter  %s", stored, after)
			}
			f.shop.RequireLedgerClean(t)
		})
	}
	if got := heldLines(f.hold(t, active.ID)); got != "A[]=2 default:2/0; B[]=1 default:1/0; " {
		t.Errorf("the refused hold holds %s", got)
	}
}

func wantNotActive(status inventory.HoldStatus) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		na, ok := errors.AsType[*inventory.HoldNotActiveError](err)
		if !ok || na.Status != status {
			t.Errorf("got %v, want a HoldNotActiveError with status %s", err, status)
		}
	}
}

func wantInvalid(fields ...string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		assertValidation(t, err, fields...)
	}
}

// requireNotOverReserved fails the test unless every stock row of the line
// reserves no more than it has on hand plus what it may backorder, and the
// line's reserved is what the open holds hold.
func requireNotOverReserved(t *testing.T, f *fixture, sku string, holdIDs []string) {
	t.Helper()
	info := f.shop.Info(t, sku, "")
	if info.Reserved > info.OnHand+info.BackorderLimit {
		t.Errorf("%s reserves %d of %d on hand (backorder limit %d)", sku, info.Reserved, info.OnHand, info.BackorderLimit)
	}
	var held int64
	for _, id := range holdIDs {
		h := f.hold(t, id)
		if !h.Status.Open() {
			continue
		}
		for _, it := range h.Items {
			if it.SKU == sku {
				held += it.Quantity
			}
		}
	}
	if held != info.Reserved {
		t.Errorf("open holds hold %d of %s, its stock reserves %d", held, sku, info.Reserved)
	}
	f.shop.RequireLedgerClean(t)
}

// Concurrent resizes of one hold: each is all or nothing, none reserves
// past the stock, and the hold ends as the last one that succeeded left it.
func TestSetHoldItemsRaceOneHold(t *testing.T) {
	f := newFixture(t)
	f.stock(t, "HOT", "", "default", 10)
	f.settings(t, "HOT", "", inventory.StockSettings{BackorderLimit: ptr[int64](2)})
	h := f.reserve(t, inventory.Line{SKU: "HOT", Quantity: 1})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := int64(1 + i%15)
			_, err := f.ledger.SetHoldItems(context.Background(), f.shopID, h.ID, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "HOT", Quantity: q}}})
			if _, short := errors.AsType[*inventory.InsufficientStockError](err); err != nil && !short {
				t.Errorf("resize to %d: %v", q, err)
			}
			if short := err != nil; short && q <= 12 {
				t.Errorf("resize to %d of 12 (10 and 2 to backorder) refused: %v", q, err)
			}
		}()
	}
	wg.Wait()
	requireNotOverReserved(t, f, "HOT", []string{h.ID})
}

// Many holds of one hot line growing and shrinking at once, and new holds
// placed beside them: the line never reserves more than it has.
func TestSetHoldItemsRaceManyHolds(t *testing.T) {
	f := newFixture(t)
	f.stock(t, "HOT", "", "default", 20)
	var ids []string
	for range 15 {
		ids = append(ids, f.reserve(t, inventory.Line{SKU: "HOT", Quantity: 1}).ID)
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all = append([]string(nil), ids...)
	)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if i%5 == 0 {
				h, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "HOT", Quantity: 2}}, TTL: longTTL})
				if err == nil {
					mu.Lock()
					all = append(all, h.ID)
					mu.Unlock()
				} else if _, short := errors.AsType[*inventory.InsufficientStockError](err); !short {
					t.Errorf("reserve: %v", err)
				}
				return
			}
			id := ids[i%len(ids)]
			for range 5 {
				q := 1 + rand.Int64N(4)
				_, err := f.ledger.SetHoldItems(ctx, f.shopID, id, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "HOT", Quantity: q}}})
				if _, short := errors.AsType[*inventory.InsufficientStockError](err); err != nil && !short {
					t.Errorf("resize %s to %d: %v", id, q, err)
				}
			}
		}()
	}
	wg.Wait()
	requireNotOverReserved(t, f, "HOT", all)
}

// Resizes racing the reaper (holds lapsing under them), commits and
// releases of the same holds: every hold ends committed with what it held
// when it was committed, or closed with nothing held, and the books add up.
func TestSetHoldItemsRaceReaperCommitRelease(t *testing.T) {
	f := newFixture(t)
	f.stock(t, "HOT", "", "default", 40)
	ctx := context.Background()
	stop := make(chan struct{})
	var reaper sync.WaitGroup
	reaper.Add(1)
	go func() {
		defer reaper.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.ledger.ExpireDue(ctx, time.Now(), 50); err != nil {
				t.Errorf("reaper: %v", err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var ids []string
	for i := range 24 {
		ttl := time.Minute
		if i%3 == 0 {
			ttl = time.Second
		}
		ids = append(ids, f.shop.Hold(t, ttl, 1, "HOT").ID)
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if w == 0 {
					for q := int64(2); q <= 4; q++ {
						if i%3 == 0 && q == 3 {
							time.Sleep(time.Second - 5*time.Millisecond)
						}
						_, err := f.ledger.SetHoldItems(ctx, f.shopID, id, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "HOT", Quantity: q}}})
						_, notActive := errors.AsType[*inventory.HoldNotActiveError](err)
						_, short := errors.AsType[*inventory.InsufficientStockError](err)
						if err != nil && !notActive && !short {
							t.Errorf("resize %s: %v", id, err)
						}
					}
					return
				}
				// The short holds are closed about when they lapse, racing
				// the reaper and the resizes after the lapse.
				wait := time.Duration(rand.IntN(5)) * time.Millisecond
				if i%3 == 0 {
					wait += time.Second - 10*time.Millisecond + time.Duration(rand.IntN(20))*time.Millisecond
				}
				time.Sleep(wait)
				var err error
				if i%2 == 0 {
					_, err = f.ledger.Commit(ctx, f.shopID, id, "race")
				} else {
					_, err = f.ledger.Release(ctx, f.shopID, id, "race")
				}
				if _, notActive := errors.AsType[*inventory.HoldNotActiveError](err); err != nil && !notActive {
					t.Errorf("close %s: %v", id, err)
				}
			}()
		}
	}
	wg.Wait()
	close(stop)
	reaper.Wait()
	sales := inventorytest.Sales(t, testdb.Pool(t), f.shopID)
	var sold int64
	for _, id := range ids {
		h := f.hold(t, id)
		if h.Status == inventory.HoldCommitted {
			var q int64
			for _, it := range h.Items {
				q += it.Quantity
			}
			if sales[id][1] != q {
				t.Errorf("committed hold %s holds %d, sold %d", id, q, sales[id][1])
			}
			sold += q
		}
	}
	if info := f.shop.Info(t, "HOT", ""); info.OnHand != 40-sold || info.Reserved != 0 {
		t.Errorf("HOT on hand %d reserved %d, want %d and 0", info.OnHand, info.Reserved, 40-sold)
	}
	f.shop.RequireLedgerClean(t)
}

// A hold a checkout adopted (ForCheckout) changes only through checkouts:
// the cart's own change is ErrHoldInCheckout and changes nothing.
func TestSetHoldItemsAfterCheckoutAdopted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "A", "", "default", 5)
	h := f.reserve(t, inventory.Line{SKU: "A", Quantity: 1})
	if _, err := f.ledger.SetHoldItems(ctx, f.shopID, h.ID, inventory.SetHoldItemsRequest{
		Items: []inventory.Line{{SKU: "A", Quantity: 2}}, ForCheckout: true,
	}); err != nil {
		t.Fatal(err)
	}
	before := f.snapshot(t)
	_, err := f.ledger.SetHoldItems(ctx, f.shopID, h.ID, inventory.SetHoldItemsRequest{Items: []inventory.Line{{SKU: "A", Quantity: 3}}})
	if !errors.Is(err, inventory.ErrHoldInCheckout) {
		t.Errorf("the cart's change of an adopted hold: %v, want ErrHoldInCheckout", err)
	}
	f.assertUnchanged(t, before)
	if got, err := f.ledger.SetHoldItems(ctx, f.shopID, h.ID, inventory.SetHoldItemsRequest{
		Items: []inventory.Line{{SKU: "A", Quantity: 1}}, ForCheckout: true,
	}); err != nil || got.Items[0].Quantity != 1 {
		t.Errorf("a checkout's change of an adopted hold: %+v, %v", got, err)
	}
	f.shop.RequireLedgerClean(t)
}
