package contract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Status is the outcome of one step.
type Status int

// The outcomes of a step.
const (
	Pass Status = iota // the target answered as the contract says
	Fail               // it did not, or the request failed
	Skip               // not run: a step it needs did not pass, or the run was stopped
)

// String returns "pass", "fail" or "skip".
func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Skip:
		return "skip"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Result is the outcome of one step.
type Result struct {
	Name    string        // the step, e.g. "register"
	Status  Status        // pass, fail or skip
	Detail  string        // why it failed or was skipped; empty on pass
	Elapsed time.Duration // time the step took; zero when skipped
}

// Report is the outcome of one run against one target.
type Report struct {
	Target  string        // the normalised base URL the run talked to
	Started time.Time     // when the run began
	Elapsed time.Duration // the whole run, cleanup included
	Results []Result      // one per step, in the order they ran
}

// Passed reports whether no step failed. Skipped steps do not fail a run.
func (r Report) Passed() bool {
	_, fail, _ := r.Counts()
	return fail == 0
}

// Counts returns how many steps passed, failed and were skipped.
func (r Report) Counts() (pass, fail, skip int) {
	for _, res := range r.Results {
		switch res.Status {
		case Pass:
			pass++
		case Fail:
			fail++
		default:
			skip++
		}
	}
	return pass, fail, skip
}

// Option configures a run. An option that returns an error makes Run
// return it without sending any request.
type Option func(*runner) error

// Client makes the run send its requests with c. The default client has a
// 10 s timeout, no cookie jar and does not follow redirects (so a redirect
// shows up as the status it is). A client with a cookie jar would send the
// token cookie on the requests meant to carry no token, failing them.
func Client(c *http.Client) Option {
	return func(r *runner) error {
		if c == nil {
			return errors.New("contract.Client: nil *http.Client")
		}
		r.client = c
		return nil
	}
}

// EmailPrefix sets the prefix of the emails of the users a run registers,
// "<prefix>-<8 random hex>@example.com"; the default is "smoke". The prefix
// is lower-cased and must be 1 to 32 letters, digits, '.', '_' or '-',
// starting and ending with a letter or digit.
func EmailPrefix(p string) Option {
	return func(r *runner) error {
		lower := strings.ToLower(p)
		if !validPrefix(lower) {
			return fmt.Errorf("contract.EmailPrefix(%q): want 1 to 32 of [a-z0-9._-], starting and ending with a letter or digit", p)
		}
		r.prefix = lower
		return nil
	}
}

func validPrefix(p string) bool {
	if p == "" || len(p) > 32 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		edge := i == 0 || i == len(p)-1
		if !alnum && (edge || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// Bounds of a run.
const (
	defaultTimeout = 10 * time.Second // of the default client, per request
	stepTimeout    = 30 * time.Second // deadline of each step's context
	cleanupTimeout = 10 * time.Second // deadline of the cleanup
)

// Run smoke-tests the contract of the API at target (a base URL such as
// "http://localhost:5000"; a path prefix is kept) and returns one Result
// per step. It returns an error only for a target that is not an absolute
// http(s) URL or for an option that fails; everything the target does
// wrong, including not answering, is a failed step in the Report.
func Run(ctx context.Context, target string, opts ...Option) (Report, error) {
	base, err := parseTarget(target)
	if err != nil {
		return Report{}, err
	}
	r := &runner{
		base:    base,
		client:  &http.Client{Timeout: defaultTimeout, CheckRedirect: noRedirect},
		prefix:  "smoke",
		deleted: make(map[string]bool),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(r); err != nil {
			return Report{}, err
		}
	}
	r.a = r.newAccount("Smoke A")
	r.b = r.newAccount("Smoke B")

	rep := Report{Target: base, Started: time.Now(), Results: make([]Result, 0, len(steps))}
	status := make(map[string]Status, len(steps))
	var stopped string // once set, why every later step is skipped
	for _, s := range steps {
		res := Result{Name: s.name, Status: Skip}
		switch dep := failedNeed(s, status); {
		case stopped != "":
			res.Detail = stopped
		case ctx.Err() != nil:
			res.Detail = "skipped: run cancelled: " + context.Cause(ctx).Error()
		case dep != "":
			res.Detail = fmt.Sprintf("skipped: needs %s, which did not pass (%s)", dep, status[dep])
		default:
			res = r.runStep(ctx, s)
			if r.limited != nil {
				stopped = "skipped: the target's rate limit stopped the smoke at " + s.name
			}
		}
		status[s.name] = res.Status
		rep.Results = append(rep.Results, res)
	}
	r.cleanup(ctx)
	rep.Elapsed = time.Since(rep.Started)
	return rep, nil
}

// runStep runs one step under its own deadline.
func (r *runner) runStep(ctx context.Context, s step) Result {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	start := time.Now()
	err := s.run(r, ctx)
	res := Result{Name: s.name, Status: Pass, Elapsed: time.Since(start)}
	if err != nil {
		res.Status, res.Detail = Fail, oneLine(err.Error())
		var rl *rateLimitError
		if errors.As(err, &rl) {
			r.limited = rl
		}
	}
	return res
}

// failedNeed returns the first step s needs that did not pass, or "".
func failedNeed(s step, status map[string]Status) string {
	for _, n := range s.needs {
		if status[n] != Pass {
			return n
		}
	}
	return ""
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// parseTarget validates target and returns it without a trailing slash.
func parseTarget(target string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(target))
	if err != nil {
		return "", fmt.Errorf("contract: bad target %q: %w", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("contract: bad target %q: want an absolute http:// or https:// URL", target)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("contract: bad target %q: want a base URL without credentials, query or fragment", target)
	}
	u.RawQuery, u.Fragment, u.ForceQuery = "", "", false
	return strings.TrimRight(u.String(), "/"), nil
}

// account is one user the run registers.
type account struct {
	label    string // "A" or "B", for details
	name     string
	email    string
	password string
	id       string // from register
	token    string // from register
}

func (r *runner) newAccount(name string) account {
	return account{
		label:    name[len(name)-1:],
		name:     name,
		email:    r.prefix + "-" + randomHex(4) + "@example.com",
		password: "Smoke-" + randomHex(12),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b)
}

// runner is the state of one run; Options set its configuration fields.
type runner struct {
	base   string
	client *http.Client
	prefix string

	a, b    account
	task    taskJSON // A's task as created
	created []string // ids of every task the run created, for cleanup
	deleted map[string]bool
	limited *rateLimitError // set when the target answered 429
}

// cleanup deletes every task the run created that it has not deleted
// already. It always runs, with its own deadline even if ctx is done.
func (r *runner) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, id := range r.created {
		if r.deleted[id] || r.a.token == "" || ctx.Err() != nil {
			continue
		}
		p, err := r.do(ctx, request{method: http.MethodDelete, path: "/api/tasks/" + url.PathEscape(id), token: r.a.token})
		if err == nil && p.status == http.StatusOK {
			r.deleted[id] = true
		}
	}
}
