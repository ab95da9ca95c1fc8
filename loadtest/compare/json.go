package compare

import (
	"encoding/json"
	"math"

	"github.com/taskready/taskready/loadtest/record"
)

// Document is a Report's JSON form, what harness compare -json prints.
// Its rows name their fields as summary.json's comparison does; a number
// that does not exist (the change from a baseline of 0, the interval of
// too few data) is null rather than a made-up 0.
type Document struct {
	Verdict Verdict       `json:"verdict"`
	Method  Method        `json:"method"`
	Noise   *Noise        `json:"noise,omitempty"`
	Rows    []DocumentRow `json:"rows"`
	// OldOnly and NewOnly name the keys, as scenario/endpoint/phase, only
	// one run has: they are not compared.
	OldOnly []string `json:"old_only,omitempty"`
	NewOnly []string `json:"new_only,omitempty"`
}

// Method is how the runs were compared: the options Compare was given.
type Method struct {
	Percentile float64 `json:"percentile"`
	Confidence float64 `json:"confidence"`
	// SelectionConfidence is the level of each selection's rows: the
	// confidence shared among them (Bonferroni), 0 when none was compared.
	SelectionConfidence float64 `json:"selection_confidence,omitempty"`
	Resamples           int     `json:"resamples"`
	Seed                uint64  `json:"seed"`
	MinEffect           float64 `json:"min_effect"`
	MinAbsoluteMs       float64 `json:"min_abs_ms"`
	MinRateEffect       float64 `json:"min_rate_effect"`
	// RunNoise is the run-to-run noise the latency rows were widened by
	// (RunNoise), 0 when none was given.
	RunNoise float64 `json:"run_noise,omitempty"`
}

// Noise is what the run-wide series varies beyond independent requests,
// as one standard deviation of new-old: relative to the latency
// percentile, absolute for the error rate. Absent when the series was too
// short to measure it.
type Noise struct {
	Latency   float64 `json:"latency"`
	ErrorRate float64 `json:"error_rate"`
}

// DocumentRow is one Row: Name is its Scope.
type DocumentRow struct {
	Name   string `json:"name"`
	Metric string `json:"metric"`
	// Unit is "ms" for latencies, "" for error rates (fractions): Old,
	// New, Low and High are in it; Change is relative, (New-Old)/Old.
	Unit    string   `json:"unit,omitempty"`
	Old     float64  `json:"old"`
	New     float64  `json:"new"`
	Change  *float64 `json:"change"`
	Low     *float64 `json:"ci_low"`
	High    *float64 `json:"ci_high"`
	Verdict Verdict  `json:"verdict"`
	Reason  string   `json:"reason"`
}

// Document returns r's JSON form.
func (r Report) Document() Document {
	c := r.cfg
	d := Document{
		Verdict: r.Verdict,
		Method: Method{
			Percentile: c.percentile, Confidence: c.confidence, SelectionConfidence: r.keyConfidence, Resamples: c.resamples, Seed: c.seed,
			MinEffect: c.minEffect, MinAbsoluteMs: float64(c.minAbsolute) / 1e6, MinRateEffect: c.minRateEffect,
			RunNoise: c.runNoise,
		},
		Rows: make([]DocumentRow, len(r.Rows)),
	}
	if r.measured {
		d.Noise = &Noise{Latency: r.latNoise, ErrorRate: r.rateNoise}
	}
	for i, row := range r.Rows {
		d.Rows[i] = DocumentRow{
			Name: row.Scope(), Metric: row.Metric, Unit: row.Unit, Old: row.Old, New: row.New,
			Change: number(row.Change), Low: number(row.Low), High: number(row.High),
			Verdict: row.Verdict, Reason: row.Reason,
		}
	}
	d.OldOnly, d.NewOnly = scopes(r.OldOnly), scopes(r.NewOnly)
	return d
}

// MarshalJSON encodes r as its Document.
func (r Report) MarshalJSON() ([]byte, error) { return json.Marshal(r.Document()) }

// number is v, or nil for what JSON cannot carry (NaN, ±Inf).
func number(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// scopes names keys as Row.Scope does.
func scopes(keys []record.Key) []string {
	if len(keys) == 0 {
		return nil
	}
	names := make([]string, len(keys))
	for i := range keys {
		names[i] = Row{Key: &keys[i]}.Scope()
	}
	return names
}
