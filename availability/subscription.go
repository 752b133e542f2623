package availability

import (
	"context"
	"slices"
	"sync"

	"github.com/checkoutd/checkoutd/inventory"
)

// Change is the state of one line after it changed. ID increases with every
// change the Feed delivers, across all subscriptions, so a subscription's
// changes come in increasing ID order: usable as an SSE event id.
type Change struct {
	ID   uint64
	Item Item
}

// Subscription receives the changes of the lines it watches, coalesced:
// however often a line changes before Take, Take returns it once, in its
// latest state. Its first changes are the current state of every line it
// watches, and so are the ones after the Feed lost track of the database
// for a while, so a reader always ends on the last state of each line.
//
// A Subscription ends when Close is called, when the context given to
// Subscribe is done, or when the Feed stops; then Done is closed and Err
// says why. It is safe for concurrent use.
type Subscription struct {
	feed   *Feed
	shopID string
	// skus are the watched SKUs, sorted; nil watches the whole shop.
	skus []string

	ready chan struct{}
	done  chan struct{}
	stop  func() bool

	mu      sync.Mutex
	pending map[inventory.LineRef]Change
	err     error

	// pageAfter, for a whole-shop subscription owed its current state, is
	// the last line sent so far. Only the feed's hub touches it.
	pageAfter inventory.LineRef
}

// ShopID is the shop the subscription watches.
func (s *Subscription) ShopID() string { return s.shopID }

// SKUs are the watched SKUs, sorted, or nil for the whole shop.
func (s *Subscription) SKUs() []string { return slices.Clone(s.skus) }

// Ready has a value whenever changes wait to be taken. After a receive,
// call Take.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Done is closed once the subscription has ended.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is why the subscription ended: ErrClosed, ErrFeedStopped or the
// error of the context given to Subscribe. It is nil while it runs.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Take returns the waiting changes in ID order and forgets them; nil when
// none wait. It never blocks on the Feed.
func (s *Subscription) Take() []Change {
	s.mu.Lock()
	pending := s.pending
	if len(pending) == 0 {
		s.mu.Unlock()
		return nil
	}
	s.pending = make(map[inventory.LineRef]Change, len(pending))
	s.mu.Unlock()
	out := make([]Change, 0, len(pending))
	for _, c := range pending {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Change) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Next waits for changes and takes them. When the subscription ends it
// returns the changes still waiting, if any, else nil and Err; when ctx is
// done, ctx's error.
func (s *Subscription) Next(ctx context.Context) ([]Change, error) {
	for {
		if changes := s.Take(); changes != nil {
			return changes, nil
		}
		select {
		case <-s.ready:
		case <-s.done:
			if changes := s.Take(); changes != nil {
				return changes, nil
			}
			return nil, s.Err()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close ends the subscription and releases its place in the Feed. It may
// be called more than once.
func (s *Subscription) Close() {
	s.end(ErrClosed)
}

// end ends the subscription with err unless it has ended already.
func (s *Subscription) end(err error) {
	s.feed.remove(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = err
	if s.stop != nil {
		s.stop()
	}
	close(s.done)
}

// deliver queues c for the subscription, replacing an older state of the
// same line. It never blocks.
func (s *Subscription) deliver(c Change) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.pending[inventory.LineRef{SKU: c.Item.SKU, VariantKey: c.Item.VariantKey}] = c
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// backlog is how many changes wait to be taken.
func (s *Subscription) backlog() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// watches reports whether the subscription follows sku.
func (s *Subscription) watches(sku string) bool {
	if s.skus == nil {
		return true
	}
	_, found := slices.BinarySearch(s.skus, sku)
	return found
}
