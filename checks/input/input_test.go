package input_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/input"
	"github.com/taskready/taskready/checks/internal/checktest"
)

func TestMain(m *testing.M) { checktest.Main(m) }

var fakeTok = regexp.MustCompile(`tok-[0-9a-f]{32}`)

// run runs every check against target and returns the results by id; no
// evidence may show a token.
func run(t *testing.T, target *check.Target, checks []check.Check) map[string]check.Result {
	t.Helper()
	return checktest.RunAll(t, target, checks, fakeTok)
}

// Against the real API every check passes, and the checks leave no task
// behind: the one fixture.Cleanup after them removes only users.
func TestRealAPI(t *testing.T) {
	e := checktest.API(t, 1, checktest.NoRateLimits...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	target := &check.Target{BaseURL: e.Target, Client: &http.Client{Timeout: 30 * time.Second}, Mongo: checktest.Mongo(t, e), Prefix: "readiness-input"}

	for id, r := range run(t, target, input.Checks()) {
		if r.Status != check.Pass {
			t.Errorf("%s = %s (%s); want pass", id, r.Status, r.Message)
		}
	}
	users, tasks, err := fixture.Cleanup(ctx, target)
	if err != nil {
		t.Fatalf("fixture.Cleanup: %v", err)
	}
	t.Logf("fixture.Cleanup removed %d users and %d tasks", users, tasks)
	if users != 2 {
		t.Errorf("fixture.Cleanup removed %d users; the checks register 2 (A and B) and the API refuses the third", users)
	}
	if tasks != 0 {
		t.Errorf("fixture.Cleanup removed %d tasks; the checks should have deleted their own", tasks)
	}
}

// Every check fails against a fake API with the one flaw it looks for,
// with evidence naming the request and what came back. All the checks
// run, in order, as a runner would: input.still-healthy must see what
// the others did.
func TestEachCheckCatchesItsFlaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		f        flaws
		policy   check.Policy
		id       string
		observed string // a fragment of the failing evidence
	}{
		{"login matches operator objects", flaws{loginOperators: true}, check.Policy{}, input.IDLoginInjection, "logged in"},
		{"list applies query operators", flaws{queryOperators: true}, check.Policy{}, input.IDQueryInjection, "another user"},
		{"search is a regular expression", flaws{searchRegex: true}, check.Policy{}, input.IDQueryInjection, "do not match it as plain text"},
		{"search regex errors are 500s", flaws{searchRegex: true}, check.Policy{}, input.IDQueryInjection, "server error"},
		{"types are coerced", flaws{coerceTypes: true}, check.Policy{}, input.IDWrongTypes, "accepted"},
		{"wrong types crash", flaws{typeCrash: true}, check.Policy{}, input.IDWrongTypes, "server error"},
		{"invalid ids are 500s", flaws{invalidID500: true}, check.Policy{}, input.IDInvalidID, "server error"},
		{"no body limit", flaws{noBodyLimit: true}, check.Policy{}, input.IDOversizedBody, "accepted"},
		{"limit ignores chunked bodies", flaws{chunkedNoLimit: true}, check.Policy{}, input.IDOversizedBody, "accepted"},
		{"deep nesting is a 500", flaws{deep500: true}, check.Policy{}, input.IDDeepNesting, "server error"},
		{"deep nesting is slow", flaws{deepSlow: 300 * time.Millisecond}, check.Policy{MaxErrorLatency: 100 * time.Millisecond}, input.IDDeepNesting, "over the policy's 100ms"},
		{"error bodies carry a stack trace", flaws{leakStack: true}, check.Policy{}, input.IDNoLeak, "a Go stack trace"},
		{"error bodies carry the cast error", flaws{invalidID500: true}, check.Policy{}, input.IDNoLeak, "a Mongoose error"},
		{"deep nesting wedges the process", flaws{crashAfterDeep: true}, check.Policy{}, input.IDStillHealthy, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(newFake(tt.f))
			defer srv.Close()
			res := run(t, &check.Target{BaseURL: srv.URL, Prefix: "flaw", Policy: tt.policy}, input.Checks())
			got := res[tt.id]
			if got.Status != check.Fail {
				t.Fatalf("%s = %s (%s); want fail", tt.id, got.Status, got.Message)
			}
			if !slices.ContainsFunc(got.Evidence, func(e check.Evidence) bool { return strings.Contains(e.Observed, tt.observed) }) {
				t.Errorf("%s evidence %+v; want an observation containing %q", tt.id, got.Evidence, tt.observed)
			}
		})
	}
}

// The fake without flaws passes every check: so each failure above is
// the flaw's, not the fake's.
func TestFakeWithoutFlawsPasses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newFake(flaws{}))
	defer srv.Close()
	for id, r := range run(t, &check.Target{BaseURL: srv.URL}, input.Checks()) {
		if r.Status != check.Pass {
			t.Errorf("%s = %s (%s); want pass", id, r.Status, r.Message)
		}
	}
}

// A 429 is no verdict: every check says it could not run, none passes.
func TestRateLimitedIsAnError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newFake(flaws{limitEverything: true}))
	defer srv.Close()
	for id, r := range run(t, &check.Target{BaseURL: srv.URL}, input.Checks()) {
		if r.Status != check.Error || !strings.Contains(r.Message, "429") {
			t.Errorf("%s = %s (%s); want error naming the 429", id, r.Status, r.Message)
		}
	}
}

// A target that does not answer fails input.still-healthy: that is what
// it is for.
func TestStillHealthyFailsWhenTheTargetIsGone(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := input.Checks()[len(input.Checks())-1]
	r := c.Run(context.Background(), &check.Target{BaseURL: url, Client: &http.Client{Timeout: 2 * time.Second}})
	if r.Status != check.Fail || len(r.Evidence) == 0 || r.Evidence[0].Request == "" {
		t.Errorf("%s against a closed server = %s (%s) %+v; want fail with evidence", c.Meta().ID, r.Status, r.Message, r.Evidence)
	}
}

// The ids are stable, each meta is complete, and the checks that may take
// a target down run alone, before input.still-healthy, which is last.
func TestMeta(t *testing.T) {
	want := []string{"input.operator-injection-login", "input.operator-injection-query", "input.wrong-types", "input.invalid-id",
		"input.no-leak", "input.oversized-body", "input.deep-nesting", "input.still-healthy"}
	disruptive := []string{"input.oversized-body", "input.deep-nesting", "input.still-healthy"}
	var got []string
	for _, c := range input.Checks() {
		m := c.Meta()
		got = append(got, m.ID)
		if m.Title == "" || m.Remediation == "" || len(m.References) == 0 || m.Severity.Rank() == 0 || m.Category != check.Input {
			t.Errorf("%s: incomplete meta %+v", m.ID, m)
		}
		d, ok := c.(interface{ Disruptive() bool })
		if is := ok && d.Disruptive(); is != slices.Contains(disruptive, m.ID) {
			t.Errorf("%s: disruptive = %v", m.ID, is)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("ids %v; want %v", got, want)
	}
}
