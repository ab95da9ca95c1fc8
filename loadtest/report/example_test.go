package report_test

import (
	"os"

	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/summary"
)

func ExampleText() {
	obs := 212.4
	s := &summary.Summary{
		Metrics: map[string]summary.Metric{
			"http_reqs":       {Values: map[string]float64{"count": 1200, "rate": 20}},
			"http_req_failed": {Values: map[string]float64{"passes": 0, "fails": 1200, "value": 0}},
		},
		Run: summary.Run{
			Name: "smoke", Target: "http://localhost:5000", Duration: 60, Engine: "taskready",
			Validity: summary.Validity{Valid: true, GeneratorCPU: 0.05, SendLagP99: 0.4,
				Checks: []summary.ValidityCheck{{Name: "send lag p99", OK: true, Observed: "400µs", Limit: "20ms"}}},
			Thresholds: []summary.Threshold{{Metric: "http_req_duration", Expression: "p(95)<300", Passed: true, Observed: &obs}},
		},
	}
	s.Run.Decide()
	if err := report.Text(os.Stdout, s); err != nil {
		panic(err)
	}
	// Output:
	//
	//   █ smoke → http://localhost:5000  ·  1m0s  ·  engine taskready
	//
	//   █ THRESHOLDS
	//
	//     http_req_duration
	//     ✓ 'p(95)<300' p(95)=212.4ms
	//
	//   █ VALIDITY
	//
	//     ✓ valid run (1 check passed)
	//
	//     generator_cpu...: 5.00% of all cores
	//     send_lag_p99....: 400µs
	//
	//   █ TOTAL RESULTS
	//
	//     HTTP
	//     http_req_failed...: 0.00% 0 out of 1200
	//     http_reqs.........: 1200  20.000000/s
	//
	// PASSED (exit 0)
}
