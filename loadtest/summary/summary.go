// Package summary is the result document of a load run, summary.json.
//
// Its root_group and metrics keep the shape of k6's --summary-export, so
// that tools which read k6 summaries read ours: metric values flat beside a
// "thresholds" map whose value true means the threshold was crossed (k6's
// convention, easy to get backwards), rate metrics with passes, fails and
// value, checks in a group tree with md5 ids of their paths. Everything k6
// does not have lives in one versioned section, "taskready": the run and
// its environment, the scenarios with target and achieved rates, the
// validity of the run, per-endpoint and per-phase breakdowns, threshold
// and recovery verdicts, the time series, a baseline comparison, and the
// outcome with its exit code.
//
// The reports (terminal, Markdown, JUnit, HTML) and the gates read only this
// document, so a summary imported from k6 is reported and gated the same way
// as one of our own runs.
package summary

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/threshold"
)

// Format and Version identify the taskready section; Version changes when a
// field changes meaning or goes away, not when one is added.
const (
	Format  = "taskready.summary"
	Version = 1
)

// ErrFormat is returned (wrapped) by Read for a document whose taskready
// section is missing or of another version.
var ErrFormat = errors.New("summary: not a taskready summary")

// Summary is summary.json.
type Summary struct {
	// RootGroup and Metrics are k6's --summary-export, field for field.
	RootGroup *Group            `json:"root_group"`
	Metrics   map[string]Metric `json:"metrics"`
	// Run is our own section.
	Run Run `json:"taskready"`
}

// Group is a k6 group: the checks and sub-groups under one path.
type Group struct {
	Name   string            `json:"name"`
	Path   string            `json:"path"`
	ID     string            `json:"id"`
	Groups map[string]*Group `json:"groups"`
	Checks map[string]*Check `json:"checks"`
}

// Check counts the outcomes of one named check.
type Check struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	ID     string `json:"id"`
	Passes int64  `json:"passes"`
	Fails  int64  `json:"fails"`
}

// NewRootGroup returns k6's unnamed root group.
func NewRootGroup() *Group {
	return &Group{Path: "", ID: pathID(""), Groups: map[string]*Group{}, Checks: map[string]*Check{}}
}

// Group returns the sub-group name of g, creating it.
func (g *Group) Group(name string) *Group {
	if sub, ok := g.Groups[name]; ok {
		return sub
	}
	path := g.Path + "::" + name
	sub := &Group{Name: name, Path: path, ID: pathID(path), Groups: map[string]*Group{}, Checks: map[string]*Check{}}
	g.Groups[name] = sub
	return sub
}

// Check returns the check name of g, creating it.
func (g *Group) Check(name string) *Check {
	if c, ok := g.Checks[name]; ok {
		return c
	}
	path := g.Path + "::" + name
	c := &Check{Name: name, Path: path, ID: pathID(path)}
	g.Checks[name] = c
	return c
}

// Walk calls fn for every check under g, depth first, in name order.
func (g *Group) Walk(fn func(group *Group, c *Check)) {
	if g == nil {
		return
	}
	for _, name := range sortedKeys(g.Checks) {
		fn(g, g.Checks[name])
	}
	for _, name := range sortedKeys(g.Groups) {
		g.Groups[name].Walk(fn)
	}
}

// pathID is k6's group and check id: the md5 of the path, in hex.
func pathID(path string) string {
	sum := md5.Sum([]byte(path))
	return hex.EncodeToString(sum[:])
}

// Metric is one k6 metric or sub-metric of a summary export: its values
// ("avg", "p(95)", "count", "rate", "value", "passes", ...) and its
// thresholds, expression to crossed.
type Metric struct {
	Values map[string]float64
	// Thresholds maps each expression to true when it was crossed, as k6
	// writes it.
	Thresholds map[string]bool
}

