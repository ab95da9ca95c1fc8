package k6

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/threshold"
)

func readStream(t *testing.T, dir string, opts ...StreamOption) *Stream {
	t.Helper()
	f, err := os.Open(fixturePath(dir, "samples.ndjson.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ReadStream(f, opts...)
	if err != nil {
		t.Fatalf("ReadStream(%s): %v", dir, err)
	}
	return s
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadStreamMatchesSummary checks the stream against k6's own summary
// of the same run: the counts exactly, the percentiles to the recorder's
// precision against k6's interpolation.
func TestReadStreamMatchesSummary(t *testing.T) {
	for _, dir := range fixtures {
		t.Run(dir, func(t *testing.T) {
			sum := readSummary(t, dir)
			s := readStream(t, dir)
			snap := s.Recorder.Snapshot()
			value := func(metric, key string) float64 {
				v, ok := sum.Metrics[metric].Values[key]
				if !ok {
					t.Fatalf("summary has no %s %s", metric, key)
				}
				return v
			}
			// http_reqs counts setup()'s register request too: one sample each.
			reqs := int64(value("http_reqs", "count"))
			if s.Requests != reqs || snap.Total.Count != reqs {
				t.Errorf("requests: stream %d, recorder %d; summary http_reqs %d", s.Requests, snap.Total.Count, reqs)
			}
			setup := snap.Select(map[string]string{"scenario": ""})
			if setup.Count != 1 || setup.Statuses[201] != 1 {
				t.Errorf("setup requests (no scenario tag) = %+v, want the one register", setup)
			}
			failed, _, _ := sum.Metrics["http_req_failed"].RateCounts()
			if s.Failed != failed || snap.Total.Failures != failed {
				t.Errorf("failed: stream %d, recorder %d; summary %d", s.Failed, snap.Total.Failures, failed)
			}
			for _, c := range []struct {
				name string
				got  int64
			}{
				{"iterations", s.Iterations},
				{"data_sent", s.DataSent},
				{"data_received", s.DataReceived},
			} {
				if want := int64(value(c.name, "count")); c.got != want {
					t.Errorf("%s = %d, summary %d", c.name, c.got, want)
				}
			}
			if s.VUs.Max != value("vus", "max") || s.VUs.Min != value("vus", "min") || s.VUsMax.Max != value("vus_max", "max") {
				t.Errorf("vus %+v, vus_max %+v; summary vus max %v", s.VUs, s.VUsMax, value("vus", "max"))
			}
			var passes, fails int64
			for _, c := range s.Checks {
				passes, fails = passes+c.Passes, fails+c.Fails
			}
			if passes != int64(value("checks", "passes")) || fails != int64(value("checks", "fails")) {
				t.Errorf("checks %d/%d, summary %v/%v", passes, fails, value("checks", "passes"), value("checks", "fails"))
			}
			// Every check found its request, and per endpoint too.
			if s.ChecksFolded != passes+fails || snap.Total.ChecksPassed != passes {
				t.Errorf("folded %d checks, recorder has %d passed; want %d", s.ChecksFolded, snap.Total.ChecksPassed, passes)
			}
			for _, ep := range []string{"list", "create", "delete"} {
				st := snap.Select(map[string]string{"endpoint": ep})
				if st.ChecksPassed != st.Count {
					t.Errorf("endpoint %s: %d checks passed for %d requests", ep, st.ChecksPassed, st.Count)
				}
			}

			for _, tc := range []struct {
				metric string
				tags   map[string]string
			}{
				{"http_req_duration", nil},
				{"http_req_duration{endpoint:create}", map[string]string{"endpoint": "create"}},
				{"http_req_duration{endpoint:list}", map[string]string{"endpoint": "list"}},
			} {
				st := snap.Select(tc.tags)
				for _, p := range []float64{90, 95} {
					key := "p(" + formatFloat(p) + ")"
					want := value(tc.metric, key)
					got := ms(st.Latency.Percentile(p))
					if math.Abs(got-want)/want > 0.02 {
						t.Errorf("%s %s: recorder %.4f, k6 %.4f: more than 2%% apart", tc.metric, key, got, want)
					}
				}
				for _, k := range []string{"min", "max"} {
					got := ms(st.Latency.Min)
					if k == "max" {
						got = ms(st.Latency.Max)
					}
					if want := value(tc.metric, k); math.Abs(got-want) > 1e-3 {
						t.Errorf("%s %s: recorder %.6f, k6 %.6f", tc.metric, k, got, want)
					}
				}
				if got, want := ms(st.Latency.Mean), value(tc.metric, "avg"); math.Abs(got-want)/want > 0.001 {
					t.Errorf("%s avg: recorder %.4f, k6 %.4f", tc.metric, got, want)
				}
			}
			// Every full iteration's duration, as k6 summarised them.
			its := snap.SelectIterations(nil)
			if want := int64(value("iterations", "count")); its.Count != want {
				t.Errorf("iteration_duration: %d iterations in the recorder, summary %d", its.Count, want)
			}
			for _, k := range []string{"min", "max"} {
				got := ms(its.Latency.Min)
				if k == "max" {
					got = ms(its.Latency.Max)
				}
				if want := value("iteration_duration", k); math.Abs(got-want) > 1e-3 {
					t.Errorf("iteration_duration %s: recorder %.6f, k6 %.6f", k, got, want)
				}
			}
			if got, want := ms(its.Latency.Mean), value("iteration_duration", "avg"); math.Abs(got-want)/want > 0.001 {
				t.Errorf("iteration_duration avg: recorder %.4f, k6 %.4f", got, want)
			}
			for _, p := range []float64{90, 95} {
				key := "p(" + formatFloat(p) + ")"
				if got, want := ms(its.Latency.Percentile(p)), value("iteration_duration", key); math.Abs(got-want)/want > 0.02 {
					t.Errorf("iteration_duration %s: recorder %.4f, k6 %.4f: more than 2%% apart", key, got, want)
				}
			}
			// k6's counter rates divide by the test's duration; the stream's
			// span (setup's start to the last point) is within 0.1% of it.
			k6secs := value("http_reqs", "count") / value("http_reqs", "rate")
			if span := s.End.Sub(s.Start).Seconds(); math.Abs(span-k6secs)/k6secs > 0.001 {
				t.Errorf("span %.4fs, k6's duration %.4fs", span, k6secs)
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func formatFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestReadStreamThresholds re-evaluates k6's thresholds on the stream with
// the threshold package: the same verdicts as k6's. The stream declares
// only the whole metrics' thresholds; the sub-metrics' come from the
// summary export (or the script).
func TestReadStreamThresholds(t *testing.T) {
	for _, dir := range fixtures {
		t.Run(dir, func(t *testing.T) {
			sum := readSummary(t, dir)
			s := readStream(t, dir)

			declared, err := s.DeclaredThresholds()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, th := range declared {
				names = append(names, th.String())
			}
			if want := []string{"checks rate>0.99", "http_req_failed rate<0.01"}; !slices.Equal(names, want) {
				t.Errorf("declared thresholds = %q, want %q (sub-metric thresholds are not in the stream)", names, want)
			}
			subs := s.Metrics["http_req_duration"].Submetrics
			if len(subs) != 3 || subs[0].Name != "http_req_duration{endpoint:create}" || subs[0].Tags["endpoint"] != "create" {
				t.Errorf("submetrics = %+v", subs)
			}

			results := sum.Thresholds()
			ts := make([]threshold.Threshold, len(results))
			for i, r := range results {
				if ts[i], err = threshold.Parse(r.Metric, r.Expression); err != nil {
					t.Fatal(err)
				}
			}
			verdicts := s.Evaluate(ts)
			for i, v := range verdicts {
				r := results[i]
				if v.Passed != r.Passed || v.NoData() {
					t.Errorf("%s: stream says %v; k6 said passed=%v", v.Threshold, v, r.Passed)
				}
				if !math.IsNaN(r.Observed) && math.Abs(v.Observed-r.Observed) > 0.02*math.Max(r.Observed, 0.01) {
					t.Errorf("%s: observed %v on the stream, %v by k6", v.Threshold, v.Observed, r.Observed)
				}
			}
		})
	}
}

// TestStreamTimestamps shows what the package documentation says of the
// stream's time stamps: a request's points are stamped when it ended.
// Each check follows its request's points by a fraction of a millisecond,
// while the requests last tens of milliseconds: were they stamped at the
// start, the check would follow by the request's duration.
func TestStreamTimestamps(t *testing.T) {
	for _, dir := range fixtures {
		data := gunzip(t, fixturePath(dir, "samples.ndjson.gz"))
		type point struct {
			Metric string `json:"metric"`
			Type   string `json:"type"`
			Data   struct {
				Time  time.Time         `json:"time"`
				Value float64           `json:"value"`
				Tags  map[string]string `json:"tags"`
			} `json:"data"`
		}
		var gaps, durations []float64
		var last *point
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var p point
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			switch {
			case p.Type != "Point":
			case p.Metric == "http_req_duration":
				last = &p
			case p.Metric == "checks" && last != nil:
				gaps = append(gaps, ms(p.Data.Time.Sub(last.Data.Time)))
				durations = append(durations, last.Data.Value)
			}
		}
		slices.Sort(gaps)
		slices.Sort(durations)
		medGap, medDur := gaps[len(gaps)/2], durations[len(durations)/2]
		if gaps[0] < 0 || medGap > 1 || medDur < 10 {
			t.Errorf("%s: check after its request: min %.3fms, median %.3fms; median duration %.1fms", dir, gaps[0], medGap, medDur)
		}
	}
}

// TestReadStreamSample follows one request from the stream to its sample.
func TestReadStreamSample(t *testing.T) {
	in := strings.Join([]string{
		`{"type":"Metric","data":{"name":"http_req_duration","type":"trend","contains":"time","thresholds":["p(95)<300"],"submetrics":null},"metric":"http_req_duration"}`,
		`{"metric":"http_reqs","type":"Point","data":{"time":"2026-11-28T15:05:22.5Z","value":1,"tags":{"endpoint":"list","phase":"steady","scenario":"browse","group":"","journey":"browse","step":"list","method":"GET","status":"503","name":"/api/tasks"}}}`,
		`{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T15:05:22.5Z","value":250,"tags":{"endpoint":"list","phase":"steady","scenario":"browse","group":"","journey":"browse","step":"list","method":"GET","status":"503","name":"/api/tasks"}}}`,
		`{"metric":"http_req_failed","type":"Point","data":{"time":"2026-11-28T15:05:22.5Z","value":1,"tags":{"endpoint":"list","phase":"steady","scenario":"browse","group":"","journey":"browse","step":"list","method":"GET","status":"503","name":"/api/tasks"}}}`,
		`{"metric":"checks","type":"Point","data":{"time":"2026-11-28T15:05:22.5001Z","value":0,"tags":{"check":"browse list: status 200","endpoint":"list","phase":"steady","scenario":"browse","group":"","journey":"browse","step":"list"}}}`,
		// A request with no response: status 0 and k6's error tag.
		`{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T15:05:23Z","value":10000,"tags":{"endpoint":"create","scenario":"write","group":"","method":"POST","status":"0","error":"request timeout","error_code":"1050"}}}`,
		`{"metric":"http_req_failed","type":"Point","data":{"time":"2026-11-28T15:05:23Z","value":1,"tags":{"endpoint":"create","scenario":"write","group":"","method":"POST","status":"0","error":"request timeout","error_code":"1050"}}}`,
		// k6 fails 1xx by default, the harness does not: k6's verdict is kept.
		`{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T15:05:24Z","value":5,"tags":{"endpoint":"get","scenario":"browse","group":"","status":"101"}}}`,
		`{"metric":"http_req_failed","type":"Point","data":{"time":"2026-11-28T15:05:24Z","value":1,"tags":{"endpoint":"get","scenario":"browse","group":"","status":"101"}}}`,
		`{"type":"Something","data":{}}`,
		``,
	}, "\n")
	origin := time.Date(2026, 11, 28, 15, 5, 0, 0, time.UTC)
	s, err := ReadStream(strings.NewReader(in), Origin(origin), RecorderOptions(record.Interval(10*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Recorder.Snapshot()
	if snap.Start != origin || snap.Interval != 10*time.Second {
		t.Errorf("recorder start %s interval %s", snap.Start, snap.Interval)
	}
	list := snap.Select(map[string]string{"scenario": "browse", "endpoint": "list", "phase": "steady"})
	if list.Count != 1 || list.Failures != 1 || list.ChecksFailed != 1 || list.Statuses[503] != 1 || ms(list.Latency.Max) != 250 {
		t.Errorf("list = %+v", list)
	}
	// Each request started its duration before its point's time: the
	// timeout at 13s, in [10s, 20s), the others in [20s, 30s).
	if len(snap.Intervals) != 3 || snap.Intervals[1].Requests != 1 || snap.Intervals[2].Requests != 2 {
		t.Errorf("intervals = %+v", snap.Intervals)
	}
	if want := time.Date(2026, 11, 28, 15, 5, 13, 0, time.UTC); !s.Start.Equal(want) {
		t.Errorf("Start = %s, want %s (the earliest request start)", s.Start, want)
	}
	timeout := snap.Select(map[string]string{"endpoint": "create"})
	if timeout.Failures != 1 || timeout.Statuses[0] != 1 || timeout.ChecksPassed+timeout.ChecksFailed != 0 {
		t.Errorf("timeout = %+v", timeout)
	}
	if get := snap.Select(map[string]string{"endpoint": "get"}); get.Failures != 1 {
		t.Errorf("1xx: %d failures, k6 said 1", get.Failures)
	}
	if s.Failed != 3 || s.Requests != 1 || s.Points != 8 || s.ChecksFolded != 1 {
		t.Errorf("Failed %d Requests %d Points %d Folded %d", s.Failed, s.Requests, s.Points, s.ChecksFolded)
	}
	if d := s.Metrics["http_req_duration"]; d.Type != threshold.Trend || d.Contains != "time" || !slices.Equal(d.Thresholds, []string{"p(95)<300"}) {
		t.Errorf("declaration = %+v", d)
	}
	// A sample added later is judged by the harness's rule.
	s.Recorder.Add(record.Sample{Endpoint: "later", Status: 101, Start: origin, Latency: time.Millisecond})
	if st := s.Recorder.Snapshot().Select(map[string]string{"endpoint": "later"}); st.Failures != 0 {
		t.Errorf("a later 101 counted as failed")
	}
}

// TestReadStreamStats evaluates thresholds on what else the stream keeps.
func TestReadStreamStats(t *testing.T) {
	s := readStream(t, "threshold-crossed")
	for _, tc := range []struct {
		sel    string
		expr   string
		passed bool
		err    bool
	}{
		{"iterations", "count==350", true, false},
		{"http_reqs", "count==501", true, false},
		{"http_reqs{endpoint:create}", "count==150", true, false},
		{"http_reqs", "rate>91", true, false},
		{"vus", "value==6", true, false},
		{"vus_max", "value==14", true, false},
		{"data_sent", "count==157415", true, false},
		{"checks{check:create 201}", "rate==1", true, false},
		{"checks{scenario:write}", "rate<1", false, false},
		{"http_req_duration{scenario:browse}", "max<200", true, false},
		{"http_req_failed{endpoint:list}", "rate==0", true, false},
		{"http_req_duration{status:200}", "p(95)<100", false, true},
		{"iteration_duration", "p(95)<100", false, false}, // k6: 153ms
		{"iteration_duration", "max<255", true, false},    // k6: 254.48ms
		{"iteration_duration{scenario:browse}", "min>14", true, false},
		{"iteration_duration{endpoint:list}", "p(95)<100", false, true},
		{"iterations{scenario:write}", "count>0", false, true},
	} {
		th, err := threshold.Parse(tc.sel, tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		v := s.Evaluate([]threshold.Threshold{th})[0]
		if v.Passed != tc.passed || strings.HasPrefix(v.Reason, "error: ") != tc.err {
			t.Errorf("%s: %v (%s)", th, v, v.Reason)
		}
		if _, err := s.Stats(th.Selector); (err != nil) != tc.err {
			t.Errorf("Stats(%s): %v", th.Selector, err)
		}
	}
}

func TestReadStreamPlainAndGzip(t *testing.T) {
	plain := gunzip(t, fixturePath("passing", "samples.ndjson.gz"))
	a, err := ReadStream(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	b := readStream(t, "passing")
	as, bs := a.Recorder.Snapshot(), b.Recorder.Snapshot()
	if as.Total.Count != bs.Total.Count || as.Total.Latency.P95 != bs.Total.Latency.P95 || a.Points != b.Points {
		t.Errorf("plain and gzip differ: %d/%d requests, %d/%d points", as.Total.Count, bs.Total.Count, a.Points, b.Points)
	}
}

func TestReadStreamErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"{\"type\":\"Point\",\"metric\":\"x\",\"data\":{\"time\":\"2026-01-01T00:00:00Z\",\"value\":1}}\nnot json\n", "line 2"},
		{`{"type":"Point","metric":"x","data":{"value":1}}`, "no time"},
		{`{"type":"Point","metric":"x","data":{"time":"yesterday","value":1}}`, "line 1"},
		{`{"type":"Point","metric":"x","data":{"time":"2026-01-01T00:00:00Z","value":"1"}}`, "line 1"},
		{`{"type":"Metric","metric":"x","data":[]}`, "declaration"},
		{"\x1f\x8bnot gzip", "gzip"},
		{`{"type":"Point","metric":"http_req_duration","data":{"time":"2026-01-01T00:00:00Z","value":-10}}`, "negative value -10"},
		{`{"type":"Point","metric":"http_reqs","data":{"time":"2026-01-01T00:00:00Z","value":-1}}`, "negative value -1"},
		{`{"type":"Point","metric":"x","data":{"time":"2026-01-01T00:00:00Z","value":1,"tags":{"a":` + strings.Repeat(" ", MaxLine) + `"b"}}}`, "too long"},
	} {
		_, err := ReadStream(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadStream(%.60q): %v, want an error with %q", tc.in, err, tc.want)
		}
	}
	if _, err := ReadStream(strings.NewReader(""), RecorderOptions(record.Interval(0))); err == nil {
		t.Error("a bad recorder option: no error")
	}
	s, err := ReadStream(strings.NewReader(""))
	if err != nil || s.Recorder == nil || s.Requests != 0 {
		t.Errorf("empty stream: %+v, %v", s, err)
	}
}

// TestRequestSample looks at a sample before it goes to the recorder,
// for what the recorder's statistics do not show.
func TestRequestSample(t *testing.T) {
	rd := newStreamReader(streamConfig{})
	end := time.Date(2026, 11, 28, 15, 5, 23, 0, time.UTC)
	rd.point("http_req_duration", rawPoint{Time: end, Value: 1500.5, Tags: map[string]string{
		"scenario": "write", "journey": "write", "step": "create it", "endpoint": "create", "phase": "spike",
		"method": "POST", "status": "0", "error": "request timeout", "error_code": "1050", "name": "/api/tasks",
	}})
	rd.point("http_req_duration", rawPoint{Time: end, Value: 3, Tags: map[string]string{
		"method": "GET", "status": "200", "name": "http://127.0.0.1:5000/api/health",
	}})
	if len(rd.pending) != 2 {
		t.Fatalf("%d pending", len(rd.pending))
	}
	got := rd.pending[0].sample
	want := record.Sample{
		Scenario: "write", Journey: "write", Step: "create it", Endpoint: "create", Phase: "spike",
		Method: "POST", Status: 0, Err: "request timeout",
		Start: end.Add(-1500500 * time.Microsecond), Latency: 1500500 * time.Microsecond,
	}
	if got.Start != want.Start || got.CheckPassed != nil {
		t.Errorf("start %s, want %s", got.Start, want.Start)
	}
	got.Start, want.Start = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("sample = %+v\nwant     %+v", got, want)
	}
	if s := rd.pending[1].sample; s.Endpoint != "http://127.0.0.1:5000/api/health" || s.Err != "" || s.Status != 200 {
		t.Errorf("untagged request: endpoint %q (want the name tag), err %q, status %d", s.Endpoint, s.Err, s.Status)
	}
	for _, tc := range []struct {
		ms   float64
		want time.Duration
	}{{-1, 0}, {math.NaN(), 0}, {0.001, time.Microsecond}, {1e300, time.Duration(math.MaxInt64)}} {
		if got := latency(tc.ms); got != tc.want {
			t.Errorf("latency(%v) = %s, want %s", tc.ms, got, tc.want)
		}
	}
}

// TestReadStreamMaxKeys: a script that tags no endpoint has one name tag
// per URL; the recorder's keys stay bounded.
func TestReadStreamMaxKeys(t *testing.T) {
	var b strings.Builder
	n := MaxKeys + 2*maxOverflowKeys + 10
	for i := range n {
		// Past MaxKeys, each request also brings a new scenario.
		fmt.Fprintf(&b, `{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T15:05:23Z","value":1,"tags":{"scenario":"s%d","name":"/api/tasks/%d","status":"200"}}}`+"\n", max(i-MaxKeys, 0), i)
	}
	s, err := ReadStream(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Recorder.Snapshot()
	if snap.Total.Count != int64(n) || s.Overflow != int64(n-MaxKeys) {
		t.Errorf("%d requests, %d overflowed; want %d, %d", snap.Total.Count, s.Overflow, n, n-MaxKeys)
	}
	if len(snap.Keys) > MaxKeys+maxOverflowKeys+1 {
		t.Errorf("%d keys", len(snap.Keys))
	}
	if other := snap.Select(map[string]string{"endpoint": OtherEndpoint}); other.Count != s.Overflow {
		t.Errorf("%d requests under %s, want %d", other.Count, OtherEndpoint, s.Overflow)
	}
}
