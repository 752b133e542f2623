package availability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkoutd/checkoutd"
	"github.com/checkoutd/checkoutd/inventory"
)

var (
	// ErrTooManySubscribers is Subscribe's answer once the Feed has
	// Config.MaxSubscribers subscriptions.
	ErrTooManySubscribers = errors.New("availability: too many subscribers")
	// ErrFeedStopped ends every subscription when the Feed's Run returns,
	// and is Subscribe's answer after that.
	ErrFeedStopped = errors.New("availability: feed stopped")
	// ErrClosed is why a subscription ended by Close ended.
	ErrClosed = errors.New("availability: subscription closed")
)

// DefaultMaxSubscribers is Config.MaxSubscribers' default.
const DefaultMaxSubscribers = 10_000

// DefaultPollInterval is Config.PollInterval's default.
const DefaultPollInterval = 100 * time.Millisecond

// Config tunes a Feed. The zero value is usable.
type Config struct {
	// MaxSubscribers caps the subscriptions open at once in this process
	// (AVAILABILITY_MAX_SUBSCRIBERS, default DefaultMaxSubscribers).
	MaxSubscribers int
	// PollInterval is how often the Feed reads the change log when nothing
	// else wakes it (default DefaultPollInterval): the bound on how late a
	// change reaches subscribers, less the time to read it.
	PollInterval time.Duration
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
}

// Feed follows every shop's stock changes with one reader of the change log
// for the whole process, and hands each changed line's new state to every
// subscription that watches it. Run does the reading; Subscribe may be
// called before, during or (to be told ErrFeedStopped) after it.
type Feed struct {
	ledger *inventory.Ledger
	cfg    Config
	log    *slog.Logger

	// nextID is the ID of the next change; it starts at the Feed's start
	// time in microseconds, so a restarted process numbers its changes
	// above the ones it sent before.
	nextID atomic.Uint64
	// wake asks the hub to poll at once: a subscription wants its state.
	wake chan struct{}

	mu      sync.Mutex
	running bool
	stopped bool
	count   int
	shops   map[string]*shopWatch
	// needy are the subscriptions still owed the current state of their
	// lines: new ones, and all of them after the hub lost track.
	needy map[*Subscription]struct{}
}

// shopWatch indexes one shop's subscriptions by what they watch.
type shopWatch struct {
	whole map[*Subscription]struct{}
	bySKU map[string]map[*Subscription]struct{}
}

// NewFeed returns a Feed that reads through ledger. Call Run to start it.
func NewFeed(ledger *inventory.Ledger, cfg Config) *Feed {
	if cfg.MaxSubscribers <= 0 {
		cfg.MaxSubscribers = DefaultMaxSubscribers
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &Feed{
		ledger: ledger,
		cfg:    cfg,
		log:    cfg.Logger,
		wake:   make(chan struct{}, 1),
		shops:  make(map[string]*shopWatch),
		needy:  make(map[*Subscription]struct{}),
	}
	f.nextID.Store(uint64(time.Now().UnixMicro()))
	return f
}

// Subscribe watches every line of the given SKUs of a shop (1 to MaxSKUs;
// repeats count once, and lines the shop adds later are included), or,
// with skus nil, every line of the shop. An empty but non-nil skus is a
// *checkoutd.ValidationError like any other bad input, never the whole
// shop. The subscription first receives the current state of its lines,
// then their changes, until Close, until ctx is done, or until the Feed
// stops. Past Config.MaxSubscribers it returns ErrTooManySubscribers.
//
// Whether the shop exists and shows its stock is the caller's to check: a
// subscription to a shop without lines simply receives nothing.
func (f *Feed) Subscribe(ctx context.Context, shopID string, skus []string) (*Subscription, error) {
	if skus != nil {
		var err error
		if skus, err = checkSKUs(shopID, skus); err != nil {
			return nil, err
		}
	} else if !checkoutd.ValidShopID(shopID) {
		return nil, &checkoutd.ValidationError{Details: []checkoutd.FieldIssue{{Field: "shopId", Issue: checkoutd.IDIssue}}}
	}
	s := &Subscription{
		feed:    f,
		shopID:  shopID,
		skus:    skus,
		ready:   make(chan struct{}, 1),
		done:    make(chan struct{}),
		pending: make(map[inventory.LineRef]Change),
	}
	if err := f.add(s); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { s.end(ctx.Err()) })
	s.mu.Lock()
	if s.err != nil {
		stop()
	} else {
		s.stop = stop
	}
	s.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return s, nil
}

