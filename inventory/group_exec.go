package inventory

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// groupOp is one operation of a group: a hold, commit or release statement
// with its parameters, and, once the group has run, its outcome.
type groupOp interface {
	// locks adds what the operation's statement will lock to ls.
	locks(ls *lockSet)
	// exec runs the operation's statement on conn, which is either a
	// statement recorder or a reader of the group's results (see
	// recorder), or the pool when the operation runs alone, and keeps its
	// outcome.
	exec(ctx context.Context, q *db.Queries, conn db.DBTX) error
	// fail sets the operation's outcome to err.
	fail(err error)
}

// lockSet is what a group locks before its members' statements run: the
// holds it closes, then the stock rows of the lines it holds and of those
// holds' allocations.
type lockSet struct {
	holds db.LockGroupHoldsParams
	stock db.LockGroupStockParams
}

func (ls *lockSet) addHold(shopID, holdID string) {
	ls.holds.ShopIds = append(ls.holds.ShopIds, shopID)
	ls.holds.HoldIds = append(ls.holds.HoldIds, holdID)
	ls.stock.HoldShopIds = append(ls.stock.HoldShopIds, shopID)
	ls.stock.HoldIds = append(ls.stock.HoldIds, holdID)
}

func (ls *lockSet) addLine(shopID, sku, variantKey string) {
	ls.stock.ShopIds = append(ls.stock.ShopIds, shopID)
	ls.stock.Skus = append(ls.stock.Skus, sku)
	ls.stock.VariantKeys = append(ls.stock.VariantKeys, variantKey)
}

// groupSender is what runs a group: the pool.
type groupSender interface {
	batchSender
	Begin(ctx context.Context) (pgx.Tx, error)
}

// batchSender sends a batch of statements: the pool, or a transaction.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// notCommittedError is an error after which a group is known not to have
// committed, so that its members may run again on their own.
type notCommittedError struct{ err error }

func (e *notCommittedError) Error() string { return e.err.Error() }
func (e *notCommittedError) Unwrap() error { return e.err }

// runGroup runs a group as one transaction. A group of one runs its
// statement on its own, exactly as without grouping. If the database
// refuses any statement of a larger group, the whole group has rolled back,
// and every member is run again on its own, so that one bad request cannot
// fail the others: each then gets what it would have got alone.
func (l *Ledger) runGroup(ctx context.Context, group []*groupCall) {
	if len(group) > 1 {
		err := l.runTogether(ctx, group)
		if err == nil {
			return
		}
		var (
			pgErr        *pgconn.PgError
			notCommitted *notCommittedError
		)
		if !errors.As(err, &pgErr) && !errors.As(err, &notCommitted) && !pgconn.SafeToRetry(err) {
			// The connection failed with the commit perhaps under way:
			// running the members again could place their holds twice.
			// Each gets the error, as a lone statement would.
			for _, c := range group {
				c.op.fail(err)
			}
			return
		}
		l.log.DebugContext(ctx, "group refused, running its operations alone", "size", len(group), "error", err)
	}
	for _, c := range group {
		if err := l.execAlone(c.ctx, c.op); err != nil {
			c.op.fail(err)
		}
	}
}

// runTogether runs a group of two or more operations as one transaction
// with one commit. Holds are worked out together when there are two or
// more (runPlaced); otherwise the group is one pipelined batch, which
// PostgreSQL runs as one implicit transaction: the locks first, then the
// commits, the releases and the hold (see closingSteps). It returns the first error, in
// which case nothing the group did was committed (a server error, or a
// *notCommittedError) or whether it was is unknown (a connection error).
func (l *Ledger) runTogether(ctx context.Context, group []*groupCall) error {
	var reserves []*reserveOp
	for _, c := range group {
		if r, ok := c.op.(*reserveOp); ok {
			reserves = append(reserves, r)
		}
	}
	if len(reserves) > 1 {
		return l.runPlaced(ctx, group, reserves)
	}
	var ls lockSet
	for _, c := range group {
		c.op.locks(&ls)
	}
	steps := append(l.lockSteps(ctx, &ls), l.closingSteps(ctx, group)...)
	for _, r := range reserves {
		steps = append(steps, func(conn db.DBTX) error { return r.exec(ctx, l.queries, conn) })
	}
	return sendSteps(ctx, l.group.sender, steps)
}

