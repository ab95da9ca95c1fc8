package report_test

import (
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/summary"
)

// The fixtures are built in Go rather than only read from JSON so that each
// number has a reason next to it; testdata/<name>.summary.json is their
// serialised form, kept in step by TestFixturesJSON.

var fixtureStart = time.Date(2026, 11, 28, 15, 2, 18, 0, time.UTC)

// lcg is a tiny deterministic noise source: integer arithmetic only, so
// the golden files do not depend on the platform's floating point.
type lcg uint32

func (l *lcg) next(n int) int {
	*l = *l*1103515245 + 12345
	return int(uint32(*l)>>16) % n
}

func f64(v float64) *float64 { return &v }

// fullSummary is a rich run: two scenarios, four phases with a spike, a
// stall with no requests, crossed and passed thresholds (one without
// data), recoveries, a baseline regression and nested check groups.
func fullSummary() *summary.Summary {
	const dur = 180
	noise := lcg(42)
	var series []summary.Point
	for t := 0; t < dur; t++ {
		var rps, p50 int // p50 in tenths of a ms
		switch {
		case t < 30: // warmup ramps up
			rps, p50 = 20+t*4/3+noise.next(5), 200+noise.next(40)
		case t < 110:
			rps, p50 = 80+noise.next(9), 210+noise.next(50)
		case t < 140: // spike: the API saturates
			rps, p50 = 150+noise.next(12), 1500+(t-110)*40+noise.next(200)
		default: // recovery decays back to the steady state
			k := t - 140
			rps, p50 = 80+noise.next(9), 210+2400*8/(8+k*k)+noise.next(50)
		}
		p := summary.Point{T: float64(t), Requests: int64(rps), RPS: float64(rps)}
		// browse's schedule: a ramp to 60 iterations/s, 100 in the spike,
		// where a tenth of them find no VU; writers is closed-model.
		switch {
		case t < 30:
			p.Target = float64(2 * t)
		case t >= 110 && t < 140:
			p.Target, p.Dropped = 100, 10
		default:
			p.Target = 60
		}
		p.Iterations = int64(p.Target) - p.Dropped + 13
		// An iteration keeps a VU about half a second, a second in the
		// spike; the ten writers' VUs are always busy.
		p.VUs = float64(p.Iterations-13)/2 + 10
		if t >= 110 && t < 140 {
			p.VUs = float64(p.Iterations-13) + 10
		}
		if t == 75 { // a one-second stall: no request started
			p.Requests, p.RPS, p.Iterations = 0, 0, 0
			series = append(series, p)
			continue
		}
		if t >= 110 && t < 146 {
			p.Failures = int64(1 + noise.next(4))
		} else if noise.next(20) == 0 {
			p.Failures = 1
		}
		// The failures are 503s, and in the spike one 429 for each.
		p.Statuses = map[string]int64{"2xx": p.Requests - p.Failures, "5xx": p.Failures}
		if t >= 110 && t < 140 {
			p.Statuses["4xx"] = 1
			p.Statuses["2xx"]--
		}
		p.P50 = float64(p50) / 10
		p.P95 = float64(p50*3+noise.next(60)) / 10
		p.P99 = float64(p50*5+noise.next(200)) / 10
		p.Max = float64(p50*7+noise.next(400)) / 10
		p.P95Uncorrected = p.P95
		if t >= 110 && t < 150 { // coordinated omission hides the queueing
			p.P95Uncorrected = float64(p50*2) / 10
		}
		series = append(series, p)
	}

	root := summary.NewRootGroup()
	root.Check("list 200").Passes = 9840
	cd := root.Group("create and delete")
	create := cd.Check("create 201")
	create.Passes, create.Fails = 2330, 70
	cd.Check("delete 200").Passes = 2330
	cd.Group("cleanup").Check("gone 404").Passes = 2330

	lat := func(avg, min, med, max, p90, p95, p99 float64) map[string]float64 {
		return map[string]float64{"avg": avg, "min": min, "med": med, "max": max, "p(90)": p90, "p(95)": p95, "p(99)": p99}
	}
	metrics := map[string]summary.Metric{
		"http_req_duration":             {Values: lat(61.72, 3.01, 24.6, 2140.33, 160.2, 212.4, 912.7), Thresholds: map[string]bool{"p(95)<300": false, "p(99)<800": true}},
		"http_req_duration_uncorrected": {Values: lat(41.3, 3.01, 22.9, 1210.5, 98.4, 131.8, 402.2)},
		"http_req_duration{endpoint:create}": {
			Values: lat(38.2, 4.2, 30.1, 690.4, 61.9, 72.13, 210.5), Thresholds: map[string]bool{"p(95)<50": true},
		},
		"http_req_duration{phase:spike}":     {Values: lat(402.1, 12.4, 310.6, 2140.33, 820.5, 951.2, 1210.0), Thresholds: map[string]bool{"p(99)<1500": false}},
		"http_req_duration{endpoint:export}": {Values: map[string]float64{}, Thresholds: map[string]bool{"p(95)<500": false}},
		"http_req_failed":                    {Values: map[string]float64{"passes": 172, "fails": 16661, "value": 0.010218}, Thresholds: map[string]bool{"rate<0.02": false}},
		"http_reqs":                          {Values: map[string]float64{"count": 16833, "rate": 93.516667}},
		"checks":                             {Values: map[string]float64{"passes": 16830, "fails": 70, "value": 0.995858}, Thresholds: map[string]bool{"rate>0.99": false}},
		"data_received":                      {Values: map[string]float64{"count": 8837325, "rate": 49096.25}},
		"data_sent":                          {Values: map[string]float64{"count": 2862, "rate": 15.9}},
		// Whole journeys: a browse is four requests and their think time.
		"iteration_duration":                 {Values: lat(412.6, 55.2, 301.4, 4210.9, 702.3, 990.1, 2410.5)},
		"iteration_duration{journey:browse}": {Values: lat(480.2, 61.3, 340.8, 4210.9, 780.4, 1120.4, 2610.7), Thresholds: map[string]bool{"p(95)<1500": false}},
	}

	s := &summary.Summary{RootGroup: root, Metrics: metrics, Run: summary.Run{
		Format: summary.Format, Version: summary.Version,
		ID: "20261128T150218Z-browse-and-write", Engine: "taskready",
		Name:        "browse-and-write",
		Description: "Readers browse and search while writers create and delete tasks; a spike at 110s.",
		File:        "scenarios/browse-and-write.yaml",
		Target:      "http://127.0.0.1:5000",
		Start:       fixtureStart, End: fixtureStart.Add(dur * time.Second), Duration: dur,
		Environment: summary.Environment{Provider: "embedded", APIInstances: 2, Host: "ci-runner-7", OS: "linux", Arch: "amd64", CPUs: 8, GoVersion: "go1.26.0", Harness: "taskready dev"},
		Scenarios: []summary.Scenario{
			{Name: "browse", Executor: "ramping-arrival-rate", TargetRate: 60, AchievedRate: 58.4, Planned: 10800, Iterations: 10512, Dropped: 288, VUsMax: 40},
			{Name: "writers", Executor: "constant-vus", Iterations: 2400, VUsMax: 10},
		},
		Validity: summary.Validity{Valid: true, GeneratorCPU: 0.234, SendLagP99: 1.8, Checks: []summary.ValidityCheck{
			{Name: "generator CPU", OK: true, Observed: "23.4%", Limit: "< 80%"},
			{Name: "send lag p99", OK: true, Observed: "1.8ms", Limit: "< 10ms"},
			{Name: "dropped iterations", OK: true, Observed: "2.67%", Limit: "< 5%"},
		}},
		Endpoints: []summary.Breakdown{
			{Scenario: "browse", Endpoint: "get", Requests: 4210, Failures: 12, FailureRate: 0.00285, RPS: 23.39, Min: 3.01, Avg: 48.2, Med: 21.4, P90: 120.5, P95: 180.2, P99: 820.1, Max: 1980.2, P95Uncorrected: 110.4, ChecksPassed: 4195, ChecksFailed: 15, Statuses: map[string]int64{"200": 4198, "503": 12}},
			{Scenario: "browse", Endpoint: "list", Requests: 5630, Failures: 60, FailureRate: 0.01066, RPS: 31.28, Min: 4.4, Avg: 80.3, Med: 27.9, P90: 190.3, P95: 260.7, P99: 1010.2, Max: 2140.33, P95Uncorrected: 150.2, ChecksPassed: 5570, ChecksFailed: 60, Statuses: map[string]int64{"200": 5570, "503": 58, "no response": 2}},
			{Scenario: "writers", Endpoint: "create", Requests: 2400, Failures: 70, FailureRate: 0.02917, RPS: 13.33, Min: 4.2, Avg: 38.2, Med: 30.1, P90: 61.9, P95: 72.13, P99: 210.5, Max: 690.4, P95Uncorrected: 70.2, ChecksPassed: 2330, ChecksFailed: 70, Statuses: map[string]int64{"201": 2330, "429": 70}},
			{Scenario: "writers", Endpoint: "delete", Requests: 2330, Failures: 0, RPS: 12.94, Min: 3.5, Avg: 25.6, Med: 21.2, P90: 44.8, P95: 55.1, P99: 120.9, Max: 402.6, P95Uncorrected: 55.1, ChecksPassed: 2330, Statuses: map[string]int64{"200": 2330}},
			{Scenario: "writers", Endpoint: "list", Requests: 2263, Failures: 30, FailureRate: 0.01326, RPS: 12.57, Min: 4.1, Avg: 52.1, Med: 25.3, P90: 98.4, P95: 150.6, P99: 640.3, Max: 1501.9, P95Uncorrected: 96.2, ChecksPassed: 2233, ChecksFailed: 30, Statuses: map[string]int64{"200": 2233, "503": 30}},
			{Scenario: "writers", Endpoint: "export | csv", Requests: 0},
		},
		// The corrected latencies of all 16,833 requests, as
		// summary.Distribution buckets them.
		Distribution: []summary.Bucket{{UpTo: 5, Count: 310}, {UpTo: 10, Count: 1840}, {UpTo: 20, Count: 5120}, {UpTo: 50, Count: 5480},
			{UpTo: 100, Count: 1720}, {UpTo: 200, Count: 1180}, {UpTo: 500, Count: 610}, {UpTo: 1000, Count: 420}, {UpTo: 2000, Count: 150}, {UpTo: 5000, Count: 3}},
		// Why they failed, as summary.Failures sorts them: the same
		// requests as the statuses above, and three 200s of get whose
		// check failed.
		Failures: []summary.Failure{
			{Scenario: "writers", Endpoint: "create", Reason: "status 429 Too Many Requests", Count: 70, Share: 70.0 / 2400},
			{Scenario: "browse", Endpoint: "list", Reason: "status 503 Service Unavailable", Count: 58, Share: 58.0 / 5630},
			{Scenario: "writers", Endpoint: "list", Reason: "status 503 Service Unavailable", Count: 30, Share: 30.0 / 2263},
			{Scenario: "browse", Endpoint: "get", Reason: "status 503 Service Unavailable", Count: 12, Share: 12.0 / 4210},
			{Scenario: "browse", Endpoint: "get", Reason: `check: body lacks "title"`, Count: 3, Share: 3.0 / 4210},
			{Scenario: "browse", Endpoint: "list", Reason: "connection reset", Count: 2, Share: 2.0 / 5630},
		},
		Journeys: []summary.Journey{
			{Scenario: "browse", Journey: "browse", Iterations: 10512, Rate: 58.4, Min: 61.3, Avg: 482.5, Med: 342.1, P90: 783.2, P95: 1124.9, P99: 2615.3, Max: 4210.9, P95Uncorrected: 910.6},
			{Scenario: "writers", Journey: "browse", Iterations: 400, Rate: 2.22, Min: 70.2, Avg: 420.3, Med: 331.6, P90: 701.5, P95: 990.7, P99: 1810.2, Max: 2304.5, P95Uncorrected: 990.7},
			{Scenario: "writers", Journey: "write", Iterations: 2000, Rate: 11.11, Min: 55.2, Avg: 201.9, Med: 160.4, P90: 301.2, P95: 402.8, P99: 903.6, Max: 1450.1, P95Uncorrected: 402.8},
		},
		Phases: []summary.Breakdown{
			{Phase: "warmup", Requests: 1580, Failures: 2, FailureRate: 0.00127, RPS: 52.67, Min: 3.01, Avg: 24.1, Med: 20.9, P90: 52.3, P95: 64.8, P99: 110.2, Max: 160.4, P95Uncorrected: 64.8},
			{Phase: "steady", Requests: 6720, Failures: 5, FailureRate: 0.00074, RPS: 84.0, Min: 3.2, Avg: 26.8, Med: 23.4, P90: 60.1, P95: 71.5, P99: 128.3, Max: 201.6, P95Uncorrected: 71.5},
			{Phase: "spike", Requests: 4683, Failures: 150, FailureRate: 0.03203, RPS: 156.1, Min: 12.4, Avg: 402.1, Med: 310.6, P90: 820.5, P95: 951.2, P99: 1210.0, Max: 2140.33, P95Uncorrected: 480.3},
			{Phase: "recovery", Requests: 3850, Failures: 15, FailureRate: 0.0039, RPS: 96.25, Min: 3.3, Avg: 61.2, Med: 25.1, P90: 150.4, P95: 290.8, P99: 720.4, Max: 1320.7, P95Uncorrected: 160.2},
		},
		Timeline: []summary.Span{
			{Scenario: "browse", Phase: "warmup", From: 0, To: 30},
			{Scenario: "browse", Phase: "steady", From: 30, To: 110},
			{Scenario: "browse", Phase: "spike", From: 110, To: 140},
			{Scenario: "browse", Phase: "recovery", From: 140, To: 180},
			{Scenario: "writers", Phase: "steady", From: 0, To: 180},
		},
		Thresholds: []summary.Threshold{
			{Metric: "http_req_duration", Expression: "p(95)<300", Passed: true, Observed: f64(212.4), Reason: "212.4 < 300", Line: 14},
			{Metric: "http_req_duration", Expression: "p(99)<800", Passed: false, Observed: f64(912.7), Reason: "912.7 is not < 800", Line: 15},
			{Metric: "http_req_duration{endpoint:create}", Expression: "p(95)<50", Passed: false, Observed: f64(72.13), Reason: "72.13 is not < 50", Line: 17},
			{Metric: "http_req_duration{phase:spike}", Expression: "p(99)<1500", Passed: true, Observed: f64(1210), Reason: "1210 < 1500", AbortOnFail: true, Line: 19},
			{Metric: "http_req_duration{endpoint:export}", Expression: "p(95)<500", Passed: true, Reason: "no data", Line: 22},
			{Metric: "http_req_failed", Expression: "rate<0.02", Passed: true, Observed: f64(0.010218), Reason: "0.010218 < 0.02", Line: 24},
			{Metric: "iteration_duration{journey:browse}", Expression: "p(95)<1500", Passed: true, Observed: f64(1120.4), Reason: "1120.4 < 1500", Line: 25},
			{Metric: "checks", Expression: "rate>0.99", Passed: true, Observed: f64(0.995858), Reason: "0.995858 > 0.99", Line: 26},
		},
		Recoveries: []summary.Recovery{
			{After: "spike", Metric: "http_req_duration", Stat: "p(95)", Below: 300, Within: 30, RecoveredAfter: f64(6), Passed: true, Reason: "p(95) back under 300 after 6s", Line: 30},
			{After: "spike", Metric: "http_req_failed", Stat: "rate", Below: 0.001, Within: 5, Passed: false, Reason: "rate stayed at or above 0.001 for the 40s left", Line: 33},
		},
		Faults: []summary.Fault{
			{Name: "mongo-down", Target: "mongo-0", Action: "stop", Start: 30.1, End: f64(40.3), Played: true, Requests: 812, Errors: 97,
				FirstError: f64(30.1), LastError: f64(43), P95Before: f64(142.3), P95During: f64(3012), BaselineSeconds: 30, RecoveredAfter: f64(2), Line: 36},
			{Name: "slow-mongo", Target: "mongo", Action: "latency", Detail: "200ms ± 50ms", Start: 45, End: f64(55), Played: true, Requests: 790,
				P95Before: f64(150.2), P95During: f64(688.4), BaselineSeconds: 30, Line: 40},
			{Name: "api-pause", Target: "api-2", Action: "pause", Error: "pause api-2: not supported", Line: 45},
		},
		Writes: &summary.Writes{Acknowledged: 2412, Uncertain: 31, Objects: 805, Checked: 805, Lost: 1, Ambiguous: 2,
			Requests: 412, Pace: 50, Seconds: 8.3, Bytes: 805 * 140, Findings: []summary.Finding{
				{Kind: "lost", ID: "6b16e90087b62d52102e12e4", Owner: "seed-000812@example.com", Want: "present, as acknowledged", Got: "absent (404)"},
				{Kind: "ambiguous", ID: "6b16e904bc08447c2819ccfe", Owner: "seed-000901@example.com", Want: "a create the client saw fail", Got: `title "Load test task 3f2a", status "pending"`},
			}},
		Series: series,
		Comparison: &summary.Comparison{Baseline: "out/20261127T100000Z-browse-and-write/summary.json", Verdict: "regression", Rows: []summary.ComparisonRow{
			// As loadtest/compare fills them: Change is (new-old)/old, Low
			// and High bound new-old in the statistic's unit.
			{Name: "browse/list/-", Metric: "p95 latency", Old: 188.6, New: 260.7, Change: 0.382, Low: 55.1, High: 88.9, Verdict: "regression", Reason: "+72.1ms (+38.2%), beyond the 10% and 5ms thresholds"},
			{Name: "writers/create/-", Metric: "p95 latency", Old: 70.0, New: 72.13, Change: 0.0304, Low: -1.4, High: 5.6, Verdict: "inconclusive", Reason: "the interval holds 0"},
			{Name: "all", Metric: "error rate", Old: 0.0098, New: 0.0102, Change: 0.0408, Low: -0.0008, High: 0.0016, Verdict: "no change", Reason: "within 0.5pp"},
			{Name: "writers/delete/-", Metric: "p95 latency", Old: 61.2, New: 55.1, Change: -0.0997, Verdict: "improvement", Reason: "-6.1ms (-10.0%)"},
			{Name: "all", Metric: "p95 latency", Old: 168.3, New: 212.4, Change: 0.262, Low: 30.2, High: 58.8, Verdict: "regression", Reason: "+44.1ms (+26.2%), beyond the 10% and 5ms thresholds"},
		}, BaselineRun: &summary.BaselineRun{ID: "20261127T100000Z-browse-and-write", Start: fixtureStart.Add(-29 * time.Hour), Commit: "4f1c3c9d0e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"},
			Calibration: &summary.Calibration{File: "calibration.json", Pairs: 10, FalsePositiveRate: 0.1, Detectable: 0.18, Suggested: 0.12, MinEffect: 0.12,
				MeasuredRunNoise: 0.043, RunNoise: 0.043}},
	}}
	s.Run.Decide()
	return s
}

