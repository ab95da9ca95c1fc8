// Package prom runs a local Prometheus server that scrapes given targets,
// queries it, and lints metrics with promtool: the real Prometheus the
// dashboards are verified against.
//
// It drives the binaries of Debian's prometheus package (or any on PATH)
// as processes, over loopback; it never imports Prometheus's own code.
package prom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is returned when the prometheus or promtool binary is
// not on PATH.
var ErrNotInstalled = errors.New("not installed (Debian: apt-get install prometheus)")

// Target is one scrape job: the addresses (host:port) serving /metrics.
type Target struct {
	Job   string
	Addrs []string
	Path  string // default /metrics
}

// Server is a running Prometheus.
type Server struct {
	// URL is its base URL, http://127.0.0.1:PORT.
	URL string

	cmd    *exec.Cmd
	dir    string
	log    *syncBuffer
	done   chan struct{}
	client *http.Client
}

type options struct {
	binary   string
	interval time.Duration
}

// Option configures Start.
type Option func(*options)

// Binary runs the prometheus binary at path instead of the one on PATH.
func Binary(path string) Option { return func(o *options) { o.binary = path } }

// ScrapeInterval sets how often every target is scraped (default 1s: a
// verification run lasts seconds, not minutes).
func ScrapeInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// Start runs Prometheus scraping targets, with its data in a temporary
// directory, and returns once it answers /-/ready. Close stops it.
func Start(ctx context.Context, targets []Target, opts ...Option) (*Server, error) {
	o := options{binary: "prometheus", interval: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := exec.LookPath(o.binary)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", ErrNotInstalled)
	}
	dir, err := os.MkdirTemp("", "taskready-prometheus-")
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, Config(targets, o.interval), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := &Server{URL: "http://" + addr, dir: dir, log: &syncBuffer{}, done: make(chan struct{}),
		client: &http.Client{Timeout: 30 * time.Second}}
	// Not CommandContext: Close ends it with SIGTERM so it flushes, and
	// the caller's ctx only bounds the start.
	s.cmd = exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("prometheus: start %s: %w", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Config is the prometheus.yml that scrapes targets every interval.
func Config(targets []Target, interval time.Duration) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\nscrape_configs:\n",
		interval, min(interval, 10*time.Second), interval)
	for _, t := range targets {
		path := t.Path
		if path == "" {
			path = "/metrics"
		}
		fmt.Fprintf(&b, "  - job_name: %q\n    metrics_path: %q\n    static_configs:\n      - targets: [", t.Job, path)
		for i, a := range t.Addrs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", a)
		}
		b.WriteString("]\n")
	}
	return []byte(b.String())
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/-/ready", nil)
		if resp, err := s.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("prometheus exited before it was ready: %s", s.log.tail())
		case <-ctx.Done():
			return fmt.Errorf("prometheus not ready at %s: %w; its log: %s", s.URL, ctx.Err(), s.log.tail())
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

// api calls a query endpoint and decodes its data into out.
func (s *Server) api(ctx context.Context, path string, v url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, strings.NewReader(v.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
func (s *Server) Log() string { return s.log.String() }

// Close stops Prometheus and removes its data.
func (s *Server) Close() error {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	return os.RemoveAll(s.dir)
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer the process writes while others read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tail is the last 2 KB of the log, for error messages.
func (b *syncBuffer) tail() string {
	s := b.String()
	if len(s) > 2048 {
		s = "…" + s[len(s)-2048:]
	}
	return strings.TrimSpace(s)
}
