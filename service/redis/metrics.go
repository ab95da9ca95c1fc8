package redis

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
)

// poolCollector mirrors go-redis pool statistics into Prometheus at scrape
// time, as client_golang's DBStatsCollector does for database/sql.
type poolCollector struct {
	c *Client

	hits, misses, timeouts, total, idle, stale, available *prometheus.Desc
}

// Collector returns a collector of the client's pool and command
// metrics, named taskapi_redis_*.
func (c *Client) Collector() prometheus.Collector {
	return collectors{c.poolCollector(), c.commands.duration, c.commands.total}
}

func (c *Client) poolCollector() prometheus.Collector {
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

// collectors is several collectors as one.
type collectors []prometheus.Collector

// Describe implements prometheus.Collector.
func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}

// commandNames bounds the "command" label: the commands the API sends,
// anything else is "other".
var commandNames = map[string]bool{"get": true, "set": true, "del": true, "evalsha": true, "eval": true, "script": true, "ping": true}

// commandMetrics is a go-redis hook timing every command, as the MongoDB
// command monitor does for the driver.
type commandMetrics struct {
	duration *prometheus.HistogramVec
	total    *prometheus.CounterVec
}

func newCommandMetrics() *commandMetrics {
	m := &commandMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "taskapi_redis_command_duration_seconds", Help: "Redis command round-trip time by command.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"command"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_redis_commands_total", Help: "Redis commands by command and outcome (ok, nil, error).",
		}, []string{"command", "outcome"}),
	}
	// Present from the start at 0, so rates exist before the first one.
	for name := range commandNames {
		m.duration.WithLabelValues(name)
		for _, o := range []string{"ok", "nil", "error"} {
			m.total.WithLabelValues(name, o)
		}
	}
	return m
}

// DialHook implements goredis.Hook.
func (m *commandMetrics) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

// ProcessHook implements goredis.Hook.
func (m *commandMetrics) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		m.observe(cmd.Name(), time.Since(start), err)
		return err
	}
}

// ProcessPipelineHook implements goredis.Hook.
func (m *commandMetrics) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			m.observe(cmd.Name(), time.Since(start), cmd.Err())
		}
		return err
	}
}

func (m *commandMetrics) observe(name string, d time.Duration, err error) {
	name = strings.ToLower(name)
	if !commandNames[name] {
		name = "other"
	}
	outcome := "ok"
	switch {
	case errors.Is(err, goredis.Nil):
		outcome = "nil"
	case err != nil:
		outcome = "error"
	}
	m.duration.WithLabelValues(name).Observe(d.Seconds())
	m.total.WithLabelValues(name, outcome).Inc()
}
