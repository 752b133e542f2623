package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/checkoutd/checkoutd/inventory"
)

// ReapArgs asks for every lapsed hold to be expired. The reaper runs as a
// periodic job (every REAPER_INTERVAL, and once on start); River's leader
// enqueues it and its uniqueness keeps one run at a time across replicas.
type ReapArgs struct{}

// Kind identifies the job.
func (ReapArgs) Kind() string { return "reap_holds" }

// InsertOpts keeps a second reap from queueing while one is waiting or
// running, within one singleton window (see singletonOpts).
func (ReapArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: singletonOpts()}
}

// singletonWindow is the period over which a periodic job is unique.
//
// River counts a running job as a duplicate and requires it to (ByState must
// hold running), so a job a killed process left running would block its
// kind until River rescues it, after RescueAfter. Unique within a window
// instead, such an orphan blocks at most the rest of its window: the first
// periodic run after it goes ahead. Runs that overlap then are safe, as
// the reaper and the low-stock check take their rows with SKIP LOCKED.
//
// The window must not be longer than River's leadership handover (a
// crashed leader's lease is 15 s), so that it adds nothing to how long
// reaping can stop after a crash.
const singletonWindow = 10 * time.Second

// singletonOpts makes a job unique among those waiting or running within
// the singletonWindow. A job waiting to be retried does not count: a failed
// run must not stop the work for the length of its backoff.
func singletonOpts() river.UniqueOpts {
	return river.UniqueOpts{ByPeriod: singletonWindow, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}
}

const (
	// reapBatch is how many holds one transaction expires.
	reapBatch = 1000
	// reapBudget is how long one run of a reap job keeps reaping before it
	// hands the rest to its next run, well within the job timeout.
	reapBudget = 10 * time.Second
)

// ReapWorker expires lapsed holds in batches until none are due. A hold
// bound to a Stripe session is not released when it lapses, since its
// customer may still be paying: it becomes expiring, and the reaper
// enqueues, in the same transaction, a job to expire the session, which
// gives the stock back once Stripe can no longer take payment.
type ReapWorker struct {
	river.WorkerDefaults[ReapArgs]
	db     *pgxpool.Pool
	ledger *inventory.Ledger
	budget time.Duration
}

// NewReapWorker returns the reaper.
func NewReapWorker(db *pgxpool.Pool, ledger *inventory.Ledger) *ReapWorker {
	return &ReapWorker{db: db, ledger: ledger, budget: reapBudget}
}

// Work reaps until fewer than a batch were due. A backlog that outlasts the
// run's budget (100,000 holds lapsing at once) is left to the job's next
// run, at once: the job snoozes rather than outlive its timeout.
func (w *ReapWorker) Work(ctx context.Context, job *river.Job[ReapArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	now := time.Now()
	deadline := now.Add(w.budget)
	for {
		var (
			expired []inventory.ExpiredHold
			ledger  *inventory.Ledger
		)
		err := pgx.BeginFunc(ctx, w.db, func(tx pgx.Tx) error {
			var err error
			ledger = w.ledger.WithTx(tx)
			if expired, err = ledger.ExpireDue(ctx, now, reapBatch); err != nil {
				return err
			}
			var expire []river.InsertManyParams
			for _, e := range expired {
				if e.Expiring && e.CheckoutSessionID != nil {
					expire = append(expire, river.InsertManyParams{Args: ExpireSessionArgs{
						ShopID: e.ShopID, HoldID: e.HoldID, SessionID: *e.CheckoutSessionID,
					}})
				}
			}
			if len(expire) > 0 {
				if _, err := client.InsertManyTx(ctx, tx, expire); err != nil {
					return fmt.Errorf("enqueue session expiry: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reap holds: %w", err)
		}
		ledger.Committed()
		switch {
		case len(expired) < reapBatch:
			return nil
		case time.Now().After(deadline):
			return river.JobSnooze(0)
		}
	}
}
