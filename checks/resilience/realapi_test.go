package resilience_test

import (
	"testing"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/resilience"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// TestEveryCheckPassesAgainstTheRealAPI runs the checks as a runner
// would, the disruptive ones alone after the others, against two
// instances of the real API behind the balancer on embedded stores. The
// rate limits are lifted: the checks register twenty-odd users and load
// the API far past the default budgets, which would make them errors,
// not verdicts. The embedded stores have no Redis Sentinels, so
// resilience.redis-failover does not apply here (its fakes prove it).
func TestEveryCheckPassesAgainstTheRealAPI(t *testing.T) {
	e := checktest.API(t, 2, checktest.NoRateLimits...)
	target := checktest.Target(t, e, "readiness-resilience-test")
	var later []check.Check
	for _, c := range resilience.Checks() {
		if check.IsDisruptive(c) {
			later = append(later, c)
			continue
		}
		expectPass(t, c, target)
	}
	for _, c := range later {
		expectPass(t, c, target)
	}
}

func expectPass(t *testing.T, c check.Check, target *check.Target) {
	t.Helper()
	r := run(t, c, target)
	id := c.Meta().ID
	t.Logf("%s %s: %s", id, r.Status, r.Message)
	for _, e := range r.Evidence {
		t.Logf("    request:  %s\n    response: %s\n    expected: %s | observed: %s %s", e.Request, e.Response, e.Expected, e.Observed, e.Note)
	}
	checktest.SafeEvidence(t, id, r)
	want := check.Pass
	if id == resilience.IDRedisFailover {
		want = check.NotApplicable
	}
	if r.Status != want {
		t.Errorf("%s = %s: %s; want %s", id, r.Status, r.Message, want)
	}
}
