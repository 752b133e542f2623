package inventory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Defaults of the Config fields that tune grouping.
const (
	// DefaultGroupSize is how many operations one group transaction carries
	// at most when Config.GroupSize is 0.
	DefaultGroupSize = 64
	// DefaultGroupsInFlight is how many group transactions run at once when
	// Config.GroupsInFlight is 0.
	DefaultGroupsInFlight = 2
)

// batcher gathers holds, commits and releases that arrive while others are
// under way into groups that run as one transaction each, so that a hot
// stock row is locked, and the WAL flushed, once per group instead of once
// per operation. It is the leader/follower pattern: an operation that finds
// fewer than inFlight groups running leads a group at once, made of itself
// and whatever queued before it; an operation that finds them all busy
// queues, and the first operation in the queue leads the next group as soon
// as a group finishes, taking the whole queue with it. A lone operation
// therefore never waits for company: it runs at once as a group of one.
type batcher struct {
	maxSize  int
	inFlight int
	// window, when positive, is how long a leader with room in its group
	// waits for more operations before it runs.
	window time.Duration
	// sender runs a group's statements (the pool); run runs a group.
	sender groupSender
	run    func(ctx context.Context, group []*groupCall)

	mu      sync.Mutex
	queue   []*groupCall
	running int
	// observe, when set (by tests), hears of every group before it runs.
	observe func(groupRun)
}

// groupRun describes one group as it starts, for tests.
type groupRun struct {
	// Size is how many operations the group carries.
	Size int
	// LeaderQueued tells whether the operation that leads the group had to
	// queue, i.e. found every group slot busy when it arrived.
	LeaderQueued bool
	// Holds is how many of the operations are holds; with two or more the
	// group works them out together (runPlaced).
	Holds int
}

// groupCall is one operation waiting for, or running in, a group.
type groupCall struct {
	// ctx is the caller's, for running op on its own.
	ctx context.Context
	op  groupOp
	// lead receives the group this call is to lead, when it is first in the
	// queue as a group finishes; done is closed once the call's group has
	// run. Both are made only when the call queues.
	lead chan []*groupCall
	done chan struct{}
	// queued tells whether the call waited in the queue; taken, guarded by
	// batcher.mu, that a group took it out of the queue.
	queued, taken bool
}

func newBatcher(cfg Config, sender groupSender, run func(context.Context, []*groupCall)) *batcher {
	b := &batcher{maxSize: cfg.GroupSize, inFlight: cfg.GroupsInFlight, window: cfg.GroupWindow, sender: sender, run: run}
	if b.maxSize <= 0 {
		b.maxSize = DefaultGroupSize
	}
	if b.inFlight <= 0 {
		b.inFlight = DefaultGroupsInFlight
	}
	return b
}

// do runs op in a group and returns once the group has run. It returns
// early only with ctx's error, when ctx ends while op is still queued; op
// has then not run at all.
func (b *batcher) do(ctx context.Context, op groupOp) error {
	c := &groupCall{ctx: ctx, op: op}
	b.mu.Lock()
	if b.running < b.inFlight {
		b.running++
		c.taken = true
		b.mu.Unlock()
		b.lead(ctx, []*groupCall{c})
		return nil
	}
	// Only a call that queues is handed a group or told it has run.
	c.lead, c.done = make(chan []*groupCall, 1), make(chan struct{})
	c.queued = true
	b.queue = append(b.queue, c)
	b.mu.Unlock()

	select {
	case <-c.done:
		return nil
	case group := <-c.lead:
		b.lead(ctx, group)
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !c.taken {
		b.queue = slices.DeleteFunc(b.queue, func(q *groupCall) bool { return q == c })
		b.mu.Unlock()
		return ctx.Err()
	}
	b.mu.Unlock()
	// A group has taken op already: it runs whatever the caller does now,
	// so wait for its outcome like a lone statement would.
	select {
	case <-c.done:
	case group := <-c.lead:
		b.lead(ctx, group)
	}
	return nil
}

// lead runs group, whose first call is the caller's, then hands the slot
// on (see handOn).
func (b *batcher) lead(ctx context.Context, group []*groupCall) {
	if b.window > 0 && len(group) < b.maxSize {
		time.Sleep(b.window)
		b.mu.Lock()
		group = append(group, b.takeLocked(b.maxSize-len(group))...)
		b.mu.Unlock()
	}
	if b.observe != nil {
		run := groupRun{Size: len(group), LeaderQueued: group[0].queued}
		for _, c := range group {
			if _, ok := c.op.(*reserveOp); ok {
				run.Holds++
			}
		}
		b.observe(run)
	}
	// A panic in the run (a bug) must still free the slot and the members,
	// or every later caller would queue behind it for ever: they fail, and
	// the panic goes on up the leader's stack.
	defer func() {
		if r := recover(); r != nil {
			for _, c := range group {
				c.op.fail(fmt.Errorf("run group of %d: panic: %v", len(group), r))
			}
			b.handOn(group)
			panic(r)
		}
	}()
	// The group is everyone's: one caller going away must not cancel the
	// others' work.
	b.run(context.WithoutCancel(ctx), group)
	b.handOn(group)
}

// handOn releases group's members, then hands the slot on: to the first
// queued call, with the queue as its group, or back.
func (b *batcher) handOn(group []*groupCall) {
	for _, c := range group {
		if c.queued {
			close(c.done)
		}
	}

	b.mu.Lock()
	next := b.takeLocked(b.maxSize)
	if len(next) == 0 {
		b.running--
	}
	b.mu.Unlock()
	if len(next) > 0 {
		next[0].lead <- next
	}
}

// takeLocked takes up to n calls off the front of the queue, oldest first.
func (b *batcher) takeLocked(n int) []*groupCall {
	n = min(n, len(b.queue))
	if n == 0 {
		return nil
	}
	taken := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	for _, c := range taken {
		c.taken = true
	}
	return taken
}
