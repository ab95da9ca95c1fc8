package compare_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/compare"
	"github.com/taskready/taskready/loadtest/record"
)

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// run describes a synthetic load run: log-normal latencies around 20ms for
// the endpoint "list" and 40ms for the others, taken in turn.
type run struct {
	seconds int     // length of the run
	rps     int     // requests per second
	scale   float64 // latency multiplier; 1 when 0
	failure float64 // probability that a request fails
	// wave, when positive, multiplies the latency of each stretch of
	// wavePeriod seconds by a random factor within 1±wave: the slow spells
	// of real systems, which make neighbouring seconds alike.
	wave       float64
	wavePeriod int
	// bursts, when set, makes the failure probability of each stretch a
	// random one within [0, 2*failure): errors come in bursts.
	bursts    bool
	endpoints []string // default list and create
	opts      []record.Option
}

// recorder records r's samples, drawn with the given seed.
func recorder(tb testing.TB, seed uint64, r run) *record.Recorder {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rec, err := record.New(base, r.opts...)
	if err != nil {
		tb.Fatal(err)
	}
	scale := r.scale
	if scale == 0 {
		scale = 1
	}
	eps := r.endpoints
	if eps == nil {
		eps = []string{"list", "create"}
	}
	wave, failure := 1.0, r.failure
	for i := range r.seconds * r.rps {
		if sec := i / r.rps; r.wavePeriod > 0 && i%r.rps == 0 && sec%r.wavePeriod == 0 {
			wave = 1 + r.wave*(2*rng.Float64()-1)
			if r.bursts {
				failure = 2 * r.failure * rng.Float64()
			}
		}
		ep := eps[i%len(eps)]
		median := 40.0
		if ep == "list" {
			median = 20
		}
		lat := math.Exp(rng.NormFloat64()*0.5+math.Log(median)) * scale * wave
		status := 200
		if rng.Float64() < failure {
			status = 500
		}
		rec.Add(record.Sample{
			Scenario: "browse",
			Endpoint: ep,
			Phase:    "steady",
			Status:   status,
			Start:    base.Add(time.Duration(i) * time.Second / time.Duration(r.rps)),
			Latency:  time.Duration(lat * float64(time.Millisecond)),
		})
	}
	return rec
}

// fast keeps the tests quick: fewer resamples only make the interval
// bounds a little noisier.
var fast = compare.Resamples(400)

// steady is a run long and busy enough for the comparisons to be decisive.
var steady = run{seconds: 30, rps: 200, failure: 0.002}

func with(r run, f func(*run)) run {
	f(&r)
	return r
}

func row(tb testing.TB, rep compare.Report, endpoint, metric string) compare.Row {
	tb.Helper()
	for _, r := range rep.Rows {
		if (endpoint == "" && r.Key == nil || r.Key != nil && r.Key.Endpoint == endpoint) && strings.Contains(r.Metric, metric) {
			return r
		}
	}
	tb.Fatalf("no %q row for endpoint %q in %+v", metric, endpoint, rep.Rows)
	return compare.Row{}
}

func text(rep compare.Report) string {
	var b strings.Builder
	_ = rep.WriteText(&b)
	return b.String()
}