// closingSteps are the statements of a group's commits and releases: all
// its commits in one (commitTogether), then each release's own, in arrival
// order. A group's holds go after them: every member was waiting when the
// group formed, none had been answered, so any order among them is one the
// callers could have seen.
func (l *Ledger) closingSteps(ctx context.Context, group []*groupCall) []func(conn db.DBTX) error {
	var (
		steps   []func(conn db.DBTX) error
		commits []*commitOp
	)
	for _, c := range group {
		switch op := c.op.(type) {
		case *commitOp:
			commits = append(commits, op)
		case *reserveOp:
		default:
			steps = append(steps, func(conn db.DBTX) error { return op.exec(ctx, l.queries, conn) })
		}
	}
	if len(commits) > 0 {
		steps = append([]func(conn db.DBTX) error{func(conn db.DBTX) error {
			return commitTogether(ctx, l.queries, conn, commits)
		}}, steps...)
	}
	return steps
}

// runPlaced runs a group that places two or more holds, in a transaction
// of two round trips. The first locks what the group touches, runs its
// commits and releases in arrival order, and reads the stock rows of the
// lines its holds ask for and which of their idempotency keys are taken.
// The holds are then worked out in Go, in arrival order (planGroupHolds),
// and the second round trip writes them all in one statement and commits.
// Commits and releases go before the group's holds (see closingSteps).
func (l *Ledger) runPlaced(ctx context.Context, group []*groupCall, reserves []*reserveOp) error {
	var (
		ls    lockSet
		lines db.ReadGroupStockParams
		keys  db.FindGroupHoldKeysParams
	)
	for _, c := range group {
		c.op.locks(&ls)
	}
	for _, r := range reserves {
		for i := range r.arg.Skus {
			lines.ShopIds = append(lines.ShopIds, r.arg.ShopID)
			lines.Skus = append(lines.Skus, r.arg.Skus[i])
			lines.VariantKeys = append(lines.VariantKeys, r.arg.VariantKeys[i])
		}
		if r.arg.IdempotencyKey != nil {
			keys.ShopIds = append(keys.ShopIds, r.arg.ShopID)
			keys.IdempotencyKeys = append(keys.IdempotencyKeys, *r.arg.IdempotencyKey)
		}
	}

	tx, err := l.group.sender.Begin(ctx)
	if err != nil {
		return &notCommittedError{fmt.Errorf("begin group: %w", err)}
	}
	// After Commit this does nothing.
	defer func() { _ = tx.Rollback(ctx) }()

	var (
		stock []db.ReadGroupStockRow
		taken []db.FindGroupHoldKeysRow
	)
	steps := append(l.lockSteps(ctx, &ls), l.closingSteps(ctx, group)...)
	steps = append(steps, func(conn db.DBTX) (err error) {
		stock, err = l.queries.ReadGroupStock(ctx, conn, lines)
		return err
	})
	if len(keys.ShopIds) > 0 {
		steps = append(steps, func(conn db.DBTX) (err error) {
			taken, err = l.queries.FindGroupHoldKeys(ctx, conn, keys)
			return err
		})
	}
	if err := sendSteps(ctx, tx, steps); err != nil {
		return &notCommittedError{err}
	}

	takenKeys := make(map[shopKey]bool, len(taken))
	for _, k := range taken {
		takenKeys[shopKey{k.ShopID, k.IdempotencyKey}] = true
	}
	plan := planGroupHolds(reserves, newGroupStock(stock), takenKeys, l.cfg.DefaultLowStockThreshold)
	var written []db.PlaceGroupHoldsRow
	if plan.placed() > 0 {
		if written, err = l.queries.PlaceGroupHolds(ctx, tx, plan.write); err != nil {
			return &notCommittedError{fmt.Errorf("place %d holds: %w", plan.placed(), err)}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	plan.stamp(reserves, written)
	for i, r := range reserves {
		r.rows, r.err = plan.rows[i], nil
	}
	return nil
}

// lockSteps are the statements that lock what ls names, holds first.
func (l *Ledger) lockSteps(ctx context.Context, ls *lockSet) []func(conn db.DBTX) error {
	var steps []func(conn db.DBTX) error
	if len(ls.holds.HoldIds) > 0 {
		steps = append(steps, func(conn db.DBTX) error { return l.queries.LockGroupHolds(ctx, conn, ls.holds) })
	}
	return append(steps, func(conn db.DBTX) error { return l.queries.LockGroupStock(ctx, conn, ls.stock) })
}

// sendSteps sends steps in one pipelined batch and reads back their
// results, returning the first error. Each step calls a generated query,
// first on a recorder, which queues the statement, then on the batch's
// results, which answers it, so the SQL and its decoding stay sqlc's.
func sendSteps(ctx context.Context, sender batchSender, steps []func(conn db.DBTX) error) error {
	rec := &recorder{batch: &pgx.Batch{}}
	for _, step := range steps {
		if err := step(rec); !errors.Is(err, errRecorded) {
			return err
		}
	}
	results := sender.SendBatch(ctx, rec.batch)
	res := &batchReader{results: results}
	var first error
	for _, step := range steps {
		if err := step(res); err != nil {
			first = err
			break
		}
	}
	if err := results.Close(); first == nil {
		first = err
	}
	return first
}

// errRecorded is what a recorder answers every statement with: it was
// queued, not run.
var errRecorded = errors.New("statement queued in a batch")

// recorder is a db.DBTX that queues each statement in a batch instead of
// running it.
type recorder struct {
	batch *pgx.Batch
}

func (r *recorder) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.batch.Queue(sql, args...)
	return pgconn.CommandTag{}, errRecorded
}

func (r *recorder) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.batch.Queue(sql, args...)
	return nil, errRecorded
}

