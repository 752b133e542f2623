package jobs

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// KindHealth counts one kind's jobs that are waiting, retrying after an
// error, or given up on.
type KindHealth struct {
	Kind string
	// Queued are available or scheduled to run.
	Queued int
	// Retrying failed at least once and wait for their next attempt.
	Retrying int
	// Discarded ran out of attempts; River keeps them for a while (7 days by
	// default) for people to look at.
	Discarded int
}

// Health is the state of the job queue, by kind.
type Health struct {
	Kinds []KindHealth
	// Capped says a state had more than HealthLimit jobs: its counts stop
	// there.
	Capped bool
}

// HealthLimit is how many jobs of each state Health reads at most.
const HealthLimit = 2000

// ReadHealth counts the queue's jobs by kind and state through River's own
// API (JobList), reading at most HealthLimit jobs of each state. Kinds are
// in name order.
func ReadHealth(ctx context.Context, client *river.Client[pgx.Tx]) (*Health, error) {
	byKind := map[string]*KindHealth{}
	h := &Health{}
	for _, group := range []struct {
		states []rivertype.JobState
		count  func(*KindHealth)
	}{
		{[]rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateScheduled}, func(k *KindHealth) { k.Queued++ }},
		{[]rivertype.JobState{rivertype.JobStateRetryable}, func(k *KindHealth) { k.Retrying++ }},
		{[]rivertype.JobState{rivertype.JobStateDiscarded}, func(k *KindHealth) { k.Discarded++ }},
	} {
		res, err := client.JobList(ctx, river.NewJobListParams().States(group.states...).First(HealthLimit))
		if err != nil {
			return nil, fmt.Errorf("list %v jobs: %w", group.states, err)
		}
		if len(res.Jobs) == HealthLimit {
			h.Capped = true
		}
		for _, j := range res.Jobs {
			k := byKind[j.Kind]
			if k == nil {
				k = &KindHealth{Kind: j.Kind}
				byKind[j.Kind] = k
			}
			group.count(k)
		}
	}
	for _, k := range byKind {
		h.Kinds = append(h.Kinds, *k)
	}
	sort.Slice(h.Kinds, func(i, j int) bool { return h.Kinds[i].Kind < h.Kinds[j].Kind })
	return h, nil
}
