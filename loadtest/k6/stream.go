package k6

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/threshold"
)

// Limits of ReadStream. Memory does not grow with the stream's length: a
// line at a time, a window of recent requests waiting for their checks,
// and one entry per distinct metric and check.
const (
	// MaxLine is the longest line ReadStream accepts; k6's are a few
	// hundred bytes.
	MaxLine = 1 << 20
	// checkWindow is how long, in the stream's time, a request waits for
	// its check before it goes to the recorder without one. k6 emits a
	// check within a millisecond or so of its request (fixtures: 4.5ms at
	// most).
	checkWindow = 5 * time.Second
	// maxPending bounds the requests waiting for their checks, whatever
	// the request rate.
	maxPending = 8192
	// maxOrphans bounds the http_req_failed points kept while waiting for
	// their http_req_duration (k6 v2.2.0 writes them after it).
	maxOrphans = 64
	// checkLag is how long after its request ended a check may come to be
	// folded into it: k6 runs the check right after the response
	// (fixtures: 4.5ms at most), so an older request has no check coming.
	checkLag = time.Second
	// lookBack is how many of the latest requests an http_req_failed point
	// is matched against: k6 writes it next to its request.
	lookBack = 64
	// MaxKeys bounds the recorder's keys (scenario, endpoint, phase), each
	// of which holds histograms of a few hundred KB: a script that tags
	// no endpoint has one name per URL, and one URL per task id. Requests
	// that would make more keys are recorded with endpoint OtherEndpoint
	// (and past a few dozen such keys, with scenario and phase
	// OtherEndpoint too).
	MaxKeys = 256
	// maxOverflowKeys bounds the keys of OtherEndpoint, one per scenario
	// and phase, before they are all one.
	maxOverflowKeys = 32
)

// OtherEndpoint is the endpoint (and at worst the scenario and phase) of
// the requests recorded past MaxKeys.
const OtherEndpoint = "(other)"

// Stream is what ReadStream read from a k6 --out json stream.
type Stream struct {
	// Recorder holds one sample per http_req_duration point, that is per
	// HTTP request of the run, setup() and teardown() included (they have
	// no scenario tag). Each sample is tagged from the point's tags:
	// Scenario from scenario, Endpoint from endpoint (or k6's name tag, the
	// URL by default, when there is none), Phase from phase, Journey and
	// Step from journey and step (as Export tags them), Method and Status
	// from method and status; Err from error (or error_code) when no
	// response arrived. Latency is http_req_duration; Start is the point's
	// time minus that, since k6 stamps a request's points when it ended.
	// Whether a sample failed is k6's verdict (http_req_failed), and
	// CheckPassed the check folded into it, if any (see the package
	// documentation). BytesIn and BytesOut are 0: k6 counts data per
	// iteration (DataSent, DataReceived).
	//
	// Samples added to the recorder after ReadStream returns are judged by
	// record.DefaultFailed.
	//
	// It also holds one whole-iteration sample (record.Sample.Iteration)
	// per iteration_duration point, tagged from the point's scenario,
	// journey and phase (Export tags iterations with them); its Start is
	// the point's time minus its value, since k6 stamps it when the
	// iteration ended, and k6 times it from the iteration's actual start.
	Recorder *record.Recorder
	// Start estimates when the test started: the earliest request start
	// or point time. End is the latest point time.
	Start, End time.Time
	// Metrics are the metric declarations, by name. k6 declares the
	// thresholds of whole metrics only (see the package documentation).
	Metrics map[string]MetricDecl
	// Requests sums http_reqs; Failed counts http_req_failed points of 1.
	Requests, Failed int64
	// Iterations, DroppedIterations, DataSent and DataReceived sum those
	// counters (also in Counters).
	Iterations, DroppedIterations, DataSent, DataReceived int64
	// VUs and VUsMax are the vus and vus_max gauges (also in Gauges).
	VUs, VUsMax Gauge
	// Counters sums every counter metric by name.
	Counters map[string]float64
	// Gauges follows every gauge metric by name.
	Gauges map[string]Gauge
	// Checks counts check outcomes exactly, sorted by scenario, group,
	// name, endpoint and phase.
	Checks []CheckCount
	// ChecksFolded counts the checks whose outcome went into a sample's
	// CheckPassed; the others found no request to go with.
	ChecksFolded int64
	// Overflow counts the requests (and iterations) recorded under
	// OtherEndpoint because their own key would have passed MaxKeys:
	// non-zero means that the recorder's breakdown by endpoint (or
	// journey) is incomplete.
	Overflow int64
	// Points counts the Point lines read.
	Points int64
}

