package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/scenario"
)

// ChildEngine is the first argument that makes the benchmark's executable
// run one turn of the engine (EngineChild) rather than the benchmark.
const ChildEngine = "engine-turn"

// The engine's two HTTP transports, as harness run -http names them.
const (
	TransportFast = "fast"
	TransportStd  = "std"
)

// engineSpec is one turn of the engine.
type engineSpec struct {
	target   string
	vus      int           // closed model: the VUs; open: those pre-allocated
	maxVUs   int           // open model only
	rate     int           // iterations per second; 0 for the closed model
	duration time.Duration // the schedule's length
	http     string        // TransportFast or TransportStd
}

// args are the child's command-line arguments for s, which EngineChild
// parses back.
func (s engineSpec) args() []string {
	return []string{ChildEngine, "-target", s.target, "-vus", strconv.Itoa(s.vus), "-max-vus", strconv.Itoa(s.maxVUs),
		"-rate", strconv.Itoa(s.rate), "-duration", s.duration.String(), "-http", s.http}
}

// file is the scenario file of s: one scenario of a one-step journey
// (GET /ping, no think time), constant-vus for rate 0, else
// constant-arrival-rate.
func (s engineSpec) file() (*scenario.File, error) {
	sc := fmt.Sprintf("{executor: constant-vus, vus: %d, duration: %s, journeys: [ping]}", s.vus, s.duration)
	if s.rate > 0 {
		sc = fmt.Sprintf("{executor: constant-arrival-rate, rate: %d, timeUnit: 1s, duration: %s, preAllocatedVUs: %d, maxVUs: %d, journeys: [ping]}",
			s.rate, s.duration, s.vus, s.maxVUs)
	}
	src := `name: engine-bench
defaults: {timeout: 10s, think: 0s}
scenarios:
  ping: ` + sc + `
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
      check: {status: 200}
`
	return scenario.Parse("engine-bench.yaml", []byte(src))
}

// engineResult is what one turn of the engine measured, as the child
// writes it (JSON) for the benchmark to read.
type engineResult struct {
	Requests int64 `json:"requests"`
	Failures int64 `json:"failures"`
	// Elapsed is engine.Run's wall time, in-flight requests included.
	Elapsed time.Duration `json:"elapsed"`
	// StartRate is the rate the requests started at, first to last.
	StartRate float64 `json:"start_rate"`
	// P50 and P99 are timed from each iteration's scheduled start (what
	// the engine reports and gates on); SentP50 and SentP99 from when the
	// request was actually sent. They differ only in the open model.
	P50     time.Duration `json:"p50"`
	P99     time.Duration `json:"p99"`
	SentP50 time.Duration `json:"sent_p50"`
	SentP99 time.Duration `json:"sent_p99"`
	Dropped int64         `json:"dropped"`
	VUsMax  int64         `json:"vus_max"`
	// Valid is the engine's verdict on itself; Invalid lists the failed
	// validity checks.
	Valid   bool     `json:"valid"`
	Invalid []string `json:"invalid,omitempty"`
}

// EngineChild runs one turn of the engine as args (after ChildEngine)
// describe and writes what it measured to w as JSON. The benchmark runs it
// in a process of its own, as it runs every other tool, so each one's CPU
// is its own rusage and none shares a Go runtime with the benchmark.
func EngineChild(ctx context.Context, args []string, w io.Writer) error {
	s, err := parseEngineArgs(args)
	if err != nil {
		return err
	}
	r, err := runEngine(ctx, s)
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(r)
}

func parseEngineArgs(args []string) (engineSpec, error) {
	var s engineSpec
	fs := flag.NewFlagSet(ChildEngine, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&s.target, "target", "", "base URL")
	fs.IntVar(&s.vus, "vus", 0, "VUs (pre-allocated, for a rate)")
	fs.IntVar(&s.maxVUs, "max-vus", 0, "most VUs, for a rate")
	fs.IntVar(&s.rate, "rate", 0, "iterations per second; 0 for the closed model")
	fs.DurationVar(&s.duration, "duration", 0, "schedule length")
	fs.StringVar(&s.http, "http", TransportFast, "fast or std")
	if err := fs.Parse(args); err != nil {
		return s, fmt.Errorf("%s: %w", ChildEngine, err)
	}
	switch {
	case !strings.HasPrefix(s.target, "http://") && !strings.HasPrefix(s.target, "https://"):
		return s, fmt.Errorf("%s: -target %q: want an http:// or https:// URL", ChildEngine, s.target)
	case s.vus <= 0 || s.duration <= 0 || s.rate < 0:
		return s, fmt.Errorf("%s: want -vus and -duration above 0 and -rate of at least 0", ChildEngine)
	case s.rate > 0 && s.maxVUs < s.vus:
		return s, fmt.Errorf("%s: -max-vus %d is below -vus %d", ChildEngine, s.maxVUs, s.vus)
	case s.http != TransportFast && s.http != TransportStd:
		return s, fmt.Errorf("%s: -http %q: want %s or %s", ChildEngine, s.http, TransportFast, TransportStd)
	}
	return s, nil
}

// runEngine runs s through engine.Run, as harness run does with its
// default limits.
func runEngine(ctx context.Context, s engineSpec) (engineResult, error) {
	f, err := s.file()
	if err != nil {
		return engineResult{}, fmt.Errorf("engine turn: %w", err)
	}
	var opts []engine.Option
	if s.http == TransportStd {
		// As harness run -http std builds it: net/http keeps two idle
		// connections per host by default; a load generator needs one
		// per VU.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost, tr.DisableCompression = 10000, true
		opts = append(opts, engine.WithClient(&http.Client{Transport: tr}))
	}
	res, err := engine.Run(ctx, f, s.target, opts...)
	if err != nil {
		return engineResult{}, fmt.Errorf("engine turn: %w", err)
	}
	if res.Aborted != "" {
		return engineResult{}, fmt.Errorf("engine turn: %s", res.Aborted)
	}
	sum := res.Summary(engine.Meta{ID: "bench"})
	t := res.Recorder.Snapshot().Total
	r := engineResult{
		Requests: t.Count, Failures: t.Failures, Elapsed: res.End.Sub(res.Start), StartRate: t.RPS,
		P50: t.Corrected.Median, P99: t.Corrected.P99, SentP50: t.Latency.Median, SentP99: t.Latency.P99,
		Valid: sum.Run.Validity.Valid,
	}
	for _, sc := range res.Scenarios {
		r.Dropped += sc.Dropped
		r.VUsMax += sc.VUsMax
	}
	for _, c := range sum.Run.Validity.Checks {
		if !c.OK {
			r.Invalid = append(r.Invalid, fmt.Sprintf("%s %s > %s", c.Name, c.Observed, c.Limit))
		}
	}
	return r, nil
}

// parseEngineResult reads what EngineChild wrote.
func parseEngineResult(out []byte) (engineResult, error) {
	var r engineResult
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("engine turn: %w in %q", err, clip(string(out)))
	}
	if r.Requests <= 0 || r.Elapsed <= 0 {
		return r, errors.New("engine turn: no requests: " + strconv.Quote(clip(string(out))))
	}
	return r, nil
}
