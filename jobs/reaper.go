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
// running. A reap waiting to be retried does not count: a failed run must
// not stop reaping for the length of its backoff.
func (ReapArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

// reapBatch is how many holds one transaction expires.
const reapBatch = 1000

// ReapWorker expires lapsed holds in batches until none are due. For each
// expired hold with a Stripe session it enqueues, in the same transaction, a
// job to expire the session, so nobody pays for stock that was released.
type ReapWorker struct {
	river.WorkerDefaults[ReapArgs]
	db     *pgxpool.Pool
	ledger *inventory.Ledger
}

// NewReapWorker returns the reaper.
func NewReapWorker(db *pgxpool.Pool, ledger *inventory.Ledger) *ReapWorker {
	return &ReapWorker{db: db, ledger: ledger}
}

// Work reaps until fewer than a batch were due.
func (w *ReapWorker) Work(ctx context.Context, job *river.Job[ReapArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	now := time.Now()
	for {
		var expired []inventory.ExpiredHold
		err := pgx.BeginFunc(ctx, w.db, func(tx pgx.Tx) error {
			var err error
			if expired, err = w.ledger.WithTx(tx).ExpireDue(ctx, now, reapBatch); err != nil {
				return err
			}
			var expire []river.InsertManyParams
			for _, e := range expired {
				if e.CheckoutSessionID != nil {
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
		w.ledger.RecordExpired(ctx, expired)
		if len(expired) < reapBatch {
			return nil
		}
	}
}