// MarshalJSON writes the values flat beside "thresholds", as k6 does.
func (m Metric) MarshalJSON() ([]byte, error) {
	flat := make(map[string]any, len(m.Values)+1)
	for k, v := range m.Values {
		flat[k] = v
	}
	if len(m.Thresholds) > 0 {
		flat["thresholds"] = m.Thresholds
	}
	return json.Marshal(flat)
}

// UnmarshalJSON reads a k6 metric: numbers are values, "thresholds" the
// verdicts; anything else is ignored, as a newer k6 may add fields.
func (m *Metric) UnmarshalJSON(data []byte) error {
	var flat map[string]json.RawMessage
	if err := json.Unmarshal(data, &flat); err != nil {
		return err
	}
	m.Values = make(map[string]float64, len(flat))
	for k, raw := range flat {
		if k == "thresholds" {
			if err := json.Unmarshal(raw, &m.Thresholds); err != nil {
				return fmt.Errorf("thresholds: %w", err)
			}
			continue
		}
		var v float64
		if json.Unmarshal(raw, &v) == nil {
			m.Values[k] = v
		}
	}
	return nil
}

// Write writes s as indented JSON.
func (s *Summary) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteFile writes s to path.
func (s *Summary) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := s.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// Read reads a summary that Write wrote.
func Read(r io.Reader) (*Summary, error) {
	var s Summary
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if s.Run.Format != Format || s.Run.Version != Version {
		return nil, fmt.Errorf("%w: format %q version %d, want %q version %d", ErrFormat, s.Run.Format, s.Run.Version, Format, Version)
	}
	for i, t := range s.Run.Thresholds {
		s.Run.Thresholds[i].Parts = parseThreshold(t.Metric, t.Expression)
	}
	return &s, nil
}

