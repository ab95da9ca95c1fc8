package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Query is one PromQL expression of a dashboard: a panel's target or an
// annotation.
type Query struct {
	Board  string // the dashboard's title
	Panel  string // the panel's title, or "annotation: NAME"
	Legend string // the target's legend format, to tell a panel's targets apart
	Expr   string // as written, with Grafana's variables
}

// Queries lists every PromQL expression of a dashboard's JSON, in panel
// order, then its annotations: what Grafana will send to Prometheus.
func Queries(boardJSON []byte) ([]Query, error) {
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr         string `json:"expr"`
				LegendFormat string `json:"legendFormat"`
			} `json:"targets"`
		} `json:"panels"`
		Annotations struct {
			List []struct {
				Name string `json:"name"`
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(boardJSON, &d); err != nil {
		return nil, fmt.Errorf("read dashboard: %w", err)
	}
	var out []Query
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			return nil, fmt.Errorf("dashboard %q: panel %q has no query", d.Title, p.Title)
		}
		for _, t := range p.Targets {
			out = append(out, Query{Board: d.Title, Panel: p.Title, Legend: t.LegendFormat, Expr: t.Expr})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			out = append(out, Query{Board: d.Title, Panel: "annotation: " + a.Name, Expr: a.Expr})
		}
	}
	return out, nil
}

// Querier evaluates PromQL over a time range and says how many series
// came back; a Prometheus server's /api/v1/query_range in production.
type Querier interface {
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (series int, err error)
}

// Window is the time range a verification queries, and the rate interval
// that stands for Grafana's $__rate_interval in it.
type Window struct {
	Start, End   time.Time
	Step         time.Duration
	RateInterval time.Duration
}

// Finding is what one query returned.
type Finding struct {
	Query
	Expanded string // the expression sent, variables replaced
	Series   int
	Err      error // the server's error for an invalid query
}

// OK reports whether the query was valid and returned at least one series.
func (f Finding) OK() bool { return f.Err == nil && f.Series > 0 }

// Verify runs every query over w, with every variable at "All", and
// returns what each returned. A panel passes when all its queries are OK.
func Verify(ctx context.Context, q Querier, queries []Query, w Window) []Finding {
	out := make([]Finding, 0, len(queries))
	for _, qu := range queries {
		expanded := Expand(qu.Expr, w.RateInterval)
		n, err := q.QueryRange(ctx, expanded, w.Start, w.End, w.Step)
		out = append(out, Finding{Query: qu, Expanded: expanded, Series: n, Err: err})
	}
	return out
}

// grafanaVar matches $name and ${name} (and ${name:format}).
var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Expand replaces Grafana's variables in expr as Grafana would with every
// variable at "All" (the ".*" all-value the dashboards here declare), and
// $__rate_interval and $__interval with rate.
func Expand(expr string, rate time.Duration) string {
	r := promDuration(rate)
	return grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		name := strings.Trim(m, "${}")
		name, _, _ = strings.Cut(name, ":")
		switch name {
		case "__rate_interval", "__interval", "__range":
			return r
		case "__range_s":
			return fmt.Sprint(int(rate.Seconds()))
		}
		return ".*"
	})
}

// promDuration writes d as PromQL does ("15s", "1m30s" as "90s").
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}
