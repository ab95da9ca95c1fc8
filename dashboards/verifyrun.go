package dashboards

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/taskready/taskready/dashboards/prom"
	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/docker"
	"github.com/taskready/taskready/internal/exporter"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/fault"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
)

// ErrNothingToScrape is returned by VerifyRun for an environment without
// API instances of its own (an external -target): Prometheus would have
// no API metrics listener to scrape.
var ErrNothingToScrape = errors.New("verify needs API instances it can scrape (not -target)")

// VerifyOptions say what a verification run scrapes and drives.
type VerifyOptions struct {
	// Env is the running system: its API instances' metrics listeners
	// are scraped and its target is loaded.
	Env *env.Env
	// Scenario is the load run while Prometheus scrapes; its load-test
	// dashboard is verified with the service's.
	Scenario *scenario.File
	// Readiness is a readiness report's Prometheus exposition to serve;
	// nil leaves the readiness dashboard out.
	Readiness []byte
	// Rules is a Prometheus rule file (harness alerts generate) that
	// Prometheus evaluates during the run: the service dashboard's firing
	// alerts panel shows its alerts, and a rule that fails to evaluate
	// fails the verification. Without it that panel has nothing to show.
	Rules []byte
	// PromImage runs Prometheus from this image; empty runs the local
	// prometheus binary, except with the docker provider, which runs
	// prom's default image.
	PromImage string
	// Progress receives what the run does, as it does it.
	Progress io.Writer
}

// Verification is what a verification run found: each query of each
// dashboard, promtool's findings on each /metrics, the rules Prometheus
// evaluated and those that failed to, and how many requests the run sent.
type Verification struct {
	Findings []Finding
	// Excluded are the panels a run cannot show data on, as "board /
	// panel: why" (the MongoDB exporter's); they are not verified.
	Excluded   []string
	Lint       []string
	Rules      int
	RuleErrors []string
	Sent       float64
}

// VerifyRun starts a Prometheus that scrapes o.Env's API instances, the
// harness and the blackbox and Redis exporters (Debian's packages, which
// it runs on o.Env) every second, runs o.Scenario against o.Env, then
// evaluates every query of the service, load-test and (with o.Readiness)
// readiness dashboards over the run, but the unverified panels', and
// lints every /metrics with promtool.
func VerifyRun(ctx context.Context, o VerifyOptions) (*Verification, error) {
	out := o.Progress
	if out == nil {
		out = io.Discard
	}
	boards := []*dashboard.DashboardBuilder{Service(), Load(o.Scenario)}
	if o.Readiness != nil {
		boards = append(boards, Readiness())
	}
	var queries []Query
	for _, b := range boards {
		data, err := JSON(b)
		if err != nil {
			return nil, err
		}
		qs, err := Queries(data)
		if err != nil {
			return nil, err
		}
		queries = append(queries, qs...)
	}
	queries, excluded := exclude(queries)

	ms, err := engine.ServeMetrics("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ms.Close()
	if o.Readiness != nil {
		ms.Handle("/readiness", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			w.Write(o.Readiness)
		}))
	}
	srv, apis, stop, err := startPrometheus(ctx, out, o, ms.Addr)
	if err != nil {
		return nil, err
	}
	defer stop()

	// A short-lived series (a fault's 1 while it lasts) is only seen if
	// Prometheus scrapes the harness from the run's start.
	if err := waitFirstScrape(ctx, srv); err != nil {
		return nil, err
	}
	start := time.Now()
	fmt.Fprintf(out, "harness: running %s against %s\n", o.Scenario.Name, o.Env.Target)
	target, err := fault.LoadTarget(o.Scenario.Faults, o.Env, o.Env.Target)
	if err != nil {
		return nil, err
	}
	res, err := engine.Run(ctx, o.Scenario, target, engine.WithMetrics(ms.Metrics), engine.WithProgress(out, time.Second), engine.WithFaults(o.Env))
	if err != nil {
		return nil, err
	}
	v := &Verification{Sent: res.Summary(engine.Meta{}).Metrics[record.MetricReqs].Values["count"], Excluded: excluded}
	// The last scrape must come after the last request: wait until
	// Prometheus has the run's own count.
	if err := waitScraped(ctx, srv, v.Sent); err != nil {
		return nil, err
	}
	// Lint after the run: a vector with no series yet (no request on a
	// route) is not exposed at all before it.
	lintTargets := []string{"http://" + ms.Addr + "/metrics", apis[0]}
	if o.Readiness != nil {
		lintTargets = append(lintTargets, "http://"+ms.Addr+"/readiness")
	}
	for _, u := range lintTargets {
		findings, err := lintURL(ctx, u)
		if err != nil {
			return nil, err
		}
		for _, fd := range findings {
			v.Lint = append(v.Lint, u+": "+fd)
		}
	}
	w := Window{Start: start.Add(-5 * time.Second), End: time.Now().Add(time.Second), Step: time.Second, RateInterval: 5 * time.Second}
	v.Findings = Verify(ctx, srv, queries, w)
	rules, err := srv.Rules(ctx)
	if err != nil {
		return nil, err
	}
	v.Rules = len(rules)
	for _, r := range rules {
		if r.Health == "err" {
			v.RuleErrors = append(v.RuleErrors, fmt.Sprintf("%s / %s: %s", r.Group, r.Name, r.LastError))
		}
	}
	return v, nil
}

