package summary_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/summary"
)

// k6 ids groups and checks by the md5 of their path; a tool that joins
// our summary with k6's must find the same ids.
func TestGroupIDsAreK6s(t *testing.T) {
	root := summary.NewRootGroup()
	g := root.Group("create and delete")
	c := g.Check("create 201")
	for _, tc := range []struct{ got, want string }{
		{root.ID, "d41d8cd98f00b204e9800998ecf8427e"},
		{g.ID, "60a2b34d321708250a0cf3918c58e69e"},
		{c.ID, "10df31b571db1b12cf05a7f3f792e112"},
		{c.Path, "::create and delete::create 201"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s (from k6's own summary export)", tc.got, tc.want)
		}
	}
	if root.Group("create and delete") != g || g.Check("create 201") != c {
		t.Error("Group and Check must return the existing entry")
	}
}

// The metrics of k6's summary export read back into Metric and write out
// with the same values and the same threshold convention (true: crossed).
func TestMetricReadsK6SummaryExport(t *testing.T) {
	// The k6 fixtures live with the k6 interop package that reads them.
	data, err := os.ReadFile("../k6/testdata/k6/threshold-crossed/summary-export.json")
	if err != nil {
		t.Fatalf("k6 fixture: %v", err)
	}
	var doc struct {
		Metrics map[string]summary.Metric `json:"metrics"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	create := doc.Metrics["http_req_duration{endpoint:create}"]
	if create.Values["p(95)"] < 72.13 || create.Values["p(95)"] > 72.14 || !create.Thresholds["p(95)<50"] {
		t.Errorf("create: %+v; want p(95) 72.137 and p(95)<50 crossed", create)
	}
	out, err := json.Marshal(create)
	if err != nil {
		t.Fatal(err)
	}
	var back summary.Metric
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Values["p(95)"] != create.Values["p(95)"] || back.Thresholds["p(95)<50"] != true || len(back.Values) != len(create.Values) {
		t.Errorf("round trip %s gave %+v", out, back)
	}
}

func TestDecide(t *testing.T) {
	valid := summary.Validity{Valid: true}
	invalid := summary.Validity{Checks: []summary.ValidityCheck{{Name: "dropped iterations", Observed: "5%", Limit: "1%"}}}
	crossed := []summary.Threshold{{Metric: "http_req_duration", Expression: "p(95)<300", Reason: "412 is not < 300"}}
	held := []summary.Threshold{{Metric: "http_req_duration", Expression: "p(95)<300", Passed: true}}
	regression := &summary.Comparison{Verdict: "regression", Rows: []summary.ComparisonRow{{Name: "all", Metric: "p95", Verdict: "regression", Reason: "+30%"}}}
	for _, tc := range []struct {
		name string
		run  summary.Run
		want summary.Status
		code int
	}{
		{"pass", summary.Run{Validity: valid, Thresholds: held}, summary.StatusPassed, 0},
		{"crossed", summary.Run{Validity: valid, Thresholds: crossed}, summary.StatusCrossed, 99},
		{"recovery over budget", summary.Run{Validity: valid, Recoveries: []summary.Recovery{{After: "spike", Reason: "never"}}}, summary.StatusCrossed, 99},
		{"regression", summary.Run{Validity: valid, Thresholds: held, Comparison: regression}, summary.StatusRegression, 100},
		{"crossed outranks regression", summary.Run{Validity: valid, Thresholds: crossed, Comparison: regression}, summary.StatusCrossed, 99},
		{"invalid outranks crossed", summary.Run{Validity: invalid, Thresholds: crossed}, summary.StatusInvalid, 101},
		{"inconclusive is no regression", summary.Run{Validity: valid, Comparison: &summary.Comparison{Verdict: "inconclusive"}}, summary.StatusPassed, 0},
		// A run stopped by the user never passes on the part it ran, and
		// a part proves no failure either: nothing is judged.
		{"interrupted is not a pass", summary.Run{Validity: valid, Thresholds: held, Interrupted: true, Aborted: "interrupted"}, summary.StatusAborted, 105},
		{"interrupted outranks crossed", summary.Run{Validity: valid, Thresholds: crossed, Interrupted: true}, summary.StatusAborted, 105},
		{"interrupted outranks invalid", summary.Run{Validity: invalid, Thresholds: crossed, Interrupted: true}, summary.StatusAborted, 105},
		{"an abortOnFail stop is judged", summary.Run{Validity: valid, Thresholds: crossed, Aborted: "p(95)<300 crossed"}, summary.StatusCrossed, 99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.run.Decide()
			if o.Status != tc.want || o.ExitCode != tc.code || tc.run.Outcome.Status != tc.want {
				t.Errorf("outcome %+v, want %s (%d)", o, tc.want, tc.code)
			}
			if tc.code != 0 && len(o.Reasons) == 0 {
				t.Error("a failed outcome must say why")
			}
			if why := strings.Join(o.Reasons, "; "); tc.run.Interrupted && (!strings.Contains(why, "aborted by the user") || !strings.Contains(why, "not judged")) {
				t.Errorf("reasons %q; want them to say the user aborted and nothing was judged", o.Reasons)
			}
		})
	}
}

// An invalid run's reason carries the check's note: a send lag from a
// busy machine says so, rather than leave a low CPU share to puzzle over.
func TestDecideReasonCarriesTheNote(t *testing.T) {
	run := summary.Run{Validity: summary.Validity{Checks: []summary.ValidityCheck{
		{Name: "send lag p99", Observed: "41ms", Limit: "20ms", Note: "the harness waited 9.0s for a CPU and ran 1.1s"},
		{Name: "generator CPU", OK: true, Observed: "6%", Limit: "90%"},
	}}}
	o := run.Decide()
	want := "invalid run: send lag p99 was 41ms (limit 20ms); the harness waited 9.0s for a CPU and ran 1.1s"
	if len(o.Reasons) != 1 || o.Reasons[0] != want {
		t.Errorf("reasons %q; want [%q]", o.Reasons, want)
	}
}

func TestReadRefusesOtherDocuments(t *testing.T) {
	s := &summary.Summary{RootGroup: summary.NewRootGroup(), Metrics: map[string]summary.Metric{}, Run: summary.Run{Format: summary.Format, Version: summary.Version, Name: "x"}}
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := summary.Read(bytes.NewReader(buf.Bytes()))
	if err != nil || back.Run.Name != "x" {
		t.Fatalf("Read of a written summary: %v, %+v", err, back)
	}
	for _, doc := range []string{`{"metrics":{}}`, `{"taskready":{"format":"taskready.summary","version":99}}`, `not json`} {
		if _, err := summary.Read(bytes.NewReader([]byte(doc))); !errors.Is(err, summary.ErrFormat) {
			t.Errorf("Read(%s) = %v, want ErrFormat", doc, err)
		}
	}
}

// A crossed threshold on a phase names the faults played during it.
func TestDecideNamesTheFaultsACrossedThresholdSaw(t *testing.T) {
	end := 8.0
	r := summary.Run{
		Validity: summary.Validity{Valid: true}, Duration: 10,
		Timeline: []summary.Span{{Scenario: "s", Phase: "before", From: 0, To: 5}, {Scenario: "s", Phase: "hit", From: 5, To: 10}},
		Faults:   []summary.Fault{{Name: "mongo-cut", Played: true, Start: 6, End: &end}, {Name: "never", Start: 1}},
		Thresholds: []summary.Threshold{
			{Metric: "http_req_failed{phase:hit}", Expression: "rate<0.01", Reason: "rate=0.4"},
			{Metric: "http_req_failed{phase:before}", Expression: "rate<0.01", Reason: "rate=0.1"},
			{Metric: "lost_writes", Expression: "count==0", Reason: "count=2"},
		},
	}
	o := r.Decide()
	want := []string{
		"threshold http_req_failed{phase:hit} rate<0.01 crossed: rate=0.4 (during fault mongo-cut)",
		"threshold http_req_failed{phase:before} rate<0.01 crossed: rate=0.1",
		"threshold lost_writes count==0 crossed: count=2",
	}
	if o.ExitCode != summary.ExitCrossed || strings.Join(o.Reasons, "\n") != strings.Join(want, "\n") {
		t.Errorf("outcome = %d %q; want 99 and %q", o.ExitCode, o.Reasons, want)
	}
}