// ReadFile reads the summary at path.
func ReadFile(path string) (*Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Run is the taskready section.
type Run struct {
	Format  string `json:"format"`
	Version int    `json:"version"`

	// ID names the run; its default output directory is out/<ID>.
	ID string `json:"id"`
	// Engine is what generated the load: "taskready", or "k6" for an
	// imported run.
	Engine string `json:"engine"`
	// Name and Description come from the scenario file, File is its path.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	File        string `json:"file,omitempty"`
	// FileSHA256 is the SHA-256 of the scenario file's bytes (hex), when it
	// was read from disk: harness merge refuses workers that ran different
	// files under one name.
	FileSHA256 string `json:"file_sha256,omitempty"`
	// Target is the base URL the load went to.
	Target string `json:"target,omitempty"`
	// Start and End bound the run; Duration is End-Start in seconds.
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration float64   `json:"duration_s"`

	Environment Environment `json:"environment"`
	Scenarios   []Scenario  `json:"scenarios"`
	Validity    Validity    `json:"validity"`

	// Endpoints breaks the requests down by scenario and endpoint, Phases
	// by phase (all scenarios together).
	Endpoints []Breakdown `json:"endpoints"`
	Phases    []Breakdown `json:"phases"`
	// Failures says why requests failed (or failed their checks), per
	// scenario and endpoint, most frequent first; empty for a run without
	// failures and for one imported from a k6 summary export, which does
	// not record why.
	Failures []Failure `json:"failures,omitempty"`
	// Distribution is the corrected latency of every request, counted in
	// buckets whose bounds step 1, 2, 5, 10, ... ms, for a histogram.
	Distribution []Bucket `json:"distribution,omitempty"`
	// Journeys breaks the whole iterations down by scenario and journey
	// (iteration_duration{journey:...}); empty for a run that timed none.
	Journeys []Journey `json:"journeys,omitempty"`
	// Timeline says when each scenario's phases ran, for the charts.
	Timeline []Span `json:"timeline,omitempty"`

	Thresholds []Threshold `json:"thresholds"`
	Recoveries []Recovery  `json:"recoveries,omitempty"`
	// Faults are the failures the scenario played, each with what it did
	// to the load (package fault).
	Faults []Fault `json:"faults,omitempty"`
	// Writes is the write ledger's account of the task writes the API
	// acknowledged, read back after the load (nil: no ledger was kept).
	Writes *Writes `json:"writes,omitempty"`
	// Series is the time series, one point per Interval seconds.
	Series   []Point `json:"series"`
	Interval float64 `json:"interval_s,omitempty"`
	// Comparison is the verdict against a baseline, when one was given.
	Comparison *Comparison `json:"comparison,omitempty"`

	// Segment is "I/N" when this run made one execution segment of a
	// distributed run (harness run -segment): a worker sees 1/N of the
	// load, so it evaluates no threshold or recovery budget and leaves
	// them to harness merge, which evaluates them once on the merged
	// histograms.
	Segment string `json:"segment,omitempty"`
	// Workers are the segment runs harness merge combined into this one,
	// in segment order.
	Workers []Worker `json:"workers,omitempty"`

	// Aborted says why the run stopped early: a threshold with abortOnFail,
	// or an interrupt.
	Aborted string `json:"aborted,omitempty"`
	// Interrupted is true when the user stopped the run (Ctrl-C, SIGTERM)
	// before its schedule ended: its numbers cover part of the schedule,
	// so Decide judges no budget on them and the outcome is aborted.
	Interrupted bool `json:"interrupted,omitempty"`
	// Outcome is the verdict and the exit code.
	Outcome Outcome `json:"outcome"`
}

// Writes is what the write ledger found when it read back every task the
// load wrote (package ledger).
type Writes struct {
	// Acknowledged are the writes the API acknowledged (201 on create,
	// 200 on update and delete); Uncertain those whose answer the client
	// never saw (no answer, a timeout or a 5xx).
	Acknowledged int64 `json:"acknowledged"`
	Uncertain    int64 `json:"uncertain"`
	// Objects are the tasks the writes touched, Checked those read back,
	// Unverified those the read-back could not settle (the API failed
	// it), Untracked writes beyond the ledger's memory bound.
	Objects    int64 `json:"objects"`
	Checked    int64 `json:"checked"`
	Unverified int64 `json:"unverified"`
	Untracked  int64 `json:"untracked,omitempty"`
	// The findings, counted whole; each list holds the first few.
	Lost        int64     `json:"lost"`
	Resurrected int64     `json:"resurrected"`
	Duplicated  int64     `json:"duplicated"`
	Ambiguous   int64     `json:"ambiguous"`
	Findings    []Finding `json:"findings,omitempty"`
	// Requests the read-back sent, at most Pace per second, in Seconds.
	Requests int64   `json:"requests"`
	Pace     float64 `json:"pace_per_s"`
	Seconds  float64 `json:"seconds"`
	// Bytes bounds the ledger's memory (ledger.BytesPerObject a task).
	Bytes int64 `json:"bytes"`
	// Error says why the read-back stopped short, "" if it did not.
	Error string `json:"error,omitempty"`
}

// MaxFindings is how many findings Writes lists; it counts them all.
const MaxFindings = 100

// Add adds o's counts and findings to w's, as harness merge does for its
// workers' ledgers; the read-back's pace is the highest and its time the
// longest, since the workers read back at once.
func (w *Writes) Add(o *Writes) {
	w.Acknowledged += o.Acknowledged
	w.Uncertain += o.Uncertain
	w.Objects += o.Objects
	w.Checked += o.Checked
	w.Unverified += o.Unverified
	w.Untracked += o.Untracked
	w.Lost += o.Lost
	w.Resurrected += o.Resurrected
	w.Duplicated += o.Duplicated
	w.Ambiguous += o.Ambiguous
	w.Requests += o.Requests
	w.Bytes += o.Bytes
	w.Pace = max(w.Pace, o.Pace)
	w.Seconds = max(w.Seconds, o.Seconds)
	for _, f := range o.Findings {
		if len(w.Findings) < MaxFindings {
			w.Findings = append(w.Findings, f)
		}
	}
	if w.Error == "" {
		w.Error = o.Error
	}
}

// Finding is one write the read-back found wrong.
type Finding struct {
	Kind  string `json:"kind"`  // lost, resurrected, duplicated, ambiguous
	ID    string `json:"id"`    // the task's _id
	Owner string `json:"owner"` // the seeded user's email, or who else owns it
	// What the ledger expected and what the API answered.
	Want string `json:"want"`
	Got  string `json:"got"`
}

// Count is the value of one of record.WriteMetrics, false for another
// name.
func (w *Writes) Count(metric string) (int64, bool) {
	switch metric {
	case record.MetricLostWrites:
		return w.Lost, true
	case record.MetricResurrectedWrites:
		return w.Resurrected, true
	case record.MetricDuplicatedWrites:
		return w.Duplicated, true
	case record.MetricAmbiguousWrites:
		return w.Ambiguous, true
	}
	return 0, false
}

// Environment is what the run ran on.
type Environment struct {
	Provider     string `json:"provider,omitempty"`
	APIInstances int    `json:"api_instances,omitempty"`
	Host         string `json:"host,omitempty"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	CPUs         int    `json:"cpus"`
	GoVersion    string `json:"go_version,omitempty"`
	// Harness is the harness's version and short revision, and
	// HarnessRevision its full VCS revision, when the build recorded one.
	Harness         string `json:"harness,omitempty"`
	HarnessRevision string `json:"harness_revision,omitempty"`
	// Commit is the commit under test, when CI says (GITHUB_SHA,
	// CI_COMMIT_SHA): what a later run's baseline names.
	Commit string `json:"commit,omitempty"`
	// Notes are caveats of the environment every report repeats, such as
	// a replica set that fell back to one node.
	Notes []string `json:"notes,omitempty"`
}

// Scenario is one scenario's schedule and what was achieved of it.
type Scenario struct {
	Name     string `json:"name"`
	Executor string `json:"executor"`
	// TargetRate and AchievedRate are iterations per second over the
	// schedule (open model only; 0 for closed-model scenarios).
	TargetRate   float64 `json:"target_rate,omitempty"`
	AchievedRate float64 `json:"achieved_rate,omitempty"`
	// Planned is how many iterations the open-model schedule called for.
	Planned    int64 `json:"planned,omitempty"`
	Iterations int64 `json:"iterations"`
	Dropped    int64 `json:"dropped"`
	VUsMax     int64 `json:"vus_max"`
}

// Worker is one segment run of a merged run.
type Worker struct {
	Segment string `json:"segment"`
	ID      string `json:"id"`
	// Source is where harness merge read the run from (its directory).
	Source   string `json:"source,omitempty"`
	Host     string `json:"host,omitempty"`
	Requests int64  `json:"requests"`
	Valid    bool   `json:"valid"`
}

// Validity says whether the numbers describe the system under test or the
// load generator: a run whose generator could not keep up is invalid.
type Validity struct {
	Valid  bool            `json:"valid"`
	Checks []ValidityCheck `json:"checks"`
	// GeneratorCPU is the harness process's CPU use over the run, as a
	// fraction of all cores.
	GeneratorCPU float64 `json:"generator_cpu"`
	// GeneratorCPUWait is how long the harness's threads were ready to
	// run but waited for a CPU, summed over its threads, as a fraction
	// of the run's wall time (Linux; 0 elsewhere). Far above 0, other
	// work on the machine was holding the generator back.
	GeneratorCPUWait float64 `json:"generator_cpu_wait,omitempty"`
	// SendLagP99 is the 99th percentile of how late open-model iterations
	// left after their scheduled time, in ms; 0 when no scenario was of
	// the open model (HasSendLag tells).
	SendLagP99 float64 `json:"send_lag_p99_ms"`
}

// HasSendLag reports whether the run measured a send lag: only the open
// model has a schedule to be late for.
func (v Validity) HasSendLag() bool {
	for _, c := range v.Checks {
		if c.Name == "send lag p99" {
			return true
		}
	}
	return false
}

// ValidityCheck is one condition of a valid run.
type ValidityCheck struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Observed string `json:"observed"`
	Limit    string `json:"limit"`
	// Note says what else the run saw that explains a failed check,
	// such as the harness waiting for a CPU on a busy machine.
	Note string `json:"note,omitempty"`
}

// Breakdown is the statistics of one selection of requests; latencies are
// coordinated-omission corrected, in ms, with the uncorrected p95 beside.
type Breakdown struct {
	Scenario       string           `json:"scenario,omitempty"`
	Endpoint       string           `json:"endpoint,omitempty"`
	Phase          string           `json:"phase,omitempty"`
	Requests       int64            `json:"requests"`
	Failures       int64            `json:"failures"`
	FailureRate    float64          `json:"failure_rate"`
	RPS            float64          `json:"rps"`
	Min            float64          `json:"min_ms"`
	Avg            float64          `json:"avg_ms"`
	Med            float64          `json:"med_ms"`
	P90            float64          `json:"p90_ms"`
	P95            float64          `json:"p95_ms"`
	P99            float64          `json:"p99_ms"`
	Max            float64          `json:"max_ms"`
	P95Uncorrected float64          `json:"p95_uncorrected_ms"`
	ChecksPassed   int64            `json:"checks_passed"`
	ChecksFailed   int64            `json:"checks_failed"`
	Statuses       map[string]int64 `json:"statuses,omitempty"`
}

// Failure counts the requests of one scenario and endpoint that failed
// for one reason: "status 404 Not Found", "check: body lacks \"id\"",
// "connection refused", "timeout after 10s". A recorder names at most a
// bounded number of reasons per endpoint and phase; any later one is
// counted as "other".
type Failure struct {
	Scenario string `json:"scenario,omitempty"`
	Endpoint string `json:"endpoint"`
	Reason   string `json:"reason"`
	Count    int64  `json:"count"`
	// Share is Count over the endpoint's requests in the scenario.
	Share float64 `json:"share"`
}

// Bucket is one bar of a latency histogram: Count requests took more
// than the previous bucket's UpTo and at most UpTo ms.
type Bucket struct {
	UpTo  float64 `json:"le_ms"`
	Count int64   `json:"count"`
}

// Journey is the statistics of one journey's whole iterations in one
// scenario, in ms: iteration_duration, timed as k6 times it from each
// iteration's start, which in the open model is its scheduled start (so a
// late start counts, as in the corrected latency); P95Uncorrected is timed
// from the actual start.
type Journey struct {
	Scenario   string `json:"scenario"`
	Journey    string `json:"journey"`
	Iterations int64  `json:"iterations"`
	// Rate is how many of them started per second, first to last.
	Rate           float64 `json:"rate"`
	Min            float64 `json:"min_ms"`
	Avg            float64 `json:"avg_ms"`
	Med            float64 `json:"med_ms"`
	P90            float64 `json:"p90_ms"`
	P95            float64 `json:"p95_ms"`
	P99            float64 `json:"p99_ms"`
	Max            float64 `json:"max_ms"`
	P95Uncorrected float64 `json:"p95_uncorrected_ms"`
}

// Span is when one scenario was in one phase, in seconds from the start.
type Span struct {
	Scenario string  `json:"scenario"`
	Phase    string  `json:"phase"`
	From     float64 `json:"from_s"`
	To       float64 `json:"to_s"`
}

// Threshold is one threshold's verdict.
type Threshold struct {
	// Metric is the selector as k6 writes it, Expression the condition.
	Metric     string `json:"metric"`
	Expression string `json:"expression"`
	Passed     bool   `json:"passed"`
	// Observed is nil when the metric had no data (k6 then passes it).
	Observed    *float64 `json:"observed,omitempty"`
	Reason      string   `json:"reason"`
	AbortOnFail bool     `json:"abort_on_fail,omitempty"`
	// Line is where the scenario file states it, 0 when unknown.
	Line int `json:"line,omitempty"`
	// Parts is the threshold taken apart, carried from parsing: set when
	// the summary is built from verdicts and when it is read, nil when
	// Metric or Expression do not parse (an import of something odd).
	// Metric and Expression are its text in the JSON.
	Parts *ThresholdParts `json:"-"`
}

// ThresholdParts is a threshold taken apart by package threshold's
// parser: the metric and tags of its selector, and the aggregation,
// operator and bound of its expression. Readers of a summary use these
// instead of taking the text apart again.
type ThresholdParts struct {
	Selector threshold.Selector
	Expr     threshold.Expression
}

// parseThreshold takes metric and expression apart; nil when either does
// not parse.
func parseThreshold(metric, expression string) *ThresholdParts {
	sel, err := threshold.ParseSelector(metric)
	if err != nil {
		return nil
	}
	e, err := threshold.ParseExpression(expression)
	if err != nil {
		return nil
	}
	return &ThresholdParts{Selector: sel, Expr: e}
}

// Parsed returns t's parts: those it carries, or for a threshold written
// by hand its Metric and Expression parsed now; ok is false when they do
// not parse.
func (t Threshold) Parsed() (ThresholdParts, bool) {
	p := t.Parts
	if p == nil {
		p = parseThreshold(t.Metric, t.Expression)
	}
	if p == nil {
		return ThresholdParts{}, false
	}
	return *p, true
}

// Recovery is a recovery budget's verdict: how long after phase After
// ended the statistic took to get back under its bound.
type Recovery struct {
	After  string  `json:"after"`
	Metric string  `json:"metric"`
	Stat   string  `json:"stat"`
	Below  float64 `json:"below"`
	Within float64 `json:"within_s"`
	// RecoveredAfter is nil when it never recovered within the run.
	RecoveredAfter *float64 `json:"recovered_after_s,omitempty"`
	Passed         bool     `json:"passed"`
	Reason         string   `json:"reason"`
	Line           int      `json:"line,omitempty"`
}

// Fault is one failure the run played and what it did to the load. Times
// are seconds from the run's start; latencies are corrected p95s in ms.
type Fault struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Action string `json:"action"`
	// Detail says more of the action: "200ms ± 50ms" for a latency.
	Detail string `json:"detail,omitempty"`
	// Start and End are when it took effect and when it was undone; End
	// is nil for a fault never undone (a kill without for or until).
	Start float64  `json:"start_s"`
	End   *float64 `json:"end_s,omitempty"`
	// Played is false when it never took effect; Error says why, or what
	// failed undoing it.
	Played bool   `json:"played"`
	Error  string `json:"error,omitempty"`
	// Requests and Errors started while it was active.
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	// FirstError and LastError bound the failing intervals from its start
	// to the end of its recovery (nil: none failed).
	FirstError *float64 `json:"first_error_s,omitempty"`
	LastError  *float64 `json:"last_error_s,omitempty"`
	// P95Before is over the baseline (the intervals before it, up to
	// BaselineSeconds); P95During while it was active (nil: no requests).
	P95Before       *float64 `json:"p95_before_ms,omitempty"`
	P95During       *float64 `json:"p95_during_ms,omitempty"`
	BaselineSeconds float64  `json:"baseline_s"`
	// RecoveredAfter is the time from its end to the start of the first
	// interval from which the error ratio and p95 are back within the
	// baseline's bounds and stay there (nil: not before the run ended or
	// the next fault began).
	RecoveredAfter *float64 `json:"recovered_after_s,omitempty"`
	Line           int      `json:"line,omitempty"`
}

// Point is one interval of the time series: requests that started in
// [T, T+interval) seconds from the start; latencies in ms, corrected,
// with the uncorrected p95 beside.
type Point struct {
	T              float64 `json:"t"`
	Requests       int64   `json:"requests"`
	Failures       int64   `json:"failures"`
	RPS            float64 `json:"rps"`
	P50            float64 `json:"p50_ms"`
	P95            float64 `json:"p95_ms"`
	P99            float64 `json:"p99_ms"`
	Max            float64 `json:"max_ms"`
	P95Uncorrected float64 `json:"p95_uncorrected_ms"`
	// Target is the iterations per second the open-model scenarios
	// called for in the interval, Iterations how many iterations started
	// in it, and Dropped how many were due but found no VU.
	Target     float64 `json:"target_rate,omitempty"`
	Iterations int64   `json:"iterations,omitempty"`
	Dropped    int64   `json:"dropped,omitempty"`
	// VUs is the mean number of VUs running an iteration in the interval.
	VUs float64 `json:"vus,omitempty"`
	// Statuses counts the interval's requests by status class: "2xx",
	// "4xx", ..., "no response".
	Statuses map[string]int64 `json:"statuses,omitempty"`
}

// Comparison is the verdict against a baseline.
type Comparison struct {
	Baseline string `json:"baseline"`
	// BaselineRun says which run the baseline was: its id, when it
	// started and, when CI recorded one, its commit.
	BaselineRun *BaselineRun `json:"baseline_run,omitempty"`
	// Forced, when set, says why the baseline did not match this run and
	// that it was compared anyway (run -baseline-force).
	Forced  string          `json:"forced,omitempty"`
	Verdict string          `json:"verdict"`
	Rows    []ComparisonRow `json:"rows"`
	// Calibration, when the run was given one (harness calibrate), says
	// what the comparison can tell apart on this machine and where its
	// minimum effect came from.
	Calibration *Calibration `json:"calibration,omitempty"`
}

// Calibration is what harness calibrate measured of the comparison on
// the machine, as a run that used it records it.
type Calibration struct {
	File string `json:"file"`
	// Pairs of the same build compared, and the share called a
	// regression at the minimum effect calibrated with.
	Pairs             int     `json:"pairs"`
	FalsePositiveRate float64 `json:"false_positive_rate"`
	// Detectable is the smallest relative p95 regression called with 95%
	// confidence; Suggested the minimum effect calibrate suggested, and
	// MinEffect the one this comparison used.
	Detectable float64 `json:"detectable"`
	Suggested  float64 `json:"suggested_min_effect"`
	MinEffect  float64 `json:"min_effect"`
	// MeasuredRunNoise is how much p95 varied between runs of one build
	// beyond what each run showed (a relative standard deviation), and
	// RunNoise the one this comparison's latency intervals were widened by.
	MeasuredRunNoise float64 `json:"measured_run_noise"`
	RunNoise         float64 `json:"run_noise"`
}

// BaselineRun identifies the run a comparison's baseline was.
type BaselineRun struct {
	ID     string    `json:"id"`
	Start  time.Time `json:"start"`
	Commit string    `json:"commit,omitempty"`
}

// ComparisonRow compares one statistic of one selection.
type ComparisonRow struct {
	Name   string `json:"name"`
	Metric string `json:"metric"`
	// Unit is "ms" for latencies, "" for rates (fractions). Old, New and
	// the confidence interval [Low, High] of New-Old are in it; Change is
	// relative, (New-Old)/Old.
	Unit    string  `json:"unit,omitempty"`
	Old     float64 `json:"old"`
	New     float64 `json:"new"`
	Change  float64 `json:"change"`
	Low     float64 `json:"ci_low"`
	High    float64 `json:"ci_high"`
	Verdict string  `json:"verdict"`
	Reason  string  `json:"reason"`
}

// Status is the outcome of a run.
type Status string

// The outcomes, most serious first, each with its exit code.
const (
	StatusAborted    Status = "aborted"            // 105
	StatusInvalid    Status = "invalid"            // 101
	StatusCrossed    Status = "thresholds-crossed" // 99
	StatusRegression Status = "regression"         // 100
	StatusPassed     Status = "passed"             // 0
)

// Exit codes a CI job gates on: the one table of them, which the harness's
// commands and README share. k6 uses 99 for crossed thresholds and 105 for
// a run aborted from outside; 100 and 101 are ours.
const (
	ExitPass       = 0
	ExitError      = 1
	ExitUsage      = 2
	ExitCrossed    = 99
	ExitRegression = 100
	ExitInvalid    = 101
	ExitAborted    = 105
)

// Outcome is a run's verdict.
type Outcome struct {
	Status   Status   `json:"status"`
	ExitCode int      `json:"exit_code"`
	Reasons  []string `json:"reasons,omitempty"`
}

// Decide sets r.Outcome from the validity, thresholds, recoveries and
// comparison. A run the user interrupted is aborted whatever else holds:
// its numbers cover part of the schedule, so no budget is judged on them
// (a pass would be a gate passing on the data it never saw). An invalid
// run says so before anything else: its latencies describe the load
// generator, so a crossed threshold in it proves nothing. A crossed
// threshold is an absolute budget and outranks a relative regression.
func (r *Run) Decide() Outcome {
	var o Outcome
	if r.Interrupted {
		o.Status, o.ExitCode = StatusAborted, ExitAborted
		after := ""
		if r.Duration > 0 {
			after = fmt.Sprintf(" after %.1fs", r.Duration)
		}
		o.Reasons = []string{"aborted by the user" + after + ": thresholds, recovery budgets and the baseline comparison were not judged"}
		r.Outcome = o
		return o
	}
	var crossed []string
	for _, t := range r.Thresholds {
		if !t.Passed {
			reason := fmt.Sprintf("threshold %s %s crossed: %s", t.Metric, t.Expression, t.Reason)
			if fs := r.faultsIn(t); len(fs) > 0 {
				reason += " (during fault " + strings.Join(fs, ", ") + ")"
			}
			crossed = append(crossed, reason)
		}
	}
	for _, rc := range r.Recoveries {
		if !rc.Passed {
			crossed = append(crossed, fmt.Sprintf("recovery after %s: %s", rc.After, rc.Reason))
		}
	}
	switch {
	case !r.Validity.Valid:
		o.Status, o.ExitCode = StatusInvalid, ExitInvalid
		for _, c := range r.Validity.Checks {
			if !c.OK {
				reason := fmt.Sprintf("invalid run: %s was %s (limit %s)", c.Name, c.Observed, c.Limit)
				if c.Note != "" {
					reason += "; " + c.Note
				}
				o.Reasons = append(o.Reasons, reason)
			}
		}
		o.Reasons = append(o.Reasons, crossed...)
	case len(crossed) > 0:
		o.Status, o.ExitCode, o.Reasons = StatusCrossed, ExitCrossed, crossed
	case r.Comparison != nil && r.Comparison.Verdict == "regression":
		o.Status, o.ExitCode = StatusRegression, ExitRegression
		for _, row := range r.Comparison.Rows {
			if row.Verdict == "regression" {
				o.Reasons = append(o.Reasons, fmt.Sprintf("%s %s regressed: %s", row.Name, row.Metric, row.Reason))
			}
		}
	default:
		o.Status, o.ExitCode = StatusPassed, ExitPass
	}
	if r.Aborted != "" {
		o.Reasons = append(o.Reasons, "aborted: "+r.Aborted)
	}
	r.Outcome = o
	return o
}

// faultsIn names the faults played during the phase t selects, if it
// selects one: a crossed budget then says which failure it could not
// take. (On the whole run it would name every fault, which the faults
// table already does.)
func (r *Run) faultsIn(t Threshold) []string {
	var out []string
	p, ok := t.Parsed()
	if !ok {
		return nil
	}
	phase := ""
	for _, tag := range p.Selector.Tags {
		if tag.Key == "phase" {
			phase = tag.Value
		}
	}
	for _, f := range r.Faults {
		if !f.Played {
			continue
		}
		end := r.Duration
		if f.End != nil {
			end = *f.End
		}
		for _, sp := range r.Timeline {
			if phase != "" && sp.Phase == phase && f.Start < sp.To && end > sp.From && !slices.Contains(out, f.Name) {
				out = append(out, f.Name)
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
