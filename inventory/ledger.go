package inventory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/checkoutd/checkoutd/internal/aftercommit"
	"github.com/checkoutd/checkoutd/internal/database"
	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// Config tunes a Ledger. The zero value is usable.
type Config struct {
	// DefaultLowStockThreshold applies to lines without a threshold of their
	// own (LOW_STOCK_DEFAULT_THRESHOLD).
	DefaultLowStockThreshold int64
	// BusyRetryAfter is what a BusyError tells callers to wait (default 1s).
	BusyRetryAfter time.Duration
	// Logger receives structured logs; every line about a hold carries
	// hold_id and shop_id (default: slog.Default()).
	Logger *slog.Logger
	// Metrics, when set, counts holds created, committed, released and
	// expired.
	Metrics *Metrics
	// GroupSize is how many concurrent holds, commits and releases one
	// transaction may carry (default DefaultGroupSize); 1 turns grouping
	// off. See docs/inventory.md, "Group commit".
	GroupSize int
	// GroupsInFlight is how many group transactions may run at once
	// (default DefaultGroupsInFlight).
	GroupsInFlight int
	// GroupWindow, when positive, makes each group wait this long for more
	// operations before it runs, even a lone one. The default, 0, runs a
	// group as soon as it may: groups form only from operations that
	// arrive while others run.
	GroupWindow time.Duration
	// ReadGroupSize is how many concurrent Validate and stock line reads
	// one query may answer (default DefaultReadGroupSize); 1 turns their
	// grouping off.
	// See docs/inventory.md, "Grouped validations".
	ReadGroupSize int
	// ReadGroupsInFlight is how many of those queries may run at once
	// (default DefaultReadGroupsInFlight).
	ReadGroupsInFlight int
	// PurchaseLimitWindow is how far back a customer's holds count against
	// a line's MaxPerCustomer (PURCHASE_LIMIT_WINDOW; default
	// DefaultPurchaseLimitWindow).
	PurchaseLimitWindow time.Duration
}

// Ledger is the inventory ledger of every shop in one database. It is safe
// for concurrent use, and any number of processes may share the database.
type Ledger struct {
	db      executor
	queries *db.Queries
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	// group gathers concurrent operations into group transactions; nil
	// when grouping is off.
	group *batcher
	// reads gathers concurrent validations into one query each; nil when
	// their grouping is off.
	reads *batcher
	// after, on a Ledger bound to a transaction, holds back the logs and
	// metrics of its changes until the transaction commits (see Committed).
	after *aftercommit.Queue
}

// NewLedger returns a Ledger on db. The pool should come from
// database.Open, which sets the lock timeout that bounds how long an operation
// waits for contended stock rows.
func NewLedger(pool *pgxpool.Pool, cfg Config) *Ledger {
	if cfg.BusyRetryAfter == 0 {
		cfg.BusyRetryAfter = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &Ledger{db: pool, queries: db.New(), cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics}
	if cfg.GroupSize != 1 {
		l.group = newBatcher(cfg, pool, l.runGroup)
	}
	l.reads = newReadBatcher(cfg, l.runValidations)
	return l
}

// executor is where a Ledger runs its statements: the pool, or a caller's
// transaction (see WithTx).
type executor interface {
	db.DBTX
	Begin(ctx context.Context) (pgx.Tx, error)
}

// WithTx returns a Ledger whose operations run in tx, so they commit or roll
// back with whatever else the caller does in it: a webhook's state change,
// its event record and the jobs it enqueues, say. Operations that use a
// transaction of their own run in a savepoint of tx. The caller owns tx.
//
// What the bound Ledger logs and counts is about changes that are not done
// until tx commits, so it is held back: once tx has committed, call
// Committed to log and count it. If tx rolls back, drop the Ledger and
// nothing is reported. Like tx, the bound Ledger is for one goroutine.
func (l *Ledger) WithTx(tx pgx.Tx) *Ledger {
	bound := *l
	bound.db = tx
	bound.after = &aftercommit.Queue{}
	bound.log = aftercommit.Logger(l.log, bound.after)
	bound.metrics = l.metrics.heldIn(bound.after)
	return &bound
}

// Committed logs and counts what a Ledger bound by WithTx did, once its
// transaction has committed. On a Ledger bound to a savepoint it passes
// them on to the enclosing transaction's Ledger. Without a transaction it
// does nothing: the Ledger reports as it goes.
func (l *Ledger) Committed() {
	if l.after != nil {
		l.after.Flush()
	}
}

// inTx runs fn in a transaction (a savepoint, when the Ledger is bound to a
// transaction), committing when it returns nil.
func (l *Ledger) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, l.db, fn)
}

// inBoundTx runs fn with a Ledger bound to a transaction (a savepoint, when
// l is bound itself), committing when fn returns nil; the bound Ledger's
// logs and metrics follow the commit.
func (l *Ledger) inBoundTx(ctx context.Context, fn func(bound *Ledger) error) error {
	var bound *Ledger
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		bound = l.WithTx(tx)
		return fn(bound)
	})
	if err != nil {
		return err
	}
	bound.Committed()
	return nil
}

// dbError wraps err with what was being done, turning lock contention into a
// BusyError callers can branch on.
func (l *Ledger) dbError(what string, err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	switch {
	case !errors.As(err, &pgErr):
	case database.IsContended(pgErr):
		return &BusyError{RetryAfter: l.cfg.BusyRetryAfter, cause: fmt.Errorf("%s: %w", what, err)}
	case database.IsCheckViolation(pgErr):
		if conflict := stockCheckConflict(err); conflict != nil {
			// The statements' own arithmetic should never get this far.
			l.log.Error("a stock_levels CHECK refused a change", "operation", what, "constraint", pgErr.ConstraintName)
			return conflict
		}
	}
	return database.WrapError(what, err)
}

// farFuture stands for "no expiry bound" where a query takes one.
var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
