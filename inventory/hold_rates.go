package inventory

import (
	"context"
	"time"

	"github.com/checkoutd/checkoutd/inventory/internal/db"
)

// HoldOutcomes counts what became of a shop's holds in one bucket of time,
// by the movement ledger: holds placed in it, and holds committed, expired
// and released (closed otherwise) in it.
type HoldOutcomes struct {
	// Start is the bucket's start (UTC); it lasts the bucket size asked for.
	Start     time.Time
	Placed    int64
	Committed int64
	Expired   int64
	Released  int64
}

// Closed is how many holds closed in the bucket, however they closed.
func (o HoldOutcomes) Closed() int64 { return o.Committed + o.Expired + o.Released }

// maxBuckets bounds HoldOutcomesSince's answer.
const maxBuckets = 500

// HoldOutcomesSince returns the shop's hold outcomes in consecutive buckets
// of the given size, from the bucket that holds since up to now, oldest
// first, empty buckets included: the commit rate and expiry rate an
// operator tunes the hold TTL by (a high expiry rate: checkouts take longer
// than the TTL, or are abandoned).
func (l *Ledger) HoldOutcomesSince(ctx context.Context, shopID string, since time.Time, bucket time.Duration) ([]HoldOutcomes, error) {
	var c checker
	c.shopID("shopId", shopID)
	if bucket < time.Second || bucket%time.Second != 0 {
		c.add("bucket", "must be a whole number of seconds")
	}
	now := time.Now().UTC()
	if bucket >= time.Second && (since.After(now) || now.Sub(since)/bucket >= maxBuckets) {
		c.add("since", "must be in the past, at most %d buckets ago", maxBuckets)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	since = since.UTC()
	rows, err := l.queries.HoldOutcomes(ctx, l.db, db.HoldOutcomesParams{ShopID: shopID, Since: since, BucketSeconds: int32(bucket / time.Second)})
	if err != nil {
		return nil, l.dbError("count hold outcomes", err)
	}
	n := int(now.Sub(since)/bucket) + 1
	out := make([]HoldOutcomes, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * bucket)
	}
	for _, r := range rows {
		i := int(r.Bucket.Sub(since) / bucket)
		if i < 0 || i >= n {
			// The database's clock is ahead of ours: the movement belongs
			// to a bucket we do not show yet.
			continue
		}
		out[i].Placed, out[i].Committed, out[i].Expired, out[i].Released = r.Placed, r.Committed, r.Expired, r.Released
	}
	return out, nil
}
