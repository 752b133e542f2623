package inventory

import (
	"context"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// GroupRun describes a group of operations as it starts.
type GroupRun = groupRun

// ObserveGroups has fn hear of every group l runs, before it runs. Call it
// before l is used.
func ObserveGroups(l *Ledger, fn func(GroupRun)) {
	l.group.observe = fn
}

// QueuedOps is how many operations wait for a group slot on l.
func QueuedOps(l *Ledger) int {
	l.group.mu.Lock()
	defer l.group.mu.Unlock()
	return len(l.group.queue)
}

// ReserveParams are the reserve statement's parameters; ReserveRow is a row
// of what it returns.
type (
	ReserveParams = db.ReserveHoldParams
	ReserveRow    = db.ReserveHoldRow
)

// ReserveAlone runs the reserve statement for one hold, as a lone Reserve
// does.
func ReserveAlone(ctx context.Context, l *Ledger, arg ReserveParams) ([]ReserveRow, error) {
	return l.queries.ReserveHold(ctx, l.db, arg)
}

// ReserveTogether places the holds of args as one group of l's, as the
// batcher runs a group of holds, and returns what each hold's Reserve would
// read.
func ReserveTogether(ctx context.Context, l *Ledger, args []ReserveParams) ([][]ReserveRow, error) {
	ops := make([]*reserveOp, len(args))
	group := make([]*groupCall, len(args))
	for i, arg := range args {
		ops[i] = &reserveOp{arg: arg}
		group[i] = &groupCall{ctx: ctx, op: ops[i]}
	}
	if err := l.runPlaced(ctx, group, ops); err != nil {
		return nil, err
	}
	rows := make([][]ReserveRow, len(ops))
	for i, op := range ops {
		rows[i] = op.rows
	}
	return rows, nil
}

// ReleaseTogether releases holdIDs as one group of l's, each built as
// Release builds it, as the batcher runs a group of releases, and returns
// how many holds each release closed. A hold past its expiry is left for
// Release to close as expired.
func ReleaseTogether(ctx context.Context, l *Ledger, shopID string, holdIDs []string, reason string) ([]int, error) {
	ops := make([]*closeOp, len(holdIDs))
	group := make([]*groupCall, len(holdIDs))
	for i, id := range holdIDs {
		ops[i] = &closeOp{arg: db.CloseHoldsParams{
			ShopIds: []string{shopID}, HoldIds: []string{id}, Status: string(HoldReleased),
			Reason: reason, DueBefore: farFuture, UnlapsedOnly: true,
		}}
		group[i] = &groupCall{ctx: ctx, op: ops[i]}
	}
	if err := l.runTogether(ctx, group); err != nil {
		return nil, err
	}
	closed := make([]int, len(ops))
	for i, op := range ops {
		closed[i] = len(op.rows)
	}
	return closed, nil
}
