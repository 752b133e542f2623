package availability_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/checkoutd/checkoutd/availability"
	"github.com/checkoutd/checkoutd/internal/testdb"
	"github.com/checkoutd/checkoutd/inventory"
)

// A subscription starts with the current state, then gets a change that
// another connection commits.
func TestFeedDeliversCommittedChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, availability.Config{})
	f.shop.Stock(t, "A", 5)
	sub := f.subscribe(t, "A")
	var st state
	waitFor(t, sub, &st, "the current state", available("A", "", 5))
	f.shop.Hold(t, 0, 2, "A")
	waitFor(t, sub, &st, "the hold", available("A", "", 3))
	if got := st.items[line("A", "")]; got.Private().Reserved != 2 || got.Private().OnHand != 5 {
		t.Errorf("private view %+v, want on hand 5, reserved 2", got.Private())
	}
}

// A change that rolls back is never delivered: a later committed change of
// another watched line arrives alone.
func TestFeedIgnoresRollback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, availability.Config{})
	f.shop.Stock(t, "A", 5)
	f.shop.Stock(t, "B", 5)
	sub := f.subscribe(t, "A", "B")
	var st state
	waitFor(t, sub, &st, "the current state", func(st *state) bool { return len(st.items) == 2 })
	// The stocking above may come again as changes: let them pass.
	time.Sleep(200 * time.Millisecond)
	sub.Take()

	tx, err := testdb.Pool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.shop.Ledger.WithTx(tx).Reserve(ctx, f.shop.ID, inventory.ReserveRequest{Items: []inventory.Line{{SKU: "A", Quantity: 1}}, TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	// Long enough for the feed to poll while the hold is uncommitted.
	time.Sleep(100 * time.Millisecond)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	f.shop.Hold(t, 0, 1, "B")
	st = state{}
	waitFor(t, sub, &st, "the hold on B", available("B", "", 4))
	if _, ok := st.items[line("A", "")]; ok || st.count != 1 {
		t.Errorf("after the rollback: %s; want B's hold alone", &st)
	}
}

// A burst of holds on one line reaches a subscriber as far fewer changes,
// the last one exact.
func TestFeedCoalescesBursts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, availability.Config{PollInterval: 50 * time.Millisecond})
	f.shop.Stock(t, "A", 1000)
	sub := f.subscribe(t, "A")
	var st state
	waitFor(t, sub, &st, "the current state", available("A", "", 1000))

	const holds, workers = 500, 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < holds; i += workers {
				if _, _, err := f.shop.Ledger.Reserve(context.Background(), f.shop.ID, inventory.ReserveRequest{
					Items: []inventory.Line{{SKU: "A", Quantity: 1}}, TTL: time.Hour,
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// Take changes as they come while the burst runs, as a stream would.
	waitFor(t, sub, &st, "the whole burst", available("A", "", 1000-holds))
	wg.Wait()
	if n := st.count - 1; n >= holds/5 {
		t.Errorf("%d changes for %d holds: bursts must be coalesced", n, holds)
	}
	t.Logf("%d holds reached the subscriber as %d changes", holds, st.count-1)
}

// A subscription gets only the SKUs it names, each with every variant.
func TestFeedFiltersBySKU(t *testing.T) {
	t.Parallel()
	f := newFixture(t, availability.Config{})
	f.shop.StockLine(t, "A", "size:M", "", 5)
	f.shop.StockLine(t, "A", "size:L", "", 5)
	f.shop.Stock(t, "B", 5)
	sub := f.subscribe(t, "A", "NEVER-STOCKED")
	var st state
	waitFor(t, sub, &st, "the current state", func(st *state) bool { return len(st.items) == 2 })
	f.shop.Hold(t, 0, 1, "B")
	if _, _, err := f.shop.Ledger.Reserve(context.Background(), f.shop.ID, inventory.ReserveRequest{
		Items: []inventory.Line{{SKU: "A", VariantKey: "size:L", Quantity: 2}}, TTL: time.Minute,
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sub, &st, "A size:L", available("A", "size:L", 3))
	for k := range st.items {
		if k != line("A", "size:M") && k != line("A", "size:L") {
			t.Errorf("got %s, which the subscription does not watch", k)
		}
	}
}

// A whole-shop subscription gets every line, lines added later included.
func TestFeedWholeShop(t *testing.T) {
	t.Parallel()
	f := newFixture(t, availability.Config{})
	f.shop.Stock(t, "A", 5)
	f.shop.StockLine(t, "B", "color:red", "", 1)
	sub := f.subscribe(t)
	if sub.SKUs() != nil {
		t.Fatalf("SKUs %v, want nil for the whole shop", sub.SKUs())
	}
	var st state
	waitFor(t, sub, &st, "the current state", func(st *state) bool { return len(st.items) == 2 })
	if it := st.items[line("B", "color:red")]; !it.LowStock || it.Available != 1 {
		t.Errorf("B: %+v, want 1 available and low (threshold 2)", it)
	}
	f.shop.Stock(t, "C", 7)
	waitFor(t, sub, &st, "the new line C", available("C", "", 7))
}

// A subscriber that never takes its changes holds up neither the feed nor
// another subscriber, and still ends on the last state.
func TestFeedSlowSubscriberBlocksNobody(t *testing.T) {
	t.Parallel()
	f := newFixture(t, availability.Config{})
	f.shop.Stock(t, "A", 100)
	slow := f.subscribe(t, "A")
	fast := f.subscribe(t, "A")
	var st state
	for i := range 20 {
		f.shop.Hold(t, 0, 1, "A")
		waitFor(t, fast, &st, "each hold", available("A", "", int64(99-i)))
	}
	// The slow subscriber's changes were all coalesced into A's latest
	// state (or the one before, if its delivery is under way).
	var slowSt state
	waitFor(t, slow, &slowSt, "the last state", available("A", "", 80))
	if slowSt.count > 2 {
		t.Errorf("the slow subscriber got %d changes, want A's last state alone", slowSt.count)
	}
}

// When the feed's database connection is killed, it reconnects, sends
// every subscription its current state again, and delivers the change made
// while it was away.
func TestFeedReconnectsAndResyncs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, availability.Config{})
	f.shop.Stock(t, "A", 5)
	f.shop.Stock(t, "B", 5)
	sub := f.subscribe(t, "A", "B")
	var st state
	waitFor(t, sub, &st, "the current state", func(st *state) bool { return len(st.items) == 2 })
	before := st.count

	killed, err := testdb.Pool(t).Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", f.appName)
	if err != nil {
		t.Fatal(err)
	}
	if killed.RowsAffected() == 0 {
		t.Fatal("no feed connection to kill")
	}
	f.shop.Hold(t, 0, 1, "A")
	waitFor(t, sub, &st, "the hold made while the feed was cut off", available("A", "", 4))
	// B did not change: it comes again only because the feed started over.
	waitFor(t, sub, &st, "B's state again", func(st *state) bool { return st.count >= before+2 })
}

// Stopping the feed ends every subscription, and it takes no more.
func TestFeedShutdownEndsSubscriptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, availability.Config{})
	f.shop.Stock(t, "A", 5)
	subA := f.subscribe(t, "A")
	subAll := f.subscribe(t)
	f.stop()
	for _, sub := range []*availability.Subscription{subA, subAll} {
		select {
		case <-sub.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a subscription outlived the feed")
		}
		if !errors.Is(sub.Err(), availability.ErrFeedStopped) {
			t.Errorf("Err %v, want ErrFeedStopped", sub.Err())
		}
	}
	if _, err := f.feed.Subscribe(context.Background(), f.shop.ID, []string{"A"}); !errors.Is(err, availability.ErrFeedStopped) {
		t.Errorf("Subscribe after the stop: %v, want ErrFeedStopped", err)
	}
	if n := f.feed.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
}

