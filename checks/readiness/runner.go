package readiness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/internal/buildinfo"
)

// Defaults of a run.
const (
	// DefaultTimeout bounds each check: long enough for a check that
	// waits out a rate-limit window or a store election, short enough
	// that a hung check does not hold a CI job for long.
	DefaultTimeout = 60 * time.Second
	// DefaultConcurrency is how many non-disruptive checks run at once:
	// enough to finish quickly, few enough not to look like load.
	DefaultConcurrency = 4
)

// Option configures a run.
type Option func(*config)

type config struct {
	timeout        time.Duration
	grace          time.Duration
	concurrency    int
	progress       io.Writer
	policy         *Policy
	minScoreOpt    int
	toolVersion    string
	toolRevision   string
	api            *check.Build
	previous       *Report
	previousSource string
	environment    *Environment
	known          []string
	runID          string
	cleanup        func(ctx context.Context, t *check.Target)
	now            func() time.Time
}

func newConfig(opts []Option) config {
	build := buildinfo.Read()
	c := config{timeout: DefaultTimeout, concurrency: DefaultConcurrency, toolVersion: build.Short(), toolRevision: build.Revision, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.grace <= 0 {
		// After its deadline a check gets this long to return on its
		// own (most return a context error at once) before it is
		// abandoned.
		c.grace = min(time.Second, c.timeout)
	}
	if c.concurrency < 1 {
		c.concurrency = 1
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// minScore is the option's minimum score, else the policy's.
func (c config) minScore() int {
	if c.minScoreOpt > 0 {
		return c.minScoreOpt
	}
	if c.policy != nil {
		return c.policy.MinScore
	}
	return 0
}

// WithTimeout bounds each check's run (DefaultTimeout if d <= 0).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithConcurrency sets how many non-disruptive checks run at once; 1 runs
// them one by one.
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithProgress writes one line to w per finished check, as it finishes.
func WithProgress(w io.Writer) Option { return func(c *config) { c.progress = w } }

// WithPolicy applies a policy: its thresholds, overrides and minimum score.
func WithPolicy(p *Policy) Option { return func(c *config) { c.policy = p } }

// WithMinScore gates the run on the score; it wins over the policy's
// min_score. 0 leaves the policy's.
func WithMinScore(n int) Option { return func(c *config) { c.minScoreOpt = n } }

// WithToolVersion names the harness version in the report (by default the
// module version and short revision from the build information); the
// report then names no full revision, since v may be another build's.
func WithToolVersion(v string) Option {
	return func(c *config) { c.toolVersion, c.toolRevision = v, "" }
}

// WithAPIBuild records the build the target said it runs (health.ReadBuild
// reads it) in the report.
func WithAPIBuild(b check.Build) Option { return func(c *config) { c.api = &b } }

// WithClock sets the run's clock (time.Now by default): its start and id,
// and so the day its waivers expire against.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithPrevious compares the run with prev, a previous run's report read
// from source (a path, for the reports to name): the checks newly
// failing and newly passing, and the change of score.
func WithPrevious(source string, prev *Report) Option {
	return func(c *config) { c.previous, c.previousSource = prev, source }
}

// WithEnvironment records what the checks run against in the report.
func WithEnvironment(e Environment) Option { return func(c *config) { c.environment = &e } }

// WithKnownIDs adds ids the policy may name although they are not run,
// for a run of a subset of the checks: its policy still names the others.
func WithKnownIDs(ids ...string) Option {
	return func(c *config) { c.known = append(c.known, ids...) }
}

// WithRunID sets the run's id (by default a UTC timestamp and random hex).
func WithRunID(id string) Option { return func(c *config) { c.runID = id } }

// WithCleanup calls f once a run's checks are done, with the target they
// ran against (the run's prefix and Shared), so that f removes what they
// created (fixture.Cleanup). Its context is the run's without its
// cancellation: an interrupted run still cleans up.
func WithCleanup(f func(ctx context.Context, t *check.Target)) Option {
	return func(c *config) { c.cleanup = f }
}

// Runner runs a validated set of checks.
type Runner struct {
	checks []check.Check
	metas  []check.Meta
	cfg    config
}

// New validates checks and options: every check has a unique id, a known
// severity and a category, and every policy override names a check (or a
// WithKnownIDs id) and downgrades to a lower severity.
func New(checks []check.Check, opts ...Option) (*Runner, error) {
	cfg := newConfig(opts)
	r := &Runner{checks: checks, cfg: cfg, metas: make([]check.Meta, len(checks))}
	var errs []error
	first := map[string]int{}
	for i, c := range checks {
		if c == nil {
			errs = append(errs, fmt.Errorf("checks[%d] is nil", i))
			continue
		}
		m, err := safeMeta(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("checks[%d]: %w", i, err))
			continue
		}
		r.metas[i] = m
		switch {
		case m.ID == "":
			errs = append(errs, fmt.Errorf("checks[%d] (%q) has no id", i, m.Title))
		case m.Severity.Rank() == 0:
			errs = append(errs, fmt.Errorf("check %s has severity %q, not one of %s", m.ID, m.Severity, strings.Join(severities, ", ")))
		case m.Category == "":
			errs = append(errs, fmt.Errorf("check %s has no category", m.ID))
		}
		if m.ID == "" {
			continue
		}
		if j, dup := first[m.ID]; dup {
			errs = append(errs, fmt.Errorf("checks[%d] and checks[%d] share the id %s; ids must be unique, policies refer to them", j, i, m.ID))
			continue
		}
		first[m.ID] = i
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	known := append([]check.Meta(nil), r.metas...)
	for _, id := range cfg.known {
		known = append(known, check.Meta{ID: id})
	}
	if err := cfg.policy.Validate(known); err != nil {
		return nil, err
	}
	return r, nil
}

func safeMeta(c check.Check) (m check.Meta, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Meta panicked: %v", p)
		}
	}()
	return c.Meta(), nil
}

// Run is New then Runner.Run, for callers that want one call: a
// configuration error (a duplicate id, an override for an unknown check)
// comes back as a report with exit code 2, a failed "configuration" gate
// and no results. Call New to get the error itself.
func Run(ctx context.Context, checks []check.Check, t *check.Target, opts ...Option) *Report {
	r, err := New(checks, opts...)
	if err != nil {
		cfg := newConfig(opts)
		info := RunInfo{ID: cfg.id(), Start: cfg.now().UTC(), ToolVersion: cfg.toolVersion, ToolRevision: cfg.toolRevision, API: cfg.api, Environment: cfg.environment}
		if t != nil {
			info.Target = t.BaseURL
		}
		return configError(info, err)
	}
	return r.Run(ctx, t)
}

func (c config) id() string {
	if c.runID != "" {
		return c.runID
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return c.now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Run runs the checks against t and reports. It does not change t: the
// checks see a copy whose Policy has the policy's thresholds over t's own
// (and defaults for what neither sets), whose Prefix is "readiness-<run
// id>" unless t set one, whose Shared is the run's own (so that the
// checks of this run share their fixture users, and no other run does),
// and whose Client has a 10s timeout unless t has a client. Run may be
// called again, and from several goroutines.
func (r *Runner) Run(ctx context.Context, t *check.Target) *Report {
	cfg := r.cfg
	start := cfg.now()
	info := RunInfo{ID: cfg.id(), Start: start.UTC(), ToolVersion: cfg.toolVersion, ToolRevision: cfg.toolRevision, API: cfg.api, Environment: cfg.environment}
	if t == nil {
		return configError(info, errors.New("no target: the run needs at least a base URL"))
	}
	info.Target = t.BaseURL
	tt := *t
	if cfg.policy != nil {
		tt.Policy = mergeThresholds(tt.Policy, cfg.policy.Thresholds)
	}
	tt.Policy = tt.Policy.WithDefaults()
	if tt.Prefix == "" {
		tt.Prefix = "readiness-" + info.ID
	}
	tt.Shared = &check.Shared{}
	if tt.Client == nil {
		tt.Client = &http.Client{Timeout: 10 * time.Second}
	}
	info.Thresholds = thresholdList(tt.Policy)

	raw := make([]Result, len(r.checks))
	var safe, disrupting []int
	for i, c := range r.checks {
		m := r.metas[i]
		raw[i] = Result{ID: m.ID, Title: m.Title, Category: m.Category, Severity: m.Severity,
			Remediation: m.Remediation, References: m.References, Disruptive: check.IsDisruptive(c)}
		if raw[i].Disruptive {
			disrupting = append(disrupting, i)
		} else {
			safe = append(safe, i)
		}
	}
	p := &progress{w: cfg.progress, total: len(r.checks)}
	runOne := func(i int) {
		res := runCheck(ctx, r.checks[i], &tt, cfg)
		raw[i].Status, raw[i].Message, raw[i].Evidence, raw[i].Took = res.Status, res.Message, res.Evidence, res.Took
		p.done(raw[i])
	}

	sem := make(chan struct{}, cfg.concurrency)
	var wg sync.WaitGroup
	for _, i := range safe {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			runOne(i)
		}()
	}
	wg.Wait()
	for _, i := range disrupting {
		runOne(i)
	}
	info.Duration = cfg.now().Sub(start)
	if cfg.cleanup != nil {
		cfg.cleanup(context.WithoutCancel(ctx), &tt)
	}
	return evaluate(info, raw, cfg)
}

// runCheck runs one check with its deadline, timing it and turning a
// panic, a hang or a malformed result into an Error result.
func runCheck(ctx context.Context, c check.Check, t *check.Target, cfg config) check.Result {
	if err := ctx.Err(); err != nil {
		return check.Errorf("not run: the run was cancelled before this check started (" + err.Error() + ")")
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	done := make(chan check.Result, 1)
	start := time.Now()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- check.Errorf(fmt.Sprintf("the check panicked: %v", p), check.Evidence{Note: stack()})
			}
		}()
		done <- c.Run(cctx, t)
	}()
	var res check.Result
	select {
	case res = <-done:
	case <-cctx.Done():
		grace := time.NewTimer(cfg.grace)
		defer grace.Stop()
		why := "timed out after " + cfg.timeout.String()
		if ctx.Err() != nil {
			why = "cancelled with the run (" + ctx.Err().Error() + ")"
		}
		select {
		case res = <-done:
			// It returned on its own once its context ended; a verdict
			// stands, an error says why.
			if res.Status == check.Error || res.Status == "" {
				res.Status = check.Error
				res.Message = strings.TrimSuffix(why+": "+res.Message, ": ")
			}
		case <-grace.C:
			res = check.Errorf(why + "; the check did not return within " + cfg.grace.String() + " of its deadline and was abandoned (it may still be running)")
		}
	}
	res.Took = time.Since(start)
	switch res.Status {
	case check.Pass, check.Fail, check.Warn, check.NotApplicable, check.Error:
	default:
		res.Message = fmt.Sprintf("the check returned status %q, not one of pass, fail, warn, not_applicable, error; its message: %s", res.Status, res.Message)
		res.Status = check.Error
	}
	return res
}

