package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// groupFixture is a fixture whose ledger records the groups it runs; by
// default it runs one group at a time.
type groupFixture struct {
	*fixture
	mu     sync.Mutex
	groups []inventory.GroupRun
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	return newGroupFixtureInFlight(t, 1)
}

func newGroupFixtureInFlight(t *testing.T, inFlight int) *groupFixture {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l := inventory.NewLedger(testdb.Pool(t), inventory.Config{DefaultLowStockThreshold: 10, Logger: logger, GroupsInFlight: inFlight})
	g := &groupFixture{}
	inventory.ObserveGroups(l, func(r inventory.GroupRun) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.groups = append(g.groups, r)
	})
	shop := inventorytest.NewShop(t, l, &inventorytest.ShopOpts{Name: "Group shop"})
	g.fixture = &fixture{ledger: l, shopID: shop.ID, shop: shop}
	return g
}

func (g *groupFixture) runs() []inventory.GroupRun {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]inventory.GroupRun(nil), g.groups...)
}

// reserveResult is what one Reserve of a group returned.
type reserveResult struct {
	hold    *inventory.Hold
	created bool
	err     error
}

// reserveAsGroup places a hold of lead, then the reqs, so that the reqs run
// together as one group in the order given (see asGroup).
func (g *groupFixture) reserveAsGroup(t *testing.T, sku string, lead inventory.ReserveRequest, reqs ...inventory.ReserveRequest) (reserveResult, []reserveResult) {
	t.Helper()
	results := make([]reserveResult, len(reqs)+1)
	ops := make([]func(), len(reqs)+1)
	for i, req := range append([]inventory.ReserveRequest{lead}, reqs...) {
		ops[i] = func() {
			r := &results[i]
			r.hold, r.created, r.err = g.ledger.Reserve(context.Background(), g.shopID, req)
		}
	}
	g.asGroup(t, sku, ops...)
	return results[0], results[1:]
}

// asGroup runs ops[0], then the other ops, so that those run together as one
// group in the order given: it keeps sku's stock row locked while the first
// op's group (of one) waits for it and the others queue one by one behind
// it, then lets go and waits for them all.
func (g *groupFixture) asGroup(t *testing.T, sku string, ops ...func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := testdb.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT 1 FROM stock_levels WHERE shop_id = $1 AND sku = $2 FOR UPDATE", g.shopID, sku); err != nil {
		t.Fatalf("lock the stock row: %v", err)
	}
	before := len(g.runs())
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(op)
		if i == 0 {
			g.waitFor(t, func() bool { return len(g.runs()) == before+1 })
		} else {
			g.waitFor(t, func() bool { return inventory.QueuedOps(g.ledger) == i })
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatalf("unlock the stock row: %v", err)
	}
	wg.Wait()
}

// waitFor waits until cond holds; a state the test drives towards, not a
// timing it asserts.
func (g *groupFixture) waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting for the group to form")
		}
		time.Sleep(time.Millisecond)
	}
}

func hold1(sku string, qty int64, key string) inventory.ReserveRequest {
	return inventory.ReserveRequest{Items: []inventory.Line{{SKU: sku, Quantity: qty}}, TTL: time.Minute, IdempotencyKey: key}
}

// A request that arrives when nothing else runs is not held back for
// company: it runs at once, as a group of one.
func TestGroupLoneRequestRunsAtOnce(t *testing.T) {
	t.Parallel()
	g := newGroupFixture(t)
	g.stock(t, "LONE", "", "default", 5)

	hold, created, err := g.ledger.Reserve(context.Background(), g.shopID, hold1("LONE", 2, ""))
	if err != nil || !created || hold.Items[0].Quantity != 2 {
		t.Fatalf("Reserve = %+v, %v, %v; want a new hold of 2", hold, created, err)
	}
	if _, err := g.ledger.Commit(context.Background(), g.shopID, hold.ID, "order"); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	want := []inventory.GroupRun{{Size: 1, Holds: 1}, {Size: 1}}
	if got := g.runs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("groups run = %+v; want %+v: each lone request a group of one that never queued", got, want)
	}
	inventorytest.RequireLedgerClean(t, g.ledger, g.shopID)
}