// emptySummary is a run that sent nothing: no series, no metrics, no
// requests, no checks, zero duration. Every report must still render.
func emptySummary() *summary.Summary {
	s := &summary.Summary{RootGroup: summary.NewRootGroup(), Metrics: map[string]summary.Metric{}, Run: summary.Run{
		Format: summary.Format, Version: summary.Version,
		ID: "empty", Engine: "taskready", Name: "empty",
		Start: fixtureStart, End: fixtureStart,
		Environment: summary.Environment{OS: "linux", Arch: "amd64", CPUs: 2},
		Validity:    summary.Validity{Valid: true},
		Scenarios:   []summary.Scenario{{Name: "idle", Executor: "constant-arrival-rate", TargetRate: 10}},
	}}
	s.Run.Decide()
	return s
}

// invalidSummary is an invalid run with a single point of series: the
// generator ran out of CPU, so its outcome is INVALID (amber), and the
// charts have one interval to draw.
func invalidSummary() *summary.Summary {
	s := &summary.Summary{RootGroup: summary.NewRootGroup(), Metrics: map[string]summary.Metric{
		"http_req_duration": {Values: map[string]float64{"avg": 120.5, "min": 80.1, "med": 110.2, "max": 400.9, "p(90)": 190.2, "p(95)": 240.7, "p(99)": 380.4}, Thresholds: map[string]bool{"p(95)<200": true}},
		"http_req_failed":   {Values: map[string]float64{"passes": 0, "fails": 40, "value": 0}},
		"http_reqs":         {Values: map[string]float64{"count": 40, "rate": 40}},
	}, Run: summary.Run{
		Format: summary.Format, Version: summary.Version,
		ID: "tiny", Engine: "k6", Name: "tiny <overloaded> & \"quoted\"",
		Target: "http://api.internal:8080/v1?x=<y>",
		Start:  fixtureStart, End: fixtureStart.Add(time.Second), Duration: 1,
		Environment: summary.Environment{Provider: "external", OS: "linux", Arch: "arm64", CPUs: 1},
		Scenarios:   []summary.Scenario{{Name: "burst", Executor: "constant-arrival-rate", TargetRate: 500, AchievedRate: 40, Planned: 500, Iterations: 40, Dropped: 460, VUsMax: 1}},
		Validity: summary.Validity{Valid: false, GeneratorCPU: 0.991, SendLagP99: 412.5, Checks: []summary.ValidityCheck{
			{Name: "generator CPU", OK: false, Observed: "99.1%", Limit: "< 80%"},
			{Name: "send lag p99", OK: false, Observed: "412.5ms", Limit: "< 10ms"},
			{Name: "dropped iterations", OK: false, Observed: "92%", Limit: "< 5%"},
		}},
		Endpoints:  []summary.Breakdown{{Scenario: "burst", Endpoint: "list|all", Requests: 40, RPS: 40, Min: 80.1, Avg: 120.5, Med: 110.2, P90: 190.2, P95: 240.7, P99: 380.4, Max: 400.9, P95Uncorrected: 95.2}},
		Timeline:   []summary.Span{{Scenario: "burst", Phase: "burst", From: 0, To: 1}},
		Thresholds: []summary.Threshold{{Metric: "http_req_duration", Expression: "p(95)<200", Passed: false, Observed: f64(240.7), Reason: "240.7 is not < 200"}},
		Series:     []summary.Point{{T: 0, Requests: 40, RPS: 40, P50: 110.2, P95: 240.7, P99: 380.4, Max: 400.9, P95Uncorrected: 95.2}},
		Aborted:    "interrupted",
	}}
	s.Run.Decide()
	return s
}

// fixtures are the summaries every golden test renders, by name.
var fixtures = []struct {
	name string
	make func() *summary.Summary
}{
	{"full", fullSummary},
	{"empty", emptySummary},
	{"invalid", invalidSummary},
}

// fixture returns a new copy of the fixture name.
func fixture(t *testing.T, name string) *summary.Summary {
	t.Helper()
	for _, fx := range fixtures {
		if fx.name == name {
			return fx.make()
		}
	}
	t.Fatalf("no fixture %q", name)
	return nil
}
