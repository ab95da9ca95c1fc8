package readiness

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/check"
)

// Format and FormatVersion identify readiness.json; FormatVersion changes
// when a field changes meaning or goes away, not when one is added.
const (
	Format        = "taskready.readiness"
	FormatVersion = 1
)

// Exit codes of a run, as the harness returns them.
const (
	ExitPassed = 0
	ExitFailed = 1
	// ExitConfig is a run that could not start: its checks or policy are
	// wrong, so nothing was verified.
	ExitConfig = 2
)

// Limits on evidence kept in a report, so that a check that quotes a
// whole response cannot make a report of megabytes.
const (
	// EvidenceFieldLimit bounds each evidence field, in bytes.
	EvidenceFieldLimit = 4096
	// EvidenceItemLimit bounds the evidence items of one result.
	EvidenceItemLimit = 20
)

// Report is the outcome of a run: readiness.json.
type Report struct {
	Format  string  `json:"format"`  // always Format
	Version int     `json:"version"` // always FormatVersion
	Run     RunInfo `json:"run"`     // what was run, against what, when
	// Passed is true when no gate failed; ExitCode is what the harness
	// exits with.
	Passed   bool  `json:"passed"`
	ExitCode int   `json:"exit_code"` // ExitPassed, ExitFailed or ExitConfig
	Score    Score `json:"score"`     // for trends; the gates decide
	// Categories are in check.Category order, then by name.
	Categories []CategoryScore `json:"categories"`
	Counts     Counts          `json:"counts"` // by effective status
	Gates      []Gate          `json:"gates"`  // every gate, passed or not
	// Results are sorted for reading: failures and errors by severity,
	// then warnings, passes, not-applicable and ignored results.
	Results []Result `json:"results"`
	// Waivers are the policy's waivers that expired or expire soon, as
	// of the run's start.
	Waivers []Waiver `json:"waivers,omitempty"`
	// Previous compares the run with a previous one, when one was given.
	Previous *Comparison `json:"previous,omitempty"`
}

// RunInfo describes the run.
type RunInfo struct {
	// ID is unique per run; checks prefix what they create with it.
	ID       string        `json:"id"`
	Target   string        `json:"target"`      // the target's base URL
	Start    time.Time     `json:"start"`       // in UTC
	Duration time.Duration `json:"duration_ns"` // of the whole run
	// ToolVersion is the harness's version and short revision, and
	// ToolRevision its full VCS revision; ScoreVersion the scoring's.
	ToolVersion  string `json:"tool_version,omitempty"`
	ToolRevision string `json:"tool_revision,omitempty"`
	ScoreVersion string `json:"score_version"` // always ScoreVersion
	// API is the build the target said it runs, when the caller asked it.
	API *check.Build `json:"api,omitempty"`
	// Policy is the policy file, if any, and MinScore the score gate.
	Policy   string `json:"policy,omitempty"`
	MinScore int    `json:"min_score,omitempty"` // 0: no score gate
	// Thresholds are the thresholds the checks compared against.
	Thresholds []Threshold `json:"thresholds,omitempty"`
	// Error is why the run could not start (exit code 2), if it could not.
	Error string `json:"error,omitempty"`
	// Environment is what the checks ran against, when the caller said.
	Environment *Environment `json:"environment,omitempty"`
}

// Environment says what the checks ran against, so that a reader tells a
// production deployment's report from one of an environment the harness
// brought up for the occasion.
type Environment struct {
	// Provider is "external" for a deployment the harness was pointed
	// at, else the provider that brought it up ("embedded", "docker").
	Provider string `json:"provider"`
	// Note, when set, says why these results are not a production
	// deployment's; reports show it as a banner.
	Note string `json:"note,omitempty"`
}

