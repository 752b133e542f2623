package database

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector exports a pool's statistics, read at scrape time.
type poolCollector struct {
	pool                                     *pgxpool.Pool
	total, idle, acquired, max               *prometheus.Desc
	acquireCount, acquireWait, emptyAcquires *prometheus.Desc
}

// RegisterPoolMetrics exports pool's statistics as checkoutd_db_pool_*.
func RegisterPoolMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("checkoutd_db_pool_"+name, help, nil, nil)
	}
	reg.MustRegister(&poolCollector{
		pool:          pool,
		total:         d("connections", "Open connections."),
		idle:          d("idle_connections", "Idle connections."),
		acquired:      d("acquired_connections", "Connections in use."),
		max:           d("max_connections", "The pool's connection limit."),
		acquireCount:  d("acquires_total", "Connections acquired from the pool."),
		acquireWait:   d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
		emptyAcquires: d("empty_acquires_total", "Acquires that had to wait because no connection was idle."),
	})
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.max, c.acquireCount, c.acquireWait, c.emptyAcquires} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquireCount, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.acquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
}
