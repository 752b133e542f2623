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

type overviewData struct {
	Holds         *inventory.HoldsInFlight
	Window        time.Duration
	LowStock      int64
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
	d := overviewData{Holds: holds, Window: expiringWindow}
	if d.LowStock, err = c.ledger.CountLowStock(ctx, shop); err != nil {
		c.fail(w, r, err)
		return
	}
	now := time.Now().UTC()
	hour, err := c.ledger.HoldOutcomesSince(ctx, shop, now.Truncate(5*time.Minute).Add(-55*time.Minute), 5*time.Minute)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Hour = newChart("chart-hour", "Holds closed in the last hour, per 5 minutes", hour, 3, "15:04")
	day, err := c.ledger.HoldOutcomesSince(ctx, shop, now.Truncate(time.Hour).Add(-23*time.Hour), time.Hour)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Day = newChart("chart-day", "Holds closed in the last day, per hour", day, 6, "15:04")
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
