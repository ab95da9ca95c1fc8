package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/taskready/taskready/dashboards"
	"github.com/taskready/taskready/dashboards/prom"
	"github.com/taskready/taskready/env/docker"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/scenarios"
)

func dashboardsCmd() command {
	fs := flag.NewFlagSet("dashboards", flag.ContinueOnError)
	dir := fs.String("dir", "dashboards", "generate, check: the directory of the dashboard JSON files")
	scen := fs.String("scenario", "tour", "verify: the scenario to run while Prometheus scrapes (its load-test dashboard is verified)")
	readinessFile := fs.String("readiness", "out/readiness/readiness.prom", "verify: a harness check run's readiness.prom to serve, so the readiness dashboard is verified too (skipped when missing)")
	promImage := fs.String("prometheus-image", "", "verify: run Prometheus from this image whatever the provider (the docker provider's default: $HARNESS_PROMETHEUS_IMAGE, $LOCAL_IMAGE_PROMETHEUS, "+prom.DefaultImage+")")
	var ef envFlags
	ef.register(fs, 2)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: harness dashboards generate|check|verify [flags]

  generate  write the Grafana dashboards the code builds into -dir
  check     exit 1 when -dir differs from what generate would write
  verify    bring up an environment, start Prometheus scraping the API
            instances and the harness, run -scenario, then evaluate every
            query of the service and load-test dashboards over the run: a
            panel whose query is invalid or returns no series fails, by
            title; and lint every /metrics with promtool check metrics.
            Exit 1 on a failure. Prometheus is Debian's prometheus package
            as a local process, or with the docker provider (or
            -prometheus-image) an image in a container on the host's
            network.

flags:
`)
		fs.PrintDefaults()
	}
	return command{fs: fs, help: "generate, check or verify the Grafana dashboards against a real Prometheus", run: func(ctx context.Context, out io.Writer) error {
		sub, err := subcommand(fs, "generate", "check", "verify")
		if err != nil {
			return err
		}
		switch sub {
		case "generate":
			loads, err := scenarios.All()
			if err != nil {
				return err
			}
			names, err := dashboards.Write(*dir, loads)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "harness: wrote %d dashboards into %s: %s\n", len(names), *dir, strings.Join(names, ", "))
			return nil
		case "check":
			loads, err := scenarios.All()
			if err != nil {
				return err
			}
			if err := dashboards.Check(*dir, loads); err != nil {
				if errors.Is(err, dashboards.ErrStale) {
					fmt.Fprintf(out, "harness: %v\n", err)
					return &exitError{code: exitFail, msg: err.Error()}
				}
				return err
			}
			fmt.Fprintf(out, "harness: %s matches the generator\n", *dir)
			return nil
		case "verify":
			return verifyDashboards(ctx, out, &ef, *scen, *readinessFile, *promImage)
		}
		return fmt.Errorf("%w: unknown dashboards subcommand %q: want generate, check or verify", errUsage, sub)
	}}
}

// verifyDashboards is `harness dashboards verify`.
//
// promImage, when set, runs Prometheus from that image whatever the
// provider; with the docker provider an image runs anyway.
func verifyDashboards(ctx context.Context, out io.Writer, ef *envFlags, scen, readinessFile, promImage string) error {
	f, err := scenarios.Load(scen)
	if err != nil {
		if errors.Is(err, scenarios.ErrUnknown) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	boards := map[string][]byte{}
	for name, b := range map[string]*dashboard.DashboardBuilder{
		"service": dashboards.Service(), "load": dashboards.Load(f), "readiness": dashboards.Readiness(),
	} {
		if boards[name], err = dashboards.JSON(b); err != nil {
			return err
		}
	}
	readiness, err := os.ReadFile(readinessFile)
	if err != nil {
		fmt.Fprintf(out, "harness: %s: %v; the readiness dashboard is not verified (make check writes it)\n", readinessFile, err)
		delete(boards, "readiness")
		readiness = nil
	}

	ef.apiEnv = append(append(listFlag{}, loadLimits...), ef.apiEnv...)
	e, err := ef.up(ctx, out)
	if err != nil {
		return err
	}
	defer e.Close()
	if err := seedScenario(ctx, out, f, e, -1, 5); err != nil {
		return err
	}

	m, metricsAddr, stop, err := listenMetrics("127.0.0.1:0", readiness)
	if err != nil {
		return err
	}
	defer stop()
	// Prometheus scrapes each API's metrics listener (METRICS_ADDR), not
	// its public port, which answers /metrics 404.
	var apis []string
	for _, a := range e.APIs {
		u, err := url.Parse(a.MetricsURL())
		if err != nil {
			return fmt.Errorf("%s metrics URL: %w", a.Name(), err)
		}
		apis = append(apis, u.Host)
	}
	if len(apis) == 0 {
		return fmt.Errorf("%w: verify needs API instances it can scrape (not -target)", errUsage)
	}
	targets := []prom.Target{{Job: "taskapi", Addrs: apis}, {Job: "harness", Addrs: []string{metricsAddr}}}
	if readiness != nil {
		targets = append(targets, prom.Target{Job: "readiness", Addrs: []string{metricsAddr}, Path: "/readiness"})
	}
	var opts []prom.Option
	if promImage != "" || e.Provider == "docker" {
		// With the docker provider Prometheus runs as the compose stack
		// runs it, from an image of a chosen version, not as whatever the
		// machine's package manager installed.
		img := prom.ImageFromEnv(promImage)
		opts = append(opts, prom.Image(img))
		if e.Stores != nil && e.Stores.ID != "" {
			// The environment's own cleanup (and `harness down -id`) then
			// removes it with the rest.
			opts = append(opts, prom.Labels(map[string]string{docker.LabelEnvironment: e.Stores.ID}))
		}
		fmt.Fprintf(out, "harness: starting Prometheus from the image %s on the host's network\n", img)
	} else {
		fmt.Fprintln(out, "harness: starting Prometheus from the local prometheus binary")
	}
	srv, err := prom.Start(ctx, targets, opts...)
	if errors.Is(err, prom.ErrNoImage) && promImage == "" && prom.ImageFromEnv("") == prom.DefaultImage {
		// Nobody asked for an image: the docker provider's default is
		// unavailable (an offline engine), so the local binary it is.
		fmt.Fprintf(out, "harness: %v\nharness: starting Prometheus from the local prometheus binary instead\n", err)
		srv, err = prom.Start(ctx, targets)
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(out, "harness: Prometheus at %s scraping %d API instances and the harness every second\n", srv.URL, len(apis))

	start := time.Now()
	fmt.Fprintf(out, "harness: running %s against %s\n", f.Name, e.Target)
	res, err := engine.Run(ctx, f, e.Target, engine.WithMetrics(m), engine.WithProgress(out, time.Second))
	if err != nil {
		return err
	}
	sum := res.Summary(engine.Meta{})
	sent := sum.Metrics["http_reqs"].Values["count"]
	// The last scrape must come after the last request: wait until
	// Prometheus has the run's own count.
	if err := waitScraped(ctx, srv, sent); err != nil {
		return err
	}
	// Lint after the run: a vector with no series yet (no request on a
	// route) is not exposed at all before it.
	lintTargets := append([]string{"http://" + metricsAddr + "/metrics"}, e.APIs[0].MetricsURL())
	if readiness != nil {
		lintTargets = append(lintTargets, "http://"+metricsAddr+"/readiness")
	}
	var lintFailures []string
	for _, u := range lintTargets {
		findings, err := lintURL(ctx, u)
		if err != nil {
			return err
		}
		for _, fd := range findings {
			lintFailures = append(lintFailures, u+": "+fd)
		}
	}

	w := dashboards.Window{Start: start.Add(-5 * time.Second), End: time.Now().Add(time.Second), Step: time.Second, RateInterval: 5 * time.Second}
	var findings []dashboards.Finding
	for _, name := range []string{"service", "load", "readiness"} {
		if boards[name] == nil {
			continue
		}
		qs, err := dashboards.Queries(boards[name])
		if err != nil {
			return err
		}
		findings = append(findings, dashboards.Verify(ctx, srv, qs, w)...)
	}
	return reportVerify(out, findings, lintFailures, sent)
}

// listenMetrics serves the harness's series on addr (port 0: any free
// one) and, when readiness is not nil, that exposition at /readiness; it
// returns the metrics, the address it listens on and how to stop it.
func listenMetrics(addr string, readiness []byte) (*engine.Metrics, string, func(), error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := engine.NewMetrics(reg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: metrics address %s: %v", errUsage, addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if readiness != nil {
		mux.HandleFunc("/readiness", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			w.Write(readiness)
		})
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return m, ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// lintURL runs promtool check metrics on what u serves.
func lintURL(ctx context.Context, u string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", u, err)
	}
	return prom.Lint(ctx, body)
}

// waitScraped waits until Prometheus holds the run's request count.
func waitScraped(ctx context.Context, srv *prom.Server, want float64) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	got := 0.0
	for {
		if s, err := srv.Query(ctx, "sum(taskready_load_requests_total)", time.Time{}); err == nil && len(s) == 1 {
			if got = s[0].Value; got >= want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("prometheus has %.0f of the run's %.0f requests after 30s: is it scraping the harness? %s", got, want, srv.Log())
		case <-tick.C:
		}
	}
}

// reportVerify prints one line per panel and fails on any panel with a
// query that was invalid or empty, and on any promtool finding.
func reportVerify(out io.Writer, findings []dashboards.Finding, lint []string, sent float64) error {
	type panel struct {
		board, title string
		queries, ok  int
		problems     []string
	}
	var panels []*panel
	index := map[string]*panel{}
	for _, f := range findings {
		key := f.Board + "\x00" + f.Panel
		p := index[key]
		if p == nil {
			p = &panel{board: f.Board, title: f.Panel}
			index[key] = p
			panels = append(panels, p)
		}
		p.queries++
		switch {
		case f.Err != nil:
			p.problems = append(p.problems, fmt.Sprintf("invalid query %q: %v", f.Expanded, f.Err))
		case f.Series == 0:
			p.problems = append(p.problems, fmt.Sprintf("no series for %q", f.Expanded))
		default:
			p.ok++
		}
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nDASHBOARD\tPANEL\tQUERIES\tRESULT\n")
	var failed []string
	boards := map[string]int{}
	for _, p := range panels {
		verdict := "ok"
		if len(p.problems) > 0 {
			verdict = "FAIL"
			failed = append(failed, p.board+" / "+p.title)
		}
		boards[p.board]++
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\n", p.board, p.title, p.ok, p.queries, verdict)
	}
	tw.Flush()
	for _, p := range panels {
		for _, pr := range p.problems {
			fmt.Fprintf(out, "  %s / %s: %s\n", p.board, p.title, pr)
		}
	}
	for _, l := range lint {
		fmt.Fprintf(out, "  promtool: %s\n", l)
	}
	fmt.Fprintf(out, "\n%d panels on %d dashboards after a run of %.0f requests: %d failed; promtool: %d findings\n",
		len(panels), len(boards), sent, len(failed), len(lint))
	if len(failed) > 0 || len(lint) > 0 {
		fmt.Fprintf(out, "FAILED: %s\n", strings.Join(failed, "; "))
		return &exitError{code: exitFail, msg: "dashboards verify failed"}
	}
	return nil
}
