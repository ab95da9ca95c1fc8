package redis

import "github.com/prometheus/client_golang/prometheus"

// poolCollector mirrors go-redis pool statistics into Prometheus at scrape
// time, as client_golang's DBStatsCollector does for database/sql.
type poolCollector struct {
	c *Client

	hits, misses, timeouts, total, idle, stale, available *prometheus.Desc
}

// Collector returns a collector of the client's pool metrics,
// named taskapi_redis_*.
func (c *Client) Collector() prometheus.Collector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("taskapi_redis_"+name, help, nil, nil)
	}
	return &poolCollector{
		c:         c,
		hits:      desc("pool_hits_total", "Times a free connection was found in the Redis pool."),
		misses:    desc("pool_misses_total", "Times no free connection was found in the Redis pool."),
		timeouts:  desc("pool_timeouts_total", "Times waiting for a Redis pool connection timed out."),
		total:     desc("pool_connections", "Connections in the Redis pool."),
		idle:      desc("pool_connections_idle", "Idle connections in the Redis pool."),
		stale:     desc("pool_stale_connections_total", "Stale connections removed from the Redis pool."),
		available: desc("available", "1 while the Redis circuit breaker is closed, 0 while it is open."),
	}
}

// Describe implements prometheus.Collector.
func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.hits, p.misses, p.timeouts, p.total, p.idle, p.stale, p.available} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.c.rdb.PoolStats()
	counter := func(d *prometheus.Desc, v uint32) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(p.hits, s.Hits)
	counter(p.misses, s.Misses)
	counter(p.timeouts, s.Timeouts)
	counter(p.stale, s.StaleConns)
	gauge(p.total, float64(s.TotalConns))
	gauge(p.idle, float64(s.IdleConns))
	avail := 0.0
	if p.c.Available() {
		avail = 1
	}
	gauge(p.available, avail)
}
