package console

import (
	"context"
	"sync"
	"time"

	"github.com/checkoutd/checkoutd/inventory"
)

// outcomesTTL is how long a shop's hold outcomes are reused. Reading them
// reads a day of the shop's ledger (100,000 movements take tens to hundreds
// of milliseconds); the charts they draw have 5-minute bars, so a minute
// old is fresh enough, and every replica keeping its own copy costs one
// read per replica and minute.
const outcomesTTL = time.Minute

// maxCachedShops bounds the cache; past it, it starts again empty.
const maxCachedShops = 1000

// outcomesCache keeps recent hold outcomes per shop, in this process only.
type outcomesCache struct {
	mu      sync.Mutex
	entries map[string]cachedOutcomes
}

type cachedOutcomes struct {
	since    time.Time
	read     time.Time
	outcomes []inventory.HoldOutcomes
}

// get returns the shop's outcomes in 5-minute buckets from since, reading
// the ledger when what it has is older than outcomesTTL or starts
// elsewhere.
func (c *outcomesCache) get(ctx context.Context, ledger *inventory.Ledger, shopID string, since time.Time) ([]inventory.HoldOutcomes, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[shopID]
	c.mu.Unlock()
	if ok && e.since.Equal(since) && now.Sub(e.read) < outcomesTTL {
		return e.outcomes, nil
	}
	outcomes, err := ledger.HoldOutcomesSince(ctx, shopID, since, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCachedShops {
		c.entries = make(map[string]cachedOutcomes)
	}
	c.entries[shopID] = cachedOutcomes{since: since, read: now, outcomes: outcomes}
	c.mu.Unlock()
	return outcomes, nil
}
