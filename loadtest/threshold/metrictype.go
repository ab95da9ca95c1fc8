package threshold

import (
	"fmt"
	"strings"
)

// MetricType is the kind of a k6 metric, which decides the aggregations a
// threshold on it may use. The zero MetricType is unknown.
type MetricType uint8

// The four k6 metric types.
const (
	Counter MetricType = iota + 1 // sums values: count, rate (per second)
	Gauge                         // keeps the last value: value
	Rate                          // share of non-zero values: rate
	Trend                         // distribution: avg, min, med, max, p(N)
)

var metricTypeNames = [...]string{Counter: "counter", Gauge: "gauge", Rate: "rate", Trend: "trend"}

// String returns the k6 name of t: counter, gauge, rate or trend.
func (t MetricType) String() string {
	if t >= Counter && t <= Trend {
		return metricTypeNames[t]
	}
	return fmt.Sprintf("MetricType(%d)", uint8(t))
}

// Supports reports whether a threshold on a metric of type t may use s.
func (t MetricType) Supports(s Stat) bool {
	switch t {
	case Counter:
		return s == StatCount || s == StatRate
	case Gauge:
		return s == StatValue
	case Rate:
		return s == StatRate
	case Trend:
		return s == StatAvg || s == StatMin || s == StatMed || s == StatMax || s == StatPercentile
	}
	return false
}

// stats lists the aggregations t supports, for messages.
func (t MetricType) stats() string {
	switch t {
	case Counter:
		return "count, rate"
	case Gauge:
		return "value"
	case Rate:
		return "rate"
	case Trend:
		return "avg, min, med, max, p(N)"
	}
	return ""
}

// builtins are the metrics k6 itself emits (go.k6.io/k6 metrics/builtin.go),
// the ones the harness reproduces under the same names.
var builtins = map[string]MetricType{
	"vus":                Gauge,
	"vus_max":            Gauge,
	"iterations":         Counter,
	"iteration_duration": Trend,
	"dropped_iterations": Counter,

	"checks":         Rate,
	"group_duration": Trend,

	"http_reqs":                Counter,
	"http_req_failed":          Rate,
	"http_req_duration":        Trend,
	"http_req_blocked":         Trend,
	"http_req_connecting":      Trend,
	"http_req_tls_handshaking": Trend,
	"http_req_sending":         Trend,
	"http_req_waiting":         Trend,
	"http_req_receiving":       Trend,

	"ws_sessions":         Counter,
	"ws_msgs_sent":        Counter,
	"ws_msgs_received":    Counter,
	"ws_ping":             Trend,
	"ws_session_duration": Trend,
	"ws_connecting":       Trend,

	"grpc_req_duration": Trend,

	"data_sent":     Counter,
	"data_received": Counter,
}

// BuiltinType returns the type of a k6 built-in metric such as
// http_req_duration (Trend) or checks (Rate); ok is false for other names.
func BuiltinType(metric string) (t MetricType, ok bool) {
	t, ok = builtins[metric]
	return t, ok
}

// CheckType reports whether e may be used on a metric of type t, with an
// error naming what the metric supports; an unknown (zero) type accepts
// every expression.
func (e Expression) CheckType(metric string, t MetricType) error {
	if t == 0 || t.Supports(e.Stat) {
		return nil
	}
	example := strings.SplitN(t.stats(), ",", 2)[0]
	return fmt.Errorf("%s is a %s metric: %s does not apply to it; use %s (for example %s)",
		metric, t, statLabel(e), t.stats(), exampleFor(example))
}

func statLabel(e Expression) string { return e.Aggregation() }

func exampleFor(stat string) string {
	switch stat {
	case "count":
		return "count>0"
	case "value":
		return "value>0"
	case "rate":
		return "rate<0.01"
	}
	return "p(95)<300"
}
