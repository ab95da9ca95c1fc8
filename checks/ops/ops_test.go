package ops_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/ops"
	"github.com/taskready/taskready/dashboards/prom"
)

func TestMain(m *testing.M) { checktest.Main(m) }

func TestMeta(t *testing.T) {
	checktest.Meta(t, ops.Checks(), checktest.Want{IDs: []string{"ops.alerts"}, Category: check.Ops})
}

func TestNotApplicableWithoutPrometheus(t *testing.T) {
	res := checktest.Run(t, ops.Checks()[0], &check.Target{BaseURL: "http://127.0.0.1:1"}, 10*time.Second)
	if res.Status != check.NotApplicable || !strings.Contains(res.Message, "-prometheus-url") {
		t.Errorf("%s: %s; want not applicable, naming -prometheus-url", res.Status, res.Message)
	}
}

// needPrometheus skips without the prometheus binary, or fails when the
// run requires it.
func needPrometheus(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("prometheus"); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("REQUIRE_PROMETHEUS") != "" || os.Getenv("REQUIRE_CONTAINERS") == "1" {
			t.Fatal("prometheus not on PATH, and this run requires it: apt-get install prometheus")
		}
		t.Skip("prometheus not installed: apt-get install prometheus (Debian)")
	}
}

// noRunbook covers both objectives for every job, but links no runbook.
const noRunbook = `groups:
  - name: bare
    rules:
      - alert: Errors
        expr: sum by (job) (rate(taskapi_http_requests_total{status_class="5xx"}[5m])) / sum by (job) (rate(taskapi_http_requests_total[5m])) > 0.01
      - alert: Slow
        expr: histogram_quantile(0.95, sum by (job, le) (rate(taskapi_http_request_duration_seconds_bucket[5m]))) > 0.3
`

// TestAgainstARealPrometheus runs ops.alerts against real Prometheus
// servers scraping a real API as the job taskapi: with the committed rules
// it passes, naming the alerts; with none it fails, naming what is not
// covered; with rules that cover but link no runbook it warns; one that
// scrapes no API fails saying so; and a URL that is no Prometheus, or
// where nothing listens, is an error.
func TestAgainstARealPrometheus(t *testing.T) {
	needPrometheus(t)
	committed, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	e := checktest.API(t, 1)
	metrics, err := url.Parse(e.APIs[0].MetricsURL())
	if err != nil {
		t.Fatal(err)
	}
	api := []prom.Target{{Job: "taskapi", Addrs: []string{metrics.Host}}}
	c := ops.Checks()[0]
	for _, tt := range []struct {
		name    string
		targets []prom.Target
		rules   []byte
		status  check.Status
		says    []string
	}{
		{"the committed rules", api, committed, check.Pass, []string{
			"availability of taskapi: TaskAPIAvailabilityFastBurn, TaskAPIAvailabilitySlowBurn",
			"latency of taskapi: TaskAPILatencyFastBurn, TaskAPILatencySlowBurn"}},
		{"no rules", api, nil, check.Fail, []string{
			"no alert covers availability of job taskapi (5xx of taskapi_http_requests_total); latency of job taskapi (taskapi_http_request_duration_seconds_bucket)"}},
		{"rules without a runbook", api, []byte(noRunbook), check.Warn, []string{"Errors, Slow has no runbook_url"}},
		{"no API scraped", nil, committed, check.Fail, []string{"scrapes no task API"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var opts []prom.Option
			if tt.rules != nil {
				opts = append(opts, prom.Rules(tt.rules))
			}
			srv, err := prom.Start(ctx, tt.targets, opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			for tt.targets != nil && ctx.Err() == nil {
				if s, err := srv.Query(ctx, "taskapi_build_info", time.Time{}); err == nil && len(s) > 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			target := &check.Target{BaseURL: e.Target, PrometheusURL: srv.URL + "/"}
			res := checktest.Run(t, c, target, 30*time.Second)
			checktest.SafeEvidence(t, "ops.alerts", res)
			if res.Status != tt.status {
				t.Errorf("%s: %s; want %s", res.Status, res.Message, tt.status)
			}
			for _, s := range tt.says {
				if !strings.Contains(res.Message, s) {
					t.Errorf("message %q lacks %q", res.Message, s)
				}
			}
		})
	}
	t.Run("not a Prometheus", func(t *testing.T) {
		t.Parallel()
		for url, says := range map[string]string{
			e.Target:             "without Prometheus's JSON",
			"http://127.0.0.1:1": "GET http://127.0.0.1:1/api/v1/rules",
			"127.0.0.1:9090":     "not an absolute http(s) URL",
		} {
			res := checktest.Run(t, c, &check.Target{BaseURL: e.Target, PrometheusURL: url}, 30*time.Second)
			if res.Status != check.Error || !strings.Contains(res.Message, says) {
				t.Errorf("-prometheus-url %s: %s: %s; want an error saying %q", url, res.Status, res.Message, says)
			}
		}
	})
}
