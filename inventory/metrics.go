package inventory

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts what happens to holds. The commit rate is
// holds_committed_total / holds_created_total and the expiry rate
// holds_expired_total / holds_created_total, the two numbers that tell
// whether the hold TTL suits a shop's checkouts.
type Metrics struct {
	created      prometheus.Counter
	committed    prometheus.Counter
	released     prometheus.Counter
	expired      prometheus.Counter
	insufficient prometheus.Counter
}

// NewMetrics registers the ledger's counters with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "checkoutd", Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	return &Metrics{
		created:      counter("holds_created_total", "Holds placed."),
		committed:    counter("holds_committed_total", "Holds committed (sold)."),
		released:     counter("holds_released_total", "Holds released before they expired."),
		expired:      counter("holds_expired_total", "Holds that expired, by the reaper or on the way of a request."),
		insufficient: counter("insufficient_stock_rejections_total", "Hold requests refused for want of stock."),
	}
}

// The methods are no-ops on a nil *Metrics, so a Ledger without metrics
// needs no special cases.

func (m *Metrics) holdCreated() {
	if m != nil {
		m.created.Inc()
	}
}

func (m *Metrics) holdCommitted() {
	if m != nil {
		m.committed.Inc()
	}
}

func (m *Metrics) holdReleased() {
	if m != nil {
		m.released.Inc()
	}
}

func (m *Metrics) holdsExpired(n int) {
	if m != nil {
		m.expired.Add(float64(n))
	}
}

func (m *Metrics) insufficientStock() {
	if m != nil {
		m.insufficient.Inc()
	}
}
