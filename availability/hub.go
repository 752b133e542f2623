package availability

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/checkoutd/checkoutd/inventory"
)

const (
	// retention is how long the change log is kept behind a reader: a
	// cursor must be this old before the log behind it is pruned.
	retention = time.Minute
	// maxLag is how long a reader may go without reading before it must
	// assume that other processes pruned changes it has not read, and
	// start again. It leaves retention - maxLag to spare.
	maxLag = 45 * time.Second
	// pruneEvery is how often a reader prunes.
	pruneEvery = 10 * time.Second
	// readChunk is the most lines or SKUs one read asks for, and how many
	// waiting changes make a whole-shop subscription too busy for another
	// page of its current state.
	readChunk = 1000
)

// hub is the state of Feed.Run's loop: where it stands in the change log,
// and the cursors it keeps for pruning. Only Run's goroutine uses it.
type hub struct {
	feed *Feed
	// cursor is where the next read starts, taken at readAt; zero, or
	// lost, means start again.
	cursor inventory.ChangeCursor
	readAt time.Time
	lost   bool
	// marks are cursors taken at least pruneEvery apart, oldest first.
	marks    []mark
	prunedAt time.Time
}

type mark struct {
	at     time.Time
	cursor inventory.ChangeCursor
}

// lose makes the next poll start again from a new cursor, with the
// current state for every subscription.
func (h *hub) lose() { h.lost = true }

// poll reads the change log once, delivers what changed, sends owed current
// states and prunes. more is true when owed states remain that could be
// sent at once.
func (h *hub) poll(ctx context.Context) (more bool, err error) {
	ledger := h.feed.ledger
	now := time.Now()
	if h.cursor.IsZero() || h.lost || now.Sub(h.readAt) > maxLag {
		c, err := ledger.StockChangeCursor(ctx)
		if err != nil {
			return false, err
		}
		h.restart(c, now)
	} else {
		changed, next, err := ledger.StockChangesSince(ctx, h.cursor)
		switch {
		case errors.Is(err, inventory.ErrStockChangesLost):
			h.feed.log.WarnContext(ctx, "the database restarted: the stock change log was emptied; sending every subscription its current state")
			h.restart(next, now)
		case err != nil:
			return false, err
		default:
			h.cursor, h.readAt = next, now
			if err := h.deliverChanges(ctx, changed); err != nil {
				return false, err
			}
		}
	}
	if len(h.marks) == 0 || now.Sub(h.marks[len(h.marks)-1].at) >= pruneEvery {
		h.marks = append(h.marks, mark{at: now, cursor: h.cursor})
	}
	if more, err = h.sendState(ctx); err != nil {
		return false, err
	}
	h.prune(ctx, now)
	return more, nil
}

// restart continues from cursor c and owes every subscription its current
// state, since changes may have gone by unread.
func (h *hub) restart(c inventory.ChangeCursor, now time.Time) {
	h.cursor, h.readAt, h.lost = c, now, false
	f := h.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.shops {
		for s := range w.whole {
			s.pageAfter = inventory.LineRef{}
			f.needy[s] = struct{}{}
		}
		for _, subs := range w.bySKU {
			for s := range subs {
				f.needy[s] = struct{}{}
			}
		}
	}
}

// deliverChanges reads the state of each changed line somebody watches,
// once, and hands it to all of them.
func (h *hub) deliverChanges(ctx context.Context, changed []inventory.ChangedLine) error {
	f := h.feed
	wanted := make(map[string][]inventory.LineRef)
	f.mu.Lock()
	for _, c := range changed {
		if w := f.shops[c.ShopID]; w != nil && (len(w.whole) > 0 || len(w.bySKU[c.SKU]) > 0) {
			wanted[c.ShopID] = append(wanted[c.ShopID], inventory.LineRef{SKU: c.SKU, VariantKey: c.VariantKey})
		}
	}
	f.mu.Unlock()
	for shopID, refs := range wanted {
		for chunk := range slices.Chunk(refs, readChunk) {
			lines, err := f.ledger.LineStockOf(ctx, shopID, chunk)
			if err != nil {
				return err
			}
			f.mu.Lock()
			w := f.shops[shopID]
			for _, l := range lines {
				if w == nil {
					break
				}
				c := Change{ID: f.nextID.Add(1), Item: itemOf(l)}
				for s := range w.whole {
					s.deliver(c)
				}
				for s := range w.bySKU[l.SKU] {
					s.deliver(c)
				}
			}
			f.mu.Unlock()
		}
	}
	return nil
}