func (r *recorder) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	r.batch.Queue(sql, args...)
	return errRow{}
}

// errRow is the row of a statement that was only recorded.
type errRow struct{}

func (errRow) Scan(...any) error { return errRecorded }

// batchReader is a db.DBTX that answers each statement with the next result
// of a batch sent earlier; the statements must come in the order they were
// queued.
type batchReader struct {
	results pgx.BatchResults
}

func (b *batchReader) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return b.results.Exec()
}

func (b *batchReader) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return b.results.Query()
}

func (b *batchReader) QueryRow(context.Context, string, ...any) pgx.Row {
	return b.results.QueryRow()
}

// grouped reports whether l's operations go through the batcher: not on a
// Ledger bound to a transaction, whose statements must run in that
// transaction, in the caller's order.
func (l *Ledger) grouped() bool {
	return l.group != nil && l.after == nil
}

// reserveRows runs the reserve statement, in a group when l groups.
func (l *Ledger) reserveRows(ctx context.Context, arg db.ReserveHoldParams) ([]db.ReserveHoldRow, error) {
	if !l.grouped() {
		return l.queries.ReserveHold(ctx, l.db, arg)
	}
	op := &reserveOp{arg: arg}
	if err := l.group.do(ctx, op); err != nil {
		return nil, err
	}
	return op.rows, op.err
}

// commitRows runs the commit statement for one hold, in a group when l
// groups.
func (l *Ledger) commitRows(ctx context.Context, shopID, holdID, reference string) ([]db.CommitHoldsRow, error) {
	op := &commitOp{shopID: shopID, holdID: holdID, reference: reference}
	if !l.grouped() {
		err := l.execAlone(ctx, op)
		return op.rows, err
	}
	if err := l.group.do(ctx, op); err != nil {
		return nil, err
	}
	return op.rows, op.err
}

// closeRows runs the statement that releases holds, in a group when l
// groups.
func (l *Ledger) closeRows(ctx context.Context, arg db.CloseHoldsParams) ([]db.CloseHoldsRow, error) {
	op := &closeOp{arg: arg}
	if !l.grouped() {
		err := l.execAlone(ctx, op)
		return op.rows, err
	}
	if err := l.group.do(ctx, op); err != nil {
		return nil, err
	}
	return op.rows, op.err
}

