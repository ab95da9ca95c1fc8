package ops

import (
	"strings"
	"testing"
)

// rec and alert build the rules of /api/v1/rules.
func rec(name, query string, labels ...string) rule {
	r := rule{Name: name, Query: query, Type: "recording", Health: "ok", Labels: map[string]string{}}
	for i := 0; i+1 < len(labels); i += 2 {
		r.Labels[labels[i]] = labels[i+1]
	}
	return r
}

func alert(name, query string) rule {
	return rule{Name: name, Query: query, Type: "alerting", Health: "ok", Annotations: map[string]string{"runbook_url": "https://x/runbook#" + name}}
}

func TestCoverage(t *testing.T) {
	const errRatio = `sum by (job) (rate(taskapi_http_requests_total{status_class="5xx"}[5m])) / sum by (job) (rate(taskapi_http_requests_total[5m]))`
	const slowRatio = `1 - sum by (job) (rate(taskapi_http_request_duration_seconds_bucket{le="0.25"}[5m])) / sum by (job) (rate(taskapi_http_request_duration_seconds_count[5m]))`
	both := []rule{alert("Errors", errRatio+" > 0.01"), alert("Slow", slowRatio+" > 0.05")}
	tests := []struct {
		name     string
		rules    []rule
		jobs     []string
		missing  []string // substrings, in order
		covering []string
		broken   []string
	}{
		{name: "direct alerts cover every job", rules: both, jobs: []string{"api", "web"},
			covering: []string{"availability of api: Errors", "availability of web: Errors", "latency of api: Slow", "latency of web: Slow"}},
		{name: "no rules", jobs: []string{"api"}, missing: []string{"availability of job api (5xx of taskapi_http_requests_total)", "latency of job api"}},
		{name: "a recording rule read by the alert",
			rules: []rule{rec("job:errors:ratio5m", errRatio), alert("Errors", `job:errors:ratio5m > 0.01`), alert("Slow", slowRatio+" > 0.05")},
			jobs:  []string{"api"}, covering: []string{"availability of api: Errors", "latency of api: Slow"}},
		{name: "two levels of recording rules",
			rules: []rule{rec("a", errRatio), rec("b", `max_over_time(a[1h])`), alert("Errors", `b > 0.01`), alert("Slow", slowRatio+" > 0.05")},
			jobs:  []string{"api"}, covering: []string{"availability of api: Errors", "latency of api: Slow"}},
		{name: "one record name for two objectives, told apart by label",
			rules: []rule{rec("job:slo_errors:ratio5m", errRatio, "slo", "availability"), rec("job:slo_errors:ratio5m", slowRatio, "slo", "latency"),
				alert("SlowOnly", `job:slo_errors:ratio5m{slo="latency"} > 0.05`)},
			jobs: []string{"api"}, missing: []string{"availability of job api"}, covering: []string{"latency of api: SlowOnly"}},
		{name: "an alert on another job covers not this one",
			rules: []rule{alert("WebErrors", `sum by (job) (rate(taskapi_http_requests_total{job="web", status_class="5xx"}[5m])) > 1`), alert("Slow", slowRatio+" > 0.05")},
			jobs:  []string{"api", "web"}, missing: []string{"availability of job api"},
			covering: []string{"availability of web: WebErrors", "latency of api: Slow", "latency of web: Slow"}},
		{name: "a job regex, and a job narrowed at the reference",
			rules: []rule{rec("job:errors:ratio5m", errRatio), alert("Errors", `job:errors:ratio5m{job=~"api|admin"} > 0.01`),
				alert("Slow", `histogram_quantile(0.95, sum by (le) (rate(taskapi_http_request_duration_seconds_bucket{job=~"a.*"}[5m]))) > 0.3`)},
			jobs: []string{"api", "web"}, missing: []string{"availability of job web", "latency of job web"},
			covering: []string{"availability of api: Errors", "latency of api: Slow"}},
		{name: "requests without the 5xx are not availability",
			rules: []rule{alert("Traffic", `sum(rate(taskapi_http_requests_total[5m])) < 1`), alert("ClientErrors", `sum(rate(taskapi_http_requests_total{status_class="4xx"}[5m])) > 1`),
				alert("NotOK", `sum(rate(taskapi_http_requests_total{status_class!="2xx"}[5m])) > 1`)},
			jobs: []string{"api"}, missing: []string{"latency of job api"}, covering: []string{"availability of api: NotOK"}},
		{name: "an alert that fails to evaluate covers nothing",
			rules: []rule{{Name: "Errors", Query: errRatio + " > 0.01", Type: "alerting", Health: "err", LastError: "many-to-many matching"}, alert("Slow", slowRatio+" > 0.05")},
			jobs:  []string{"api"}, missing: []string{"availability of job api"}, broken: []string{"Errors: many-to-many matching"},
			covering: []string{"latency of api: Slow"}},
		{name: "nor one that reads a failing recording rule",
			rules: []rule{{Name: "r", Query: errRatio, Type: "recording", Health: "err", LastError: "vector cannot contain metrics with the same labelset"},
				alert("Errors", `r > 0.01`), alert("Slow", slowRatio+" > 0.05")},
			jobs: []string{"api"}, missing: []string{"availability of job api"}, broken: []string{"Errors reads r: vector cannot contain"},
			covering: []string{"latency of api: Slow"}},
		{name: "a cycle of recording rules ends",
			rules: []rule{rec("a", `b`), rec("b", `a + 0*`+errRatio), alert("Errors", `a > 0.01`), alert("Slow", slowRatio+" > 0.05")},
			jobs:  []string{"api"}, covering: []string{"availability of api: Errors", "latency of api: Slow"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := coverage(tt.rules, tt.jobs)
			for _, check := range []struct {
				what      string
				got, want []string
			}{{"missing", c.missing, tt.missing}, {"covering", c.covering, tt.covering}, {"broken", c.broken, tt.broken}} {
				if len(check.got) != len(check.want) {
					t.Errorf("%s %q; want %d like %q", check.what, check.got, len(check.want), check.want)
					continue
				}
				for i, w := range check.want {
					// covering lines whole; the others by what they must say
					if check.what == "covering" && check.got[i] != w || !strings.Contains(check.got[i], w) {
						t.Errorf("%s %q; want %q", check.what, check.got, check.want)
						break
					}
				}
			}
		})
	}
}

func TestNoRunbook(t *testing.T) {
	r := alert("Errors", `sum(rate(taskapi_http_requests_total{status_class="5xx"}[5m])) > 1`)
	r.Annotations = nil
	c := coverage([]rule{r}, []string{"api"})
	if len(c.noRunbook) != 1 || c.noRunbook[0] != "Errors" {
		t.Errorf("noRunbook %q; want Errors", c.noRunbook)
	}
}