// exclude drops the queries of the unverified panels, and says which
// panels it dropped and why, each once.
func exclude(queries []Query) ([]Query, []string) {
	var kept []Query
	var excluded []string
	seen := map[string]bool{}
	for _, q := range queries {
		why, ok := unverified[q.Panel]
		if !ok || q.Board != serviceTitle {
			kept = append(kept, q)
			continue
		}
		if key := q.Board + " / " + q.Panel; !seen[key] {
			seen[key] = true
			excluded = append(excluded, key+": "+why)
		}
	}
	return kept, excluded
}

// startExporters starts the exporters the compose stack runs, from
// Debian's packages, on e: the blackbox exporter probing /healthz and
// /readyz at e.Target (its public address, trusting e.CA when it serves
// HTTPS) and redis_exporter reading e's Redis. It returns their scrape
// targets and what stops them; a missing package is an error that says
// which to install.
func startExporters(ctx context.Context, out io.Writer, e *env.Env) ([]prom.Target, func(), error) {
	var procs []*exporter.Process
	stop := func() {
		for _, p := range procs {
			p.Close()
		}
	}
	var ca []byte
	if e.CA != nil {
		ca = e.CA.PEM()
	}
	bb, err := exporter.Blackbox(ctx, ca)
	if err != nil {
		return nil, nil, err
	}
	procs = append(procs, bb)
	urls := []string{e.Target + "/healthz", e.Target + "/readyz"}
	targets := []prom.Target{{
		Job: "blackbox", Addrs: urls, Path: "/probe", Exporter: bb.Addr,
		Params: map[string][]string{"module": {exporter.Module(e.Target)}},
	}}
	if e.Stores == nil || e.Stores.RedisURL == "" {
		stop()
		return nil, nil, errors.New("verify needs the environment's Redis URL for redis_exporter")
	}
	re, err := exporter.Redis(ctx, e.Stores.RedisURL)
	if err != nil {
		stop()
		return nil, nil, err
	}
	procs = append(procs, re)
	targets = append(targets, prom.Target{Job: "redis", Addrs: []string{re.Addr}})
	fmt.Fprintf(out, "harness: blackbox exporter probing %s; redis_exporter reading the environment's Redis\n", strings.Join(urls, " and "))
	return targets, stop, nil
}