// stack is the goroutine's stack from the panic down, trimmed to what
// points at the check.
func stack() string {
	lines := strings.Split(strings.TrimSpace(string(debug.Stack())), "\n")
	// Drop the header and the frames of debug.Stack, stack and the
	// deferred recover, down to the panic.
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			lines = lines[i:]
			break
		}
	}
	if len(lines) > 24 {
		lines = append(lines[:24], "…")
	}
	return "stack:\n" + strings.Join(lines, "\n")
}

// progress writes a line per finished check.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
}

func (p *progress) done(r Result) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	msg := strings.Join(strings.Fields(r.Message), " ")
	if len([]rune(msg)) > 90 {
		msg = string([]rune(msg)[:89]) + "…"
	}
	width := len(itoa(p.total))
	fmt.Fprintf(p.w, "[%*d/%d] %-5s %-8s %-28s %s (%s)\n", width, p.n, p.total, StatusWord(r.Status), r.Severity, r.ID, msg, Round(r.Took))
}

// StatusWord is the short upper-case word for a status: PASS, FAIL, WARN,
// N/A, ERROR.
func StatusWord(s check.Status) string {
	switch s {
	case check.NotApplicable:
		return "N/A"
	case "":
		return "?"
	}
	return strings.ToUpper(string(s))
}

// Round rounds a duration for people: 3 significant digits at most.
func Round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
