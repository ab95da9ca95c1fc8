package threshold_test

import (
	"fmt"

	"github.com/taskready/taskready/loadtest/threshold"
)

// summary stands in for the statistics of a finished run, keyed by
// selector and then by statistic.
type summary map[string]fakeStats

func (s summary) of(sel threshold.Selector) threshold.Stats { return s[sel.String()] }

func Example() {
	// As decoded from a scenario's YAML thresholds section.
	config := map[string][]any{
		"http_req_duration{endpoint:list}": {"p(95)<300", "avg<200"},
		"http_req_failed":                  {"rate<0.01"},
		"checks":                           {map[string]any{"threshold": "rate>0.99", "abortOnFail": true}},
	}
	run := summary{
		"http_req_duration{endpoint:list}": {"p(95)": 212.41, "avg": 231.7},
		"http_req_failed":                  {"rate": 0.002},
		"checks":                           {},
	}
	for _, key := range []string{"http_req_duration{endpoint:list}", "http_req_failed", "checks"} {
		ths, err := threshold.ParseList(key, config[key])
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, th := range ths {
			fmt.Println(threshold.Evaluate(th, run.of(th.Selector)))
		}
	}
	// Output:
	// ✓ http_req_duration{endpoint:list} p(95)<300  observed 212.4
	// ✗ http_req_duration{endpoint:list} avg<200  observed 231.7
	// ✓ http_req_failed rate<0.01  observed 0.002
	// ✓ checks rate>0.99  no data
}

func ExampleParseExpression() {
	e, err := threshold.ParseExpression("p( 99.9 ) <= 1000")
	fmt.Println(e, err)

	_, err = threshold.ParseExpression("p95<300")
	fmt.Println(err)
	_, err = threshold.ParseExpression("p(95)<300ms")
	fmt.Println(err)
	// Output:
	// p(99.9)<=1000 <nil>
	// threshold expression "p95<300": column 1: unknown aggregation "p95"; did you mean "p(95)"? (k6 knows avg, min, med, max, p(N), count, rate, value)
	// threshold expression "p(95)<300ms": column 10: unit "ms" is not allowed: k6 threshold values are plain numbers, and trend metrics such as http_req_duration are in milliseconds, so write 300 for 300ms
}

func ExampleParseSelector() {
	s, err := threshold.ParseSelector("http_req_duration{ phase : spike, endpoint:'list' }")
	fmt.Println(s, err)
	fmt.Println(s.Matches(map[string]string{"endpoint": "list", "phase": "spike", "status": "200"}))

	_, err = threshold.ParseSelector("http_req_duration{endpoint:list")
	fmt.Println(err)
	// Output:
	// http_req_duration{endpoint:list,phase:spike} <nil>
	// true
	// threshold selector "http_req_duration{endpoint:list": column 32: missing "}" to close the tag list opened at column 18
}
