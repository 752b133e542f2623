package inventory

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// Defaults of the Config fields that tune the grouping of validations.
const (
	// DefaultReadGroupSize is how many validations one query answers at
	// most when Config.ReadGroupSize is 0.
	DefaultReadGroupSize = 128
	// DefaultReadGroupsInFlight is how many validation queries run at once
	// when Config.ReadGroupsInFlight is 0.
	DefaultReadGroupsInFlight = 2
)

// newReadBatcher returns the batcher that gathers concurrent validations,
// or nil when cfg turns their grouping off. It is the batcher of group
// commit with other limits and never a window: an edge worker's validation
// is on a shopper's way to the cart, and a lone one must not wait.
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

// runValidations answers a group of validations with one query over all
// their lines. Each line's answer depends on nothing but the line, and the
// query reads every line in one snapshot, so each validation gets exactly
// what it would have got alone. If the database refuses the query, each
// validation runs again on its own, so that each gets its own outcome; if
// the connection failed, each gets that error, as a lone query would.
func (l *Ledger) runValidations(ctx context.Context, group []*groupCall) {
	if len(group) > 1 {
		var arg db.ValidateLinesParams
		seen := make(map[shopLine]bool)
		for _, c := range group {
			c.op.(*validateOp).addTo(&arg, seen)
		}
		rows, err := l.queries.ValidateLines(ctx, l.db, arg)
		if err == nil {
			all := answersOf(rows)
			for _, c := range group {
				c.op.(*validateOp).take(all)
			}
			return
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			for _, c := range group {
				c.op.fail(err)
			}
			return
		}
		l.log.DebugContext(ctx, "validation group refused, running its validations alone", "size", len(group), "error", err)
	}
	for _, c := range group {
		if err := c.op.exec(c.ctx, l.queries, l.db); err != nil {
			c.op.fail(err)
		}
	}
}

// validateLines answers op, in a group when l groups validations.
func (l *Ledger) validateLines(ctx context.Context, op *validateOp) error {
	if l.reads == nil || l.after != nil {
		return op.exec(ctx, l.queries, l.db)
	}
	if err := l.reads.do(ctx, op); err != nil {
		return err
	}
	return op.err
}