// Result is one check's result in a report: the check's Meta, what it
// found, and what the policy made of it.
type Result struct {
	ID       string         `json:"id"`       // the check's stable id
	Title    string         `json:"title"`    // what the check verifies
	Category check.Category `json:"category"` // groups results; scored on its own too
	// Severity is the check's own; EffectiveSeverity the one it was
	// scored and gated at (lower after a downgrade).
	Severity          check.Severity `json:"severity"`
	EffectiveSeverity check.Severity `json:"effective_severity"` // after the policy
	// Status is what the check found; EffectiveStatus what counted (a
	// failure under a "warn" override counts as a warning).
	Status          check.Status `json:"status"`
	EffectiveStatus check.Status `json:"effective_status"` // after the policy
	// Ignored results are shown but neither scored nor gated.
	Ignored bool `json:"ignored,omitempty"`
	// Override is the policy override applied, with its reason.
	Override *Override `json:"override,omitempty"`
	// WaiverExpired is true when Override expired before the run: it is
	// shown but no longer applied.
	WaiverExpired bool             `json:"waiver_expired,omitempty"`
	Message       string           `json:"message"`               // what was found, in a line
	Evidence      []check.Evidence `json:"evidence,omitempty"`    // bounded by the Evidence limits
	Remediation   string           `json:"remediation,omitempty"` // how to fix a failure
	References    []string         `json:"references,omitempty"`  // standard ids and links
	Took          time.Duration    `json:"took_ns"`               // measured by the runner
	// Disruptive checks ran alone, after the others.
	Disruptive bool `json:"disruptive,omitempty"`
	// Gating is true when this result fails a gate: it blocks the release.
	Gating bool `json:"gating,omitempty"`
}

// Meta is the check's Meta as the result carries it.
func (r Result) Meta() check.Meta {
	return check.Meta{ID: r.ID, Title: r.Title, Category: r.Category, Severity: r.Severity, Remediation: r.Remediation, References: r.References}
}

// Label is what reports call the result: its effective status, or
// "ignored".
func (r Result) Label() string {
	if r.Ignored {
		return "ignored"
	}
	return string(r.EffectiveStatus)
}

// Attention says whether the result needs someone to look at it: a
// failure, an error or a warning that is not ignored.
func (r Result) Attention() bool {
	if r.Ignored {
		return false
	}
	switch r.EffectiveStatus {
	case check.Fail, check.Error, check.Warn:
		return true
	}
	return false
}

// Waived says whether a policy override applies to the result: there is
// one and it has not expired.
func (r Result) Waived() bool { return r.Override != nil && !r.WaiverExpired }

// Downgraded says whether the policy lowered the severity.
func (r Result) Downgraded() bool { return r.EffectiveSeverity != r.Severity }

// Counts counts results by effective status; ignored ones only as Ignored.
type Counts struct {
	Total         int `json:"total"`          // every result, ignored ones included
	Pass          int `json:"pass"`           // passed
	Warn          int `json:"warn"`           // passed with a caveat, or failed under a warn override
	Fail          int `json:"fail"`           // failed
	Error         int `json:"error"`          // could not reach a verdict
	NotApplicable int `json:"not_applicable"` // the target lacks what the check needs
	Ignored       int `json:"ignored"`        // ignored by the policy, whatever they found
}

func (c *Counts) add(r Result) {
	c.Total++
	if r.Ignored {
		c.Ignored++
		return
	}
	switch r.EffectiveStatus {
	case check.Pass:
		c.Pass++
	case check.Warn:
		c.Warn++
	case check.Fail:
		c.Fail++
	case check.Error:
		c.Error++
	case check.NotApplicable:
		c.NotApplicable++
	}
}

// CategoryScore is the score of one category's results.
type CategoryScore struct {
	Category check.Category `json:"category"` // groups results; scored on its own too
	Score    Score          `json:"score"`    // the formula over its results alone
	Counts   Counts         `json:"counts"`   // its results by effective status
}