// MetricDecl is a metric as the stream declares it.
type MetricDecl struct {
	Name string
	// Type is k6's type; zero if the declaration names none it knows.
	Type threshold.MetricType
	// Contains says what the values are: "time" (ms), "data" (bytes) or
	// "default".
	Contains string
	// Thresholds are the expressions declared on the whole metric, as the
	// script wrote them. Sub-metric thresholds are not declared here.
	Thresholds []string
	// Submetrics are the sub-metrics thresholds select.
	Submetrics []Submetric
}

// Submetric is a sub-metric a metric declaration lists.
type Submetric struct {
	Name   string            `json:"name"`   // "http_req_duration{endpoint:list}"
	Suffix string            `json:"suffix"` // "endpoint:list"
	Tags   map[string]string `json:"tags"`
}

// Gauge is what a gauge metric showed over the run.
type Gauge struct {
	Last, Min, Max float64
	// Seen is false when the metric had no point (the rest are 0).
	Seen bool
}

// CheckCount is how often one check held, among checks of the same tags.
type CheckCount struct {
	Scenario, Group, Name, Endpoint, Phase string
	Passes, Fails                          int64
}

// StreamOption changes how ReadStream reads.
type StreamOption func(*streamConfig)

type streamConfig struct {
	origin time.Time
	rec    []record.Option
}

// Origin sets the start of the recorder's time series. The default is the
// start of the stream's first request, which is the test's start within
// the time of setup's first request.
func Origin(t time.Time) StreamOption {
	return func(c *streamConfig) { c.origin = t }
}

// RecorderOptions are passed to record.New. A record.Failed among them is
// overridden by k6's verdict while ReadStream reads.
func RecorderOptions(opts ...record.Option) StreamOption {
	return func(c *streamConfig) { c.rec = append(c.rec, opts...) }
}