// startPrometheus starts the Prometheus of a verification run, scraping
// each API's metrics listener (METRICS_ADDR, not its public port, which
// answers /metrics 404), the harness at harnessAddr and the exporters
// startExporters starts; it returns the server, the APIs' metrics URLs
// and what stops the server and the exporters.
func startPrometheus(ctx context.Context, out io.Writer, o VerifyOptions, harnessAddr string) (*prom.Server, []string, func(), error) {
	var apis, hosts []string
	for _, a := range o.Env.APIs {
		u, err := url.Parse(a.MetricsURL())
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s metrics URL: %w", a.Name(), err)
		}
		apis, hosts = append(apis, u.String()), append(hosts, u.Host)
	}
	if len(apis) == 0 {
		return nil, nil, nil, ErrNothingToScrape
	}
	exporters, stopExporters, err := startExporters(ctx, out, o.Env)
	if err != nil {
		return nil, nil, nil, err
	}
	targets := append([]prom.Target{{Job: "taskapi", Addrs: hosts}, {Job: "harness", Addrs: []string{harnessAddr}}}, exporters...)
	if o.Readiness != nil {
		targets = append(targets, prom.Target{Job: "readiness", Addrs: []string{harnessAddr}, Path: "/readiness"})
	}
	// local are the options of Prometheus as a process; opts add the
	// image's when it runs in a container.
	var local []prom.Option
	if o.Rules != nil {
		local = append(local, prom.Rules(o.Rules))
	}
	opts := local
	if o.PromImage != "" || o.Env.Provider == "docker" {
		// With the docker provider Prometheus runs as the compose stack
		// runs it, from an image of a chosen version, not as whatever the
		// machine's package manager installed.
		img := prom.ImageFromEnv(o.PromImage)
		opts = append(opts, prom.Image(img))
		if o.Env.Stores != nil && o.Env.Stores.ID != "" {
			// The environment's own cleanup (and `harness down -id`) then
			// removes it with the rest.
			opts = append(opts, prom.Labels(map[string]string{docker.LabelEnvironment: o.Env.Stores.ID}))
		}
		fmt.Fprintf(out, "harness: starting Prometheus from the image %s on the host's network\n", img)
	} else {
		fmt.Fprintln(out, "harness: starting Prometheus from the local prometheus binary")
	}
	srv, err := prom.Start(ctx, targets, opts...)
	if errors.Is(err, prom.ErrNoImage) && o.PromImage == "" && prom.ImageFromEnv("") == prom.DefaultImage {
		// Nobody asked for an image: the docker provider's default is
		// unavailable (an offline engine), so the local binary it is.
		fmt.Fprintf(out, "harness: %v\nharness: starting Prometheus from the local prometheus binary instead\n", err)
		srv, err = prom.Start(ctx, targets, local...)
	}
	if err != nil {
		stopExporters()
		return nil, nil, nil, err
	}
	fmt.Fprintf(out, "harness: Prometheus at %s scraping %d API instances, the harness and the exporters every second\n", srv.URL, len(apis))
	return srv, apis, func() { srv.Close(); stopExporters() }, nil
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
// waitFirstScrape waits until Prometheus has scraped the harness once.
func waitFirstScrape(ctx context.Context, srv *prom.Server) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if s, err := srv.Query(ctx, `up{job="harness"} == 1`, time.Time{}); err == nil && len(s) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("prometheus did not scrape the harness within 30s: %s", srv.Log())
		case <-tick.C:
		}
	}
}

func waitScraped(ctx context.Context, srv *prom.Server, want float64) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	got := 0.0
	for {
		if s, err := srv.Query(ctx, "sum("+record.SeriesRequests+")", time.Time{}); err == nil && len(s) == 1 {
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

// Failed lists the panels, as "board / panel", with a query that was
// invalid or returned no series.
func (v *Verification) Failed() []string {
	var failed []string
	for _, p := range v.panels() {
		if len(p.problems) > 0 {
			failed = append(failed, p.board+" / "+p.title)
		}
	}
	return failed
}

// OK is whether every panel showed data, promtool found nothing and every
// rule evaluated.
func (v *Verification) OK() bool {
	return len(v.Failed()) == 0 && len(v.Lint) == 0 && len(v.RuleErrors) == 0
}

// panelResult is one panel's queries, in the order they were found.
type panelResult struct {
	board, title string
	queries, ok  int
	problems     []string
}

func (v *Verification) panels() []*panelResult {
	var panels []*panelResult
	index := map[string]*panelResult{}
	for _, f := range v.Findings {
		key := f.Board + "\x00" + f.Panel
		p := index[key]
		if p == nil {
			p = &panelResult{board: f.Board, title: f.Panel}
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
	return panels
}

// WriteText writes one line per panel, every problem, and a last line
// with the counts; a failed verification ends with FAILED and the panels.
func (v *Verification) WriteText(out io.Writer) error {
	panels := v.panels()
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nDASHBOARD\tPANEL\tQUERIES\tRESULT\n")
	boards := map[string]int{}
	for _, p := range panels {
		verdict := "ok"
		if len(p.problems) > 0 {
			verdict = "FAIL"
		}
		boards[p.board]++
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\n", p.board, p.title, p.ok, p.queries, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range panels {
		for _, pr := range p.problems {
			fmt.Fprintf(out, "  %s / %s: %s\n", p.board, p.title, pr)
		}
	}
	for _, x := range v.Excluded {
		fmt.Fprintf(out, "  excluded, not verified: %s\n", x)
	}
	for _, l := range v.Lint {
		fmt.Fprintf(out, "  promtool: %s\n", l)
	}
	for _, e := range v.RuleErrors {
		fmt.Fprintf(out, "  rule: %s\n", e)
	}
	failed := v.Failed()
	fmt.Fprintf(out, "\n%d panels on %d dashboards after a run of %.0f requests: %d failed, %d excluded; promtool: %d findings; rules: %d, %d failing\n",
		len(panels), len(boards), v.Sent, len(failed), len(v.Excluded), len(v.Lint), v.Rules, len(v.RuleErrors))
	if !v.OK() {
		_, err := fmt.Fprintf(out, "FAILED: %s\n", strings.Join(append(failed, v.RuleErrors...), "; "))
		return err
	}
	return nil
}
