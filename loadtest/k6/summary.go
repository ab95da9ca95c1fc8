package k6

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/taskready/taskready/loadtest/threshold"
)

// SummaryExport is k6's --summary-export file: the end-of-test numbers of
// every metric and sub-metric, the thresholds' outcomes, and the tree of
// groups and checks.
type SummaryExport struct {
	// RootGroup is the script's root group: its checks and nested groups.
	RootGroup Group
	// Metrics are keyed as k6 keys them: a metric name, or a sub-metric's
	// "http_req_duration{endpoint:create}".
	Metrics map[string]Metric
	// SetupData is what setup() returned, as k6 wrote it; nil if absent.
	SetupData json.RawMessage
}

// Group is one k6 group (the root group has an empty name): its checks and
// nested groups, in the order the file lists them.
type Group struct {
	Name   string
	Path   string // "::create and delete"
	ID     string
	Groups []Group
	Checks []Check
}

// Check is one named check of a group and how often it held.
type Check struct {
	Name   string
	Path   string // "::create and delete::create 201"
	ID     string
	Passes int64
	Fails  int64
}

// Metric is one metric or sub-metric of a summary export.
type Metric struct {
	// Name is the key k6 gave it, with the sub-metric's tags if any.
	Name string
	// Selector is Name parsed; its Metric is "" when Name does not parse.
	Selector threshold.Selector
	// Type is the k6 type: that of the built-in metric of that name, else
	// guessed from the values k6 wrote (zero when nothing tells).
	Type threshold.MetricType
	// Values holds every number k6 wrote for the metric, by k6's key:
	// avg, min, med, max, p(90), p(95) (and any other summaryTrendStats)
	// for a trend; count and rate (per second) for a counter; value (the
	// share of non-zero values), passes and fails for a rate; value, min
	// and max for a gauge. A rate's passes are its NON-ZERO values and its
	// fails its zero values, whatever they mean: for http_req_failed,
	// passes are failed requests (see RateCounts).
	Values map[string]float64
	// Crossed maps each threshold expression on the metric, as the script
	// wrote it, to whether k6 found it crossed: true is a FAILED threshold
	// (k6's own "thresholds" map means exactly that).
	Crossed map[string]bool
}

// ThresholdResult is k6's verdict on one threshold of a summary export.
type ThresholdResult struct {
	// Metric is the metric or sub-metric key, as in SummaryExport.Metrics.
	Metric string
	// Selector is Metric parsed (zero if it does not parse).
	Selector threshold.Selector
	// Expression is the threshold as the script wrote it: "p(95)<50".
	Expression string
	// Passed is k6's verdict: false when k6 found the threshold crossed.
	Passed bool
	// Observed is the statistic the expression tests, from the metric's
	// values (72.1377 for p(95) in ms); NaN when the expression does not
	// parse or the export lacks that statistic.
	Observed float64
}

// ReadSummaryExport reads k6's --summary-export JSON. It reads one JSON
// object that must have a "metrics" object; fields it does not know are
// ignored, as are non-numeric values of a metric other than "thresholds".
func ReadSummaryExport(r io.Reader) (*SummaryExport, error) {
	var raw struct {
		RootGroup json.RawMessage            `json:"root_group"`
		Metrics   map[string]json.RawMessage `json:"metrics"`
		SetupData json.RawMessage            `json:"setup_data"`
	}
	dec := json.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("k6: summary export: %w", err)
	}
	if raw.Metrics == nil {
		return nil, errors.New("k6: summary export: no \"metrics\" object (is this k6's --summary-export?)")
	}
	if len(raw.Metrics) == 0 {
		// k6 writes http_reqs, iterations and vus for any run that
		// started: an empty set is a run that measured nothing, and a
		// gate on it would pass on no data.
		return nil, fmt.Errorf("k6: summary export: %w: its \"metrics\" object is empty (the test measured nothing)", ErrNoData)
	}
	s := &SummaryExport{Metrics: make(map[string]Metric, len(raw.Metrics))}
	if len(raw.SetupData) > 0 && !bytes.Equal(raw.SetupData, []byte("null")) {
		s.SetupData = raw.SetupData
	}
	for name, m := range raw.Metrics {
		metric, err := decodeMetric(name, m)
		if err == nil {
			err = metric.check()
		}
		if err != nil {
			return nil, fmt.Errorf("k6: summary export: metric %q: %w", name, err)
		}
		s.Metrics[name] = metric
	}
	if len(raw.RootGroup) > 0 && !bytes.Equal(raw.RootGroup, []byte("null")) {
		if err := decodeGroup(raw.RootGroup, &s.RootGroup, 0); err != nil {
			return nil, fmt.Errorf("k6: summary export: root_group: %w", err)
		}
	}
	return s, nil
}

