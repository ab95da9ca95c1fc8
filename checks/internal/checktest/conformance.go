package checktest

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/internal/fakeapi"
)

// What every check package's tests show the same way: its checks declare
// complete metas under stable ids (Meta); they pass against the real API
// and leave behind only the users it cannot delete (RealAPI.Passes);
// and, against fakeapi, each flaw fails its check with evidence, the
// flawless fake passes them all, and a 429 is never a verdict
// (Fake.Test).

// Want is what a package's checks declare, for Meta.
type Want struct {
	// IDs are the checks' ids, in order: stable, since policies and
	// baselines name them.
	IDs []string
	// Category is every check's; empty for a package whose checks span
	// categories, each of which must then be one check.Categories holds.
	Category check.Category
	// Disruptive are the ids of the disruptive checks, which come last,
	// in this order.
	Disruptive []string
}

// Meta fails t unless cs are w's checks, in order, each with a title,
// remediation, references, a known severity and w's category.
func Meta(t *testing.T, cs []check.Check, w Want) {
	t.Helper()
	var ids, disruptive []string
	for _, c := range cs {
		m := c.Meta()
		ids = append(ids, m.ID)
		category := m.Category == w.Category || (w.Category == "" && m.Category.Order() > 0)
		if m.Title == "" || m.Remediation == "" || len(m.References) == 0 || m.Severity.Rank() == 0 || !category {
			t.Errorf("%s: incomplete meta %+v", m.ID, m)
		}
		if check.IsDisruptive(c) {
			disruptive = append(disruptive, m.ID)
		} else if len(disruptive) > 0 {
			t.Errorf("%s comes after a disruptive check; the disruptive ones come last", m.ID)
		}
	}
	if !slices.Equal(ids, w.IDs) {
		t.Errorf("ids %v; want %v", ids, w.IDs)
	}
	if !slices.Equal(disruptive, w.Disruptive) {
		t.Errorf("disruptive checks %v; want %v", disruptive, w.Disruptive)
	}
}

// Passes fails t for every result that is not a pass, or the status want
// gives its id (not applicable where the target cannot show a check).
func Passes(t *testing.T, results map[string]check.Result, want map[string]check.Status) {
	t.Helper()
	for id, r := range results {
		w, ok := want[id]
		if !ok {
			w = check.Pass
		}
		if r.Status != w {
			t.Errorf("%s = %s (%s); want %s", id, r.Status, r.Message, w)
		}
	}
	for id := range want {
		if _, ok := results[id]; !ok {
			t.Errorf("no result for %s", id)
		}
	}
}

// RateLimitedIsAnError fails t unless every result is an error naming the
// 429: a rate-limited request learned nothing, so no check may pass or
// fail on it.
func RateLimitedIsAnError(t *testing.T, results map[string]check.Result) {
	t.Helper()
	for id, r := range results {
		if r.Status != check.Error || !strings.Contains(r.Message, "429") {
			t.Errorf("%s = %s (%s); want error naming the 429", id, r.Status, r.Message)
		}
	}
}

// Leftovers removes what the checks run against target left
// (fixture.Cleanup) and fails t unless that was users users and no task:
// the checks delete their own tasks, and the API cannot delete users.
func Leftovers(t *testing.T, target *check.Target, users int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, tasks, err := fixture.Cleanup(ctx, target)
	if err != nil {
		t.Fatalf("fixture.Cleanup: %v", err)
	}
	if u != users || tasks != 0 {
		t.Errorf("fixture.Cleanup removed %d users and %d tasks; want %d users and no task left behind", u, tasks, users)
	}
}

// RealAPI says how RealAPI.Passes runs a package's checks against the
// real API.
type RealAPI struct {
	// Instances of the API run behind the balancer; 2 when 0.
	Instances int
	// APIEnv is extra environment for every instance (NoRateLimits).
	APIEnv []string
	// Prefix marks what the checks create.
	Prefix string
	// Client, when set, sends the checks' requests instead of
	// probe.DefaultClient.
	Client *http.Client
	// Want are the statuses other than pass (not applicable where the
	// embedded environment cannot show a check).
	Want map[string]check.Status
	// Users, when above 0, is how many users the checks may leave (the
	// API cannot delete them); no task may be left.
	Users int64
	// Secrets are what no evidence may show, besides a real token.
	Secrets []*regexp.Regexp
}

// Passes starts the real API (API), runs cs against it as one run
// (RunAll) and fails t unless each passes, or has r.Want's status, and
// the checks left only r.Users users; it returns the target and the
// results, for what a package checks after.
func (r RealAPI) Passes(t *testing.T, cs []check.Check) (*check.Target, map[string]check.Result) {
	t.Helper()
	instances := r.Instances
	if instances == 0 {
		instances = 2
	}
	target := Target(t, API(t, instances, r.APIEnv...), r.Prefix)
	target.Client = r.Client
	res := RunAll(t, target, cs, r.Secrets...)
	Passes(t, res, r.Want)
	if r.Users > 0 {
		Leftovers(t, target, r.Users)
	}
	return target, res
}

// Flaw is one deliberate mistake of the fake, and the check that must
// catch it.
type Flaw struct {
	Name  string
	Flaws fakeapi.Flaws
	// Policy is the run's, for a flaw only a stricter policy shows.
	Policy check.Policy
	// WhiteBox runs the checks knowing the fake's secret.
	WhiteBox bool
	// ID is the check that must fail, and Observed a fragment of the
	// observation its evidence must hold.
	ID, Observed string
}

// Fake is a check package's conformance against fakeapi.
type Fake struct {
	// Checks are the checks to run against api for f (a white-box run
	// knows api's secret); every check runs, in order, as a runner would.
	Checks func(f Flaw, api *fakeapi.API) []check.Check
	// Flaws are the mistakes the checks catch.
	Flaws []Flaw
	// Secrets are what no evidence may show, besides a real token.
	Secrets []*regexp.Regexp
}

// Test runs, in parallel: each flaw against a fake that has it, which
// must fail the flaw's check with evidence; the fake without flaws,
// which every check must pass (so each failure is the flaw's, not the
// fake's); and a fake that answers 429 to everything, which every check
// must call an error, since a refused request learned nothing.
func (k Fake) Test(t *testing.T) {
	t.Helper()
	run := func(t *testing.T, f Flaw) map[string]check.Result {
		t.Helper()
		api := fakeapi.Serve(t, f.Flaws)
		return RunAll(t, &check.Target{BaseURL: api.URL, Prefix: "flaw", Policy: f.Policy}, k.Checks(f, api), k.Secrets...)
	}
	for _, f := range k.Flaws {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			got := run(t, f)[f.ID]
			if got.Status != check.Fail {
				t.Fatalf("%s = %s (%s); want fail", f.ID, got.Status, got.Message)
			}
			if !slices.ContainsFunc(got.Evidence, func(e check.Evidence) bool { return strings.Contains(e.Observed, f.Observed) }) {
				t.Errorf("%s evidence %+v; want an observation containing %q", f.ID, got.Evidence, f.Observed)
			}
		})
	}
	t.Run("without flaws", func(t *testing.T) {
		t.Parallel()
		Passes(t, run(t, Flaw{WhiteBox: true}), nil)
	})
	t.Run("rate limited", func(t *testing.T) {
		t.Parallel()
		RateLimitedIsAnError(t, run(t, Flaw{Flaws: fakeapi.Flaws{LimitEverything: true}}))
	})
}