// The feed refuses subscriptions past its limit until one ends; Close and
// the subscription's context both end one.
func TestFeedSubscriberLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, availability.Config{MaxSubscribers: 2})
	first := f.subscribe(t, "A")
	ctx, cancel := context.WithCancel(context.Background())
	second, err := f.feed.Subscribe(ctx, f.shop.ID, []string{"B"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.feed.Subscribe(context.Background(), f.shop.ID, []string{"C"}); !errors.Is(err, availability.ErrTooManySubscribers) {
		t.Fatalf("third subscription: %v, want ErrTooManySubscribers", err)
	}
	first.Close()
	first.Close()
	if !errors.Is(first.Err(), availability.ErrClosed) {
		t.Errorf("closed subscription's Err %v, want ErrClosed", first.Err())
	}
	f.subscribe(t, "C")
	cancel()
	<-second.Done()
	if !errors.Is(second.Err(), context.Canceled) {
		t.Errorf("cancelled subscription's Err %v, want context.Canceled", second.Err())
	}
	f.subscribe(t, "D")
	if n := f.feed.Subscribers(); n != 2 {
		t.Errorf("%d subscribers, want 2", n)
	}
}

// Bad input is refused, and an empty SKU list is never the whole shop.
func TestFeedSubscribeValidates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, availability.Config{})
	many := make([]string, availability.MaxSKUs+1)
	for i := range many {
		many[i] = "S" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	for name, skus := range map[string][]string{"empty": {}, "bad sku": {"no spaces"}, "too many": many} {
		if _, err := f.feed.Subscribe(context.Background(), f.shop.ID, skus); err == nil {
			t.Errorf("%s: subscribed", name)
		}
	}
	if _, err := f.feed.Subscribe(context.Background(), "Not A Shop", nil); err == nil {
		t.Error("bad shop id: subscribed")
	}
}
