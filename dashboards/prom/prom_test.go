package prom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/dashboards/prom"
	"github.com/taskready/taskready/internal/testserver"
)

// need skips without the binary, or fails when CI says it is installed.
func need(t *testing.T, bin string) {
	t.Helper()
	if _, err := exec.LookPath(bin); err != nil {
		if os.Getenv("REQUIRE_PROMETHEUS") != "" {
			t.Fatalf("%s not on PATH and REQUIRE_PROMETHEUS is set: apt-get install prometheus", bin)
		}
		t.Skipf("%s not installed (apt-get install prometheus)", bin)
	}
}

// exporter serves a counter that grows by one per scrape.
func exporter(t *testing.T) (addr string) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		fmt.Fprintf(w, "# HELP demo_hits_total Hits.\n# TYPE demo_hits_total counter\ndemo_hits_total{path=\"/a\"} %d\ndemo_hits_total{path=\"/b\"} %d\n", n, 2*n)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestScrapeAndQuery(t *testing.T) {
	need(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	srv, err := prom.Start(ctx, []prom.Target{{Job: "demo", Addrs: []string{exporter(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	checkScrapeAndQuery(ctx, t, srv, start)
}

// TestScrapeThroughAnExporter: with Exporter, each address is what the
// exporter is asked about (the target parameter, beside Params) and the
// instance label of the series, as the compose stack scrapes its
// blackbox and Redis exporters.
func TestScrapeThroughAnExporter(t *testing.T) {
	need(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	asked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/probe" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "# HELP demo_probe_success Probed.\n# TYPE demo_probe_success gauge\ndemo_probe_success{asked=%q, module=%q} 1\n",
			r.URL.Query().Get("target"), r.URL.Query().Get("module"))
	}))
	t.Cleanup(asked.Close)
	urls := []string{"https://nginx:8443/healthz", "https://nginx:8443/readyz"}
	srv, err := prom.Start(ctx, []prom.Target{{
		Job: "blackbox", Addrs: urls, Path: "/probe",
		Params: map[string][]string{"module": {"https_2xx"}}, Exporter: strings.TrimPrefix(asked.URL, "http://"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var got []prom.Sample
	for ctx.Err() == nil {
		if got, err = srv.Query(ctx, `demo_probe_success`, time.Time{}); err == nil && len(got) == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 2 {
		t.Fatalf("samples %+v, %v; want one per URL; its log: %s", got, err, srv.Log())
	}
	for _, s := range got {
		if s.Labels["instance"] != s.Labels["asked"] || !slices.Contains(urls, s.Labels["asked"]) || s.Labels["module"] != "https_2xx" || s.Labels["job"] != "blackbox" {
			t.Errorf("series %v; want the exporter asked about one URL with module https_2xx, the URL its instance", s.Labels)
		}
	}
}

// checkScrapeAndQuery waits until srv, scraping an exporter since start,
// holds its counter, then queries it: over a range, for an absent
// metric, and with an invalid expression.
func checkScrapeAndQuery(ctx context.Context, t *testing.T, srv *prom.Server, start time.Time) {
	t.Helper()
	// Poll until three scrapes landed, so rate() has two points in a
	// window at one of the range query's steps.
	var (
		got []prom.Sample
		err error
	)
	for ctx.Err() == nil {
		got, err = srv.Query(ctx, `demo_hits_total{path="/b"}`, time.Time{})
		if err == nil && len(got) == 1 && got[0].Value >= 6 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 1 || got[0].Labels["job"] != "demo" || got[0].Labels["path"] != "/b" {
		t.Fatalf("samples %+v, %v; want the scraped counter with job and path; its log: %s", got, err, srv.Log())
	}
	n, err := srv.QueryRange(ctx, `sum by (path) (rate(demo_hits_total[5s]))`, start, time.Now().Add(time.Second), time.Second)
	if err != nil || n != 2 {
		t.Errorf("range query: %d series, %v; want 2", n, err)
	}
	n, err = srv.QueryRange(ctx, `demo_misses_total`, start, time.Now(), time.Second)
	if err != nil || n != 0 {
		t.Errorf("an absent metric: %d series, %v; want 0 and no error", n, err)
	}
	_, err = srv.QueryRange(ctx, `sum by (path (rate(demo_hits_total[5s]))`, start, time.Now(), time.Second)
	var qe *prom.QueryError
	if !errors.As(err, &qe) || qe.Type != "bad_data" {
		t.Errorf("invalid query: %v; want a bad_data QueryError", err)
	}
}

// TestRules: Prometheus loads the rule files it is given and evaluates
// them every second; Rules reports each with its health, and the error of
// one that cannot be evaluated (two series made one).
func TestRules(t *testing.T) {
	need(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rules := []byte(`groups:
  - name: demo
    rules:
      - record: path:demo_hits:rate5s
        expr: sum by (path) (rate(demo_hits_total[5s]))
      - record: demo_hits_merged
        expr: label_replace(demo_hits_total, "path", "same", "", "")
      - alert: DemoAlwaysFires
        expr: vector(1)
`)
	srv, err := prom.Start(ctx, []prom.Target{{Job: "demo", Addrs: []string{exporter(t)}}}, prom.Rules(rules))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var got []prom.Rule
	for ctx.Err() == nil {
		if got, err = srv.Rules(ctx); err == nil && len(got) == 3 && got[1].Health == "err" && got[0].Health == "ok" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 3 || got[0].Group != "demo" || got[0].Type != "recording" || got[2].Name != "DemoAlwaysFires" || got[2].Type != "alerting" {
		t.Fatalf("rules %+v, %v; want the three of the file", got, err)
	}
	if got[1].Health != "err" || !strings.Contains(got[1].LastError, "same labelset") {
		t.Errorf("the rule merging two series: %+v; want its evaluation error", got[1])
	}
	if s, err := srv.Query(ctx, `ALERTS{alertname="DemoAlwaysFires", alertstate="firing"}`, time.Time{}); err != nil || len(s) != 1 {
		t.Errorf("ALERTS of the firing alert: %v, %v", s, err)
	}
}

func TestStartFailsClearly(t *testing.T) {
	_, err := prom.Start(context.Background(), nil, prom.Binary("no-such-prometheus-binary"))
	if !errors.Is(err, prom.ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install prometheus") {
		t.Errorf("err %v; want ErrNotInstalled saying how to install it", err)
	}
}

func TestConfig(t *testing.T) {
	got := string(prom.Config([]prom.Target{
		{Job: "api", Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{Job: "readiness", Addrs: []string{"127.0.0.1:3"}, Path: "/readiness"},
	}, time.Second, "/tmp/a/rules-1.yml"))
	for _, want := range []string{
		"scrape_interval: 1s", "evaluation_interval: 1s", "rule_files:\n  - \"/tmp/a/rules-1.yml\"\nscrape_configs:",
		`job_name: "api"`, `targets: ["127.0.0.1:1", "127.0.0.1:2"]`, `metrics_path: "/metrics"`,
		`job_name: "readiness"`, `metrics_path: "/readiness"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
}

func TestLint(t *testing.T) {
	need(t, "promtool")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, text, finding string
	}{
		{"clean", "# HELP demo_hits_total Hits.\n# TYPE demo_hits_total counter\ndemo_hits_total 1\n", ""},
		{"counter without _total", "# HELP demo_hits Hits.\n# TYPE demo_hits counter\ndemo_hits 1\n", `"_total" suffix`},
		{"no help", "# TYPE demo_hits_total counter\ndemo_hits_total 1\n", "no help"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			findings, err := prom.Lint(ctx, []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if tc.finding == "" && len(findings) > 0 || tc.finding != "" && !strings.Contains(strings.Join(findings, "\n"), tc.finding) {
				t.Errorf("findings %q; want %q", findings, tc.finding)
			}
		})
	}
}

// A port taken before Prometheus listened is replaced by another.
func TestPortTakenIsReplaced(t *testing.T) {
	need(t, "prometheus")
	taken, handedOut := testserver.HoldPort(t, prom.FreePort)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := prom.Start(ctx, nil)
	if err != nil {
		t.Fatalf("Start with its first port taken: %v", err)
	}
	defer srv.Close()
	if !handedOut() || srv.URL == "http://127.0.0.1:"+strconv.Itoa(taken) {
		t.Fatalf("Prometheus at %s (held port %d handed out: %v); want another port than the held one", srv.URL, taken, handedOut())
	}
}
