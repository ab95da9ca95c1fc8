package health

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// series is a metric family the API must expose, with its type.
type series struct {
	name string
	typ  dto.MetricType
	why  string
}

// expectedSeries are the families of service/metrics, service/mongo,
// service/redis, service/ratelimit and client_golang's Go and process
// collectors that dashboards and alerts rely on: the HTTP RED metrics,
// store pools and commands, the breaker, rate-limit refusals, and the
// runtime. Each is present from the first scrape after startup.
var expectedSeries = []series{
	{"taskapi_http_requests_total", dto.MetricType_COUNTER, "request rate and errors by route"},
	{"taskapi_http_request_duration_seconds", dto.MetricType_HISTOGRAM, "latency by route"},
	{"taskapi_http_requests_in_flight", dto.MetricType_GAUGE, "saturation"},
	{"taskapi_mongo_commands_total", dto.MetricType_COUNTER, "MongoDB commands by outcome"},
	{"taskapi_mongo_command_duration_seconds", dto.MetricType_HISTOGRAM, "MongoDB latency"},
	{"taskapi_mongo_pool_connections_open", dto.MetricType_GAUGE, "MongoDB pool size"},
	{"taskapi_mongo_pool_connections_in_use", dto.MetricType_GAUGE, "MongoDB pool saturation"},
	{"taskapi_redis_available", dto.MetricType_GAUGE, "Redis circuit breaker"},
	{"taskapi_redis_pool_connections", dto.MetricType_GAUGE, "Redis pool size"},
	{"taskapi_ratelimit_rejections_total", dto.MetricType_COUNTER, "429s by limiter"},
	{"go_goroutines", dto.MetricType_GAUGE, "Go runtime"},
	{"go_gc_duration_seconds", dto.MetricType_SUMMARY, "Go runtime"},
	{"go_memstats_heap_alloc_bytes", dto.MetricType_GAUGE, "Go runtime"},
	{"process_cpu_seconds_total", dto.MetricType_COUNTER, "process"},
	{"process_resident_memory_bytes", dto.MetricType_GAUGE, "process"},
	{"process_open_fds", dto.MetricType_GAUGE, "process"},
}

// onUseSeries appear only once used (a vector without pre-set labels):
// their absence is noted, not failed.
var onUseSeries = []string{"taskapi_cache_requests_total"}

// routeLabels are the labels of the request counter that must stay
// bounded: a raw path in one of them grows a series per id.
var routeLabels = []string{"method", "route", "status_class"}

var metrics = check.Func{
	M: check.Meta{
		ID: "health.metrics", Title: "/metrics is Prometheus text with the expected, bounded series", Category: check.Health, Severity: check.Medium,
		Remediation: "Expose the taskapi_* RED, store, breaker and rate-limit series plus the Go and process collectors in the Prometheus text format, labelled by route template (never the raw path).",
		References:  []string{"Google SRE book: Monitoring Distributed Systems", "Prometheus text exposition format 0.0.4", "OWASP API4:2023"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		if t.MetricsURL == "" {
			return check.NotApplicablef("no metrics URL (-metrics-url): the API serves /metrics on its own listener (METRICS_ADDR), not on the public port, so it cannot be found from the base URL")
		}
		base, _ := oneInstance(t)
		// Requests whose paths carry a fresh marker: a route label that
		// quotes paths will then hold it.
		var suffix [6]byte
		_, _ = rand.Read(suffix[:])
		marker := hex.EncodeToString(suffix[:])
		for _, p := range []string{"/api/health", "/api/tasks/" + marker + "aaaaaaaaaaaa", "/readiness-" + marker} {
			if x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: p, Base: base}); x.Status == 0 {
				return check.Errorf("GET " + p + ": " + probe.ErrString(x.Err))
			}
		}
		x, fams, err := scrape(ctx, t)
		if x.Status == 0 {
			return check.Errorf("GET " + t.MetricsURL + ": " + probe.ErrString(x.Err))
		}
		const expected = "Prometheus text format with the taskapi_*, go_* and process_* series, route labels without raw paths"
		shown := []string{"Content-Type"}
		if x.Status != http.StatusOK {
			return check.Failf("/metrics answered "+probe.StatusLine(x.Status), x.Evidence(expected, probe.StatusLine(x.Status), shown...))
		}
		if err != nil {
			observed := "not the Prometheus text format: " + err.Error()
			return check.Failf(observed, x.Evidence(expected, observed, shown...))
		}
		var problems []string
		for _, s := range expectedSeries {
			f, ok := fams[s.name]
			switch {
			case !ok:
				problems = append(problems, "no "+s.name+" ("+s.why+")")
			case f.GetType() != s.typ:
				problems = append(problems, fmt.Sprintf("%s is a %s, not a %s", s.name, f.GetType(), s.typ))
			}
		}
		if f, ok := fams["taskapi_http_requests_total"]; ok {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if strings.Contains(l.GetValue(), marker) {
						problems = append(problems, fmt.Sprintf("taskapi_http_requests_total label %s=%q quotes a raw path: one series per id", l.GetName(), l.GetValue()))
					}
				}
			}
			if ms := f.GetMetric(); len(ms) > 0 {
				have := map[string]bool{}
				for _, l := range ms[0].GetLabel() {
					have[l.GetName()] = true
				}
				for _, l := range routeLabels {
					if !have[l] {
						problems = append(problems, "taskapi_http_requests_total has no "+l+" label")
					}
				}
			}
		}
		if len(problems) > 0 {
			observed := strings.Join(problems, "; ")
			return check.Failf(observed, x.Evidence(expected, observed, shown...))
		}
		observed := fmt.Sprintf("%d families, all %d expected present", len(fams), len(expectedSeries))
		ev := x.Evidence(expected, observed, shown...)
		var later []string
		for _, name := range onUseSeries {
			if _, ok := fams[name]; !ok {
				later = append(later, name)
			}
		}
		if len(later) > 0 {
			ev.Note = strings.Join(later, ", ") + " absent until first used (its label values are not initialised, so rate() and alerts see no series at first)"
		}
		return check.Passf("/metrics parses as Prometheus text: "+observed, ev)
	},
}

