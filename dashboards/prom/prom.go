// Package prom runs a Prometheus server that scrapes given targets,
// queries it, and lints metrics with promtool: the real Prometheus the
// dashboards are verified against.
//
// It drives the binaries of Debian's prometheus package (or any on PATH)
// as processes over loopback, or, with Image, a Prometheus image in a
// container on the host's network; it never imports Prometheus's own
// code.
package prom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/taskready/taskready/internal/child"
)

// ErrNotInstalled is returned when the prometheus or promtool binary is
// not on PATH.
var ErrNotInstalled = errors.New("not installed (Debian: apt-get install prometheus)")

// ErrNoImage is returned by Start with Image when the container engine
// has no such image and cannot pull it.
var ErrNoImage = errors.New("image unavailable")

// Target is one scrape job: the addresses (host:port) serving /metrics.
type Target struct {
	Job   string
	Addrs []string
	Path  string // default /metrics
	// Params are the URL parameters of every scrape (a blackbox module).
	Params map[string][]string
	// Exporter, when set, is an exporter's multi-target pattern, as the
	// compose stack scrapes the blackbox and Redis exporters: Addrs are
	// what it probes or reads (URLs), each the target parameter and the
	// instance label of a scrape of Exporter (host:port) at Path.
	Exporter string
}

// Server is a running Prometheus.
type Server struct {
	// URL is its base URL, http://127.0.0.1:PORT.
	URL string

	name   string // "prometheus", or with the image it runs from
	run    runner
	client *http.Client

	closeOnce sync.Once
	closeErr  error
}

// runner is where Prometheus runs: a local process or a container.
type runner interface {
	// exited is nil while Prometheus runs, and says how it ended once it
	// has stopped.
	exited(ctx context.Context) error
	// output is what Prometheus has printed so far.
	output() string
	// stop ends Prometheus and removes its data.
	stop() error
}

type options struct {
	binary   string
	image    string
	labels   map[string]string
	interval time.Duration
	rules    [][]byte
}

// Option configures Start.
type Option func(*options)

// Binary runs the prometheus binary at path instead of the one on PATH.
func Binary(path string) Option { return func(o *options) { o.binary = path } }

// Image runs Prometheus from the image ref in a container (through
// testcontainers-go) instead of a local process; "" keeps the process.
// The container shares the host's network, because the targets are
// loopback addresses, and the image's entrypoint must be the prometheus
// binary, as the official image's is. See ImageFromEnv for the usual ref.
func Image(ref string) Option { return func(o *options) { o.image = ref } }

// Labels adds labels to the container that Image runs, beside the ones
// `harness down` looks for.
func Labels(l map[string]string) Option {
	return func(o *options) {
		if o.labels == nil {
			o.labels = map[string]string{}
		}
		maps.Copy(o.labels, l)
	}
}

// Rules has Prometheus load these rule files (their contents) and
// evaluate their groups every scrape interval, or as often as a group's
// own interval says.
func Rules(files ...[]byte) Option { return func(o *options) { o.rules = append(o.rules, files...) } }

// ScrapeInterval sets how often every target is scraped (default 1s: a
// verification run lasts seconds, not minutes).
func ScrapeInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// Start runs Prometheus scraping targets, with its data in a temporary
// directory (or a tmpfs in the container), and returns once it answers
// /-/ready. Close stops it.
func Start(ctx context.Context, targets []Target, opts ...Option) (*Server, error) {
	o := options{binary: "prometheus", interval: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	// A port taken before Prometheus listened is replaced by another.
	return child.RetryPortTaken(func() (*Server, error) { return start(ctx, targets, o) })
}

// freePort is where Start gets its port (a variable for the tests).
var freePort = child.FreePort

// start is one attempt of Start, on a new free port.
func start(ctx context.Context, targets []Target, o options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := &Server{URL: "http://" + addr, name: "prometheus", client: &http.Client{Timeout: 30 * time.Second}}
	if o.image != "" {
		s.name = "prometheus (image " + o.image + ")"
		s.run, err = startContainer(ctx, o, targets, addr)
	} else {
		s.run, err = startProcess(o, targets, addr)
	}
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		out := s.run.output() // before Close
		return nil, child.PortTakenError(errors.Join(err, s.Close()), out)
	}
	return s, nil
}

// process is Prometheus as a local process.
type process struct{ *child.Process }

// startProcess starts o.binary scraping targets, with its configuration,
// rule files and data in a temporary directory, listening on addr.
func startProcess(o options, targets []Target, addr string) (*process, error) {
	bin, err := exec.LookPath(o.binary)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", ErrNotInstalled)
	}
	dir, err := os.MkdirTemp("", "taskready-prometheus-")
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	rules := ruleFileNames(dir, len(o.rules))
	for i, r := range o.rules {
		if err := os.WriteFile(rules[i], r, 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("prometheus: %w", err)
		}
	}
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, Config(targets, o.interval, rules...), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	// Not CommandContext: Close ends it with SIGTERM so it flushes, and
	// the caller's ctx only bounds the start.
	c, err := child.Start(exec.Command(bin, flags(file, filepath.Join(dir, "data"), addr)...), dir)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	return &process{c}, nil
}

// flags are the command-line flags of Prometheus, process or container.
func flags(config, data, addr string) []string {
	return []string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + data,
		"--web.listen-address=" + addr,
		"--log.level=warn",
	}
}

func (p *process) exited(context.Context) error { return p.Exited() }

func (p *process) output() string { return p.Output() }

func (p *process) stop() error { return p.Stop() }

