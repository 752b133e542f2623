package checkout_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
)

// 300 customers check out the last 20 units at once: exactly 20 get a
// session, each on a hold of its own, and the other 280 are told the stock
// is insufficient without Stripe ever hearing of them.
func TestConcurrentCheckoutsNeverOversell(t *testing.T) {
	t.Parallel()
	const (
		customers = 300
		onHand    = 20
	)
	ctx := context.Background()
	f := newFixture(t, checkout.Config{InventoryMode: checkoutd.ModeReserveTTL})
	f.stock(t, "HOT", "", onHand)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		sessions = map[string]string{} // session id → hold id
		short    int
		other    []error
	)
	start := make(chan struct{})
	for i := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			sess, created, err := f.svc.Create(ctx, f.request(fmt.Sprintf("cart-%03d", i), item("HOT", "", 1)))
			mu.Lock()
			defer mu.Unlock()
			var insufficient *inventory.InsufficientStockError
			switch {
			case err == nil && created && sess.ReservationID != nil:
				sessions[sess.ID] = *sess.ReservationID
			case errors.As(err, &insufficient):
				short++
			default:
				other = append(other, fmt.Errorf("customer %d: session %+v, created %v: %w", i, sess, created, err))
			}
		}()
	}
	close(start)
	wg.Wait()

	if len(sessions) != onHand || short != customers-onHand || len(other) != 0 {
		t.Errorf("%d sessions, %d insufficient stock, %d other outcomes; want %d, %d, 0", len(sessions), short, len(other), onHand, customers-onHand)
	}
	for i, err := range other {
		if i == 5 {
			t.Errorf("... and %d more", len(other)-5)
			break
		}
		t.Error(err)
	}
	holds := map[string]bool{}
	for _, h := range sessions {
		holds[h] = true
	}
	if len(holds) != len(sessions) {
		t.Errorf("%d sessions share %d holds", len(sessions), len(holds))
	}
	if n := len(f.stripe.NewCalls()); n != onHand {
		t.Errorf("Stripe saw %d New calls, want %d", n, onHand)
	}
	if ids := f.holdIDs(t, "active"); len(ids) != onHand {
		t.Errorf("%d active holds, want %d", len(ids), onHand)
	}
	if info := f.shop.Info(t, "HOT", ""); info.Reserved != onHand || info.Available != 0 || info.OnHand != onHand {
		t.Errorf("stock: on hand %d, reserved %d, available %d; want %d, %d, 0", info.OnHand, info.Reserved, info.Available, onHand, onHand)
	}
	list := f.checkouts(t)
	open := 0
	for _, c := range list {
		if c.Status == "open" {
			open++
		}
	}
	if len(list) != onHand || open != onHand {
		t.Errorf("%d checkout records, %d open; want %d, all open", len(list), open, onHand)
	}
	f.shop.RequireLedgerClean(t)
}