// ReadStream reads k6's --out json output (NDJSON, gzip-compressed or not:
// it looks at the first bytes) line by line, into a Stream. Lines of a
// type other than Metric and Point are skipped; a line that is not JSON,
// or a Metric or Point line of the wrong shape, is an error naming its
// line number.
func ReadStream(r io.Reader, opts ...StreamOption) (*Stream, error) {
	var cfg streamConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := record.Validate(cfg.rec...); err != nil {
		return nil, fmt.Errorf("k6: stream: %w", err)
	}
	in, err := decompress(r)
	if err != nil {
		return nil, fmt.Errorf("k6: stream: %w", err)
	}
	rd := newStreamReader(cfg)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	line := 0
	for sc.Scan() {
		line++
		if err := rd.line(sc.Bytes()); err != nil {
			return nil, fmt.Errorf("k6: stream: line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("k6: stream: after line %d: %w", line, err)
	}
	return rd.finish(), nil
}

// decompress returns r, uncompressed if it starts with gzip's magic bytes.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// streamReader holds ReadStream's state.
type streamReader struct {
	cfg streamConfig
	s   *Stream

	// verdict is k6's failure verdict of the sample being added, for the
	// recorder's Failed rule; nil outside ReadStream's Add calls.
	verdict *bool

	pending []*pending            // requests by arrival, waiting for a check
	byGroup map[string][]*pending // the same, not yet checked, by scenario and group
	orphans []orphanFailed        // http_req_failed points before their request
	checks  map[checkKey]*CheckCount
	keys    map[record.Key]bool // the recorder's keys, up to MaxKeys
	iters   map[record.IterationKey]bool
}

type pending struct {
	sample     record.Sample
	end        time.Time
	tags       map[string]string
	group      string // the byGroup key
	failed     bool
	failedSeen bool
	checked    bool
}

type orphanFailed struct {
	end    time.Time
	tags   map[string]string
	failed bool
}

type checkKey struct{ scenario, group, name, endpoint, phase string }

func newStreamReader(cfg streamConfig) *streamReader {
	return &streamReader{
		cfg: cfg,
		s: &Stream{
			Metrics:  map[string]MetricDecl{},
			Counters: map[string]float64{},
			Gauges:   map[string]Gauge{},
		},
		byGroup: map[string][]*pending{},
		checks:  map[checkKey]*CheckCount{},
		keys:    map[record.Key]bool{},
		iters:   map[record.IterationKey]bool{},
	}
}

// k6's JSON output: {"type":"Metric","metric":name,"data":{...}} and
// {"type":"Point","metric":name,"data":{"time","value","tags"}}.
type rawLine struct {
	Type   string          `json:"type"`
	Metric string          `json:"metric"`
	Data   json.RawMessage `json:"data"`
}

type rawPoint struct {
	Time  time.Time         `json:"time"`
	Value float64           `json:"value"`
	Tags  map[string]string `json:"tags"`
}

type rawDecl struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Contains   string          `json:"contains"`
	Thresholds json.RawMessage `json:"thresholds"`
	Submetrics []Submetric     `json:"submetrics"`
}

func (rd *streamReader) line(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var l rawLine
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	switch l.Type {
	case "Metric":
		return rd.declare(l)
	case "Point":
		var p rawPoint
		if err := json.Unmarshal(l.Data, &p); err != nil {
			return fmt.Errorf("point of %s: %w", l.Metric, err)
		}
		if p.Time.IsZero() {
			return fmt.Errorf("point of %s: no time", l.Metric)
		}
		// k6's own metrics are durations, sizes, counts and shares: a
		// negative point was not written by k6 and would skew every sum.
		if _, builtin := threshold.BuiltinType(l.Metric); builtin && p.Value < 0 {
			return fmt.Errorf("point of %s: negative value %g", l.Metric, p.Value)
		}
		rd.point(l.Metric, p)
	}
	return nil
}

func (rd *streamReader) declare(l rawLine) error {
	var d rawDecl
	if err := json.Unmarshal(l.Data, &d); err != nil {
		return fmt.Errorf("declaration of %s: %w", l.Metric, err)
	}
	if d.Name == "" {
		d.Name = l.Metric
	}
	rd.s.Metrics[d.Name] = MetricDecl{
		Name:       d.Name,
		Type:       metricTypes[d.Type],
		Contains:   d.Contains,
		Thresholds: thresholdSources(d.Thresholds),
		Submetrics: d.Submetrics,
	}
	return nil
}

// thresholdSources reads a declaration's thresholds: a list of
// expressions in k6 v2, or of objects with a "source" in some older
// versions; anything else is read as none.
func thresholdSources(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var objs []struct {
		Source string `json:"source"`
	}
	if json.Unmarshal(raw, &objs) == nil {
		for _, o := range objs {
			if o.Source != "" {
				list = append(list, o.Source)
			}
		}
	}
	return list
}

func (rd *streamReader) point(metric string, p rawPoint) {
	s := rd.s
	s.Points++
	rd.seen(p.Time)
	switch metric {
	case "http_req_duration":
		rd.request(p)
	case "http_req_failed":
		rd.failed(p)
	case "checks":
		rd.check(p)
	case "iteration_duration":
		rd.iteration(p)
	}
	typ := rd.s.Metrics[metric].Type
	if typ == 0 {
		typ, _ = threshold.BuiltinType(metric)
	}
	switch typ {
	case threshold.Counter:
		s.Counters[metric] += p.Value
	case threshold.Gauge:
		g := s.Gauges[metric]
		if !g.Seen {
			g = Gauge{Min: p.Value, Max: p.Value, Seen: true}
		}
		g.Last, g.Min, g.Max = p.Value, math.Min(g.Min, p.Value), math.Max(g.Max, p.Value)
		s.Gauges[metric] = g
	}
	rd.flush(false)
}

// seen widens the stream's span to t.
func (rd *streamReader) seen(t time.Time) {
	if rd.s.Start.IsZero() || t.Before(rd.s.Start) {
		rd.s.Start = t
	}
	if t.After(rd.s.End) {
		rd.s.End = t
	}
}

// request starts the sample of an http_req_duration point.
func (rd *streamReader) request(p rawPoint) {
	tags := p.Tags
	lat := latency(p.Value)
	smp := record.Sample{
		Scenario: tags["scenario"],
		Journey:  tags["journey"],
		Step:     tags["step"],
		Endpoint: tags["endpoint"],
		Phase:    tags["phase"],
		Method:   tags["method"],
		Latency:  lat,
		Start:    p.Time.Add(-lat),
	}
	if smp.Endpoint == "" {
		smp.Endpoint = tags["name"]
	}
	smp.Status, _ = strconv.Atoi(tags["status"])
	if smp.Status == 0 {
		switch {
		case tags["error"] != "":
			smp.Err = tags["error"]
		case tags["error_code"] != "":
			smp.Err = "k6 error_code " + tags["error_code"]
		default:
			smp.Err = "no response"
		}
	}
	rd.bound(&smp)
	rd.seen(smp.Start)
	pd := &pending{sample: smp, end: p.Time, tags: tags, group: groupKey(tags)}
	for i, o := range rd.orphans {
		if o.end.Equal(p.Time) && maps.Equal(o.tags, tags) {
			pd.failed, pd.failedSeen = o.failed, true
			rd.orphans = slices.Delete(rd.orphans, i, i+1)
			break
		}
	}
	rd.recorder(smp.Start)
	rd.pending = append(rd.pending, pd)
	rd.byGroup[pd.group] = append(rd.byGroup[pd.group], pd)
}

// recorder returns the stream's recorder, creating it with its series
// starting at the configured origin, or at start, the first sample's.
func (rd *streamReader) recorder(start time.Time) *record.Recorder {
	if rd.s.Recorder == nil {
		origin := rd.cfg.origin
		if origin.IsZero() {
			origin = start
		}
		rec, err := record.New(origin, append(slices.Clone(rd.cfg.rec), record.Failed(rd.failedRule))...)
		if err != nil { // unreachable: ReadStream validated the options
			panic(err)
		}
		rd.s.Recorder = rec
	}
	return rd.s.Recorder
}

// iteration records an iteration_duration point as a whole iteration. It
// has no check to wait for, so it goes to the recorder at once.
func (rd *streamReader) iteration(p rawPoint) {
	d := latency(p.Value)
	tags := p.Tags
	smp := record.Sample{Iteration: true, Scenario: tags["scenario"], Journey: tags["journey"], Phase: tags["phase"],
		Start: p.Time.Add(-d), Latency: d}
	k := record.IterationKey{Scenario: smp.Scenario, Journey: smp.Journey, Phase: smp.Phase}
	switch {
	case rd.iters[k]:
	case len(rd.iters) < MaxKeys:
		rd.iters[k] = true
	default: // as bound does for requests
		rd.s.Overflow++
		k.Journey = OtherEndpoint
		if !rd.iters[k] && len(rd.iters) >= MaxKeys+maxOverflowKeys {
			k = record.IterationKey{Scenario: OtherEndpoint, Journey: OtherEndpoint, Phase: OtherEndpoint}
		}
		rd.iters[k] = true
		smp.Scenario, smp.Journey, smp.Phase = k.Scenario, k.Journey, k.Phase
	}
	rd.seen(smp.Start)
	rd.recorder(smp.Start).Add(smp)
}

// bound keeps the recorder within MaxKeys keys, and a few more for the
// overflow: a new key past MaxKeys becomes its scenario and phase's
// OtherEndpoint, and past those few, OtherEndpoint altogether.
func (rd *streamReader) bound(smp *record.Sample) {
	k := record.Key{Scenario: smp.Scenario, Endpoint: smp.Endpoint, Phase: smp.Phase}
	switch {
	case rd.keys[k]:
		return
	case len(rd.keys) < MaxKeys:
		rd.keys[k] = true
		return
	}
	rd.s.Overflow++
	k.Endpoint = OtherEndpoint
	if !rd.keys[k] && len(rd.keys) >= MaxKeys+maxOverflowKeys {
		k = record.Key{Scenario: OtherEndpoint, Endpoint: OtherEndpoint, Phase: OtherEndpoint}
	}
	rd.keys[k] = true
	smp.Scenario, smp.Endpoint, smp.Phase = k.Scenario, k.Endpoint, k.Phase
}

// latency converts k6's milliseconds, clamping what no duration holds.
func latency(ms float64) time.Duration {
	switch {
	case !(ms > 0): // also NaN
		return 0
	case ms > float64(math.MaxInt64/int64(time.Millisecond)):
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// failedRule is the recorder's Failed rule: k6's verdict while ReadStream
// adds a sample whose http_req_failed it saw, the harness's rule otherwise.
func (rd *streamReader) failedRule(s record.Sample) bool {
	if rd.verdict != nil {
		return *rd.verdict
	}
	return record.DefaultFailed(s)
}

// failed sets the verdict of the request the http_req_failed point
// belongs to: one of the latest with the same time and tags.
func (rd *streamReader) failed(p rawPoint) {
	bad := p.Value != 0
	if bad {
		rd.s.Failed++
	}
	for i := len(rd.pending) - 1; i >= 0 && i >= len(rd.pending)-lookBack; i-- {
		pd := rd.pending[i]
		if !pd.failedSeen && pd.end.Equal(p.Time) && maps.Equal(pd.tags, p.Tags) {
			pd.failed, pd.failedSeen = bad, true
			return
		}
	}
	if len(rd.orphans) == maxOrphans {
		rd.orphans = slices.Delete(rd.orphans, 0, 1)
	}
	rd.orphans = append(rd.orphans, orphanFailed{end: p.Time, tags: p.Tags, failed: bad})
}

// check counts a check point and folds it into the oldest waiting request
// of the same scenario and group, ended by then but not longer than
// checkLag before, whose other tags agree.
func (rd *streamReader) check(p rawPoint) {
	tags := p.Tags
	k := checkKey{tags["scenario"], tags["group"], tags["check"], tags["endpoint"], tags["phase"]}
	c := rd.checks[k]
	if c == nil {
		c = &CheckCount{Scenario: k.scenario, Group: k.group, Name: k.name, Endpoint: k.endpoint, Phase: k.phase}
		rd.checks[k] = c
	}
	passed := p.Value != 0
	if passed {
		c.Passes++
	} else {
		c.Fails++
	}
	key := groupKey(tags)
	q := rd.byGroup[key]
	// The stale ones will not get a check: checks come in time order.
	stale := 0
	for stale < len(q) && q[stale].end.Before(p.Time.Add(-checkLag)) {
		stale++
	}
	if q = q[stale:]; len(q) == 0 {
		delete(rd.byGroup, key)
	} else if stale > 0 {
		rd.byGroup[key] = q
	}
	for i, pd := range q {
		if pd.end.After(p.Time) || !agree(tags, pd.tags) {
			continue
		}
		pd.checked = true
		pd.sample.CheckPassed = &passed
		rd.s.ChecksFolded++
		if q = slices.Delete(q, i, i+1); len(q) == 0 {
			delete(rd.byGroup, key)
		} else {
			rd.byGroup[key] = q
		}
		return
	}
}

func groupKey(tags map[string]string) string { return tags["scenario"] + "\x00" + tags["group"] }

// agree reports whether a check's tags fit a request's: every tag of the
// check but its name that the request also has, it has with that value.
func agree(check, req map[string]string) bool {
	for k, v := range check {
		if k == "check" {
			continue
		}
		if rv, ok := req[k]; ok && rv != v {
			return false
		}
	}
	return true
}

// flush adds to the recorder the waiting requests too old to get a check
// (all of them when final).
func (rd *streamReader) flush(final bool) {
	n := 0
	for _, pd := range rd.pending {
		if !final && len(rd.pending)-n <= maxPending && !pd.end.Before(rd.s.End.Add(-checkWindow)) {
			break
		}
		if pd.failedSeen {
			rd.verdict = &pd.failed
		}
		rd.s.Recorder.Add(pd.sample)
		rd.verdict = nil
		if !pd.checked {
			// The oldest waiting request is the first of its group's queue.
			if q := rd.byGroup[pd.group]; len(q) > 0 && q[0] == pd {
				if len(q) == 1 {
					delete(rd.byGroup, pd.group)
				} else {
					rd.byGroup[pd.group] = q[1:]
				}
			}
		}
		n++
	}
	if n > 0 {
		clear(rd.pending[:n]) // let the flushed ones go
		rd.pending = rd.pending[n:]
	}
}

func (rd *streamReader) finish() *Stream {
	rd.flush(true)
	s := rd.s
	if s.Recorder == nil {
		rec, err := record.New(rd.cfg.origin, append(slices.Clone(rd.cfg.rec), record.Failed(rd.failedRule))...)
		if err != nil { // unreachable: ReadStream validated the options
			panic(err)
		}
		s.Recorder = rec
	}
	s.Requests = int64(s.Counters["http_reqs"])
	s.Iterations = int64(s.Counters["iterations"])
	s.DroppedIterations = int64(s.Counters["dropped_iterations"])
	s.DataSent = int64(s.Counters["data_sent"])
	s.DataReceived = int64(s.Counters["data_received"])
	s.VUs, s.VUsMax = s.Gauges["vus"], s.Gauges["vus_max"]
	for _, c := range rd.checks {
		s.Checks = append(s.Checks, *c)
	}
	slices.SortFunc(s.Checks, func(a, b CheckCount) int {
		for _, c := range [...]int{
			strings.Compare(a.Scenario, b.Scenario), strings.Compare(a.Group, b.Group),
			strings.Compare(a.Name, b.Name), strings.Compare(a.Endpoint, b.Endpoint),
			strings.Compare(a.Phase, b.Phase),
		} {
			if c != 0 {
				return c
			}
		}
		return 0
	})
	// The recorder's Failed rule keeps rd: let go of what it no longer needs.
	rd.pending, rd.byGroup, rd.orphans, rd.checks, rd.keys, rd.iters = nil, nil, nil, nil, nil, nil
	return s
}
