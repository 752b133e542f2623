package inventory

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// Defaults of the Config fields that tune the grouping of reads:
// validations and stock line reads (StockInfo).
const (
	// DefaultReadGroupSize is how many reads one group answers at most
	// when Config.ReadGroupSize is 0.
	DefaultReadGroupSize = 128
	// DefaultReadGroupsInFlight is how many read groups run at once when
	// Config.ReadGroupsInFlight is 0.
	DefaultReadGroupsInFlight = 2
)

// newReadBatcher returns the batcher that gathers concurrent reads
// (validations and stock line reads), or nil when cfg turns their grouping
// off. It is the batcher of group commit with other limits and never a
// window: an edge worker's read is on a shopper's way to the cart, and a
// lone one must not wait.
func newReadBatcher(cfg Config, run func(context.Context, []*groupCall)) *batcher {
	if cfg.ReadGroupSize == 1 {
		return nil
	}
	size, inFlight := cfg.ReadGroupSize, cfg.ReadGroupsInFlight
	if size <= 0 {
		size = DefaultReadGroupSize
	}
	if inFlight <= 0 {
		inFlight = DefaultReadGroupsInFlight
	}
	return newBatcher(Config{GroupSize: size, GroupsInFlight: inFlight}, nil, run)
}

// shopLine names a stock line of any shop.
type shopLine struct {
	shopID string
	lineKey
}

// lineAnswer is what ValidateLines says of one line.
type lineAnswer struct {
	available  int64
	shopExists bool
}

// validateOp is one validation in a group: a shop's merged lines, and once
// the group has run, what the query said of each of them, in the same
// order.
type validateOp struct {
	shopID  string
	lines   []Line
	answers []lineAnswer
	err     error
}

// locks adds nothing: a validation reads, and locks no row.
func (o *validateOp) locks(*lockSet) {}

// exec answers the validation on its own, with the query a group uses.
func (o *validateOp) exec(ctx context.Context, q *db.Queries, conn db.DBTX) error {
	var arg db.ValidateLinesParams
	o.addTo(&arg, nil)
	rows, err := q.ValidateLines(ctx, conn, arg)
	if err != nil {
		return err
	}
	o.take(answersOf(rows))
	return nil
}

func (o *validateOp) fail(err error) { o.answers, o.err = nil, err }

