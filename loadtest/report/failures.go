package report

import (
	"strconv"

	"github.com/taskready/taskready/loadtest/summary"
)

// maxTextFailures is how many failure reasons the terminal lists before
// "and N more": the few that explain most failures, not a wall of them.
const maxTextFailures = 5

// failureView is one reason requests failed, in the words every report
// prints, so the terminal, Markdown and HTML say the same thing.
type failureView struct {
	Count, Reason, Endpoint, Scenario, Share string
	// Where is the endpoint, with its scenario when another scenario
	// has an endpoint of the same name (as the endpoint rows name it).
	Where string
}

// failures returns the run's failure reasons, most frequent first, as
// the summary lists them.
func failures(s *summary.Summary) []failureView {
	fs := s.Run.Failures
	if len(fs) == 0 {
		return nil
	}
	shared := sharedEndpoints(s.Run.Endpoints)
	out := make([]failureView, 0, len(fs))
	for _, f := range fs {
		where := f.Endpoint
		if where == "" {
			where = "–"
		}
		if shared[f.Endpoint] && f.Scenario != "" {
			where += " in " + f.Scenario
		}
		out = append(out, failureView{Count: thousands(f.Count), Reason: f.Reason, Endpoint: f.Endpoint, Scenario: f.Scenario,
			Share: percent(f.Share), Where: where})
	}
	return out
}

// moreFailures is the line after the first n of fs in a short list,
// "" when none is left out.
func moreFailures(fs []failureView, n int) string {
	if len(fs) <= n {
		return ""
	}
	rest := len(fs) - n
	noun := " more reasons"
	if rest == 1 {
		noun = " more reason"
	}
	return "and " + strconv.Itoa(rest) + noun
}
