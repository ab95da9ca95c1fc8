package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/taskready/taskready/alerts"
	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/envtest"
	"github.com/taskready/taskready/internal/exporter"
	"github.com/taskready/taskready/internal/promql"
	"github.com/taskready/taskready/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// series is a scrape flattened: each series name (a histogram's
// name_bucket, name_count and name_sum) to the label sets of its series.
type series map[string][]map[string]string

// parseExposition reads the text format into series.
func parseExposition(t *testing.T, source string, r io.Reader) series {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("%s: %v", source, err)
	}
	out := series{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if f.GetType() != dto.MetricType_HISTOGRAM {
				out[name] = append(out[name], labels)
				continue
			}
			out[name+"_count"] = append(out[name+"_count"], labels)
			out[name+"_sum"] = append(out[name+"_sum"], labels)
			for _, b := range m.GetHistogram().GetBucket() {
				le := map[string]string{"le": strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)}
				for k, v := range labels {
					le[k] = v
				}
				out[name+"_bucket"] = append(out[name+"_bucket"], le)
			}
		}
	}
	return out
}

// trafficLabels are labels whose values appear only with the traffic that
// makes them (a 5xx): a selector needs the label, not yet the value.
var trafficLabels = map[string]bool{"status_class": true}

// TestRulesReadWhatTheAPIExports: every series a rule reads, the API
// exports under that name with those labels, as a scrape of a real API
// (on real stores, after one request) shows; the readiness series come
// from the readiness report's own metrics (its golden readiness.prom).
// And the histogram's buckets are the ones the latency objectives pick
// their edge from.
func TestRulesReadWhatTheAPIExports(t *testing.T) {
	t.Parallel()
	e := envtest.Embedded(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	get := func(u string) io.ReadCloser {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", u, resp.Status)
		}
		return resp.Body
	}
	get(e.Target + "/api/health").Close()
	body := get(e.APIs[0].MetricsURL())
	defer body.Close()
	api := parseExposition(t, "the API's /metrics", body)
	prom, err := os.Open("../checks/report/testdata/full.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer prom.Close()
	readiness := parseExposition(t, "readiness.prom", prom)
	exporters := exporterSeries(ctx, t, e)
	mongoFixture, err := os.Open("testdata/mongodb-exporter.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer mongoFixture.Close()
	mongo := parseExposition(t, "mongodb-exporter.prom", mongoFixture)

	r := load(t, "load")
	recorded := map[string]bool{}
	for _, g := range r.File.Groups {
		for _, rule := range g.Rules {
			recorded[rule.Record] = rule.Record != ""
		}
	}
	read := 0
	for _, g := range r.File.Groups {
		for _, rule := range g.Rules {
			sels, err := promql.Selectors(rule.Expr)
			if err != nil {
				t.Fatalf("%s%s: %v", rule.Record, rule.Alert, err)
			}
			for _, s := range sels {
				if recorded[s.Metric] {
					continue
				}
				from := api
				switch {
				case strings.HasPrefix(s.Metric, "taskready_readiness_"):
					from = readiness
				case strings.HasPrefix(s.Metric, "probe_") || strings.HasPrefix(s.Metric, "redis_"):
					if exporters == nil {
						continue
					}
					from = exporters
				case strings.HasPrefix(s.Metric, "mongodb_"):
					from = mongo
				case s.Metric == "up":
					// Prometheus's own series, one per target.
					continue
				}
				read++
				if problem := exported(from, s); problem != "" {
					t.Errorf("%s%s reads %s: %s", rule.Record, rule.Alert, s, problem)
				}
			}
		}
	}
	if read < 15 {
		t.Errorf("the rules read %d selectors of exported series; the scan missed some", read)
	}

	var les []float64
	for _, s := range api["taskapi_http_request_duration_seconds_bucket"] {
		if le, err := strconv.ParseFloat(s["le"], 64); err == nil && !slices.Contains(les, le) && le < 1e300 {
			les = append(les, le)
		}
	}
	slices.Sort(les)
	if !slices.Equal(les, alerts.DurationBuckets) {
		t.Errorf("the API's request duration buckets are %v; alerts.DurationBuckets says %v", les, alerts.DurationBuckets)
	}
}

// exporterSeries is what the exporters the compose stack runs export
// about e: the blackbox exporter's probe of its /healthz and
// redis_exporter's scrape of its Redis, from Debian's packages. Without
// them it is nil (the rules' exporter series go unchecked), unless the
// run requires them.
func exporterSeries(ctx context.Context, t *testing.T, e *env.Env) series {
	t.Helper()
	bb, err := exporter.Blackbox(ctx, nil)
	if err == nil {
		t.Cleanup(func() { bb.Close() })
		var re *exporter.Process
		if re, err = exporter.Redis(ctx, e.Stores.RedisURL); err == nil {
			t.Cleanup(func() { re.Close() })
			out := series{}
			target := e.Target + "/healthz"
			for _, u := range []string{"http://" + bb.Addr + "/probe?" + url.Values{"target": {target}, "module": {exporter.Module(target)}}.Encode(), "http://" + re.Addr + "/metrics"} {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				maps.Copy(out, parseExposition(t, u, resp.Body))
				resp.Body.Close()
			}
			return out
		}
	}
	if !errors.Is(err, exporter.ErrNotInstalled) || os.Getenv("CI") != "" || os.Getenv("REQUIRE_EXPORTERS") != "" {
		t.Fatal(err)
	}
	t.Logf("the rules' probe_ and redis_ series go unchecked: %v", err)
	return nil
}

// exported says why no series of from can pass s, or "" when one can.
func exported(from series, s promql.Selector) string {
	all, ok := from[s.Metric]
	if !ok {
		return "no such series"
	}
	for _, labels := range all {
		if passes(labels, s) {
			return ""
		}
	}
	return fmt.Sprintf("none of its %d series has these labels: %v", len(all), all)
}

// passes is whether a series with labels passes s, a traffic label's
// matcher by the label's presence alone.
func passes(labels map[string]string, s promql.Selector) bool {
	for _, m := range s.Matchers {
		v, has := labels[m.Label]
		if trafficLabels[m.Label] && has {
			continue
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}