// Gate is one condition the run must meet.
type Gate struct {
	// Name is "critical", "high", "score" or "configuration".
	Name   string `json:"name"`
	Passed bool   `json:"passed"` // the run met it
	// Rule says what the gate requires; Detail what was found.
	Rule   string `json:"rule"`
	Detail string `json:"detail"` // what was found; names the failing checks
	// Checks are the ids of the results that failed the gate.
	Checks []string `json:"checks,omitempty"`
}

// The gate names.
const (
	GateCritical = "critical"
	GateHigh     = "high"
	GateScore    = "score"
	GateConfig   = "configuration"
)

// Evaluate turns the raw results of a run (Meta fields, Status, Message,
// Evidence, Took, as the runner fills them) into a report: it applies the
// policy of opts, bounds the evidence, scores, gates and sorts. Run calls
// it; it is exported so that stored results can be re-evaluated under
// another policy, and reports built for tests. Runner-only options
// (timeout, concurrency, progress) are ignored. The error is a policy
// that names unknown checks or is otherwise wrong for these results.
func Evaluate(info RunInfo, results []Result, opts ...Option) (*Report, error) {
	cfg := newConfig(opts)
	known := make([]check.Meta, 0, len(results)+len(cfg.known))
	for _, r := range results {
		known = append(known, r.Meta())
	}
	for _, id := range cfg.known {
		known = append(known, check.Meta{ID: id})
	}
	if err := cfg.policy.Validate(known); err != nil {
		return nil, err
	}
	return evaluate(info, results, cfg), nil
}

func evaluate(info RunInfo, raw []Result, cfg config) *Report {
	info.ScoreVersion = ScoreVersion
	if info.ToolVersion == "" {
		info.ToolVersion, info.ToolRevision = cfg.toolVersion, cfg.toolRevision
	}
	if cfg.policy != nil && info.Policy == "" {
		info.Policy = cfg.policy.File
	}
	if info.API == nil && cfg.api != nil {
		api := *cfg.api
		info.API = &api
	}
	info.MinScore = cfg.minScore()
	// Waivers expire against the run's own start, so that re-evaluating
	// stored results gives the verdict the run had.
	at := info.Start
	if at.IsZero() {
		at = cfg.now()
	}
	rep := &Report{Format: Format, Version: FormatVersion, Run: info, Waivers: waivers(cfg.policy, at)}
	rep.Results = make([]Result, len(raw))
	for i, r := range raw {
		rep.Results[i] = apply(r, cfg.policy, at)
	}
	sortResults(rep.Results)
	for _, r := range rep.Results {
		rep.Counts.add(r)
	}
	rep.Score = scoreOf(rep.Results)
	rep.Categories = categories(rep.Results)
	rep.Gates = gates(rep, info.MinScore)
	rep.Passed, rep.ExitCode = true, ExitPassed
	for _, g := range rep.Gates {
		if !g.Passed {
			rep.Passed, rep.ExitCode = false, ExitFailed
		}
	}
	if cfg.previous != nil {
		rep.Previous = compare(cfg.previous, rep, cfg.previousSource)
	}
	return rep
}

// configError is the report of a run that could not start.
func configError(info RunInfo, err error) *Report {
	info.ScoreVersion = ScoreVersion
	info.Error = err.Error()
	return &Report{Format: Format, Version: FormatVersion, Run: info, ExitCode: ExitConfig,
		Score: Score{Grade: "n/a"}, Categories: []CategoryScore{}, Results: []Result{},
		Gates: []Gate{{Name: GateConfig, Rule: "the checks and the policy are valid", Detail: err.Error()}}}
}

