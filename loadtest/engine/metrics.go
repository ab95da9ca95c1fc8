package engine

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
)

// Metrics are the harness's own Prometheus series while it runs, for the
// load-test dashboard: the target beside the achieved rate, latency by
// endpoint and phase, errors, the phase each scenario is in, and the
// generator's CPU.
type Metrics struct {
	TargetRate *prometheus.GaugeVec
	Requests   *prometheus.CounterVec
	Duration   *prometheus.HistogramVec
	Phase      *prometheus.GaugeVec
	CPU        prometheus.Gauge
	Threshold  *prometheus.GaugeVec
	Iterations *prometheus.CounterVec
	Drops      *prometheus.CounterVec
	Faults     *prometheus.GaugeVec

	pacers map[string]vegeta.Pacer
	cpu    cpuClock
	began  time.Time
	// obs caches the children of the vectors per sample tags: a label
	// lookup per request would cost more than the request's recording.
	obs map[obsKey]obsChildren
}

type obsKey struct {
	scenario, endpoint, phase string
	status                    int
}

type obsChildren struct {
	reqs prometheus.Counter
	dur  prometheus.Observer
}

// NewMetrics registers the harness's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		TargetRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: record.SeriesTargetRate,
			Help: "Iterations per second the open-model schedule calls for now, by scenario.",
		}, []string{"scenario"}),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: record.SeriesRequests,
			Help: "Requests the load generator completed, by scenario, endpoint, phase and status (0: no response).",
		}, []string{"scenario", "endpoint", "phase", "status"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    record.SeriesRequestDuration,
			Help:    "Request latency, a journey's first request timed from its scheduled start (coordinated omission corrected), by scenario, endpoint and phase.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"scenario", "endpoint", "phase"}),
		Phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: record.SeriesPhase,
			Help: "1 for the phase each scenario is in now, 0 for the others.",
		}, []string{"scenario", "phase"}),
		CPU: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: record.SeriesGeneratorCPU,
			Help: "CPU of the harness process as a share of all cores since the run began.",
		}),
		Threshold: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: record.SeriesThresholdBound,
			Help: "The bound of each threshold of the scenario file, in its metric's unit (seconds for durations).",
		}, []string{"metric", "expression"}),
		Iterations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: record.SeriesIterations,
			Help: "Iterations started, by scenario: the achieved rate beside taskready_load_target_rate.",
		}, []string{"scenario"}),
		Drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: record.SeriesDroppedIterations,
			Help: "Open-model iterations that were due but found no free VU, by scenario.",
		}, []string{"scenario"}),
		Faults: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: record.SeriesFaultActive,
			Help: "1 while a fault of the scenario is active (between its action and its undo), 0 otherwise.",
		}, []string{"fault", "target", "action"}),
		obs: map[obsKey]obsChildren{},
	}
	reg.MustRegister(m.TargetRate, m.Requests, m.Duration, m.Phase, m.CPU, m.Threshold, m.Iterations, m.Drops, m.Faults)
	return m
}

// start resets the clocks and states the scenarios' thresholds and
// phases.
func (m *Metrics) start(f *scenario.File, plans []executor.Schedule) {
	m.began, m.cpu = time.Now(), startCPU()
	m.pacers = map[string]vegeta.Pacer{}
	for _, sched := range plans {
		s := sched.Scenario()
		if paced, ok := sched.(executor.Paced); ok {
			if p, err := paced.Pacer(); err == nil {
				m.pacers[s.Name] = p
			}
		}
		for _, p := range phases(sched) {
			m.Phase.WithLabelValues(s.Name, p).Set(0)
		}
		// Present from the start, so rate() sees the first ones.
		m.Iterations.WithLabelValues(s.Name)
		if s.Executor.Open() {
			m.Drops.WithLabelValues(s.Name)
		}
	}
	for _, t := range f.Thresholds {
		bound := t.Expr.Value
		switch t.Selector.Metric {
		case record.MetricDuration, record.MetricDurationUncorrected, record.MetricIterationDuration:
			bound /= 1000 // ms in the expression, seconds in Prometheus
		}
		m.Threshold.WithLabelValues(t.Selector.String(), t.Source).Set(bound)
	}
}

func (m *Metrics) observe(s record.Sample) {
	k := obsKey{s.Scenario, s.Endpoint, s.Phase, s.Status}
	c, ok := m.obs[k]
	if !ok {
		c = obsChildren{
			reqs: m.Requests.WithLabelValues(s.Scenario, s.Endpoint, s.Phase, strconv.Itoa(s.Status)),
			dur:  m.Duration.WithLabelValues(s.Scenario, s.Endpoint, s.Phase),
		}
		m.obs[k] = c
	}
	c.reqs.Inc()
	c.dur.Observe(s.CorrectedLatency().Seconds())
}

// Started counts an iteration (executor.Events, through the run's tally).
func (m *Metrics) Started(scenario string) { m.Iterations.WithLabelValues(scenario).Inc() }

// Dropped counts a dropped iteration (executor.Events, through the run's tally).
func (m *Metrics) Dropped(scenario string) { m.Drops.WithLabelValues(scenario).Inc() }

// tick publishes the schedules' state at elapsed.
func (m *Metrics) tick(plans []executor.Schedule, elapsed time.Duration) {
	for _, sched := range plans {
		s := sched.Scenario()
		own := elapsed - s.StartTime
		if p, ok := m.pacers[s.Name]; ok {
			rate := 0.0
			if own >= 0 && own < sched.Length() {
				rate = p.Rate(own)
			}
			m.TargetRate.WithLabelValues(s.Name).Set(rate)
		}
		now := sched.Phase(own)
		for _, p := range phases(sched) {
			v := 0.0
			if p == now {
				v = 1
			}
			m.Phase.WithLabelValues(s.Name, p).Set(v)
		}
	}
	m.CPU.Set(m.cpu.share(time.Since(m.began)))
}

// phases lists the phase names of a schedule, in order, once each.
func phases(sched executor.Schedule) []string {
	var out []string
	seen := map[string]bool{}
	for _, sp := range sched.Spans() {
		if !seen[sp.Phase] {
			seen[sp.Phase] = true
			out = append(out, sp.Phase)
		}
	}
	return out
}

// finish zeroes the target rates and phases: the run is over, and a
// dashboard must not show it still in its last phase.
func (m *Metrics) finish(plans []executor.Schedule) {
	for _, sched := range plans {
		name := sched.Scenario().Name
		if _, ok := m.pacers[name]; ok {
			m.TargetRate.WithLabelValues(name).Set(0)
		}
		for _, p := range phases(sched) {
			m.Phase.WithLabelValues(name, p).Set(0)
		}
	}
}

// fault sets whether ft is active.
func (m *Metrics) fault(ft scenario.Fault, active bool) {
	v := 0.0
	if active {
		v = 1
	}
	m.Faults.WithLabelValues(ft.Name, ft.Target, ft.Action).Set(v)
}