// sendState sends the subscriptions owed their current state that state:
// for SKU subscriptions, one read per shop shared by all of them; for
// whole-shop ones, the next page each, unless it has not taken the last.
func (h *hub) sendState(ctx context.Context) (more bool, err error) {
	f := h.feed
	byShop := make(map[string][]*Subscription)
	f.mu.Lock()
	for s := range f.needy {
		byShop[s.shopID] = append(byShop[s.shopID], s)
	}
	f.mu.Unlock()
	for shopID, subs := range byShop {
		var bySKU []*Subscription
		var skus []string
		for _, s := range subs {
			if s.skus == nil {
				pending, err := h.sendPage(ctx, s)
				if err != nil {
					return false, err
				}
				more = more || pending
				continue
			}
			bySKU = append(bySKU, s)
			skus = append(skus, s.skus...)
		}
		if len(bySKU) == 0 {
			continue
		}
		slices.Sort(skus)
		for chunk := range slices.Chunk(slices.Compact(skus), readChunk) {
			lines, err := f.ledger.LineStockOfSKUs(ctx, shopID, chunk)
			if err != nil {
				return false, err
			}
			for _, l := range lines {
				c := Change{ID: f.nextID.Add(1), Item: itemOf(l)}
				for _, s := range bySKU {
					if s.watches(l.SKU) {
						s.deliver(c)
					}
				}
			}
		}
		f.mu.Lock()
		for _, s := range bySKU {
			delete(f.needy, s)
		}
		f.mu.Unlock()
	}
	return more, nil
}

// sendPage sends a whole-shop subscription the next page of its shop's
// current state, unless its reader has not taken most of the last one.
// pending is true while pages remain.
func (h *hub) sendPage(ctx context.Context, s *Subscription) (pending bool, err error) {
	if s.backlog() >= readChunk {
		return false, nil
	}
	f := h.feed
	lines, err := f.ledger.LineStockPage(ctx, s.shopID, s.pageAfter, readChunk)
	if err != nil {
		return false, err
	}
	for _, l := range lines {
		s.deliver(Change{ID: f.nextID.Add(1), Item: itemOf(l)})
	}
	if len(lines) == readChunk {
		last := lines[len(lines)-1]
		s.pageAfter = inventory.LineRef{SKU: last.SKU, VariantKey: last.VariantKey}
		return true, nil
	}
	f.mu.Lock()
	delete(f.needy, s)
	f.mu.Unlock()
	return false, nil
}

// prune deletes the change log behind the newest mark at least retention
// old, every pruneEvery. A failure is only logged: the next prune deletes
// the same rows and more.
func (h *hub) prune(ctx context.Context, now time.Time) {
	if now.Sub(h.prunedAt) < pruneEvery {
		return
	}
	i := -1
	for j, m := range h.marks {
		if now.Sub(m.at) >= retention {
			i = j
		}
	}
	if i < 0 {
		return
	}
	h.prunedAt = now
	n, err := h.feed.ledger.PruneStockChanges(ctx, h.marks[i].cursor)
	if err != nil {
		h.feed.log.WarnContext(ctx, "pruning the stock change log", "error", err.Error())
		return
	}
	h.marks = h.marks[i+1:]
	h.feed.log.DebugContext(ctx, "pruned the stock change log", "rows", n)
}