// apply fills the policy-dependent fields of r, as of instant at, and
// bounds its evidence. An expired override is recorded but not applied.
func apply(r Result, p *Policy, at time.Time) Result {
	r.EffectiveSeverity, r.EffectiveStatus = r.Severity, r.Status
	r.Ignored, r.Gating, r.Override, r.WaiverExpired = false, false, nil, false
	if o := p.override(r.ID); o != nil {
		r.Override = o
		r.WaiverExpired = o.Expired(at)
	}
	if r.Waived() {
		o := r.Override
		switch o.Action {
		case ActionIgnore:
			r.Ignored = true
		case ActionWarn:
			if r.Status == check.Fail {
				r.EffectiveStatus = check.Warn
			}
		case ActionDowngrade:
			r.EffectiveSeverity = o.Severity
		}
	}
	r.Evidence = boundEvidence(r.Evidence)
	return r
}

func boundEvidence(ev []check.Evidence) []check.Evidence {
	if len(ev) == 0 {
		return nil
	}
	n := min(len(ev), EvidenceItemLimit)
	out := make([]check.Evidence, n, n+1)
	for i := range n {
		e := ev[i]
		e.Request = Truncate(e.Request, EvidenceFieldLimit)
		e.Response = Truncate(e.Response, EvidenceFieldLimit)
		e.Expected = Truncate(e.Expected, EvidenceFieldLimit)
		e.Observed = Truncate(e.Observed, EvidenceFieldLimit)
		e.Note = Truncate(e.Note, EvidenceFieldLimit)
		out[i] = e
	}
	if len(ev) > n {
		out = append(out, check.Evidence{Note: strconv.Itoa(len(ev)-n) + " more evidence items were dropped"})
	}
	return out
}

// Truncate shortens s to at most limit bytes, cut at a rune boundary, and
// says how much was cut: "… [truncated 12345 bytes]". The marker is
// beyond the limit, so that the kept part is as long as allowed.
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… [truncated " + strconv.Itoa(len(s)-cut) + " bytes]"
}

// statusOrder ranks the reading order of results.
func statusOrder(r Result) int {
	if r.Ignored {
		return 5
	}
	switch r.EffectiveStatus {
	case check.Fail, check.Error:
		return 0 // together, by severity: a critical error before a low failure
	case check.Warn:
		return 2
	case check.Pass:
		return 3
	case check.NotApplicable:
		return 4
	}
	return 1
}

// categoryLess orders categories as check.Categories does; unknown ones
// follow, by name.
func categoryLess(a, b check.Category) bool {
	oa, ob := a.Order(), b.Order()
	if oa == 0 {
		oa = math.MaxInt
	}
	if ob == 0 {
		ob = math.MaxInt
	}
	if oa != ob {
		return oa < ob
	}
	return a < b
}

func sortResults(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if oa, ob := statusOrder(a), statusOrder(b); oa != ob {
			return oa < ob
		}
		if ra, rb := a.EffectiveSeverity.Rank(), b.EffectiveSeverity.Rank(); ra != rb {
			return ra > rb
		}
		if a.EffectiveStatus != b.EffectiveStatus {
			return a.EffectiveStatus == check.Fail // a failure before an error of the same severity
		}
		if a.Category != b.Category {
			return categoryLess(a.Category, b.Category)
		}
		return a.ID < b.ID
	})
}

func categories(rs []Result) []CategoryScore {
	by := map[check.Category][]Result{}
	var cats []check.Category
	for _, r := range rs {
		if _, ok := by[r.Category]; !ok {
			cats = append(cats, r.Category)
		}
		by[r.Category] = append(by[r.Category], r)
	}
	sort.Slice(cats, func(i, j int) bool { return categoryLess(cats[i], cats[j]) })
	out := make([]CategoryScore, 0, len(cats))
	for _, c := range cats {
		cs := CategoryScore{Category: c, Score: scoreOf(by[c])}
		for _, r := range by[c] {
			cs.Counts.add(r)
		}
		out = append(out, cs)
	}
	return out
}

