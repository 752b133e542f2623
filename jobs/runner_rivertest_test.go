package jobs_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
)

// runWorker works one job of args with w through rivertest, in a
// transaction rolled back when the test ends. Work the worker does in
// transactions of its own (the reaper's) commits as usual.
func runWorker[T river.JobArgs](tb testing.TB, pool *pgxpool.Pool, w river.Worker[T], args T, mw ...rivertype.Middleware) outcome {
	tb.Helper()
	cfg := &river.Config{Logger: discard, Middleware: mw, SkipUnknownJobCheck: true}
	tw := rivertest.NewWorker(tb, riverpgxv5.New(pool), cfg, w)
	tx, err := pool.Begin(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	res, err := tw.Work(context.Background(), tb, tx, args, nil)
	if res == nil {
		tb.Fatalf("rivertest: %v", err)
	}
	o := outcome{
		Completed: res.EventKind == river.EventKindJobCompleted,
		Retried:   res.EventKind == river.EventKindJobFailed && (res.Job.State == rivertype.JobStateRetryable || res.Job.State == rivertype.JobStateAvailable),
		State:     res.Job.State,
	}
	if err != nil {
		o.Err = err.Error()
	}
	return o
}
