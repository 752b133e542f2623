package inventory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/inventory/inventorytest"
)

// boundHold places a hold of qty "X" for ttl and binds it to a Stripe
// session that expires at sessionExpiresAt.
func (f *fixture) boundHold(t *testing.T, ttl time.Duration, qty int64, sessionID string, sessionExpiresAt time.Time) *inventory.Hold {
	t.Helper()
	h := f.shop.Hold(t, ttl, qty, "X")
	if err := f.ledger.AttachSession(context.Background(), f.shopID, h.ID, sessionID, sessionExpiresAt); err != nil {
		t.Fatal(err)
	}
	return h
}

// A hold bound to a session keeps its stock past its own expiry, until its
// session's expiry plus the grace, and reports expiring meanwhile; the
// ledger's books agree with it at every step.
func TestBoundHoldOutlivesItsExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "X", "", "default", 5)
	sessionEnd := time.Now().Add(40 * time.Minute).Truncate(time.Second)
	h := f.boundHold(t, time.Hour, 3, "cs_bound", sessionEnd)
	if got := f.hold(t, h.ID); got.CheckoutSessionExpiresAt == nil || !got.CheckoutSessionExpiresAt.Equal(sessionEnd) {
		t.Errorf("checkoutSessionExpiresAt %v, want %v", got.CheckoutSessionExpiresAt, sessionEnd)
	}
	inventorytest.MakeDue(t, testdb.Pool(t), f.shopID, h.ID)

	if got := f.hold(t, h.ID); got.Status != inventory.HoldExpiring {
		t.Errorf("lapsed bound hold reports %s, want expiring", got.Status)
	}
	if info := f.shop.Info(t, "X", ""); info.Reserved != 3 || info.Available != 2 {
		t.Errorf("reserved %d, available %d; want 3 and 2: the stock stays held", info.Reserved, info.Available)
	}
	if _, _, err := f.ledger.Reserve(ctx, f.shopID, inventory.ReserveRequest{Items: []inventory.Line{item("X", 3)}, TTL: time.Minute}); err == nil {
		t.Error("another hold took the expiring hold's stock")
	}
	// A release (the customer left) does not give back what the session
	// may still be paid for; neither can the hold be extended.
	if got, err := f.ledger.Release(ctx, f.shopID, h.ID, "cart_abandoned"); err != nil || got.Status != inventory.HoldExpiring {
		t.Errorf("release = %+v, %v; want the hold still expiring", got, err)
	}
	var notActive *inventory.HoldNotActiveError
	if _, err := f.ledger.Extend(ctx, f.shopID, h.ID, time.Minute); !errors.As(err, &notActive) {
		t.Errorf("extend = %v, want hold_not_active", err)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)

	// Once the session is long closed, the stock no longer counts, reaper
	// or not.
	inventorytest.MakeSessionsDue(t, testdb.Pool(t), f.shopID, h.ID)
	if got := f.hold(t, h.ID); got.Status != inventory.HoldExpired {
		t.Errorf("hold past its session's expiry and the grace reports %s, want expired", got.Status)
	}
	if info := f.shop.Info(t, "X", ""); info.Reserved != 0 {
		t.Errorf("reserved %d, want 0", info.Reserved)
	}
	if _, err := f.ledger.Commit(ctx, f.shopID, h.ID, "late"); !errors.As(err, &notActive) {
		t.Errorf("commit past the grace = %v, want hold_not_active", err)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

// The payment of an expiring hold's session commits it.
func TestCommitExpiringHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "X", "", "default", 5)
	h := f.boundHold(t, time.Hour, 2, "cs_pay", time.Now().Add(40*time.Minute))
	inventorytest.MakeExpiring(t, testdb.Pool(t), f.shopID, h.ID)
	got, err := f.ledger.Commit(ctx, f.shopID, h.ID, "pi_1")
	if err != nil || got.Status != inventory.HoldCommitted {
		t.Fatalf("commit = %+v, %v; want committed", got, err)
	}
	if info := f.shop.Info(t, "X", ""); info.OnHand != 3 || info.Reserved != 0 {
		t.Errorf("on hand %d, reserved %d; want 3 and 0", info.OnHand, info.Reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

// Stripe's word that the session closed gives an expiring hold's stock
// back, once.
func TestSessionClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "X", "", "default", 5)
	h := f.boundHold(t, time.Hour, 2, "cs_closed", time.Now().Add(40*time.Minute))
	inventorytest.MakeExpiring(t, testdb.Pool(t), f.shopID, h.ID)
	for range 2 {
		got, err := f.ledger.SessionClosed(ctx, f.shopID, h.ID, "session_expired")
		if err != nil || got.Status != inventory.HoldExpired {
			t.Fatalf("SessionClosed = %+v, %v; want expired", got, err)
		}
	}
	if n := inventorytest.Releases(t, testdb.Pool(t), f.shopID)[h.ID]; n != 1 {
		t.Errorf("%d RELEASE movements, want 1", n)
	}
	committed := f.boundHold(t, time.Hour, 1, "cs_sold", time.Now().Add(40*time.Minute))
	if _, err := f.ledger.Commit(ctx, f.shopID, committed.ID, "pi_2"); err != nil {
		t.Fatal(err)
	}
	var notActive *inventory.HoldNotActiveError
	if _, err := f.ledger.SessionClosed(ctx, f.shopID, committed.ID, "session_expired"); !errors.As(err, &notActive) {
		t.Errorf("SessionClosed of a committed hold = %v, want hold_not_active", err)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}

// Extending a bound hold never takes it past its session's expiry: Stripe
// closes the page then.
func TestExtendBoundHoldStopsAtItsSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "X", "", "default", 5)
	sessionEnd := time.Now().Add(40 * time.Minute).Truncate(time.Second)
	h := f.boundHold(t, 30*time.Minute, 1, "cs_ext", sessionEnd)
	got, err := f.ledger.Extend(context.Background(), f.shopID, h.ID, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(sessionEnd) {
		t.Errorf("extended to %v, want the session's expiry %v", got.ExpiresAt, sessionEnd)
	}
}

