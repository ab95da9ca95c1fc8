// Package journey runs one iteration of a scenario journey for one virtual
// user against a target, producing one record.Sample per step attempted.
//
// A step's path, header values and every string in its JSON body may use
// {{variables}}: the builtins (scenario.Builtins) and whatever earlier
// steps of the same iteration extracted from their answers. A step that
// cannot be sent, whose request fails, whose check fails or whose
// extraction finds nothing stops the journey: later steps would need its
// variables.
package journey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
)

// MaxBody caps how much of an answer is read. An answer larger than this
// fails its step.
const MaxBody = 10 << 20

// VU is one virtual user: its identity and the HTTP client it reuses.
type VU struct {
	ID        int
	Iteration int
	User      User
	Client    *http.Client // nil means http.DefaultClient
	Target    string       // base URL, "http://127.0.0.1:3000"
}

// User is the seeded user a VU logs in as.
type User struct {
	Index           int
	Email, Password string
}

// Tags are the sample tags that do not come from the journey itself; the
// Journey, Step and Endpoint tags come from the journey and its steps.
type Tags struct {
	Scenario, Phase string
}

// Option changes how Run runs.
type Option func(*config)

type config struct {
	sleep    func(context.Context, time.Duration) error
	intended time.Time
	now      func() time.Time
}

// Sleep replaces how think time is slept. The function must return early
// with an error when ctx is done; Run then stops the journey. The default
// waits on a timer and ctx.
func Sleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) { c.sleep = f }
}

// Intended sets the first step's Intended time: when the open-model
// schedule wanted the iteration to start. Later steps, and every step
// without this option, have Intended equal to Start.
func Intended(t time.Time) Option {
	return func(c *config) { c.intended = t }
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run executes j's steps in order for vu and returns one sample per step
// attempted. It stops at the first step that fails (see the package
// documentation) and when ctx is done; a step is not attempted once ctx is
// done. Each step's think time is slept after it, also after the step that
// stops the journey, so a closed-model VU facing a failing target does not
// spin; no think time follows a request cut short by ctx.
func Run(ctx context.Context, j *scenario.Journey, vu VU, tags Tags, opts ...Option) []record.Sample {
	c := config{sleep: sleepCtx, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	client := vu.Client
	if client == nil {
		client = http.DefaultClient
	}
	vars := newVars(vu)
	samples := make([]record.Sample, 0, len(j.Steps))
	for i := range j.Steps {
		if ctx.Err() != nil {
			break
		}
		st := &j.Steps[i]
		s := record.Sample{
			Scenario: tags.Scenario, Journey: j.Name, Step: st.Name,
			Endpoint: st.Endpoint, Phase: tags.Phase, Method: st.Method,
		}
		if s.Endpoint == "" {
			s.Endpoint = st.Name
		}
		ok := runStep(ctx, client, strings.TrimRight(vu.Target, "/"), st, vars, &s, c.now)
		s.Intended = s.Start
		if i == 0 && !c.intended.IsZero() {
			s.Intended = c.intended
		}
		samples = append(samples, s)
		if ctx.Err() != nil {
			break
		}
		if st.Think > 0 {
			if err := c.sleep(ctx, st.Think); err != nil {
				break
			}
		}
		if !ok {
			break
		}
	}
	return samples
}

// runStep sends st and fills s; it reports whether the journey may go on.
func runStep(ctx context.Context, client *http.Client, target string, st *scenario.Step, vars *vars, s *record.Sample, now func() time.Time) bool {
	passed := false
	s.CheckPassed = &passed
	fail := func(err error) bool {
		if s.Start.IsZero() {
			s.Start = now()
		}
		s.Err = err.Error()
		return false
	}

	path, err := vars.expand(st.Path)
	if err != nil {
		return fail(err)
	}
	var body []byte
	if st.Body != nil {
		b, err := vars.expandValue(st.Body)
		if err != nil {
			return fail(err)
		}
		if body, err = json.Marshal(b); err != nil {
			return fail(fmt.Errorf("encode body: %w", err))
		}
	}
	header := make(http.Header, len(st.Headers)+1)
	host := ""
	for _, k := range sortedKeys(st.Headers) {
		v, err := vars.expand(st.Headers[k])
		if err != nil {
			return fail(err)
		}
		if strings.EqualFold(k, "Host") {
			host = v
			continue
		}
		header.Set(k, v)
	}
	if body != nil && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json")
	}

	rctx := ctx
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, st.Timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, st.Method, target+path, rd)
	if err != nil {
		return fail(err)
	}
	req.Header = header
	if host != "" {
		req.Host = host
	}
	s.BytesOut = int64(len(body))

	s.Start = now()
	res, err := client.Do(req)
	if err != nil {
		s.Latency = now().Sub(s.Start)
		return fail(requestError(rctx, st.Timeout, err))
	}
	s.Status = res.StatusCode
	answer, err := io.ReadAll(io.LimitReader(res.Body, MaxBody+1))
	s.Latency = now().Sub(s.Start)
	// The body was read to its end (unless it is over the cap), so closing
	// it keeps the connection for the next request.
	_ = res.Body.Close()
	s.BytesIn = int64(len(answer))
	if err != nil {
		return fail(requestError(rctx, st.Timeout, fmt.Errorf("read answer: %w", err)))
	}
	if len(answer) > MaxBody {
		s.BytesIn = MaxBody
		return fail(fmt.Errorf("answer larger than %d bytes", MaxBody))
	}

	passed = checkPasses(st.Check, res.StatusCode, answer)
	if !passed {
		return false
	}
	if len(st.Extract) > 0 {
		if err := vars.extract(st.Extract, answer); err != nil {
			return fail(err)
		}
	}
	return true
}

// requestError words a transport error, naming the step timeout when that
// is what cut the request short.
func requestError(rctx context.Context, timeout time.Duration, err error) error {
	if timeout > 0 && errors.Is(rctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timeout after %s", timeout)
	}
	return err
}

// checkPasses applies c to an answer: Status 0 means any 2xx.
func checkPasses(c scenario.Check, status int, body []byte) bool {
	if c.Status == 0 {
		if status < 200 || status > 299 {
			return false
		}
	} else if status != c.Status {
		return false
	}
	return c.BodyContains == "" || bytes.Contains(body, []byte(c.BodyContains))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
