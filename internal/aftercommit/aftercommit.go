// Package aftercommit holds back the metrics and logs of work done in a
// transaction until the transaction commits, so that nothing is counted or
// logged about a change that rolled back.
package aftercommit

import (
	"context"
	"log/slog"
)

// Queue is what a transaction has to report once it commits. The zero value
// is empty and ready. Like the transaction it belongs to, a Queue is for one
// goroutine at a time.
type Queue struct {
	fns []func()
}

// Add holds fn back until Flush.
func (q *Queue) Add(fn func()) {
	q.fns = append(q.fns, fn)
}

// Flush runs what was held back, in the order it was added, and empties the
// queue. Call it once the transaction has committed; if it rolled back,
// drop the queue instead.
func (q *Queue) Flush() {
	fns := q.fns
	q.fns = nil
	for _, fn := range fns {
		fn()
	}
}

// Logger returns a logger whose records wait in q and go to log's handler on
// Flush, keeping the time they were made. Records log would drop (below its
// level) are dropped at once.
func Logger(log *slog.Logger, q *Queue) *slog.Logger {
	return slog.New(&handler{next: log.Handler(), q: q})
}

// handler is the slog.Handler of a Logger.
type handler struct {
	next slog.Handler
	q    *Queue
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	next := h.next
	// A record held back cannot report a failure to write it; the default
	// handlers fail only when their writer does, and then there is nowhere
	// else to say so either.
	h.q.Add(func() { _ = next.Handle(context.WithoutCancel(ctx), r) })
	return nil
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{next: h.next.WithAttrs(attrs), q: h.q}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), q: h.q}
}
