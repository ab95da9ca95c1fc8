package mongo

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/event"
)

// Monitor turns the driver's pool and command events into Prometheus
// metrics. Register it once; pass it to Connect.
type Monitor struct {
	poolOpen     prometheus.Gauge
	poolInUse    prometheus.Gauge
	checkoutWait prometheus.Histogram
	checkoutFail *prometheus.CounterVec
	poolCleared  prometheus.Counter
	commands     *prometheus.CounterVec
	duration     *prometheus.HistogramVec

	guard atomic.Pointer[Guard] // told of topology changes once set
}

var _ prometheus.Collector = (*Monitor)(nil)

// commandNames bounds the "command" label: anything else is "other".
var commandNames = map[string]bool{
	"find": true, "insert": true, "update": true, "delete": true, "findAndModify": true,
	"aggregate": true, "count": true, "getMore": true, "createIndexes": true, "listIndexes": true,
	"ping": true, "hello": true, "isMaster": true, "endSessions": true, "explain": true,
}

// NewMonitor returns a monitor whose metrics are named taskapi_mongo_*.
func NewMonitor() *Monitor {
	const ns, sub = "taskapi", "mongo"
	m := &Monitor{
		poolOpen: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "pool_connections_open", Help: "Connections the MongoDB pool holds open."}),
		poolInUse: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "pool_connections_in_use", Help: "Connections checked out of the MongoDB pool."}),
		checkoutWait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "pool_checkout_seconds", Help: "Time to check a connection out of the MongoDB pool.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5}}),
		checkoutFail: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "pool_checkout_failures_total", Help: "Failed checkouts from the MongoDB pool by reason."}, []string{"reason"}),
		poolCleared: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "pool_cleared_total", Help: "Times the MongoDB pool was cleared after a server error."}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "commands_total", Help: "MongoDB commands by name and outcome."}, []string{"command", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "command_duration_seconds", Help: "MongoDB command round-trip time by name.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"command"}),
	}
	for _, r := range checkoutReasons {
		m.checkoutFail.WithLabelValues(r)
	}
	return m
}

// checkoutReasons are the driver's reasons for a failed checkout. Their
// series exist from the start at 0, so that an alert's rate() sees the
// first pool timeout: a counter born at 1 has no increase to show.
var checkoutReasons = []string{event.ReasonTimedOut, event.ReasonConnectionErrored, event.ReasonPoolClosed}

func (m *Monitor) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.poolOpen, m.poolInUse, m.checkoutWait, m.checkoutFail, m.poolCleared, m.commands, m.duration}
}

// Describe implements prometheus.Collector.
func (m *Monitor) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Monitor) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *Monitor) poolMonitor() *event.PoolMonitor {
	return &event.PoolMonitor{Event: func(e *event.PoolEvent) {
		switch e.Type {
		case event.ConnectionCreated:
			m.poolOpen.Inc()
		case event.ConnectionClosed:
			m.poolOpen.Dec()
		case event.ConnectionCheckedOut:
			m.poolInUse.Inc()
			m.checkoutWait.Observe(e.Duration.Seconds())
		case event.ConnectionCheckedIn:
			m.poolInUse.Dec()
		case event.ConnectionCheckOutFailed:
			m.checkoutFail.WithLabelValues(e.Reason).Inc()
		case event.ConnectionPoolCleared:
			m.poolCleared.Inc()
		}
	}}
}

func (m *Monitor) commandMonitor() *event.CommandMonitor {
	finished := func(e event.CommandFinishedEvent, outcome string) {
		name := e.CommandName
		if !commandNames[name] {
			name = "other"
		}
		m.commands.WithLabelValues(name, outcome).Inc()
		m.duration.WithLabelValues(name).Observe(e.Duration.Seconds())
	}
	return &event.CommandMonitor{
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { finished(e.CommandFinishedEvent, "ok") },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { finished(e.CommandFinishedEvent, "error") },
	}
}

// Watch makes the driver's topology changes trip and reset g: a lost
// primary is known from the heartbeats before a request has to find out.
func (m *Monitor) Watch(g *Guard) { m.guard.Store(g) }

func (m *Monitor) serverMonitor() *event.ServerMonitor {
	return &event.ServerMonitor{TopologyDescriptionChanged: func(e *event.TopologyDescriptionChangedEvent) {
		if g := m.guard.Load(); g != nil {
			g.watch(e)
		}
	}}
}
