package input_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/input"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/internal/fakeapi"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// The checks that may take a target down run alone, before
// input.still-healthy, which is last.
func TestMeta(t *testing.T) {
	checktest.Meta(t, input.Checks(), checktest.Want{Category: check.Input,
		IDs: []string{"input.operator-injection-login", "input.operator-injection-query", "input.wrong-types", "input.invalid-id",
			"input.no-leak", "input.oversized-body", "input.deep-nesting", "input.still-healthy"},
		Disruptive: []string{"input.oversized-body", "input.deep-nesting", "input.still-healthy"}})
}

// Every check fails against a fake API with the one flaw it looks for,
// with evidence naming the request and what came back. All the checks
// run, in order, as a runner would: input.still-healthy must see what
// the others did.
func TestAgainstTheFake(t *testing.T) {
	checktest.Fake{
		Checks: func(checktest.Flaw, *fakeapi.API) []check.Check { return input.Checks() },
		Flaws: []checktest.Flaw{
			{Name: "login matches operator objects", Flaws: fakeapi.Flaws{LoginOperators: true}, ID: input.IDLoginInjection, Observed: "logged in"},
			{Name: "list applies query operators", Flaws: fakeapi.Flaws{QueryOperators: true}, ID: input.IDQueryInjection, Observed: "another user"},
			{Name: "search is a regular expression", Flaws: fakeapi.Flaws{SearchRegex: true}, ID: input.IDQueryInjection, Observed: "do not match it as plain text"},
			{Name: "search regex errors are 500s", Flaws: fakeapi.Flaws{SearchRegex: true}, ID: input.IDQueryInjection, Observed: "server error"},
			{Name: "types are coerced", Flaws: fakeapi.Flaws{CoerceTypes: true}, ID: input.IDWrongTypes, Observed: "accepted"},
			{Name: "wrong types crash", Flaws: fakeapi.Flaws{TypeCrash: true}, ID: input.IDWrongTypes, Observed: "server error"},
			{Name: "invalid ids are 500s", Flaws: fakeapi.Flaws{InvalidID500: true}, ID: input.IDInvalidID, Observed: "server error"},
			{Name: "no body limit", Flaws: fakeapi.Flaws{NoBodyLimit: true}, ID: input.IDOversizedBody, Observed: "accepted"},
			{Name: "limit ignores chunked bodies", Flaws: fakeapi.Flaws{ChunkedNoLimit: true}, ID: input.IDOversizedBody, Observed: "accepted"},
			{Name: "deep nesting is a 500", Flaws: fakeapi.Flaws{Deep500: true}, ID: input.IDDeepNesting, Observed: "server error"},
			{Name: "deep nesting is slow", Flaws: fakeapi.Flaws{DeepSlow: 300 * time.Millisecond}, Policy: check.Policy{MaxErrorLatency: 100 * time.Millisecond},
				ID: input.IDDeepNesting, Observed: "over the policy's 100ms"},
			{Name: "error bodies carry a stack trace", Flaws: fakeapi.Flaws{LeakStack: true}, ID: input.IDNoLeak, Observed: "a Go stack trace"},
			{Name: "error bodies carry the cast error", Flaws: fakeapi.Flaws{InvalidID500: true}, ID: input.IDNoLeak, Observed: "a Mongoose error"},
			{Name: "deep nesting wedges the process", Flaws: fakeapi.Flaws{CrashAfterDeep: true}, ID: input.IDStillHealthy, Observed: "503"},
		},
	}.Test(t)
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

// Against the real API every check passes, and the checks leave no task
// behind, only the 2 users they register (A and B): the API refuses the
// third.
func TestRealAPI(t *testing.T) {
	checktest.RealAPI{Instances: 1, APIEnv: checktest.NoRateLimits, Prefix: "readiness-input",
		Client: &http.Client{Timeout: 30 * time.Second}, Users: 2}.Passes(t, input.Checks())
}