// ruleFileNames are the paths of n rule files in dir.
func ruleFileNames(dir string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = path.Join(dir, fmt.Sprintf("rules-%d.yml", i+1))
	}
	return out
}

// Config is the prometheus.yml that scrapes targets, and evaluates the
// rules of ruleFiles (paths as Prometheus will see them), every interval.
func Config(targets []Target, interval time.Duration, ruleFiles ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n",
		interval, min(interval, 10*time.Second), interval)
	if len(ruleFiles) > 0 {
		b.WriteString("rule_files:\n")
		for _, f := range ruleFiles {
			fmt.Fprintf(&b, "  - %q\n", f)
		}
	}
	b.WriteString("scrape_configs:\n")
	for _, t := range targets {
		path := t.Path
		if path == "" {
			path = "/metrics"
		}
		fmt.Fprintf(&b, "  - job_name: %q\n    metrics_path: %q\n", t.Job, path)
		if len(t.Params) > 0 {
			b.WriteString("    params:\n")
			for _, k := range slices.Sorted(maps.Keys(t.Params)) {
				fmt.Fprintf(&b, "      %q: [%s]\n", k, quoted(t.Params[k]))
			}
		}
		fmt.Fprintf(&b, "    static_configs:\n      - targets: [%s]\n", quoted(t.Addrs))
		if t.Exporter != "" {
			fmt.Fprintf(&b, "    relabel_configs:\n"+
				"      - {source_labels: [__address__], target_label: __param_target}\n"+
				"      - {source_labels: [__param_target], target_label: instance}\n"+
				"      - {target_label: __address__, replacement: %q}\n", t.Exporter)
		}
	}
	return []byte(b.String())
}

// quoted is a YAML flow sequence's items, each double-quoted.
func quoted(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = strconv.Quote(it)
	}
	return strings.Join(q, ", ")
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	// A short timeout per probe: a port someone else holds may accept
	// and never answer, and the process's exit is checked between probes.
	probe := &http.Client{Timeout: 2 * time.Second}
	for {
		if err := s.run.exited(ctx); err != nil {
			return fmt.Errorf("%s %v before it was ready; its log: %s", s.name, err, tail(s.run.output()))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		if resp, err := probe.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w; its log: %s", s.name, s.URL, ctx.Err(), tail(s.run.output()))
		case <-tick.C:
		}
	}
}

// QueryError is an error Prometheus returned for a query: a bad
// expression, most often.
type QueryError struct {
	Type, Message string
}

func (e *QueryError) Error() string { return e.Type + ": " + e.Message }

// QueryRange evaluates expr from start to end every step and returns how
// many series came back; an invalid expression is a *QueryError.
func (s *Server) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (int, error) {
	v := url.Values{
		"query": {expr},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	var data struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := s.api(ctx, "/api/v1/query_range", v, &data); err != nil {
		return 0, err
	}
	return len(data.Result), nil
}

// Sample is one series of an instant query: its labels and value.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Query evaluates expr at t (now when zero).
func (s *Server) Query(ctx context.Context, expr string, t time.Time) ([]Sample, error) {
	v := url.Values{"query": {expr}}
	if !t.IsZero() {
		v.Set("time", formatTime(t))
	}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := s.api(ctx, "/api/v1/query", v, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: a %s, want an instant vector", expr, data.ResultType)
	}
	out := make([]Sample, 0, len(data.Result))
	for _, r := range data.Result {
		str, _ := r.Value[1].(string)
		f, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v: %w", expr, r.Value[1], err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: f})
	}
	return out, nil
}

// Rule is one rule of the server, as /api/v1/rules reports it.
type Rule struct {
	Group string
	Name  string // the alert's, or the series a recording rule writes
	Type  string // "alerting" or "recording"
	// Health is "ok", "err" (LastError says why) or "unknown" before its
	// first evaluation.
	Health, LastError string
}

// Rules lists the rules the server loaded, group by group.
func (s *Server) Rules(ctx context.Context) ([]Rule, error) {
	var data struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name      string `json:"name"`
				Type      string `json:"type"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := s.api(ctx, "/api/v1/rules", nil, &data); err != nil {
		return nil, err
	}
	var out []Rule
	for _, g := range data.Groups {
		for _, r := range g.Rules {
			out = append(out, Rule{Group: g.Name, Name: r.Name, Type: r.Type, Health: r.Health, LastError: r.LastError})
		}
	}
	return out, nil
}

// api calls an endpoint of the HTTP API, a GET without v and a form POST
// with it, and decodes its data into out.
func (s *Server) api(ctx context.Context, path string, v url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if v != nil {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, strings.NewReader(v.Encode()))
	}
	if err != nil {
		return err
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("prometheus %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("prometheus %s: %w", path, err)
	}
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("prometheus %s: HTTP %d: %.200s", path, resp.StatusCode, body)
	}
	if env.Status != "success" {
		return &QueryError{Type: env.ErrorType, Message: env.Error}
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("prometheus %s: %w", path, err)
	}
	return nil
}

// Log is what Prometheus has printed so far (warnings and errors).
func (s *Server) Log() string { return s.run.output() }

// Close stops Prometheus and removes its data (the container too). It
// may be called more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.run.stop() })
	return s.closeErr
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// tail is the last 2 KB of a log, for error messages.
func tail(s string) string {
	if len(s) > 2048 {
		s = "…" + s[len(s)-2048:]
	}
	if s = strings.TrimSpace(s); s == "" {
		return "(empty)"
	}
	return s
}