func decodeMetric(name string, raw json.RawMessage) (Metric, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Metric{}, err
	}
	if fields == nil {
		return Metric{}, errors.New("not an object")
	}
	m := Metric{Name: name, Values: make(map[string]float64, len(fields))}
	typeName := ""
	for k, v := range fields {
		switch k {
		case "thresholds":
			if err := json.Unmarshal(v, &m.Crossed); err != nil {
				return Metric{}, fmt.Errorf("thresholds: %w", err)
			}
		case "type":
			_ = json.Unmarshal(v, &typeName) // a hint only; ignored if not a string
		default:
			var f float64
			if json.Unmarshal(v, &f) == nil {
				m.Values[k] = f
			}
		}
	}
	if sel, err := threshold.ParseSelector(name); err == nil {
		m.Selector = sel
	}
	m.Type = metricType(m.Selector.Metric, typeName, m.Values)
	return m, nil
}

// counts are the values of a metric that count something, whatever its
// type: never negative.
var counts = []string{"count", "passes", "fails"}

// maxCount is the largest count a float64, which k6 counts in, holds
// exactly: a larger one did not come from counting.
const maxCount = 1 << 53

// check refuses numbers no k6 run writes: a negative count, a rate outside
// 0..1, a negative value of a built-in metric (all of them are durations,
// sizes, counts or shares). A file with one was edited or corrupted, and
// its verdicts cannot be trusted. A custom trend or gauge may go below 0.
func (m Metric) check() error {
	for _, k := range counts {
		v, ok := m.Values[k]
		switch {
		case ok && v < 0:
			return fmt.Errorf("negative %s %g", k, v)
		case ok && v > maxCount:
			return fmt.Errorf("%s %g is beyond any count k6 keeps exactly (2^53)", k, v)
		}
	}
	if v, ok := m.Values["rate"]; ok && m.Type == threshold.Counter && v < 0 {
		return fmt.Errorf("negative rate %g", v)
	}
	if v, ok := m.Values["value"]; ok && m.Type == threshold.Rate && (v < 0 || v > 1) {
		return fmt.Errorf("rate value %g is not a share between 0 and 1", v)
	}
	if _, builtin := threshold.BuiltinType(m.Selector.Metric); builtin {
		for _, k := range slices.Sorted(maps.Keys(m.Values)) {
			if v := m.Values[k]; v < 0 {
				return fmt.Errorf("negative %s %g (k6's %s is never below 0)", k, v, m.Selector.Metric)
			}
		}
	}
	return nil
}

// metricTypes are k6's names of its metric types.
var metricTypes = map[string]threshold.MetricType{
	"counter": threshold.Counter, "gauge": threshold.Gauge, "rate": threshold.Rate, "trend": threshold.Trend,
}