// reserveOp is a hold in a group.
type reserveOp struct {
	arg  db.ReserveHoldParams
	rows []db.ReserveHoldRow
	err  error
}

func (o *reserveOp) locks(ls *lockSet) {
	for i := range o.arg.Skus {
		ls.addLine(o.arg.ShopID, o.arg.Skus[i], o.arg.VariantKeys[i])
	}
}

func (o *reserveOp) exec(ctx context.Context, q *db.Queries, conn db.DBTX) error {
	var err error
	o.rows, err = q.ReserveHold(ctx, conn, o.arg)
	return err
}

func (o *reserveOp) fail(err error) { o.rows, o.err = nil, err }

// commitOp is a commit in a group.
type commitOp struct {
	shopID, holdID, reference string
	rows                      []db.CommitHoldsRow
	err                       error
}

func (o *commitOp) locks(ls *lockSet) { ls.addHold(o.shopID, o.holdID) }

func (o *commitOp) exec(ctx context.Context, q *db.Queries, conn db.DBTX) error {
	return commitTogether(ctx, q, conn, []*commitOp{o})
}

// commitTogether runs the commits of ops in one statement and gives each op
// the rows of its hold. When several ops commit the same hold, the first
// commits it with its reference and the others find it committed, as they
// would one after another.
func commitTogether(ctx context.Context, q *db.Queries, conn db.DBTX, ops []*commitOp) error {
	var arg db.CommitHoldsParams
	first := make(map[shopKey]*commitOp, len(ops))
	for _, op := range ops {
		op.rows = nil
		key := shopKey{op.shopID, op.holdID}
		if first[key] != nil {
			continue
		}
		first[key] = op
		arg.ShopIds = append(arg.ShopIds, op.shopID)
		arg.HoldIds = append(arg.HoldIds, op.holdID)
		arg.CommitReferences = append(arg.CommitReferences, op.reference)
	}
	rows, err := q.CommitHolds(ctx, conn, arg)
	if err != nil {
		return err
	}
	for _, r := range rows {
		op := first[shopKey{r.ShopID, r.HoldID}]
		op.rows = append(op.rows, r)
	}
	return nil
}

func (o *commitOp) fail(err error) { o.rows, o.err = nil, err }

// closeOp is a release in a group.
type closeOp struct {
	arg  db.CloseHoldsParams
	rows []db.CloseHoldsRow
	err  error
}

func (o *closeOp) locks(ls *lockSet) {
	for i := range o.arg.HoldIds {
		ls.addHold(o.arg.ShopIds[i], o.arg.HoldIds[i])
	}
}

func (o *closeOp) exec(ctx context.Context, q *db.Queries, conn db.DBTX) error {
	var err error
	o.rows, err = q.CloseHolds(ctx, conn, o.arg)
	return err
}

func (o *closeOp) fail(err error) { o.rows, o.err = nil, err }

// execAlone runs a commit or a release outside a group, in one round trip
// of two statements: LockGroupHolds, then the operation's own. The
// operation's statement reads the holds' allocations with the snapshot it
// started with, so were it to wait on a hold's lock itself, it could read
// the allocations from before a change of the hold's lines (SetHoldItems)
// committed during the wait. Locked first, in a statement of its own, the
// hold is read as the change left it. A group does the same (lockSteps).
func (l *Ledger) execAlone(ctx context.Context, op groupOp) error {
	var ls lockSet
	op.locks(&ls)
	sender, ok := l.db.(batchSender)
	if !ok || len(ls.holds.HoldIds) == 0 {
		return op.exec(ctx, l.queries, l.db)
	}
	return sendSteps(ctx, sender, []func(conn db.DBTX) error{
		func(conn db.DBTX) error { return l.queries.LockGroupHolds(ctx, conn, ls.holds) },
		func(conn db.DBTX) error { return op.exec(ctx, l.queries, conn) },
	})
}
