package alerts

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/threshold"
)

// ErrNoObjective is returned when a scenario has no budget an objective
// can come from: no http_req_failed rate nor http_req_duration percentile
// threshold on the API's traffic.
var ErrNoObjective = errors.New("no objective")

// Kind is what an objective bounds.
type Kind string

// The kinds of objective.
const (
	Availability Kind = "availability" // the share of requests answered 5xx
	Latency      Kind = "latency"      // the share of requests slower than a bound
)

// DurationBuckets are the upper bounds, in seconds, of the API's request
// duration histogram (taskapi_http_request_duration_seconds): a latency
// objective can only count requests under one of them. A test reads them
// back from a running API's /metrics.
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Objective is one service level objective, derived from a threshold.
type Objective struct {
	// Name labels its rules and alerts (slo="latency-p95").
	Name string
	Kind Kind
	// Budget is the share of requests allowed to be bad (5xx, or slower
	// than Bucket): 0.01 for an objective of 99%.
	Budget float64
	// Bound is a latency threshold's limit; Bucket the histogram edge,
	// in seconds, the objective counts requests under (Bound itself when
	// it is an edge, else the nearest edge below it).
	Bound  time.Duration
	Bucket float64
	// Threshold is the scenario's threshold it comes from, as written
	// there: http_req_duration{phase:steady} p(95)<300.
	Threshold string
}

// Target is the objective as a percentage: "99%", "99.9%".
func (o Objective) Target() string { return number(100*(1-o.Budget)) + "%" }

// BucketText is the latency bucket as a duration: "250ms".
func (o Objective) BucketText() string {
	return time.Duration(math.Round(o.Bucket * float64(time.Second))).String()
}

// Statement says the objective in words: "99% of requests answered
// without a server error", "95% of requests answered within 250ms".
func (o Objective) Statement() string {
	if o.Kind == Latency {
		return o.Target() + " of requests answered within " + o.BucketText()
	}
	return o.Target() + " of requests answered without a server error"
}

// Objectives derives the objectives of f's thresholds, and notes what it
// skipped or rounded and why. A threshold on all of the API's traffic, or
// on one phase of a run, can be an objective; when several bound the same
// thing (p(95) in two phases), the one without a phase wins, else the
// strictest: normal traffic must meet it at all times.
func Objectives(f *scenario.File) ([]Objective, []string, error) {
	type candidate struct {
		o      Objective
		phased bool
		strict float64 // smaller is stricter
	}
	best := map[string]candidate{}
	var order []string
	var notes []string
	for _, t := range f.Thresholds {
		c, note := fromThreshold(t.Threshold)
		if note != "" {
			notes = append(notes, fmt.Sprintf("%s %s: %s", t.Selector, t.Expr, note))
			continue
		}
		_, phased := t.Selector.Tag("phase")
		cand := candidate{o: c, phased: phased, strict: c.Budget}
		if c.Kind == Latency {
			cand.strict = float64(c.Bound)
		}
		old, seen := best[c.Name]
		switch {
		case !seen:
			order = append(order, c.Name)
			best[c.Name] = cand
		case old.phased && !phased, old.phased == phased && cand.strict < old.strict:
			notes = append(notes, fmt.Sprintf("%s: from %s, not %s", c.Name, cand.o.Threshold, old.o.Threshold))
			best[c.Name] = cand
		default:
			notes = append(notes, fmt.Sprintf("%s: from %s, not %s", c.Name, old.o.Threshold, cand.o.Threshold))
		}
	}
	if len(order) == 0 {
		return nil, notes, fmt.Errorf("%w: scenario %s has no http_req_failed rate<X nor http_req_duration p(N)<B threshold on the API's traffic", ErrNoObjective, f.Name)
	}
	// Availability first, then latency by percentile: the file reads the
	// same whatever the order of the thresholds.
	slices.SortStableFunc(order, func(a, b string) int { return strings.Compare(sortKey(best[a].o), sortKey(best[b].o)) })
	out := make([]Objective, 0, len(order))
	for _, name := range order {
		o := best[name].o
		if o.Kind == Latency && o.Bucket*float64(time.Second) != float64(o.Bound) {
			notes = append(notes, fmt.Sprintf("%s: %s is not a bucket edge of the request duration histogram; the objective counts requests under %s, the nearest edge below (stricter than the gate, never looser)",
				o.Name, o.Bound, o.BucketText()))
		}
		out = append(out, o)
	}
	return out, notes, nil
}

// sortKey orders availability before latency, then by budget, widest first
// (p(95) before p(99)).
func sortKey(o Objective) string {
	return fmt.Sprintf("%d %012.8f", map[Kind]int{Availability: 0, Latency: 1}[o.Kind], 1-o.Budget)
}

// fromThreshold is the objective of t, or why t makes none.
func fromThreshold(t threshold.Threshold) (Objective, string) {
	for _, tag := range t.Selector.Tags {
		if tag.Key != "phase" {
			return Objective{}, fmt.Sprintf("not an objective: %s:%s selects part of the scenario's traffic, which the API's metrics cannot tell apart", tag.Key, tag.Value)
		}
	}
	e := t.Expr
	source := t.Selector.String() + " " + e.String()
	below := e.Op == threshold.OpLess || e.Op == threshold.OpLessOrEqual
	switch t.Selector.Metric {
	case "http_req_failed":
		if e.Stat != threshold.StatRate || !below || e.Value <= 0 || e.Value >= 1 {
			return Objective{}, "not an objective: only rate<X, with X between 0 and 1, bounds the share of failed requests"
		}
		return Objective{Name: string(Availability), Kind: Availability, Budget: e.Value, Threshold: source}, ""
	case "http_req_duration":
		if e.Stat != threshold.StatPercentile || !below || e.Percentile >= 100 {
			return Objective{}, "not an objective: only p(N)<B, with N under 100, bounds a share of requests (a burn rate needs one)"
		}
		bound := time.Duration(e.Value * float64(time.Millisecond))
		edge := -1.0
		for _, b := range DurationBuckets {
			if b*float64(time.Second) <= float64(bound) {
				edge = b
			}
		}
		if edge < 0 {
			return Objective{}, fmt.Sprintf("not an objective: %s is under the histogram's first bucket (%gs)", bound, DurationBuckets[0])
		}
		return Objective{Name: "latency-p" + number(e.Percentile), Kind: Latency, Budget: round((100 - e.Percentile) / 100),
			Bound: bound, Bucket: edge, Threshold: source}, ""
	}
	return Objective{}, "not an objective: only http_req_failed and http_req_duration describe the API's requests"
}

// round drops the binary noise of a subtraction: 100-99.9 is 0.1.
func round(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 12, 64), 64)
	return r
}

// number writes f as PromQL and people read it: 0.01, 14.4, 99.9.
func number(f float64) string { return strconv.FormatFloat(round(f), 'f', -1, 64) }
