package alerts

import (
	"fmt"
	"strings"
)

// burn is one row of the SRE workbook's table of multi-window,
// multi-burn-rate alerts: fire while the error ratio over both windows
// is above factor times the budget. spent is the share of a 30-day budget
// gone by then; the short window (a twelfth of the long) ends the alert
// soon after the burn stops.
type burn struct {
	factor      float64
	long, short string
	spent       string
}

// The workbook's rows: pages for fast burns, tickets for slow ones.
var (
	pageBurns   = []burn{{14.4, "1h", "5m", "2% in 1h"}, {6, "6h", "30m", "5% in 6h"}}
	ticketBurns = []burn{{3, "1d", "2h", "10% in 1d"}, {1, "3d", "6h", "10% in 3d"}}
)

// windows are every window the rows use, shortest first: one recording
// rule each per objective.
var windows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// sloInterval is how often the objectives' rules run. A 3-day rate reads
// three days of samples of every series: once a minute is often enough
// for a 5-minute window, and spares the server (the workbook's examples
// use the same).
const sloInterval = "1m"

// Metric names the SLO rules read, as the API exports them.
const (
	requestsTotal   = "taskapi_http_requests_total"
	durationBucket  = "taskapi_http_request_duration_seconds_bucket"
	durationCount   = "taskapi_http_request_duration_seconds_count"
	errorRatioBasis = "job:taskapi_slo_errors:ratio_rate"
)

// ErrorRatio is the recording rule of the share of bad requests over a
// window ("5m"), per job and objective (label slo).
func ErrorRatio(window string) string { return errorRatioBasis + window }

// sli is the share of bad requests for o over window, per job.
func sli(o Objective, window string) string {
	if o.Kind == Latency {
		return fmt.Sprintf("1 - (\n  sum by (job) (rate(%s{%s}[%s]))\n  /\n  sum by (job) (rate(%s[%s]))\n)",
			durationBucket, leMatcher(o.Bucket), window, durationCount, window)
	}
	return fmt.Sprintf("sum by (job) (rate(%s{status_class=\"5xx\"}[%s]))\n/\nsum by (job) (rate(%s[%s]))",
		requestsTotal, window, requestsTotal, window)
}

// leMatcher selects the bucket whose upper bound is edge. An edge that is
// a whole number is written "1" by the API and "1.0" by a Prometheus 3
// (which normalises le when it ingests a classic histogram): both match.
func leMatcher(edge float64) string {
	le := number(edge)
	if strings.Contains(le, ".") {
		return fmt.Sprintf("le=%q", le)
	}
	return fmt.Sprintf("le=~%q", le+`(\.0)?`)
}

// sloGroup is the objectives' recording rules, then their page and ticket
// alerts; notes name the rows a budget makes impossible (a factor times
// the budget of 100% or more).
func sloGroup(scenario string, objs []Objective) (Group, []string) {
	g := Group{Name: "taskapi-slo", Interval: sloInterval}
	for _, o := range objs {
		for _, w := range windows {
			g.Rules = append(g.Rules, Rule{Record: ErrorRatio(w), Expr: sli(o, w), Labels: map[string]string{"slo": o.Name}})
		}
	}
	var notes []string
	for _, o := range objs {
		for _, sev := range []struct {
			severity, speed string
			rows            []burn
		}{{Page, "Fast", pageBurns}, {Ticket, "Slow", ticketBurns}} {
			name := "TaskAPI" + map[Kind]string{Availability: "Availability", Latency: "Latency"}[o.Kind] + sev.speed + "Burn"
			var terms, spent []string
			for _, b := range sev.rows {
				limit := b.factor * o.Budget
				if limit >= 1 {
					notes = append(notes, fmt.Sprintf("%s: %g times a budget of %s is all requests or more: no %s over %s and %s",
						o.Name, b.factor, number(o.Budget), sev.severity, b.long, b.short))
					continue
				}
				bound := fmt.Sprintf("(%s * %s)", number(b.factor), number(o.Budget))
				sel := fmt.Sprintf("{slo=%q}", o.Name)
				terms = append(terms, fmt.Sprintf("(\n  %s%s > %s\n  and\n  %s%s > %s\n)",
					ErrorRatio(b.long), sel, bound, ErrorRatio(b.short), sel, bound))
				spent = append(spent, b.spent)
			}
			if len(terms) == 0 {
				continue
			}
			g.Rules = append(g.Rules, Rule{
				Alert:       name,
				Expr:        strings.Join(terms, "\nor\n"),
				Labels:      map[string]string{"severity": sev.severity, "slo": o.Name},
				Annotations: burnAnnotations(scenario, o, sev.severity, spent),
			})
		}
	}
	return g, notes
}

// burnAnnotations are the summary and description of a burn-rate alert;
// $value is the error ratio over the long window of the row that fired.
func burnAnnotations(scenario string, o Objective, severity string, spent []string) map[string]string {
	bad := "failed with a server error (5xx)"
	if o.Kind == Latency {
		bad = "took longer than " + o.BucketText()
	}
	speed := "fast"
	if severity == Ticket {
		speed = "steadily"
	}
	return map[string]string{
		"summary": fmt.Sprintf("{{ $labels.job }} is burning its %s error budget %s", o.Name, speed),
		"description": fmt.Sprintf("{{ $value | humanizePercentage }} of the requests to {{ $labels.job }} %s over the alert's long window. "+
			"The objective, from the %s scenario's %s: %s, a budget of %s%%. "+
			"This alert fires when a 30-day budget is being spent at the rate of %s.",
			bad, scenario, o.Threshold, o.Statement(), number(100*o.Budget), strings.Join(spent, " or ")),
	}
}