// scrape fetches t.MetricsURL and parses it as the text format.
func scrape(ctx context.Context, t *check.Target) (probe.Exchange, map[string]*dto.MetricFamily, error) {
	if t.MetricsURL == "" {
		return probe.Exchange{}, nil, errors.New("no metrics URL")
	}
	u, err := url.Parse(t.MetricsURL)
	if err != nil || u.Host == "" {
		return probe.Exchange{}, nil, fmt.Errorf("metrics URL %q: not an absolute URL", t.MetricsURL)
	}
	path := u.EscapedPath()
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	u.Path, u.RawPath, u.RawQuery = "", "", ""
	x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: path, Base: u.String(), Header: http.Header{"Accept": {"text/plain; version=0.0.4"}}})
	if x.Status != http.StatusOK {
		return x, nil, fmt.Errorf("answered %d", x.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(x.Body))
	return x, fams, err
}

// mongoCommands is the sum of taskapi_mongo_commands_total at
// t.MetricsURL.
func mongoCommands(ctx context.Context, t *check.Target) (float64, error) {
	_, fams, err := scrape(ctx, t)
	if err != nil {
		return 0, err
	}
	f, ok := fams["taskapi_mongo_commands_total"]
	if !ok {
		return 0, fmt.Errorf("no taskapi_mongo_commands_total")
	}
	var sum float64
	for _, m := range f.GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum, nil
}

var metricsNotPublic = check.Func{
	M: check.Meta{
		ID: "health.metrics-not-public", Title: "/metrics is not served on the public API port", Category: check.Health, Severity: check.High,
		Remediation: "Serve /metrics on a listener of its own (METRICS_ADDR, loopback or the cluster network only) that Prometheus scrapes, and answer 404 for it on the API's port; or require credentials for it. The series name every route, the store topology, pool sizes and the Go version.",
		References:  []string{"OWASP API8:2023 Security Misconfiguration", "OWASP API9:2023 Improper Inventory Management", "CWE-200", "Prometheus: securing exporters"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/metrics", Header: http.Header{"Accept": {"text/plain; version=0.0.4"}}})
		if x.Status == 0 {
			return check.Errorf("GET /metrics: " + probe.ErrString(x.Err))
		}
		const expected = "404, 401 or 403: no metrics for anonymous clients of the API's port"
		shown := []string{"Content-Type"}
		switch x.Status {
		case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
			return check.Passf("the API's port answers GET /metrics "+probe.StatusLine(x.Status), x.Evidence(expected, probe.StatusLine(x.Status), shown...))
		}
		if x.Status == http.StatusOK {
			p := expfmt.NewTextParser(model.UTF8Validation)
			if fams, err := p.TextToMetricFamilies(bytes.NewReader(x.Body)); err == nil && len(fams) > 0 {
				observed := fmt.Sprintf("200 with %d metric families in the Prometheus text format", len(fams))
				if _, ok := fams["go_info"]; ok {
					observed += ", go_info (the Go version) among them"
				}
				return check.Failf("anyone can read the metrics on the API's port: "+observed, x.Evidence(expected, observed, shown...))
			}
		}
		observed := probe.StatusLine(x.Status)
		return check.Failf("the API's port answers GET /metrics "+observed+", not 404, 401 or 403", x.Evidence(expected, observed, shown...))
	},
}
