package console

import (
	"net/http"
	"time"

	"github.com/checkoutd/checkoutd/alerts"
	"github.com/checkoutd/checkoutd/checkout"
	"github.com/checkoutd/checkoutd/inventory"
	"github.com/checkoutd/checkoutd/jobs"
)

// expiringWindow is what "expiring soon" means on the overview.
const expiringWindow = 5 * time.Minute

// lowStockCap is as far as the overview counts low-stock lines.
const lowStockCap = 100

type overviewData struct {
	Holds         *inventory.HoldsInFlight
	Window        time.Duration
	LowStock      int64
	LowStockCap   int64
	Hour, Day     chart
	Oversold      []checkout.OversoldOrder
	OversoldMore  bool
	Failing       []alerts.FailingDelivery
	Jobs          *jobs.Health
	JobsShown     bool
	JobsAvailable bool
}

// overview is the page an operator opens every morning: what is held and
// about to lapse, how holds end, what needs a person, and whether the jobs
// keep up.
func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	ctx, shop := r.Context(), shopOf(r)
	holds, err := c.ledger.HoldsInFlight(ctx, shop, expiringWindow, 20)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := overviewData{Holds: holds, Window: expiringWindow, LowStockCap: lowStockCap}
	if d.LowStock, err = c.ledger.CountLowStock(ctx, shop, lowStockCap); err != nil {
		c.fail(w, r, err)
		return
	}
	// One read of the ledger for both charts, reused for a minute: the day in 5-minute buckets,
	// of which the last twelve are the hour and every twelve an hour of the
	// day. Every movement of one event of a hold shares its transaction's
	// time, so a hold counted in a 5-minute bucket is counted once in its
	// hour too.
	now := time.Now().UTC()
	fine, err := c.outcomes.get(ctx, c.ledger, shop, now.Truncate(time.Hour).Add(-23*time.Hour))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Hour = newChart("chart-hour", "Holds closed in the last hour, per 5 minutes", fine[max(len(fine)-12, 0):], 3, "15:04")
	d.Day = newChart("chart-day", "Holds closed in the last day, per hour", rollUp(fine, 12), 6, "15:04")
	oversold, err := checkout.ListOversold(ctx, c.pool, shop, 50, "")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, o := range oversold.Items {
		if !o.RefundRequested {
			d.Oversold = append(d.Oversold, o)
		}
	}
	d.OversoldMore = oversold.NextCursor != nil
	if d.Failing, err = alerts.FailingDeliveries(ctx, c.pool, shop, 20); err != nil {
		c.fail(w, r, err)
		return
	}
	// The queue is the service's, shared by every shop: a shop key does
	// not see it.
	if sessionOf(r).Service {
		d.JobsShown = true
		if c.jobs != nil {
			d.JobsAvailable = true
			if d.Jobs, err = jobs.ReadHealth(ctx, c.jobs); err != nil {
				c.fail(w, r, err)
				return
			}
		}
	}
	c.render(w, r, http.StatusOK, "overview", "Overview", d)
}

// rollUp sums every n consecutive buckets into one, starting at the first.
func rollUp(fine []inventory.HoldOutcomes, n int) []inventory.HoldOutcomes {
	var out []inventory.HoldOutcomes
	for i, o := range fine {
		if i%n == 0 {
			out = append(out, inventory.HoldOutcomes{Start: o.Start})
		}
		last := &out[len(out)-1]
		last.Placed += o.Placed
		last.Committed += o.Committed
		last.Expired += o.Expired
		last.Released += o.Released
	}
	return out
}
