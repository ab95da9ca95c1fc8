// Package metrics defines the API's HTTP metrics and builds the registry
// every other collector joins.
//
// Labels are bounded by construction: the route is the template
// ("/api/tasks/:id", or "unmatched"), the status is a class ("2xx"), and
// the method comes from Fiber's fixed set, so no client can create series.
package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/taskready/taskready/internal/buildinfo"
)

// HTTP holds the RED metrics of the HTTP layer.
type HTTP struct {
	Requests *prometheus.CounterVec
	Duration *prometheus.HistogramVec
	InFlight prometheus.Gauge

	// Connections that ended before a request could be read: they are not
	// requests, so they stay out of the request metrics above.
	ConnTimeouts prometheus.Counter // idle or slow clients hitting the read timeout
	ConnAborts   prometheus.Counter // clients gone (reset) in the middle of a request
}

// DurationBuckets cover 1 ms to 10 s, dense where a healthy API answers.
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewHTTP returns unregistered HTTP metrics named taskapi_http_*.
func NewHTTP() *HTTP {
	labels := []string{"method", "route", "status_class"}
	return &HTTP{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_http_requests_total", Help: "HTTP requests by method, route template and status class.",
		}, labels),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "taskapi_http_request_duration_seconds", Help: "HTTP request latency by method, route template and status class.",
			Buckets: DurationBuckets,
		}, labels),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "taskapi_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
		ConnTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "taskapi_connection_timeouts_total", Help: "Connections closed because no complete request arrived within the read timeout (idle or slow clients).",
		}),
		ConnAborts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "taskapi_connection_aborts_total", Help: "Connections the client reset or closed in the middle of sending a request.",
		}),
	}
}

// Observe records one finished request.
func (h *HTTP) Observe(method, route string, status int, elapsed time.Duration) {
	class := StatusClass(status)
	h.Requests.WithLabelValues(method, route, class).Inc()
	h.Duration.WithLabelValues(method, route, class).Observe(elapsed.Seconds())
}

// StatusClass returns "2xx" for 200 to 299 and so on.
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return fmt.Sprintf("%dxx", status/100)
}

// Collectors returns the metrics for registration.
func (h *HTTP) Collectors() []prometheus.Collector {
	return []prometheus.Collector{h.Requests, h.Duration, h.InFlight, h.ConnTimeouts, h.ConnAborts}
}

// BuildInfoName is the gauge that names the API's build, by the
// Prometheus convention of a constant 1 with the build as labels: the
// readiness report reads the revision it judged from it, and dashboards
// join it to tell which build served a spike.
const BuildInfoName = "taskapi_build_info"

// BuildInfo is the taskapi_build_info gauge of build i; "unknown" stands
// for what the build did not record.
func BuildInfo(i buildinfo.Info) prometheus.Collector {
	or := func(s string) string {
		if s == "" {
			return buildinfo.Unknown
		}
		return s
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: BuildInfoName, Help: "A constant 1 labelled with the version, VCS revision and Go release of the running build.",
		ConstLabels: prometheus.Labels{"version": or(i.Version), "revision": or(i.Revision), "goversion": or(i.GoVersion)},
	}, func() float64 { return 1 })
}

// NewRegistry returns a registry holding the Go runtime and process
// collectors, the build's taskapi_build_info, plus cs. A private registry (never the global default) keeps
// tests and several servers in one process apart.
func NewRegistry(cs ...prometheus.Collector) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	all := append([]prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		BuildInfo(buildinfo.Read()),
	}, cs...)
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return reg, nil
}
