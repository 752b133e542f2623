package inventory

import (
	"context"
	"testing"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// failOp is a group member that only records the outcome it is given.
type failOp struct{ err error }

func (*failOp) locks(*lockSet)                                   {}
func (*failOp) exec(context.Context, *db.Queries, db.DBTX) error { return nil }
func (o *failOp) fail(err error)                                 { o.err = err }

// A run that panics (a bug) must not keep its slot: with one slot, the call
// after it would otherwise queue for ever.
func TestBatcherFreesItsSlotAfterAPanic(t *testing.T) {
	t.Parallel()
	runs := 0
	b := newBatcher(Config{GroupSize: 4, GroupsInFlight: 1}, nil, func(context.Context, []*groupCall) {
		runs++
		if runs == 1 {
			panic("bug")
		}
	})
	first := &failOp{}
	func() {
		defer func() {
			if r := recover(); r != "bug" {
				t.Errorf("recovered %v, want the run's panic to reach the leader", r)
			}
		}()
		_ = b.do(context.Background(), first)
	}()
	if first.err == nil {
		t.Error("the panicking group's member has no error")
	}
	if err := b.do(context.Background(), &failOp{}); err != nil || runs != 2 {
		t.Fatalf("the next call: err %v after %d runs, want it run as a group of its own", err, runs)
	}
	if b.running != 0 || len(b.queue) != 0 {
		t.Errorf("running %d, queued %d after both calls, want 0 and 0", b.running, len(b.queue))
	}
}
