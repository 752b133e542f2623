package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

func outcomeOf(ev *river.Event) outcome {
	o := outcome{
		Completed: ev.Kind == river.EventKindJobCompleted,
		Retried:   ev.Kind == river.EventKindJobFailed && (ev.Job.State == rivertype.JobStateRetryable || ev.Job.State == rivertype.JobStateAvailable),
		State:     ev.Job.State,
	}
	if n := len(ev.Job.Errors); n > 0 {
		o.Err = ev.Job.Errors[n-1].Error
	}
	return o
}

// runOnPrivateClient inserts a job of args into a queue of its own and works
// it once with w on a River client that works only that queue, so it never
// touches other tests' jobs; jobs the worker enqueues go to their usual
// queue. It returns the job's completion or failure event.
func runOnPrivateClient[T river.JobArgs](ctx context.Context, pool *pgxpool.Pool, w river.Worker[T], args T, mw ...rivertype.Middleware) (*river.Event, error) {
	queue := "t_" + randomHex(8)
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:              discard,
		Queues:              map[string]river.QueueConfig{queue: {MaxWorkers: 1}},
		Workers:             workers,
		SkipUnknownJobCheck: true,
		Middleware:          mw,
		FetchCooldown:       20 * time.Millisecond,
		FetchPollInterval:   100 * time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("start client: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	}()
	// Unique per queue, so a reap job queued or running elsewhere does not
	// swallow this one.
	res, err := client.Insert(ctx, args, &river.InsertOpts{Queue: queue, UniqueOpts: river.UniqueOpts{ByQueue: true}})
	if err != nil {
		return nil, fmt.Errorf("insert %s: %w", args.Kind(), err)
	}
	timeout := time.After(60 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job.ID == res.Job.ID {
				return ev, nil
			}
		case <-timeout:
			return nil, fmt.Errorf("job %s %d not worked within a minute", args.Kind(), res.Job.ID)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
