package report

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/taskready/taskready/checks/readiness"
)

// MetricsFile is the run as Prometheus metrics in the text format, for
// node_exporter's textfile collector or any scrape that serves the file:
// the readiness dashboard reads it.
const MetricsFile = "readiness.prom"

// Metrics writes r as Prometheus metrics: the score, whether the gates
// passed, the count of checks per effective status, one series per check
// with its effective status, and when the run began.
func Metrics(w io.Writer, r *readiness.Report) error {
	if r == nil {
		return ErrNilReport
	}
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(g)
		return g
	}
	gauge("taskready_readiness_score", "Readiness score of the last check run, 0 to 100 (score formula version in the label).", "score_version", "grade").
		WithLabelValues(r.Run.ScoreVersion, r.Score.Grade).Set(float64(r.Score.Value))
	passed := 0.0
	if r.Passed {
		passed = 1
	}
	gauge("taskready_readiness_gates_passed", "1 when no gate failed in the last check run, 0 when one did.").WithLabelValues().Set(passed)
	counts := gauge("taskready_readiness_checks", "Checks of the last run by effective status.", "status")
	for _, s := range []string{"pass", "fail", "warn", "not_applicable", "error", "ignored"} {
		counts.WithLabelValues(s) // every status present, at 0 when none
	}
	state := gauge("taskready_readiness_check_status", "1 for each check of the last run, labelled with its effective status and severity.", "id", "category", "severity", "status")
	for _, res := range r.Results {
		status := string(res.EffectiveStatus)
		if res.Ignored {
			status = "ignored"
		}
		counts.WithLabelValues(status).Inc()
		state.WithLabelValues(res.ID, string(res.Category), string(res.EffectiveSeverity), status).Set(1)
	}
	gauge("taskready_readiness_last_run_timestamp_seconds", "When the last check run began, in Unix seconds.").WithLabelValues().Set(float64(r.Run.Start.Unix()))

	families, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("readiness metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("readiness metrics: %w", err)
		}
	}
	return nil
}
