package health_test

import (
	"testing"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/health"
	"github.com/taskready/taskready/checks/internal/checktest"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// upRealAPI starts two instances of the real API behind the balancer, on
// embedded stores, with the default limits, and a target with a MongoDB
// connection (to seed long lists and remove the fixture users afterwards)
// and the environment (to reach each instance).
func upRealAPI(t *testing.T) *check.Target {
	t.Helper()
	e := checktest.API(t, 2)
	target := checktest.Target(t, e, "readiness-health-test")
	return target
}

// TestEveryCheckPassesAgainstTheRealAPI runs the checks as a runner would:
// the others first, then the disruptive ones alone, one after the other.
func TestEveryCheckPassesAgainstTheRealAPI(t *testing.T) {
	target := upRealAPI(t)
	var later []check.Check
	for _, c := range health.Checks() {
		if check.IsDisruptive(c) {
			later = append(later, c)
			continue
		}
		r := run(t, c, target)
		t.Logf("%s %s: %s", c.Meta().ID, r.Status, r.Message)
		if r.Status != check.Pass {
			t.Errorf("%s = %s: %s; want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
	for _, c := range later {
		r := run(t, c, target)
		t.Logf("%s %s: %s", c.Meta().ID, r.Status, r.Message)
		if r.Status != check.Pass {
			t.Errorf("%s = %s: %s; want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
	// The environment is whole again: every instance ready, both stores in.
	for _, api := range target.Env.APITargets() {
		r := run(t, byID(t, "health.readiness-report"), &check.Target{BaseURL: api})
		if r.Status != check.Pass {
			t.Errorf("%s after the faults: %s (%s)", api, r.Status, r.Message)
		}
	}
}
