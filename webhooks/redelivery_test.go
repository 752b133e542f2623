package webhooks_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/webhooks"
)

// Stripe delivers every event at least once, in any order, from many
// connections at once. 100 reserve_ttl checkouts, half of them paid (some
// through a delayed payment), the others expired or with a failed delayed
// payment; every event delivered 3 times, shuffled, by 24 senders at once.
// In the end every paid checkout was sold exactly once, every other one
// released, nothing is reserved, the ledger adds up and the inbox holds
// every event once.
func TestRedeliveredShuffledConcurrentEvents(t *testing.T) {
	t.Parallel()
	const (
		sessions   = 100
		deliveries = 3
		senders    = 24
		initial    = 1000
	)
	ctx := context.Background()
	f := newFixture(t, checkoutd.ModeReserveTTL)
	f.shop.Stock(t, "A", initial)
	f.shop.Stock(t, "B", initial)

	type planned struct {
		payload []byte
		id      string
		typ     stripe.EventType
		status  string
	}
	type session struct {
		s     *checkout.Session
		lines []inventory.Line
		paid  bool
		// want is the checkout status at the end.
		want string
	}
	var (
		all    []session
		events []planned
	)
	for i := range sessions {
		lines := []inventory.Line{{SKU: "A", Quantity: int64(i%3 + 1)}}
		if i%2 == 0 {
			lines = append(lines, inventory.Line{SKU: "B", Quantity: 1})
		}
		s := f.checkoutFor(t, lines...)
		se := session{s: s, lines: lines, paid: i < sessions/2}
		add := func(typ stripe.EventType, paymentStatus string) {
			id := fmt.Sprintf("evt_%03d_%s_%s", i, typ, paymentStatus)
			events = append(events, planned{payload: f.event(id, typ, s, paymentStatus).payload(), id: id, typ: typ, status: paymentStatus})
		}
		switch {
		case se.paid && i%5 == 0: // a delayed payment that succeeds
			add(stripe.EventTypeCheckoutSessionCompleted, "unpaid")
			add(stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, "paid")
			se.want = "completed"
		case se.paid:
			add(stripe.EventTypeCheckoutSessionCompleted, "paid")
			se.want = "completed"
		case i%4 == 0: // a delayed payment that fails
			add(stripe.EventTypeCheckoutSessionCompleted, "unpaid")
			add(stripe.EventTypeCheckoutSessionAsyncPaymentFailed, "unpaid")
			se.want = "payment_failed"
		default:
			add(stripe.EventTypeCheckoutSessionExpired, "unpaid")
			se.want = "expired"
		}
		all = append(all, se)
	}

	var queue []int
	for i := range events {
		for range deliveries {
			queue = append(queue, i)
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("shuffle seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })

	// outcomes[i] collects what the deliveries of event i did.
	outcomes := make([][]checkout.Outcome, len(events))
	var mu sync.Mutex
	var retries atomic.Int64
	work := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				// Stripe retries a delivery that failed (5xx); a failure must
				// be transient and leave no trace, so the retry may apply it.
				var out checkout.Outcome
				var err error
				for attempt := 0; ; attempt++ {
					if out, err = f.send(events[i].payload); err == nil || attempt == 20 {
						break
					}
					retries.Add(1)
					t.Logf("delivery of %s failed, retrying: %v", events[i].id, err)
					time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
				}
				if err != nil {
					t.Errorf("delivery of %s kept failing: %v", events[i].id, err)
					continue
				}
				mu.Lock()
				outcomes[i] = append(outcomes[i], out)
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for _, i := range queue {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("%d deliveries of %d events by %d senders in %s, %d retried", len(queue), len(events), senders, time.Since(start).Round(time.Millisecond), retries.Load())

	// Each event was applied by one delivery; the others were duplicates.
	applied := map[string]checkout.Outcome{}
	for i, outs := range outcomes {
		var firsts []checkout.Outcome
		for _, o := range outs {
			if o != webhooks.Duplicate {
				firsts = append(firsts, o)
			}
		}
		if len(outs) != deliveries || len(firsts) != 1 {
			t.Errorf("%s: outcomes %v, want one applied and %d duplicates", events[i].id, outs, deliveries-1)
			continue
		}
		applied[events[i].id] = firsts[0]
		var ok bool
		switch o := firsts[0]; {
		case events[i].typ == stripe.EventTypeCheckoutSessionCompleted && events[i].status == "paid",
			events[i].typ == stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
			ok = o == checkout.Committed
		case events[i].typ == stripe.EventTypeCheckoutSessionCompleted && events[i].status == "unpaid":
			// Unchanged when the payment's outcome arrived first.
			ok = o == checkout.AwaitingPayment || o == checkout.Unchanged
		default: // expired, async_payment_failed
			ok = o == checkout.Released
		}
		if !ok {
			t.Errorf("%s: applied as %s", events[i].id, firsts[0])
		}
	}

	// The inbox has every event once, with the outcome it was applied with.
	recorded := f.recorded(t)
	if len(recorded) != len(events) {
		t.Errorf("inbox has %d events, want %d", len(recorded), len(events))
	}
	for id, out := range applied {
		if got := recorded[id]; got != (recordedEvent{1, string(out)}) {
			t.Errorf("%s: inbox %+v, want one row with outcome %s", id, got, out)
		}
	}

	// Every paid checkout sold once through its own hold; no other sales.
	sales := f.sales(t)
	wantSales := map[string][2]int64{}
	var soldA, soldB int64
	for _, se := range all {
		c := f.checkoutOf(t, se.s)
		if string(c.Status) != se.want {
			t.Errorf("checkout %s: status %q, want %q", c.ID, c.Status, se.want)
		}
		holdStatus, _ := f.holdRow(t, *se.s.ReservationID)
		if se.paid {
			var units int64
			for _, l := range se.lines {
				units += l.Quantity
				if l.SKU == "A" {
					soldA += l.Quantity
				} else {
					soldB += l.Quantity
				}
			}
			wantSales[*se.s.ReservationID] = [2]int64{int64(len(se.lines)), units}
			if holdStatus != "committed" {
				t.Errorf("paid checkout %s: hold %q, want committed", c.ID, holdStatus)
			}
		} else if holdStatus != "released" && holdStatus != "expired" {
			t.Errorf("unpaid checkout %s: hold %q, want released (payment failed) or expired (session expired)", c.ID, holdStatus)
		}
	}
	if !reflect.DeepEqual(sales, wantSales) {
		t.Errorf("SALE movements (count, units) by hold:\n got  %v\n want %v", sales, wantSales)
	}
	for sku, sold := range map[string]int64{"A": soldA, "B": soldB} {
		if onHand, reserved := f.stockOf(t, sku); onHand != initial-sold || reserved != 0 {
			t.Errorf("%s: on hand %d, reserved %d; want %d and 0", sku, onHand, reserved, initial-sold)
		}
	}
	var open int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM holds WHERE shop_id = $1 AND status IN ('active', 'pending_payment')", f.shopID).Scan(&open); err != nil || open != 0 {
		t.Errorf("open holds at the end: %d (%v)", open, err)
	}
	f.shop.RequireLedgerClean(t)
}
