package bench

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// vegetaAttackArgs are the arguments of vegeta attack at rate per second
// for d, writing its results to file. Rate 0 is vegeta's closed model:
// workers goroutines each sending as fast as answers come.
func vegetaAttackArgs(rate, workers, maxWorkers int, d time.Duration, file string) []string {
	args := []string{"attack", "-rate", strconv.Itoa(rate) + "/s", "-duration", d.String(), "-output", file}
	if rate == 0 {
		args[2] = "0"
	}
	if workers > 0 {
		args = append(args, "-workers", strconv.Itoa(workers))
	}
	if maxWorkers > 0 {
		args = append(args, "-max-workers", strconv.Itoa(maxWorkers))
	}
	return args
}

// vegetaReport is what the benchmark reads of vegeta report -type json.
type vegetaReport struct {
	Requests int64 `json:"requests"`
	// Duration runs from the first request sent to the last, Wait from
	// then to the last answer.
	Duration time.Duration `json:"duration"`
	Wait     time.Duration `json:"wait"`
	// Rate is Requests over Duration: the rate they were sent at.
	Rate      float64 `json:"rate"`
	Success   float64 `json:"success"` // the share of 2xx/3xx answers
	Latencies struct {
		P50 time.Duration `json:"50th"`
		P99 time.Duration `json:"99th"`
		Max time.Duration `json:"max"`
	} `json:"latencies"` // timed from each request's actual send
	StatusCodes map[string]int64 `json:"status_codes"`
	Errors      []string         `json:"errors"`
}

// parseVegeta reads vegeta report -type json.
func parseVegeta(out []byte) (vegetaReport, error) {
	var r vegetaReport
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("vegeta report: %w in %q", err, clip(string(out)))
	}
	if r.Requests == 0 {
		return r, fmt.Errorf("vegeta report: no requests: %q", clip(string(out)))
	}
	if r.Success < 0 || r.Success > 1 || r.Rate < 0 || r.Duration < 0 || r.Wait < 0 {
		return r, fmt.Errorf("vegeta report: success %g, rate %g, duration %s, wait %s: not a report of a run", r.Success, r.Rate, r.Duration, r.Wait)
	}
	return r, nil
}

// closed is r as a closed-model turn: its answers over its run time,
// the last answer's wait included, as wrk counts.
func (r vegetaReport) closed() turn {
	t := turn{requests: r.Requests, errors: r.Requests - r.ok(), p50: r.Latencies.P50, p99: r.Latencies.P99}
	if d := r.Duration + r.Wait; d > 0 {
		t.rps = float64(r.Requests) / d.Seconds()
	}
	return t
}

// ok is how many requests succeeded.
func (r vegetaReport) ok() int64 { return int64(float64(r.Requests)*r.Success + 0.5) }
