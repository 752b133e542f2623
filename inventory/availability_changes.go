package inventory

import (
	"context"
	"errors"
	"time"
)

// ErrStockChangesLost means the stock change log was emptied since the
// cursor was taken: the server restarted (the log is unlogged, so a crash or
// a failover empties it). The reader must re-read whatever it follows and
// start again from a new StockChangeCursor.
var ErrStockChangesLost = errors.New("stock change log restarted since the cursor")

// ChangedLine names a stock line whose stock or settings changed.
type ChangedLine struct {
	ShopID     string
	SKU        string
	VariantKey string
}

// ChangeCursor marks a point in the stock change log: the changes of every
// transaction that had committed by then are behind it, the rest ahead. The
// zero value is no position; take one with StockChangeCursor.
type ChangeCursor struct {
	snapshot      string
	serverStarted time.Time
}

// IsZero reports whether c is no position.
func (c ChangeCursor) IsZero() bool { return c.snapshot == "" }

// StockChangeCursor returns the log's current position: StockChangesSince
// from it returns the changes committed from now on.
func (l *Ledger) StockChangeCursor(ctx context.Context) (ChangeCursor, error) {
	row, err := l.queries.StockChangeSnapshot(ctx, l.db)
	if err != nil {
		return ChangeCursor{}, l.dbError("read stock change cursor", err)
	}
	return ChangeCursor{snapshot: row.Snapshot, serverStarted: row.ServerStarted}, nil
}

// StockChangesSince returns the lines changed, in every shop, by the
// transactions that committed after since was taken, each line once, and
// the cursor to pass next time. A transaction that commits late is returned
// by a later call, never skipped; one that rolls back, never. The log is
// cross-shop on purpose: one reader per process follows every shop.
//
// It returns ErrStockChangesLost when the log was emptied since since was
// taken. The log only keeps about a minute (see PruneStockChanges): a
// reader that could not read for longer must treat its cursor as lost too.
func (l *Ledger) StockChangesSince(ctx context.Context, since ChangeCursor) ([]ChangedLine, ChangeCursor, error) {
	if since.IsZero() {
		return nil, ChangeCursor{}, errors.New("stock changes since no position: take a cursor with StockChangeCursor")
	}
	rows, err := l.queries.StockChangesSince(ctx, l.db, since.snapshot)
	if err != nil {
		return nil, ChangeCursor{}, l.dbError("read stock changes", err)
	}
	// The query always returns the row that carries its snapshot.
	next := ChangeCursor{snapshot: rows[0].Snapshot, serverStarted: rows[0].ServerStarted}
	if !next.serverStarted.Equal(since.serverStarted) {
		return nil, next, ErrStockChangesLost
	}
	changed := make([]ChangedLine, 0, len(rows)-1)
	for _, r := range rows {
		if r.ShopID != "" {
			changed = append(changed, ChangedLine{ShopID: r.ShopID, SKU: r.Sku, VariantKey: r.VariantKey})
		}
	}
	return changed, next, nil
}

// PruneStockChanges deletes the log of every transaction older than the
// oldest still running (on the whole server) when before was taken, and
// returns how many rows went: never a change before has not seen, though
// it may keep some it has. Readers prune with
// a cursor at least a minute old, and a reader that has not read for most
// of a minute starts again (ErrStockChangesLost's remedy), so no reader
// loses a change it has not read.
func (l *Ledger) PruneStockChanges(ctx context.Context, before ChangeCursor) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	n, err := l.queries.PruneStockChanges(ctx, l.db, before.snapshot)
	if err != nil {
		return 0, l.dbError("prune stock changes", err)
	}
	return n, nil
}