func verdicts(vs ...compare.Verdict) map[compare.Verdict]bool {
	m := make(map[compare.Verdict]bool)
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func TestCompareVerdicts(t *testing.T) {
	t.Parallel()
	undecided := verdicts(compare.NoChange, compare.Inconclusive)
	tests := []struct {
		name     string
		old, cur run
		opts     []compare.Option
		seeds    int
		// latency and rate are the verdicts allowed for the whole run's
		// latency and error-rate rows, keys those allowed for every Key's
		// row of the same metric, overall those of the report.
		latency, rate, keyLatency, keyRate, overall map[compare.Verdict]bool
		reason                                      string // in every inconclusive row's reason, when set
	}{
		{
			name: "identical distributions", old: steady, cur: steady, seeds: 3,
			latency: verdicts(compare.NoChange), rate: verdicts(compare.NoChange),
			keyLatency: undecided, keyRate: verdicts(compare.NoChange), overall: undecided,
		},
		{
			name: "latency +30%", old: steady, cur: with(steady, func(r *run) { r.scale = 1.3 }), seeds: 2,
			latency: verdicts(compare.Regression), rate: verdicts(compare.NoChange),
			keyLatency: verdicts(compare.Regression), keyRate: verdicts(compare.NoChange),
			overall: verdicts(compare.Regression),
		},
		{
			name: "latency -30%", old: steady, cur: with(steady, func(r *run) { r.scale = 0.7 }), seeds: 2,
			latency: verdicts(compare.Improvement), rate: verdicts(compare.NoChange),
			keyLatency: verdicts(compare.Improvement), keyRate: verdicts(compare.NoChange),
			overall: verdicts(compare.Improvement),
		},
		{
			name: "latency +3% is below the 10% minimum effect", old: steady, cur: with(steady, func(r *run) { r.scale = 1.03 }), seeds: 3,
			latency: undecided, rate: undecided, keyLatency: undecided, keyRate: undecided, overall: undecided,
		},
		{
			name: "a 3% minimum effect sees +15%", old: steady, cur: with(steady, func(r *run) { r.scale = 1.15 }),
			opts: []compare.Option{compare.MinEffect(0.03)}, seeds: 1,
			latency: verdicts(compare.Regression), rate: verdicts(compare.NoChange),
			keyLatency: verdicts(compare.Regression), keyRate: verdicts(compare.NoChange),
			overall: verdicts(compare.Regression),
		},
		{
			name: "0.2ms against 0.3ms is below the 1ms minimum",
			old:  with(steady, func(r *run) { r.scale = 0.01 }), cur: with(steady, func(r *run) { r.scale = 0.015 }), seeds: 1,
			latency: verdicts(compare.NoChange), rate: verdicts(compare.NoChange),
			keyLatency: verdicts(compare.NoChange), keyRate: verdicts(compare.NoChange),
			overall: verdicts(compare.NoChange),
		},
		{
			name: "0.2ms against 0.3ms without an absolute minimum",
			old:  with(steady, func(r *run) { r.scale = 0.01 }), cur: with(steady, func(r *run) { r.scale = 0.015 }),
			opts: []compare.Option{compare.MinAbsolute(0)}, seeds: 1,
			latency: verdicts(compare.Regression), rate: verdicts(compare.NoChange),
			keyLatency: verdicts(compare.Regression), keyRate: verdicts(compare.NoChange),
			overall: verdicts(compare.Regression),
		},
		{
			name: "error rate 0% to 5%",
			old:  with(steady, func(r *run) { r.failure = 0 }), cur: with(steady, func(r *run) { r.failure = 0.05 }), seeds: 2,
			latency: verdicts(compare.NoChange), rate: verdicts(compare.Regression),
			keyLatency: undecided, keyRate: verdicts(compare.Regression),
			overall: verdicts(compare.Regression),
		},
		{
			name: "error rate 5% to 0%",
			old:  with(steady, func(r *run) { r.failure = 0.05 }), cur: with(steady, func(r *run) { r.failure = 0 }), seeds: 1,
			latency: verdicts(compare.NoChange), rate: verdicts(compare.Improvement),
			keyLatency: undecided, keyRate: verdicts(compare.Improvement),
			overall: verdicts(compare.Improvement, compare.Inconclusive), // a key's latency may be undecided
		},
		{
			name: "error rate 0.2% to 0.4% is below the minimum",
			old:  steady, cur: with(steady, func(r *run) { r.failure = 0.004 }), seeds: 2,
			latency: verdicts(compare.NoChange), rate: undecided,
			keyLatency: undecided, keyRate: undecided, overall: undecided,
		},
		{
			name: "too few intervals, even for +30%",
			old:  run{seconds: 4, rps: 2000}, cur: run{seconds: 4, rps: 2000, scale: 1.3}, seeds: 1,
			latency: verdicts(compare.Inconclusive), rate: verdicts(compare.Inconclusive),
			keyLatency: verdicts(compare.Inconclusive), keyRate: verdicts(compare.Inconclusive),
			overall: verdicts(compare.Inconclusive), reason: "interval",
		},
		{
			name: "a short quiet run is too noisy to tell",
			old:  run{seconds: 20, rps: 30}, cur: run{seconds: 20, rps: 30}, seeds: 2,
			// 0 failures of 600 bound the rate within 0.5%, of 300 not.
			latency: verdicts(compare.Inconclusive), rate: undecided,
			keyLatency: verdicts(compare.Inconclusive), keyRate: verdicts(compare.Inconclusive),
			overall: verdicts(compare.Inconclusive), reason: "too noisy",
		},
		{
			name: "too few samples for p99",
			old:  run{seconds: 10, rps: 20}, cur: run{seconds: 10, rps: 20, scale: 1.3},
			opts: []compare.Option{compare.Percentile(99)}, seeds: 1,
			latency: verdicts(compare.Inconclusive), rate: undecided,
			keyLatency: verdicts(compare.Inconclusive), keyRate: undecided,
			overall: verdicts(compare.Inconclusive),
		},
		{
			// Slow spells make the run's p95 vary far more than its
			// requests' count suggests: no verdict of change on noise.
			name: "identical runs with slow spells",
			old:  run{seconds: 120, rps: 50, wave: 0.3, wavePeriod: 3}, cur: run{seconds: 120, rps: 50, wave: 0.3, wavePeriod: 3}, seeds: 3,
			latency: undecided, rate: verdicts(compare.NoChange),
			keyLatency: undecided, keyRate: verdicts(compare.NoChange), overall: undecided,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(tt.seeds) {
				old := recorder(t, 2*seed+1, tt.old)
				cur := recorder(t, 2*seed+2, tt.cur)
				rep, err := compare.Compare(old, cur, append([]compare.Option{fast}, tt.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Rows) != 6 {
					t.Fatalf("seed %d: %d rows, want the run's and two keys' latency and error rate:\n%s", seed, len(rep.Rows), text(rep))
				}
				for _, r := range rep.Rows {
					want := tt.latency
					switch {
					case r.Key == nil && r.Unit != "ms":
						want = tt.rate
					case r.Key != nil && r.Unit == "ms":
						want = tt.keyLatency
					case r.Key != nil:
						want = tt.keyRate
					}
					if !want[r.Verdict] {
						t.Errorf("seed %d: %s %s: %s (%s), want one of %v\n%s", seed, r.Scope(), r.Metric, r.Verdict, r.Reason, want, text(rep))
					}
					if tt.reason != "" && r.Verdict == compare.Inconclusive && !strings.Contains(r.Reason, tt.reason) {
						t.Errorf("seed %d: %s %s: reason %q does not mention %q", seed, r.Scope(), r.Metric, r.Reason, tt.reason)
					}
					if r.Reason == "" {
						t.Errorf("seed %d: %s %s: no reason", seed, r.Scope(), r.Metric)
					}
					if !math.IsNaN(r.Low) && !(r.Low <= r.High) {
						t.Errorf("seed %d: %s %s: interval %g..%g", seed, r.Scope(), r.Metric, r.Low, r.High)
					}
				}
				if !tt.overall[rep.Verdict] {
					t.Errorf("seed %d: overall %s, want one of %v\n%s", seed, rep.Verdict, tt.overall, text(rep))
				}
			}
		})
	}
}

// TestNoiseWidens checks that the interval reflects how alike neighbouring
// seconds are, not only how many requests there were: the same requests
// with slow spells and bursts of errors must give a wider interval, for the
// whole run and for its keys.
func TestNoiseWidens(t *testing.T) {
	t.Parallel()
	plain := run{seconds: 120, rps: 100, failure: 0.05}
	spells := with(plain, func(r *run) { r.wave, r.wavePeriod, r.bursts = 0.3, 3, true })
	widths := func(r run) []float64 {
		rep, err := compare.Compare(recorder(t, 1, r), recorder(t, 2, r), fast)
		if err != nil {
			t.Fatal(err)
		}
		var w []float64
		for _, ep := range []string{"", "list"} {
			// Relative to the baseline: spells also move the p95 itself.
			l := row(t, rep, ep, "latency")
			w = append(w, (l.High-l.Low)/l.Old)
			e := row(t, rep, ep, "error rate")
			w = append(w, e.High-e.Low)
		}
		return w
	}
	p, s := widths(plain), widths(spells)
	for i, what := range []string{"run latency", "run error rate", "key latency", "key error rate"} {
		if !(s[i] > 1.5*p[i]) {
			t.Errorf("%s: interval width %.4f with spells, %.4f without; want over 1.5 times wider", what, s[i], p[i])
		}
	}
}

// TestFewIntervalsWiden checks that the same requests spread over fewer
// intervals give a wider interval: the noise is measured from fewer blocks.
func TestFewIntervalsWiden(t *testing.T) {
	t.Parallel()
	width := func(r run) float64 {
		rep, err := compare.Compare(recorder(t, 1, r), recorder(t, 2, r), fast)
		if err != nil {
			t.Fatal(err)
		}
		a := row(t, rep, "", "latency")
		return (a.High - a.Low) / a.Old
	}
	few, many := width(run{seconds: 5, rps: 1200}), width(run{seconds: 30, rps: 200})
	if !(few > 2*many) {
		t.Errorf("relative interval width %.3f over 5 intervals, %.3f over 40; want over twice as wide", few, many)
	}
}

// TestOverall checks how the report sums its rows up, through runs whose
// rows disagree.
func TestOverall(t *testing.T) {
	t.Parallel()
	// One endpoint slows down, the other gets faster: the regression wins.
	old := recorder(t, 1, with(steady, func(r *run) { r.endpoints = []string{"list", "list", "create"} }))
	cur := recorder(t, 2, with(steady, func(r *run) { r.endpoints = []string{"list", "create", "create"} }))
	rep, err := compare.Compare(old, cur, fast)
	if err != nil {
		t.Fatal(err)
	}
	// More create (40ms) requests raise the run's p95, while each
	// endpoint's own latency is unchanged.
	if got := row(t, rep, "", "latency").Verdict; got != compare.Regression {
		t.Errorf("run latency: %s, want regression\n%s", got, text(rep))
	}
	if got := row(t, rep, "list", "latency").Verdict; got != compare.NoChange {
		t.Errorf("list latency: %s, want no change\n%s", got, text(rep))
	}
	if rep.Verdict != compare.Regression {
		t.Errorf("overall %s, want regression", rep.Verdict)
	}
}

func TestKeysInOneRunOnly(t *testing.T) {
	t.Parallel()
	old := recorder(t, 1, with(steady, func(r *run) { r.endpoints = []string{"list", "create", "delete"} }))
	cur := recorder(t, 2, with(steady, func(r *run) { r.endpoints = []string{"list", "create", "search"} }))
	rep, err := compare.Compare(old, cur, fast)
	if err != nil {
		t.Fatal(err)
	}
	want := func(ep string) []record.Key { return []record.Key{{Scenario: "browse", Endpoint: ep, Phase: "steady"}} }
	if !reflect.DeepEqual(rep.OldOnly, want("delete")) || !reflect.DeepEqual(rep.NewOnly, want("search")) {
		t.Errorf("old only %v, new only %v; want delete and search", rep.OldOnly, rep.NewOnly)
	}
	if len(rep.Rows) != 6 {
		t.Errorf("%d rows, want 6 (the run, list and create)", len(rep.Rows))
	}
	out := text(rep)
	for _, s := range []string{"only in the baseline (not compared): browse/delete/steady", "only in the new run (not compared): browse/search/steady"} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	rep, err := compare.Compare(recorder(t, 1, steady), recorder(t, 2, with(steady, func(r *run) { r.scale = 1.3 })), fast)
	if err != nil {
		t.Fatal(err)
	}
	out := text(rep)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "verdict: regression" {
		t.Errorf("first line %q, want the verdict", lines[0])
	}
	header := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "SCOPE") {
			header = i
		}
	}
	if header < 0 || len(lines)-header-1 != len(rep.Rows) {
		t.Fatalf("want a header and one line per row:\n%s", out)
	}
	for i, r := range rep.Rows {
		l := lines[header+1+i]
		for _, s := range []string{r.Scope(), r.Metric, string(r.Verdict), r.Reason} {
			if !strings.Contains(l, s) {
				t.Errorf("line %q lacks %q", l, s)
			}
		}
	}
	all, r := lines[header+1], rep.Rows[0]
	if change := fmt.Sprintf("%+.1f%%", 100*r.Change); !strings.Contains(all, change) || !strings.Contains(all, "ms..+") {
		t.Errorf("run latency line %q lacks the change %s and the interval", all, change)
	}
}

