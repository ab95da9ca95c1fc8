package capacity_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/loadtest/capacity"
	"github.com/taskready/taskready/loadtest/summary"
)

// The document's field names are a contract with scripts: a golden file
// holds them.
func TestReportGolden(t *testing.T) {
	res := fixture()
	data, err := json.MarshalIndent(capacity.NewReport(res, "load", "http://127.0.0.1:5000", 2, 30*time.Second), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "report.json", append(data, '\n'))
}

// The page draws each step where its rate and p95 put it, marks those
// that did not hold, and lists every step in rate order.
func TestReportHTML(t *testing.T) {
	res := fixture()
	var b bytes.Buffer
	if err := capacity.NewReport(res, "load", "http://127.0.0.1:5000", 2, 30*time.Second).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "report.html", b.Bytes())
	page := b.String()
	// Rates in order: 10, 80, 160 left to right; one cross for 160/s.
	for _, want := range []string{"80 iterations/s of load&#39;s journeys with 2 API instance(s)", "<title>160/s: did not hold",
		`<td>10/s</td>`, `http_req_duration p(95)&lt;500 crossed: 840.25`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if i, j, k := strings.Index(page, "<td>10/s</td>"), strings.Index(page, "<td>80/s</td>"), strings.Index(page, "<td>160/s</td>"); !(i < j && j < k) {
		t.Errorf("steps not in rate order: %d %d %d", i, j, k)
	}
	if n := strings.Count(page, `stroke="#dc2626" stroke-width="2.5"`); n != 1 {
		t.Errorf("%d crosses; want one, for the step that did not hold", n)
	}
	var text bytes.Buffer
	if err := capacity.NewReport(res, "load", "", 2, time.Second).WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "report.txt", text.Bytes())
}

// fixture is a search of three steps, out of order as a search makes
// them: 10/s held, 160/s did not, 80/s held.
func fixture() capacity.Result {
	return capacity.Result{
		Rate: 80, Why: "80/s held and 160/s did not",
		Steps: []capacity.Step{
			{Rate: 10, Passed: true, GeneratorKeptUp: true, Achieved: 10, P95: 12.5, Outcome: summary.StatusPassed},
			{Rate: 160, GeneratorKeptUp: true, Achieved: 151.2, P95: 840.25, Errors: 0.02, Outcome: summary.StatusCrossed,
				Reasons: []string{"http_req_duration p(95)<500 crossed: 840.25"}},
			{Rate: 80, Passed: true, GeneratorKeptUp: true, Achieved: 80, P95: 95, Outcome: summary.StatusPassed},
		},
	}
}