// addTo adds the op's lines to arg, each line once across the group when
// seen is not nil.
func (o *validateOp) addTo(arg *db.ValidateLinesParams, seen map[shopLine]bool) {
	for _, m := range o.lines {
		if seen != nil {
			k := shopLine{o.shopID, lineKey{m.SKU, m.VariantKey}}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		arg.ShopIds = append(arg.ShopIds, o.shopID)
		arg.Skus = append(arg.Skus, m.SKU)
		arg.VariantKeys = append(arg.VariantKeys, m.VariantKey)
	}
}

// take picks the op's own lines out of a query's answers. The query
// answers every line it is given.
func (o *validateOp) take(all map[shopLine]lineAnswer) {
	o.answers = make([]lineAnswer, len(o.lines))
	for i, m := range o.lines {
		o.answers[i] = all[shopLine{o.shopID, lineKey{m.SKU, m.VariantKey}}]
	}
}

func answersOf(rows []db.ValidateLinesRow) map[shopLine]lineAnswer {
	all := make(map[shopLine]lineAnswer, len(rows))
	for _, r := range rows {
		all[shopLine{r.ShopID, lineKey{r.Sku, r.VariantKey}}] = lineAnswer{available: r.Available, shopExists: r.ShopExists}
	}
	return all
}

// runValidations answers a group of reads, the batcher l.reads gathers:
// its validations with one ValidateLines over all their lines, its stock
// reads with one GetStockLineGroup over theirs. Each line's answer depends
// on nothing but the line, and each query reads every line in one
// snapshot, so each read gets exactly what it would have got alone.
func (l *Ledger) runValidations(ctx context.Context, group []*groupCall) {
	var validations, stockReads []*groupCall
	for _, c := range group {
		if _, ok := c.op.(*stockReadOp); ok {
			stockReads = append(stockReads, c)
		} else {
			validations = append(validations, c)
		}
	}
	l.runReads(ctx, validations, l.validateGroup)
	l.runReads(ctx, stockReads, l.readStockGroup)
}

// runReads runs a group of reads of one kind with query. If the database
// refuses the query, each read runs again on its own, so that each gets
// its own outcome; if the connection failed, each gets that error, as a
// lone query would.
func (l *Ledger) runReads(ctx context.Context, group []*groupCall, query func(context.Context, []*groupCall) error) {
	if len(group) == 0 {
		return
	}
	if len(group) > 1 {
		err := query(ctx, group)
		if err == nil {
			return
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			for _, c := range group {
				c.op.fail(err)
			}
			return
		}
		l.log.DebugContext(ctx, "read group refused, running its reads alone", "size", len(group), "error", err)
	}
	for _, c := range group {
		if err := c.op.exec(c.ctx, l.queries, l.db); err != nil {
			c.op.fail(err)
		}
	}
}

// validateGroup answers a group of validations with one query.
func (l *Ledger) validateGroup(ctx context.Context, group []*groupCall) error {
	var arg db.ValidateLinesParams
	seen := make(map[shopLine]bool)
	for _, c := range group {
		c.op.(*validateOp).addTo(&arg, seen)
	}
	rows, err := l.queries.ValidateLines(ctx, l.db, arg)
	if err != nil {
		return err
	}
	all := answersOf(rows)
	for _, c := range group {
		c.op.(*validateOp).take(all)
	}
	return nil
}

// readStockGroup answers a group of stock reads with one query.
func (l *Ledger) readStockGroup(ctx context.Context, group []*groupCall) error {
	arg := db.GetStockLineGroupParams{DefaultThreshold: l.cfg.DefaultLowStockThreshold}
	seen := make(map[shopLine]bool, len(group))
	for _, c := range group {
		c.op.(*stockReadOp).addTo(&arg, seen)
	}
	rows, err := l.queries.GetStockLineGroup(ctx, l.db, arg)
	if err != nil {
		return err
	}
	all := stockRowsOf(rows)
	for _, c := range group {
		c.op.(*stockReadOp).take(all)
	}
	return nil
}

// readOp is a read that l.reads can group.
type readOp interface {
	groupOp
	// outcome is the error the read ended with.
	outcome() error
}

func (o *validateOp) outcome() error { return o.err }

// validateLines answers op, in a group when l groups reads.
func (l *Ledger) validateLines(ctx context.Context, op *validateOp) error {
	return l.read(ctx, op)
}

// read runs op, in a group when l groups reads and is not bound to a
// transaction.
func (l *Ledger) read(ctx context.Context, op readOp) error {
	if l.reads == nil || l.after != nil {
		return op.exec(ctx, l.queries, l.db)
	}
	if err := l.reads.do(ctx, op); err != nil {
		return err
	}
	return op.outcome()
}

// stockReadOp is one stock line read in a group: the line, and once the
// group has run, its rows (none for a line the shop does not have).
type stockReadOp struct {
	line      shopLine
	threshold int64
	rows      []db.GetStockLineGroupRow
	err       error
}

// locks adds nothing: a read locks no row.
func (o *stockReadOp) locks(*lockSet) {}

// exec reads the line on its own, with the query a group uses.
func (o *stockReadOp) exec(ctx context.Context, q *db.Queries, conn db.DBTX) error {
	arg := db.GetStockLineGroupParams{DefaultThreshold: o.threshold}
	o.addTo(&arg, nil)
	rows, err := q.GetStockLineGroup(ctx, conn, arg)
	if err != nil {
		return err
	}
	o.rows = rows
	return nil
}

func (o *stockReadOp) fail(err error) { o.rows, o.err = nil, err }

func (o *stockReadOp) outcome() error { return o.err }

// addTo adds the op's line to arg, once across the group when seen is not
// nil.
func (o *stockReadOp) addTo(arg *db.GetStockLineGroupParams, seen map[shopLine]bool) {
	if seen != nil {
		if seen[o.line] {
			return
		}
		seen[o.line] = true
	}
	arg.ShopIds = append(arg.ShopIds, o.line.shopID)
	arg.Skus = append(arg.Skus, o.line.sku)
	arg.VariantKeys = append(arg.VariantKeys, o.line.variantKey)
}

// take picks the op's rows out of a group's.
func (o *stockReadOp) take(all map[shopLine][]db.GetStockLineGroupRow) {
	o.rows = all[o.line]
}

// stockRowsOf splits a group's rows by line; each line's stay in their
// order.
func stockRowsOf(rows []db.GetStockLineGroupRow) map[shopLine][]db.GetStockLineGroupRow {
	all := make(map[shopLine][]db.GetStockLineGroupRow)
	for i, r := range rows {
		k := shopLine{r.ShopID, lineKey{r.Sku, r.VariantKey}}
		all[k] = append(all[k], rows[i])
	}
	return all
}
