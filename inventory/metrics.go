package inventory

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/checkoutd/checkoutd/internal/aftercommit"
)

// Metrics counts what happens to holds. The commit rate is
// holds_committed_total / holds_created_total and the expiry rate
// holds_expired_total / holds_created_total, the two numbers that tell
// whether the hold TTL suits a shop's checkouts.
type Metrics struct {
	counters [numCounters]prometheus.Counter
	// held is set on the Metrics of a Ledger bound to a transaction: counts
	// wait in it until the transaction commits, then go to next.
	held *aftercommit.Queue
	next *Metrics
}

// counter names one of the Metrics' counters.
type counter int

const (
	holdsCreated counter = iota
	holdsCommitted
	holdsReleased
	holdsExpired
	insufficientStock
	numCounters
)

// NewMetrics registers the ledger's counters with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{}
	for c, def := range [numCounters][2]string{
		holdsCreated:      {"holds_created_total", "Holds placed."},
		holdsCommitted:    {"holds_committed_total", "Holds committed (sold)."},
		holdsReleased:     {"holds_released_total", "Holds released before they expired."},
		holdsExpired:      {"holds_expired_total", "Holds that expired, by the reaper or on the way of a request."},
		insufficientStock: {"insufficient_stock_rejections_total", "Hold requests refused for want of stock."},
	} {
		m.counters[c] = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "checkoutd", Name: def[0], Help: def[1]})
		reg.MustRegister(m.counters[c])
	}
	return m
}

// heldIn returns Metrics whose counts wait in q and then go to m.
func (m *Metrics) heldIn(q *aftercommit.Queue) *Metrics {
	if m == nil {
		return nil
	}
	return &Metrics{held: q, next: m}
}

// add counts n. It is a no-op on a nil *Metrics, so a Ledger without
// metrics needs no special cases.
func (m *Metrics) add(c counter, n int) {
	switch {
	case m == nil || n == 0:
	case m.held != nil:
		m.held.Add(func() { m.next.add(c, n) })
	default:
		m.counters[c].Add(float64(n))
	}
}

func (m *Metrics) holdCreated()       { m.add(holdsCreated, 1) }
func (m *Metrics) holdCommitted()     { m.add(holdsCommitted, 1) }
func (m *Metrics) holdReleased()      { m.add(holdsReleased, 1) }
func (m *Metrics) holdsExpired(n int) { m.add(holdsExpired, n) }
func (m *Metrics) insufficientStock() { m.add(insufficientStock, 1) }