// TestBaselineFile compares against a baseline kept as a file: decoding it
// must give the very report the recorder gives.
func TestBaselineFile(t *testing.T) {
	t.Parallel()
	old := recorder(t, 1, steady)
	cur := recorder(t, 2, with(steady, func(r *run) { r.scale = 1.3 }))
	var file bytes.Buffer
	if err := old.Encode(&file); err != nil {
		t.Fatal(err)
	}
	decoded, err := record.Decode(&file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := compare.Compare(old, cur, fast, compare.Seed(7))
	if err != nil {
		t.Fatal(err)
	}
	got, err := compare.Compare(decoded, cur, fast, compare.Seed(7))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded baseline:\n%s\nwant:\n%s", text(got), text(want))
	}
	if want.Verdict != compare.Regression {
		t.Errorf("verdict %s, want regression", want.Verdict)
	}

	// The baseline against its own copy: no difference at all.
	self, err := compare.Compare(decoded, old, fast)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range self.Rows {
		if r.Verdict != compare.NoChange || r.Old != r.New || r.Change != 0 || !(r.Low <= 0 && r.High >= 0) {
			t.Errorf("%s %s against itself: %+v", r.Scope(), r.Metric, r)
		}
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	old, cur := recorder(t, 1, steady), recorder(t, 2, with(steady, func(r *run) { r.scale = 1.05 }))
	compareSeed := func(seed uint64) compare.Report {
		rep, err := compare.Compare(old, cur, fast, compare.Seed(seed))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	a, b, c := compareSeed(1), compareSeed(1), compareSeed(2)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the same seed gave different reports:\n%s\n%s", text(a), text(b))
	}
	ra, rc := row(t, a, "", "latency"), row(t, c, "", "latency")
	if ra.Low == rc.Low && ra.High == rc.High {
		t.Errorf("seeds 1 and 2 gave the same interval %g..%g: the seed is not used", ra.Low, ra.High)
	}
	if ra.Old != rc.Old || ra.New != rc.New {
		t.Errorf("the seed changed the point estimates")
	}
}

func TestCompareErrors(t *testing.T) {
	t.Parallel()
	r := recorder(t, 1, run{seconds: 2, rps: 10})
	other := func(opts ...record.Option) *record.Recorder {
		return recorder(t, 2, run{seconds: 2, rps: 10, opts: opts})
	}
	tests := []struct {
		name     string
		old, cur *record.Recorder
		opts     []compare.Option
		is       error // when set, the error must wrap it
	}{
		{name: "different intervals", old: r, cur: other(record.Interval(500 * time.Millisecond)), is: record.ErrIncompatible},
		{name: "different precision", old: r, cur: other(record.SignificantFigures(2)), is: record.ErrIncompatible},
		{name: "different interval precision", old: r, cur: other(record.IntervalSignificantFigures(3)), is: record.ErrIncompatible},
		{name: "different highest", old: r, cur: other(record.HighestTrackable(time.Second)), is: record.ErrIncompatible},
		{name: "nil baseline", cur: r},
		{name: "nil run", old: r},
		{name: "percentile 100", old: r, cur: other(), opts: []compare.Option{compare.Percentile(100)}},
		{name: "percentile 0", old: r, cur: other(), opts: []compare.Option{compare.Percentile(0)}},
		{name: "percentile NaN", old: r, cur: other(), opts: []compare.Option{compare.Percentile(math.NaN())}},
		{name: "negative effect", old: r, cur: other(), opts: []compare.Option{compare.MinEffect(-0.1)}},
		{name: "negative absolute", old: r, cur: other(), opts: []compare.Option{compare.MinAbsolute(-time.Millisecond)}},
		{name: "rate effect 1", old: r, cur: other(), opts: []compare.Option{compare.MinRateEffect(1)}},
		{name: "confidence 1", old: r, cur: other(), opts: []compare.Option{compare.Confidence(1)}},
		{name: "too few resamples", old: r, cur: other(), opts: []compare.Option{compare.Resamples(100), compare.Confidence(0.99)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := compare.Compare(tt.old, tt.cur, tt.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
	// The same options are compatible, and an empty run is no error.
	if _, err := compare.Compare(r, other(), fast); err != nil {
		t.Errorf("compatible recorders: %v", err)
	}
	empty := record.MustNew(base)
	rep, err := compare.Compare(empty, empty, fast)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != compare.Inconclusive {
		t.Errorf("empty runs: %s, want inconclusive\n%s", rep.Verdict, text(rep))
	}
}

// Runs of one build, with a dozen selections each, are seldom called a
// change anywhere: each selection's rows share the 5% the whole run's
// get (Bonferroni), where at 95% apiece one of 24 rows would cross by
// chance in most comparisons.
func TestSelectionsShareTheFalsePositives(t *testing.T) {
	eps := make([]string, 12)
	for i := range eps {
		eps[i] = fmt.Sprintf("e%02d", i)
	}
	r := run{seconds: 20, rps: 120, failure: 0.01, endpoints: eps}
	const trials = 30
	changed := 0
	for i := range uint64(trials) {
		rep, err := compare.Compare(recorder(t, 2*i+1000, r), recorder(t, 2*i+1001, r), compare.Seed(i), compare.MinEffect(0.05))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rep.Rows {
			if row.Key != nil && (row.Verdict == compare.Regression || row.Verdict == compare.Improvement) {
				changed++
				break
			}
		}
	}
	if changed > trials/10 {
		t.Errorf("%d of %d comparisons of one build called a selection changed; want at most %d", changed, trials, trials/10)
	}
	t.Logf("%d of %d comparisons of one build called a selection changed", changed, trials)
}

// The noise between runs of one build, which neither run shows, widens
// every latency row by what it is said to be: +20% is a regression
// against runs that vary by 3% from one to the next, and cannot be told
// from noise against runs that vary by 15%.
func TestRunNoiseWidens(t *testing.T) {
	t.Parallel()
	old, cur := recorder(t, 1, steady), recorder(t, 2, with(steady, func(r *run) { r.scale = 1.2 }))
	width := func(r compare.Row) float64 { return r.High - r.Low }
	var last compare.Report
	for _, tc := range []struct {
		noise   float64
		verdict compare.Verdict
	}{{0, compare.Regression}, {0.03, compare.Regression}, {0.15, compare.Inconclusive}} {
		rep, err := compare.Compare(old, cur, fast, compare.RunNoise(tc.noise))
		if err != nil {
			t.Fatal(err)
		}
		for _, ep := range []string{"", "list", "create"} {
			r := row(t, rep, ep, "latency")
			if r.Verdict != tc.verdict {
				t.Errorf("run noise %g, %q: %s (%s); want %s", tc.noise, ep, r.Verdict, r.Reason, tc.verdict)
			}
			if tc.noise > 0 && width(r) <= width(row(t, last, ep, "latency")) {
				t.Errorf("run noise %g, %q: interval %.3f..%.3f, no wider than with less noise", tc.noise, ep, r.Low, r.High)
			}
		}
		if r := row(t, rep, "", "error rate"); r.Verdict != compare.NoChange {
			t.Errorf("run noise %g: the error rate is %s; want no change (the noise is of latency)", tc.noise, r.Verdict)
		}
		last = rep
	}
	if _, err := compare.Compare(old, cur, compare.RunNoise(-0.1)); err == nil {
		t.Error("a negative run noise was accepted")
	}
}