// Subscribers is how many subscriptions are open.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

// Run reads the change log and delivers changes until ctx is done, then
// ends every subscription with ErrFeedStopped and returns nil. It outlives
// database trouble: after a failed read it waits (100 ms, doubling to 5 s)
// and tries again, and once it reads again it sends every subscription the
// current state of its lines, since changes may have gone by unseen. It
// may run once per Feed.
func (f *Feed) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.running || f.stopped {
		f.mu.Unlock()
		return errors.New("availability: Feed.Run called twice")
	}
	f.running = true
	f.mu.Unlock()
	defer f.shutdown()

	h := &hub{feed: f}
	ticker := time.NewTicker(f.cfg.PollInterval)
	defer ticker.Stop()
	failures := 0
	for {
		more, err := h.poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures++
			wait := min(100*time.Millisecond<<min(failures-1, 6), 5*time.Second)
			f.log.WarnContext(ctx, "availability feed cannot read stock changes; retrying",
				"error", err.Error(), "failures", failures, "retry_in", wait.String())
			h.lose()
			if !sleep(ctx, wait) {
				return nil
			}
			continue
		case failures > 0:
			f.log.InfoContext(ctx, "availability feed reads stock changes again", "failures", failures)
			failures = 0
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-f.wake:
		}
	}
}

// add registers s, unless the Feed is full or stopped.
func (f *Feed) add(s *Subscription) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.stopped:
		return ErrFeedStopped
	case f.count >= f.cfg.MaxSubscribers:
		return fmt.Errorf("%w (%d)", ErrTooManySubscribers, f.cfg.MaxSubscribers)
	}
	w := f.shops[s.shopID]
	if w == nil {
		w = &shopWatch{whole: make(map[*Subscription]struct{}), bySKU: make(map[string]map[*Subscription]struct{})}
		f.shops[s.shopID] = w
	}
	if s.skus == nil {
		w.whole[s] = struct{}{}
	}
	for _, sku := range s.skus {
		subs := w.bySKU[sku]
		if subs == nil {
			subs = make(map[*Subscription]struct{})
			w.bySKU[sku] = subs
		}
		subs[s] = struct{}{}
	}
	f.needy[s] = struct{}{}
	f.count++
	return nil
}

// remove unregisters s; removing it twice does nothing.
func (f *Feed) remove(s *Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.shops[s.shopID]
	if w == nil {
		return
	}
	if s.skus == nil {
		if _, ok := w.whole[s]; !ok {
			return
		}
		delete(w.whole, s)
	} else {
		if _, ok := w.bySKU[s.skus[0]][s]; !ok {
			return
		}
		for _, sku := range s.skus {
			delete(w.bySKU[sku], s)
			if len(w.bySKU[sku]) == 0 {
				delete(w.bySKU, sku)
			}
		}
	}
	delete(f.needy, s)
	if len(w.whole) == 0 && len(w.bySKU) == 0 {
		delete(f.shops, s.shopID)
	}
	f.count--
}

// shutdown refuses new subscriptions and ends the open ones.
func (f *Feed) shutdown() {
	f.mu.Lock()
	f.stopped = true
	var all []*Subscription
	for _, w := range f.shops {
		for s := range w.whole {
			all = append(all, s)
		}
		for _, subs := range w.bySKU {
			for s := range subs {
				all = append(all, s)
			}
		}
	}
	f.mu.Unlock()
	for _, s := range all {
		s.end(ErrFeedStopped)
	}
}

// sleep waits for d, or returns false as soon as ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
