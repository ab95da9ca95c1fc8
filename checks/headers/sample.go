package headers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// Names of the representative responses every header check looks at.
const (
	sampleHealth   = "health"
	sampleNotFound = "not found"
	sampleLogin    = "login"
	sampleTasks    = "task list"
)

// sampleTasksCreated is how many tasks the sample's user gets, each with
// a long description, so that the task list is well above the size under
// which servers commonly skip compression (nginx's gzip_min_length is
// often set to 1 KB).
const sampleTasksCreated = 5

// sample holds the answers the header checks judge: fetched once per run,
// because the login among them spends the client's small auth budget.
type sample struct {
	https bool
	// answers are health, not found, login and task list, in that order;
	// an answer whose request could not be made has a zero status and err.
	answers []named
	// compressed is the task list asked for with Accept-Encoding.
	compressed probe.Exchange
	// plainListSize is the task list's uncompressed size.
	plainListSize int
	// fixtureErr says why the login and task list are missing, if they are.
	fixtureErr error
}

// named is one representative answer.
type named struct {
	name string
	x    probe.Exchange
}

var samples probe.Memo[*sample]

// getSample returns the run's sample of t, fetching it on first use.
func getSample(ctx context.Context, t *check.Target) (*sample, error) {
	return samples.Get(ctx, t, func(ctx context.Context) (*sample, error) { return fetchSample(ctx, t) })
}

func fetchSample(ctx context.Context, t *check.Target) (*sample, error) {
	s := &sample{https: strings.HasPrefix(strings.ToLower(t.BaseURL), "https://")}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	s.answers = append(s.answers,
		named{sampleHealth, probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/health"})},
		named{sampleNotFound, probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/readiness-missing-" + hex.EncodeToString(suffix[:])})},
	)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	p, err := probe.Pair(ctx, t)
	if err != nil {
		s.fixtureErr = fmt.Errorf("register a fixture user: %w", err)
		return s, nil
	}
	u := p.A
	login, _ := json.Marshal(map[string]string{"email": u.Email, "password": u.Password})
	s.answers = append(s.answers, named{sampleLogin, probe.Send(ctx, t, probe.Request{Method: http.MethodPost, Path: "/api/auth/login", Body: login})})

	var created []string
	defer func() {
		// The tasks exist only to make the list worth compressing.
		for _, id := range created {
			_, _, _ = fixture.Do(context.WithoutCancel(ctx), t, http.MethodDelete, "/api/tasks/"+id, u.Token, nil, nil)
		}
	}()
	desc := strings.Repeat("A readiness check made this task to give the task list a realistic size. ", 4)
	for i := range sampleTasksCreated {
		var out struct {
			Task struct {
				ID string `json:"_id"`
			} `json:"task"`
		}
		status, raw, err := fixture.Do(ctx, t, http.MethodPost, "/api/tasks", u.Token,
			map[string]string{"title": fmt.Sprintf("readiness header sample %d", i+1), "description": desc}, &out)
		if err != nil || status != http.StatusCreated || out.Task.ID == "" {
			s.fixtureErr = fmt.Errorf("create a task: %d %s %v", status, probe.Clip(probe.Redact(string(raw)), 120), err)
			break
		}
		created = append(created, out.Task.ID)
	}
	list := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks", Header: probe.Bearer(u.Token)})
	s.answers = append(s.answers, named{sampleTasks, list})
	s.plainListSize = len(list.Body)
	h := probe.Bearer(u.Token)
	h.Set("Accept-Encoding", "gzip, br")
	s.compressed = probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks", Header: h})
	return s, nil
}

// pick returns the answers named, in the sample's order.
func (s *sample) pick(names ...string) []named {
	var out []named
	for _, a := range s.answers {
		for _, n := range names {
			if a.name == n {
				out = append(out, a)
			}
		}
	}
	return out
}

// all is every representative answer.
var all = []string{sampleHealth, sampleNotFound, sampleLogin, sampleTasks}

// private are the answers that carry a user's data or session.
var private = []string{sampleLogin, sampleTasks}

// judgement is one answer's verdict under a header rule.
type judgement struct {
	ok       bool
	observed string
}

// judgeEach applies rule to every answer named and builds the result:
// fail if any answer breaks the rule (with evidence for each that does),
// error if an answer is missing and none failed, pass otherwise.
func judgeEach(ctx context.Context, t *check.Target, names []string, expected string, shown []string,
	rule func(x probe.Exchange) judgement, passMsg string) check.Result {
	s, err := getSample(ctx, t)
	if err != nil {
		return check.Errorf("could not sample the target: " + err.Error())
	}
	var failed, missing []string
	var failEv, passEv []check.Evidence
	answers := s.pick(names...)
	for _, a := range answers {
		if a.x.Status == 0 {
			missing = append(missing, a.name+": "+probe.ErrString(a.x.Err))
			continue
		}
		j := rule(a.x)
		ev := a.x.Evidence(expected, j.observed, shown...)
		ev.Note = a.name
		if j.ok {
			passEv = append(passEv, ev)
		} else {
			failed = append(failed, a.name)
			failEv = append(failEv, ev)
		}
	}
	for _, n := range names {
		if !hasAnswer(answers, n) {
			missing = append(missing, n+": not fetched ("+probe.ErrString(s.fixtureErr)+")")
		}
	}
	switch {
	case len(failed) > 0:
		return check.Failf(fmt.Sprintf("%s: %s (expected %s)", strings.Join(failed, ", "), failEv[0].Observed, expected), failEv...)
	case len(missing) > 0:
		return check.Errorf("could not judge every representative response: "+strings.Join(missing, "; "), passEv...)
	}
	return check.Passf(passMsg, passEv...)
}

func hasAnswer(as []named, name string) bool {
	for _, a := range as {
		if a.name == name {
			return true
		}
	}
	return false
}