// The overview counts an expiring hold apart: still in flight, awaiting
// Stripe, not lapsed.
func TestHoldsInFlightCountsExpiring(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.stock(t, "X", "", "default", 5)
	h := f.boundHold(t, time.Hour, 1, "cs_wait", time.Now().Add(40*time.Minute))
	f.shop.Hold(t, time.Hour, 1, "X")
	inventorytest.MakeExpiring(t, testdb.Pool(t), f.shopID, h.ID)
	got, err := f.ledger.HoldsInFlight(context.Background(), f.shopID, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got.InFlight != 2 || got.AwaitingStripe != 1 || got.Lapsed != 0 || got.EndingSoon != 0 {
		t.Errorf("in flight %+v, want 2 in flight, 1 awaiting Stripe, none lapsed or ending soon", got)
	}
}

// Not parallel: ExpireDue acts on every shop. A bound hold past its expiry
// becomes expiring, keeping its stock, and is named for its session to be
// expired; one whose session closed longer than the grace ago is expired;
// an expiring hold Stripe never answered for is expired once its session's
// expiry and the grace have passed.
func TestExpireDueBoundHolds(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.stock(t, "X", "", "default", 20)
	// Beyond the race tests' reach (now+2m), below this test's (now+30m).
	open := f.boundHold(t, 10*time.Minute, 1, "cs_open", time.Now().Add(time.Hour))
	closedLongAgo := f.boundHold(t, 10*time.Minute, 2, "cs_old", time.Now().Add(20*time.Minute))
	unanswered := f.boundHold(t, 10*time.Minute, 3, "cs_silent", time.Now().Add(time.Hour))
	inventorytest.MakeExpiring(t, testdb.Pool(t), f.shopID, unanswered.ID)
	inventorytest.MakeSessionsDue(t, testdb.Pool(t), f.shopID, unanswered.ID)

	future := time.Now().Add(30 * time.Minute)
	byHold := map[string]inventory.ExpiredHold{}
	for i := 0; ; i++ {
		expired, err := f.ledger.ExpireDue(ctx, future, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range expired {
			if e.ShopID == f.shopID {
				if _, dup := byHold[e.HoldID]; dup {
					t.Errorf("hold %s returned twice", e.HoldID)
				}
				byHold[e.HoldID] = e
			}
		}
		if len(expired) < 100 || i == 100 {
			break
		}
	}
	if e := byHold[open.ID]; !e.Expiring || e.CheckoutSessionID == nil || *e.CheckoutSessionID != "cs_open" {
		t.Errorf("open session's hold: %+v, want expiring, naming cs_open", e)
	}
	for _, h := range []*inventory.Hold{closedLongAgo, unanswered} {
		if e, ok := byHold[h.ID]; !ok || e.Expiring {
			t.Errorf("hold %s: %+v (returned %v), want expired", h.ID, e, ok)
		}
	}
	for id, want := range map[string]string{open.ID: "expiring", closedLongAgo.ID: "expired", unanswered.ID: "expired"} {
		if st := inventorytest.ReadHold(t, testdb.Pool(t), f.shopID, id); st.Status != want {
			t.Errorf("hold %s stored %s, want %s", id, st.Status, want)
		}
	}
	if reserved := f.shop.Info(t, "X", "").Reserved; reserved != 1 {
		t.Errorf("reserved %d, want the expiring hold's 1", reserved)
	}
	inventorytest.RequireLedgerClean(t, f.ledger, f.shopID)
}
