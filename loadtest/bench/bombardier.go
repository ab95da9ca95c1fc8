package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// bombardierArgs are bombardier's arguments for conns connections for d
// against url, printing only the result, as JSON.
func bombardierArgs(conns int, d time.Duration, url string) []string {
	return []string{"-c", strconv.Itoa(conns), "-d", d.String(), "-o", "json", "-p", "r", url}
}

// parseBombardier reads bombardier's JSON result (-o json -p r). Its rate
// is every response over its run time: bombardier's own rps.mean averages
// one-second samples, which a short run's partial seconds skew.
func parseBombardier(out []byte) (turn, error) {
	var doc struct {
		Result *struct {
			TimeTakenSeconds float64 `json:"timeTakenSeconds"`
			Req1xx           int64   `json:"req1xx"`
			Req2xx           int64   `json:"req2xx"`
			Req3xx           int64   `json:"req3xx"`
			Req4xx           int64   `json:"req4xx"`
			Req5xx           int64   `json:"req5xx"`
			Others           int64   `json:"others"` // transport errors
			Latency          struct {
				Mean float64 `json:"mean"` // µs
			} `json:"latency"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return turn{}, fmt.Errorf("bombardier: %w in %q", err, clip(string(out)))
	}
	r := doc.Result
	if r == nil {
		return turn{}, errors.New("bombardier: no \"result\" in its output: " + strconv.Quote(clip(string(out))))
	}
	if r.TimeTakenSeconds <= 0 {
		return turn{}, fmt.Errorf("bombardier: run time %g s", r.TimeTakenSeconds)
	}
	responses := r.Req1xx + r.Req2xx + r.Req3xx + r.Req4xx + r.Req5xx
	return turn{
		requests: responses,
		errors:   r.Req1xx + r.Req3xx + r.Req4xx + r.Req5xx + r.Others,
		rps:      float64(responses) / r.TimeTakenSeconds,
	}, nil
}