// gates decides the gates and marks the results that fail them.
func gates(rep *Report, minScore int) []Gate {
	crit := Gate{Name: GateCritical, Rule: "no critical check fails or errors"}
	high := Gate{Name: GateHigh, Rule: "no high-severity check fails"}
	var critWhat, highWhat []string
	downgraded := 0
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Ignored {
			continue
		}
		if r.Downgraded() && (r.Severity == check.Critical || r.Severity == check.High) {
			downgraded++
		}
		// A "warn" override means the check never gates, whatever it found.
		if r.Waived() && r.Override.Action == ActionWarn {
			continue
		}
		switch {
		case r.EffectiveSeverity == check.Critical && (r.EffectiveStatus == check.Fail || r.EffectiveStatus == check.Error):
			r.Gating = true
			crit.Checks = append(crit.Checks, r.ID)
			critWhat = append(critWhat, r.ID+" ("+string(r.EffectiveStatus)+")")
		case r.EffectiveSeverity == check.High && r.EffectiveStatus == check.Fail:
			r.Gating = true
			high.Checks = append(high.Checks, r.ID)
			highWhat = append(highWhat, r.ID)
		}
	}
	crit.Passed, high.Passed = len(crit.Checks) == 0, len(high.Checks) == 0
	if crit.Passed {
		crit.Detail = "no critical check failed or errored"
	} else {
		crit.Detail = plural(len(crit.Checks), "critical check") + " failed or errored: " + strings.Join(critWhat, ", ")
	}
	if high.Passed {
		high.Detail = "no high-severity check failed"
	} else {
		high.Detail = plural(len(high.Checks), "high-severity check") + " failed: " + strings.Join(highWhat, ", ")
	}
	if downgraded > 0 {
		note := "; " + plural(downgraded, "critical or high check") + " downgraded by policy"
		crit.Detail += note
		high.Detail += note
	}
	out := []Gate{crit, high}
	if minScore > 0 {
		g := Gate{Name: GateScore, Rule: "score is at least " + strconv.Itoa(minScore)}
		switch {
		case !rep.Score.Defined():
			g.Detail = "no check was scored, so the score is undefined and below any minimum"
		case rep.Score.Value < minScore:
			g.Detail = fmt.Sprintf("score %d is below the minimum %d", rep.Score.Value, minScore)
		default:
			g.Passed = true
			g.Detail = fmt.Sprintf("score %d is at least %d", rep.Score.Value, minScore)
		}
		out = append(out, g)
	}
	return out
}

// FailedGates are the gates that failed, in order.
func (r *Report) FailedGates() []Gate {
	var out []Gate
	for _, g := range r.Gates {
		if !g.Passed {
			out = append(out, g)
		}
	}
	return out
}

// Verdict is one line for the end of a log: "PASSED (exit 0)" or
// "FAILED: gates critical, high (exit 1)".
func (r *Report) Verdict() string {
	if r.Passed {
		return "PASSED (exit " + strconv.Itoa(r.ExitCode) + ")"
	}
	var names []string
	for _, g := range r.FailedGates() {
		names = append(names, g.Name)
	}
	word := "gate"
	if len(names) > 1 {
		word = "gates"
	}
	return "FAILED: " + word + " " + strings.Join(names, ", ") + " (exit " + strconv.Itoa(r.ExitCode) + ")"
}

// ErrFormat is returned (wrapped) by ReadReport for a document that is not
// a readiness report of a version this harness reads.
var ErrFormat = errors.New("readiness: not a taskready readiness report")

// ReadReport reads readiness.json, refusing other formats and versions.
func ReadReport(rd io.Reader) (*Report, error) {
	var rep Report
	if err := json.NewDecoder(rd).Decode(&rep); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if rep.Format != Format {
		return nil, fmt.Errorf("%w: format %q", ErrFormat, rep.Format)
	}
	if rep.Version != FormatVersion {
		return nil, fmt.Errorf("%w: version %d (this harness reads %d)", ErrFormat, rep.Version, FormatVersion)
	}
	return &rep, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func itoa(n int) string { return strconv.Itoa(n) }
