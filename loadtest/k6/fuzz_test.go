package k6

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/threshold"
)

// maxFuzzInput caps the fuzzers' inputs: the readers' work is per line
// or per field, and short inputs explore that faster.
const maxFuzzInput = 4 << 10

// streamExcerpt returns the first lines of a fixture stream, at most n
// bytes: declarations, a request's points, a check.
func streamExcerpt(f *testing.F, dir string, n int) []byte {
	file, err := os.Open(fixturePath(dir, "samples.ndjson.gz"))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	zr, err := gzip.NewReader(file)
	if err != nil {
		f.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(zr)
	for sc.Scan() && out.Len()+len(sc.Bytes())+1 <= n {
		out.Write(sc.Bytes())
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return out.Bytes()
}

func FuzzReadStream(f *testing.F) {
	excerpt := streamExcerpt(f, "passing", 3<<10)
	f.Add(excerpt)
	f.Add(gzipped(excerpt[:1<<10]))
	f.Add([]byte(`{"type":"Metric","data":{"name":"vus","type":"gauge","contains":"default","thresholds":["value<10"],"submetrics":null},"metric":"vus"}
{"metric":"vus","type":"Point","data":{"time":"2026-11-28T15:05:23.155607232Z","value":3,"tags":{}}}
{"metric":"http_req_duration","type":"Point","data":{"time":"2026-11-28T15:05:23Z","value":10,"tags":{"scenario":"s","group":"","status":"0","error":"x"}}}
{"metric":"checks","type":"Point","data":{"time":"2026-11-28T15:05:23.1Z","value":1,"tags":{"scenario":"s","group":"","check":"c"}}}
{"metric":"http_req_failed","type":"Point","data":{"time":"2026-11-28T15:05:23Z","value":1,"tags":{"scenario":"s","group":"","status":"0","error":"x"}}}
`))
	f.Add([]byte("\x1f\x8b"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		s, err := ReadStream(bytes.NewReader(data))
		if err != nil {
			return
		}
		if s.Recorder == nil {
			t.Fatal("no recorder without an error")
		}
		snap := s.Recorder.Snapshot()
		var checks int64
		for _, c := range s.Checks {
			checks += c.Passes + c.Fails
		}
		if s.ChecksFolded > checks || snap.Total.ChecksPassed+snap.Total.ChecksFailed != s.ChecksFolded {
			t.Fatalf("folded %d checks of %d; the recorder has %d", s.ChecksFolded, checks, snap.Total.ChecksPassed+snap.Total.ChecksFailed)
		}
		if s.Start.After(s.End) {
			t.Fatalf("start %s after end %s", s.Start, s.End)
		}
		ts, _ := s.DeclaredThresholds()
		s.Evaluate(ts)
		// A gate never passes on no data: an import of a stream without a
		// request is an error, never a verdict. (Only then: converting
		// every input would slow the fuzzer several times over.)
		if snap.Total.Count == 0 && s.Requests <= 0 {
			if sum, err := Summary(nil, s, "fuzz"); err == nil {
				t.Fatalf("a stream without requests imported as %+v", sum.Run.Outcome)
			}
		}
	})
}

func FuzzReadSummaryExport(f *testing.F) {
	full, err := os.ReadFile(fixturePath("threshold-crossed", "summary-export.json"))
	if err != nil {
		f.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, full); err != nil {
		f.Fatal(err)
	}
	if compact.Len() <= maxFuzzInput {
		f.Add(compact.Bytes())
	}
	f.Add([]byte(`{"root_group":{"name":"","path":"","id":"x","groups":{"g":{"name":"g","path":"::g","groups":{},"checks":{"c":{"name":"c","passes":2,"fails":1}}}},"checks":{}},
"metrics":{"http_req_duration{endpoint:create}":{"avg":1,"p(95)":72.1377,"thresholds":{"p(95)<50":true}},
"http_req_failed":{"passes":0,"fails":501,"value":0,"thresholds":{"rate<0.01":false}},
"vus":{"value":6,"min":2,"max":6},"http_reqs":{"count":501,"rate":91.3}},"setup_data":{"token":"t"}}`))
	f.Add([]byte(`{"metrics":{"x":{"count":1,"thresholds":{"count>0":false,"bad expr":true}}},"root_group":{"checks":[{"name":"a"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		s, err := ReadSummaryExport(bytes.NewReader(data))
		if err != nil {
			return
		}
		crossed := false
		for _, r := range s.Thresholds() {
			crossed = crossed || !r.Passed
			if _, ok := s.Metrics[r.Metric]; !ok {
				t.Fatalf("a result for metric %q, which the export lacks", r.Metric)
			}
			if e, err := threshold.ParseExpression(r.Expression); err == nil {
				_, _, _ = e.Holds(s.Metrics[r.Metric])
			}
		}
		if crossed != s.Crossed() {
			t.Fatalf("Crossed() = %v, but the results say %v", s.Crossed(), crossed)
		}
		for name, m := range s.Metrics {
			if m.Name != name || (m.Selector.Metric != "" && !strings.HasPrefix(name, m.Selector.Metric)) {
				t.Fatalf("metric %q: %+v", name, m)
			}
			if nonZero, zero, _ := m.RateCounts(); nonZero < 0 || zero < 0 {
				t.Fatalf("metric %q: negative counts %d, %d were accepted", name, nonZero, zero)
			}
		}
		// A gate never passes on no data: without a request the import is
		// an error, never a verdict.
		sum, err := Summary(s, nil, "fuzz")
		if err == nil && !(s.Metrics["http_reqs"].Values["count"] > 0) {
			t.Fatalf("an export without requests imported as %+v", sum.Run.Outcome)
		}
	})
}
