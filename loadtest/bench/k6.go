package bench

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/taskready/taskready/loadtest/k6"
)

// k6Script is a k6 script sending GET url in one scenario: constant-vus
// with vus VUs for d when rate is 0, else constant-arrival-rate at rate
// per second with vus pre-allocated VUs and up to maxVUs.
func k6Script(url string, vus, maxVUs, rate int, d time.Duration) string {
	sc := fmt.Sprintf("{ executor: 'constant-vus', vus: %d, duration: '%s' }", vus, d)
	if rate > 0 {
		sc = fmt.Sprintf("{ executor: 'constant-arrival-rate', rate: %d, timeUnit: '1s', duration: '%s', preAllocatedVUs: %d, maxVUs: %d }",
			rate, d, vus, maxVUs)
	}
	return `import http from 'k6/http';

export const options = {
  scenarios: { bench: ` + sc + ` },
  summaryTrendStats: ['med', 'p(99)', 'max'],
};

export default function () {
  http.get(` + strconv.Quote(url) + `);
}
`
}

// k6Result is what the benchmark reads of k6's --summary-export.
type k6Result struct {
	requests, failed, dropped int64
	rps                       float64 // requests over the test's run time
	// p50 and p99 are timed from each request's actual send (k6 does not
	// correct for coordinated omission); p99 is 0 when the export lacks it.
	p50, p99 time.Duration
	vusMax   int64
}

// parseK6 reads k6's --summary-export.
func parseK6(out []byte) (k6Result, error) {
	s, err := k6.ReadSummaryExport(bytes.NewReader(out))
	if err != nil {
		return k6Result{}, err
	}
	reqs, ok := s.Metrics["http_reqs"]
	if !ok || reqs.Values["count"] <= 0 {
		return k6Result{}, fmt.Errorf("k6: summary export: no http_reqs: nothing was sent")
	}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	dur := s.Metrics["http_req_duration"].Values
	r := k6Result{
		requests: int64(reqs.Values["count"]),
		rps:      reqs.Values["rate"],
		p50:      ms(dur["med"]),
		p99:      ms(dur["p(99)"]),
		dropped:  int64(s.Metrics["dropped_iterations"].Values["count"]),
		vusMax:   int64(s.Metrics["vus_max"].Values["max"]),
	}
	if failed, _, ok := s.Metrics["http_req_failed"].RateCounts(); ok {
		r.failed = failed
	}
	return r, nil
}