// metricType is the type of a built-in metric, else the one k6 named, else
// the one its values tell.
func metricType(base, named string, values map[string]float64) threshold.MetricType {
	if t, ok := threshold.BuiltinType(base); ok {
		return t
	}
	if t, ok := metricTypes[named]; ok {
		return t
	}
	has := func(k string) bool { _, ok := values[k]; return ok }
	switch {
	case has("passes") || has("fails"):
		return threshold.Rate
	case has("avg") || has("med") || slices.ContainsFunc(mapKeys(values), func(k string) bool { return strings.HasPrefix(k, "p(") }):
		return threshold.Trend
	case has("value"):
		return threshold.Gauge
	case has("count") || has("rate"):
		return threshold.Counter
	}
	return 0
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// maxGroupDepth bounds the nesting of groups ReadSummaryExport follows, so
// that a hostile file cannot exhaust the stack.
const maxGroupDepth = 64

// decodeGroup reads a group. k6 writes groups and checks as objects keyed
// by name; their order in the file is kept. Lists are accepted too.
func decodeGroup(raw json.RawMessage, g *Group, depth int) error {
	if depth > maxGroupDepth {
		return fmt.Errorf("groups nested deeper than %d", maxGroupDepth)
	}
	var fields struct {
		Name   string          `json:"name"`
		Path   string          `json:"path"`
		ID     string          `json:"id"`
		Groups json.RawMessage `json:"groups"`
		Checks json.RawMessage `json:"checks"`
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	g.Name, g.Path, g.ID = fields.Name, fields.Path, fields.ID
	err := eachMember(fields.Groups, func(v json.RawMessage) error {
		var sub Group
		if err := decodeGroup(v, &sub, depth+1); err != nil {
			return err
		}
		g.Groups = append(g.Groups, sub)
		return nil
	})
	if err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	err = eachMember(fields.Checks, func(v json.RawMessage) error {
		var c struct {
			Name   string `json:"name"`
			Path   string `json:"path"`
			ID     string `json:"id"`
			Passes int64  `json:"passes"`
			Fails  int64  `json:"fails"`
		}
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		if c.Passes < 0 || c.Fails < 0 {
			return fmt.Errorf("check %q: negative passes or fails (%d, %d)", c.Name, c.Passes, c.Fails)
		}
		g.Checks = append(g.Checks, Check(c))
		return nil
	})
	if err != nil {
		return fmt.Errorf("checks: %w", err)
	}
	return nil
}

// eachMember calls f with each value of a JSON object, in file order, or
// each element of a JSON array; null or absent is empty.
func eachMember(raw json.RawMessage, f func(json.RawMessage) error) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	object := tok == json.Delim('{')
	if !object && tok != json.Delim('[') {
		return fmt.Errorf("want an object or a list, got %v", tok)
	}
	for dec.More() {
		if object {
			if _, err := dec.Token(); err != nil { // the key: the value has its name too
				return err
			}
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if err := f(v); err != nil {
			return err
		}
	}
	return nil
}

// Thresholds returns k6's verdict on every threshold of the export,
// sorted by metric key, then expression.
func (s *SummaryExport) Thresholds() []ThresholdResult {
	var out []ThresholdResult
	for _, m := range s.Metrics {
		for expr, crossed := range m.Crossed {
			r := ThresholdResult{Metric: m.Name, Selector: m.Selector, Expression: expr, Passed: !crossed, Observed: math.NaN()}
			if e, err := threshold.ParseExpression(expr); err == nil {
				if v, ok := m.Value(e.Stat, e.Percentile); ok {
					r.Observed = v
				}
			}
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b ThresholdResult) int {
		if c := strings.Compare(a.Metric, b.Metric); c != 0 {
			return c
		}
		return strings.Compare(a.Expression, b.Expression)
	})
	return out
}

// Crossed reports whether k6 found any threshold crossed: the run failed
// its thresholds (k6 exits 99).
func (s *SummaryExport) Crossed() bool {
	for _, m := range s.Metrics {
		for _, crossed := range m.Crossed {
			if crossed {
				return true
			}
		}
	}
	return false
}

// Value returns a statistic of the metric as a threshold expression reads
// it, so that a Metric is a threshold.Stats: avg, min, med, max and p(N)
// of a trend, count and rate of a counter, rate of a rate metric (its
// "value"), value of a gauge. ok is false when the export lacks it (a
// percentile not in k6's summaryTrendStats) or the metric's type has no
// such statistic.
func (m Metric) Value(stat threshold.Stat, percentile float64) (float64, bool) {
	if m.Type != 0 && !m.Type.Supports(stat) {
		return 0, false
	}
	key := stat.String()
	switch stat {
	case threshold.StatPercentile:
		key = "p(" + strconv.FormatFloat(percentile, 'f', -1, 64) + ")"
	case threshold.StatRate:
		if m.Type == threshold.Rate {
			key = "value" // k6 writes a rate metric's rate as its value
		}
	}
	v, ok := m.Values[key]
	return v, ok
}

var _ threshold.Stats = Metric{}

// RateCounts returns a rate metric's numbers of non-zero and zero values,
// which k6 writes as "passes" and "fails" whatever they mean: for
// http_req_failed, nonZero counts the FAILED requests. ok is false when the
// metric has neither.
func (m Metric) RateCounts() (nonZero, zero int64, ok bool) {
	p, okP := m.Values["passes"]
	f, okF := m.Values["fails"]
	return int64(p), int64(f), okP || okF
}
