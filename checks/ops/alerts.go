package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
	"github.com/taskready/taskready/internal/promql"
)

// Checks returns the operations checks: ops.alerts.
func Checks() []check.Check {
	return []check.Check{check.Func{M: check.Meta{
		ID: "ops.alerts", Title: "Prometheus alerts on the API's availability and latency", Category: check.Ops, Severity: check.High,
		Remediation: "Load alerting rules on the share of 5xx answers (taskapi_http_requests_total) and on latency (taskapi_http_request_duration_seconds_bucket) " +
			"into the Prometheus that scrapes the API, for every job that scrapes it: `harness alerts generate` writes them, with a runbook link each, " +
			"from the budgets that gate the load tests (the compose stack loads deploy/prometheus/alerts.yml).",
		References: []string{"PRR-03", "https://sre.google/workbook/alerting-on-slos/", "https://prometheus.io/docs/prometheus/latest/querying/api/#rules"},
	}, F: alertsCover}}
}

// objective is what an alert must watch for a job: a series of the API's,
// selected as the objective needs it.
type objective struct {
	name, metric, what string
	// selects says whether a selector of metric reads the objective's
	// bad requests, beyond the metric's name.
	selects func(promql.Selector) bool
}

// objectives are availability (the 5xx share of requests) and latency
// (any bucket of the request duration histogram).
var objectives = []objective{
	{name: "availability", metric: "taskapi_http_requests_total", what: `5xx of taskapi_http_requests_total`,
		// 5xx, and not every class (2xx rejected): a ratio of errors.
		selects: func(s promql.Selector) bool {
			return s.Accepts("status_class", "5xx") && !s.Accepts("status_class", "2xx")
		}},
	{name: "latency", metric: "taskapi_http_request_duration_seconds_bucket", what: "taskapi_http_request_duration_seconds_bucket",
		selects: func(promql.Selector) bool { return true }},
}

// rule is one rule of /api/v1/rules.
type rule struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels"`
	Query       string            `json:"query"`
	Type        string            `json:"type"`
	Health      string            `json:"health"`
	LastError   string            `json:"lastError"`
	Annotations map[string]string `json:"annotations"`
}

// promResponse is the envelope of Prometheus's HTTP API.
type promResponse struct {
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Data   json.RawMessage `json:"data"`
}

func alertsCover(ctx context.Context, t *check.Target) check.Result {
	if t.PrometheusURL == "" {
		return check.NotApplicablef("no Prometheus URL (-prometheus-url): the alerting rules of the deployment's Prometheus cannot be read")
	}
	base, err := url.Parse(strings.TrimRight(t.PrometheusURL, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return check.Errorf(fmt.Sprintf("Prometheus URL %q: not an absolute http(s) URL", t.PrometheusURL))
	}
	var groups struct {
		Groups []struct {
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	rx, res := get(ctx, t, base.String(), "/api/v1/rules", &groups)
	if res != nil {
		return *res
	}
	var rules []rule
	for _, g := range groups.Groups {
		rules = append(rules, g.Rules...)
	}
	var vector []struct {
		Metric map[string]string `json:"metric"`
	}
	query := `count by (job) (taskapi_build_info)`
	qx, res := get(ctx, t, base.String(), "/api/v1/query?query="+url.QueryEscape(query), &vector)
	if res != nil {
		return *res
	}
	var jobs []string
	for _, v := range vector {
		jobs = append(jobs, v.Metric["job"])
	}
	slices.Sort(jobs)
	if len(jobs) == 0 {
		observed := "no series of taskapi_build_info: this Prometheus scrapes no task API"
		return check.Failf(observed+" (its metrics listener, METRICS_ADDR), so no rule of it can watch one",
			qx.Evidence("the jobs that scrape the API, from "+query, observed))
	}
	c := coverage(rules, jobs)
	alerting := 0
	for _, r := range rules {
		if r.Type == "alerting" {
			alerting++
		}
	}
	expected := "an alerting rule on availability (" + objectives[0].what + ") and one on latency (" + objectives[1].what + ") for each job of the API: " + strings.Join(jobs, ", ")
	summary := fmt.Sprintf("%d rules, %d of them alerting; the API's jobs: %s", len(rules), alerting, strings.Join(jobs, ", "))
	if len(c.missing) > 0 {
		observed := "no alert covers " + strings.Join(c.missing, "; ")
		ev := rx.Evidence(expected, observed+" ("+summary+")")
		if len(c.broken) > 0 {
			ev.Note = "failing to evaluate: " + strings.Join(c.broken, "; ")
		}
		return check.Failf(observed, ev)
	}
	observed := "alerts on " + strings.Join(c.covering, "; ")
	ev := rx.Evidence(expected, observed+" ("+summary+")")
	if len(c.noRunbook) > 0 {
		ev.Note = "without a runbook_url: " + strings.Join(c.noRunbook, ", ")
		return check.Warnf("the API's availability and latency are alerted on, but "+strings.Join(c.noRunbook, ", ")+" has no runbook_url annotation: whoever is woken has nowhere to start", ev)
	}
	return check.Passf(observed, ev)
}

// get calls Prometheus's HTTP API at base and decodes its data into out;
// a Result when the check cannot go on.
func get(ctx context.Context, t *check.Target, base, path string, out any) (probe.Exchange, *check.Result) {
	x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Base: base, Path: path, Header: http.Header{"Accept": {"application/json"}}})
	what := "GET " + base + path
	if x.Status == 0 {
		err := x.Err
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // the URL is said once, in what
		}
		r := check.Errorf(what + ": " + probe.ErrString(err))
		return x, &r
	}
	var resp promResponse
	if err := json.Unmarshal(x.Body, &resp); err != nil || resp.Status == "" {
		r := check.Errorf(what+": answered "+probe.StatusLine(x.Status)+" without Prometheus's JSON: is -prometheus-url a Prometheus server?",
			x.Evidence("Prometheus's HTTP API", probe.StatusLine(x.Status)))
		return x, &r
	}
	if resp.Status != "success" {
		r := check.Errorf(what+": "+resp.Error, x.Evidence("status success", resp.Status+": "+resp.Error))
		return x, &r
	}
	if path != "/api/v1/rules" {
		var data struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(resp.Data, &data); err != nil || json.Unmarshal(data.Result, out) != nil {
			r := check.Errorf(what + ": not an instant vector")
			return x, &r
		}
		return x, nil
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		r := check.Errorf(what + ": " + err.Error())
		return x, &r
	}
	return x, nil
}
