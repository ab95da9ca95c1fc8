package capacity_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/loadtest/capacity"
	"github.com/taskready/taskready/loadtest/summary"
)

// The document's field names are a contract with scripts: a golden file
// holds them.
func TestReportGolden(t *testing.T) {
	res := capacity.Result{
		Rate: 80, Why: "80/s held and 160/s did not",
		Steps: []capacity.Step{
			{Rate: 10, Passed: true, GeneratorKeptUp: true, Achieved: 10, P95: 12.5, Outcome: summary.StatusPassed},
			{Rate: 160, GeneratorKeptUp: true, Achieved: 151.2, P95: 840.25, Errors: 0.02, Outcome: summary.StatusCrossed,
				Reasons: []string{"http_req_duration p(95)<500 crossed: 840.25"}},
			{Rate: 80, Passed: true, GeneratorKeptUp: true, Achieved: 80, P95: 95, Outcome: summary.StatusPassed},
		},
	}
	data, err := json.MarshalIndent(capacity.NewReport(res, "load", "http://127.0.0.1:5000", 2, 30*time.Second), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "report.json", append(data, '\n'))
}