// In one group, each hold is placed or refused as it would be alone, in
// arrival order: one that cannot be met is refused and the others placed;
// a repeated idempotency key gets the first hold back, or a conflict if it
// asks for other lines.
func TestGroupRefusesOneAndPlacesTheOthers(t *testing.T) {
	t.Parallel()
	g := newGroupFixture(t)
	g.stock(t, "G", "", "default", 10)
	g.stock(t, "OTHER", "", "default", 10)

	lead, res := g.reserveAsGroup(t, "G", hold1("G", 1, ""),
		hold1("G", 3, "cart-a"),
		hold1("G", 100, ""), // more than there is: refused
		hold1("G", 2, ""),
		hold1("G", 3, "cart-a"), // the same request again: cart-a's hold
		inventory.ReserveRequest{Items: []inventory.Line{{SKU: "G", Quantity: 3}, {SKU: "OTHER", Quantity: 1}}, TTL: time.Minute},
		hold1("G", 5, "cart-a"), // cart-a's key for other lines
		hold1("G", 2, ""),       // more than the 1 left after the 3-line hold: refused
	)
	if lead.err != nil || !lead.created {
		t.Fatalf("first hold: %+v", lead)
	}
	runs := g.runs()
	if want := (inventory.GroupRun{Size: 7, LeaderQueued: true, Holds: 7}); len(runs) != 2 || runs[1] != want {
		t.Fatalf("groups run = %+v; want one of 1, then %+v", runs, want)
	}

	placed := func(i int, qty int64) *inventory.Hold {
		t.Helper()
		r := res[i]
		if r.err != nil || !r.created || r.hold.Items[0].Quantity != qty {
			t.Fatalf("request %d = %+v, %v, %v; want a new hold of %d", i, r.hold, r.created, r.err, qty)
		}
		return r.hold
	}
	short := func(i int, requested, available int64) {
		t.Helper()
		var s *inventory.InsufficientStockError
		if !errors.As(res[i].err, &s) || len(s.Lines) != 1 || s.Lines[0].Requested != requested || s.Lines[0].Available != available {
			t.Fatalf("request %d: err = %v (%+v); want a shortfall of %d with %d available", i, res[i].err, s, requested, available)
		}
	}
	first := placed(0, 3)
	// The shortfall's available figure is read once the group has
	// committed, as a lone request reads it after its statement: it counts
	// every hold placed by then.
	short(1, 100, 1)
	placed(2, 2)
	if r := res[3]; r.err != nil || r.created || r.hold.ID != first.ID {
		t.Errorf("repeated key = %+v, %v, %v; want hold %s again, not created", r.hold, r.created, r.err, first.ID)
	}
	if h := placed(4, 3); len(h.Items) != 2 {
		t.Errorf("multi-line hold has %d items; want 2", len(h.Items))
	}
	if !errors.Is(res[5].err, inventory.ErrIdempotencyConflict) {
		t.Errorf("key reused for other lines: err = %v; want ErrIdempotencyConflict", res[5].err)
	}
	short(6, 2, 1)

	info := g.shop.Info(t, "G", "")
	if info.Reserved != 1+3+2+3 || info.OnHand != 10 {
		t.Errorf("G: on hand %d, reserved %d; want 10, 9", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, g.ledger, g.shopID)
}

// A statement that fails rolls back its whole group; the members then run
// alone, so only the failing request fails.
func TestGroupFailingMemberFallsBack(t *testing.T) {
	t.Parallel()
	g := newGroupFixture(t)
	g.stock(t, "F", "", "default", 10)
	// A trigger makes the database refuse holds with this reference, as
	// it would refuse a statement for a reason no validation foresaw.
	failRef := "group-fail-" + g.shopID
	pool := testdb.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `
		CREATE FUNCTION group_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.reference LIKE 'group-fail-%' THEN
				RAISE EXCEPTION 'refused for the test';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER group_test_refuse BEFORE INSERT ON holds
		FOR EACH ROW EXECUTE FUNCTION group_test_refuse();`); err != nil {
		t.Fatalf("create trigger: %v", err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(ctx, "DROP TRIGGER group_test_refuse ON holds; DROP FUNCTION group_test_refuse()")
	})

	bad := hold1("F", 1, "")
	bad.Reference = failRef
	_, res := g.reserveAsGroup(t, "F", hold1("F", 1, ""), hold1("F", 2, ""), bad, hold1("F", 3, ""))
	if runs := g.runs(); len(runs) != 2 || runs[1].Size != 3 {
		t.Fatalf("groups run = %+v; want one of 1, then one of 3", runs)
	}
	for i, qty := range map[int]int64{0: 2, 2: 3} {
		if r := res[i]; r.err != nil || !r.created || r.hold.Items[0].Quantity != qty {
			t.Errorf("request %d = %+v, %v; want a new hold of %d", i, r.hold, r.err, qty)
		}
	}
	if res[1].err == nil {
		t.Errorf("the refused request got %+v; want an error", res[1].hold)
	}
	if info := g.shop.Info(t, "F", ""); info.Reserved != 6 {
		t.Errorf("reserved %d; want 6", info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, g.ledger, g.shopID)
}

// Commits, releases and holds share a group: each closes or places its own
// hold as it would alone, and a repeated commit returns the committed hold.
// A group runs its commits, then its releases, then its holds: every member
// was waiting when the group formed, so that order is one the callers could
// have seen. So a commit and a release of the same hold in one group leave
// it committed, and a hold sees the stock the group's releases freed.
func TestGroupCommitsAndReleases(t *testing.T) {
	t.Parallel()
	g := newGroupFixture(t)
	g.stock(t, "CR", "", "default", 10)
	ctx := context.Background()
	var holds []*inventory.Hold
	for range 4 {
		h, _, err := g.ledger.Reserve(ctx, g.shopID, hold1("CR", 2, ""))
		if err != nil {
			t.Fatalf("Reserve: %v", err)
		}
		holds = append(holds, h)
	}

	var (
		errs    [7]error
		results [7]*inventory.Hold
	)
	g.asGroup(t, "CR",
		func() { results[0], errs[0] = g.ledger.Commit(ctx, g.shopID, holds[0].ID, "order-0") },
		func() { results[1], errs[1] = g.ledger.Commit(ctx, g.shopID, holds[1].ID, "order-1") },
		func() { results[2], errs[2] = g.ledger.Release(ctx, g.shopID, holds[2].ID, "abandoned") },
		func() { results[3], errs[3] = g.ledger.Commit(ctx, g.shopID, holds[1].ID, "order-1") },
		func() { results[4], _, errs[4] = g.ledger.Reserve(ctx, g.shopID, hold1("CR", 4, "")) },
		func() { results[5], errs[5] = g.ledger.Commit(ctx, g.shopID, holds[2].ID, "order-2") },
		func() { results[6], errs[6] = g.ledger.Release(ctx, g.shopID, holds[3].ID, "abandoned") },
	)
	if runs := g.runs(); runs[len(runs)-1].Size != 6 {
		t.Fatalf("groups run = %+v; want the last of 6", runs)
	}
	want := map[int]inventory.HoldStatus{
		0: inventory.HoldCommitted, 1: inventory.HoldCommitted, 3: inventory.HoldCommitted,
		4: inventory.HoldActive, 5: inventory.HoldCommitted, 6: inventory.HoldReleased,
	}
	for i, status := range want {
		if errs[i] != nil || results[i].Status != status {
			t.Errorf("op %d = %+v, %v; want status %s", i, results[i], errs[i], status)
		}
	}
	var notActive *inventory.HoldNotActiveError
	if !errors.As(errs[2], &notActive) || notActive.Status != inventory.HoldCommitted {
		t.Errorf("releasing the hold the group committed: err = %v; want HoldNotActiveError(committed)", errs[2])
	}
	// 10 on hand: 6 sold; held: the new hold's 4, which the release of
	// hold 3 made room for.
	if info := g.shop.Info(t, "CR", ""); info.OnHand != 4 || info.Reserved != 4 {
		t.Errorf("CR: on hand %d, reserved %d; want 4, 4", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, g.ledger, g.shopID)
}
