package limits_test

import (
	"context"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/limits"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// upRealAPI starts two instances of the real API behind the balancer, on
// embedded stores, with the default limits, and a target with a MongoDB
// connection (to seed long lists and remove the fixture users afterwards)
// and the environment (to reach each instance).
func upRealAPI(t *testing.T) *check.Target {
	t.Helper()
	e := checktest.API(t, 2)
	target := checktest.Target(t, e, "readiness-limits-test")
	return target
}

func TestEveryCheckPassesAgainstTheRealAPI(t *testing.T) {
	target := upRealAPI(t)
	for _, c := range limits.Checks() {
		r := run(t, c, target)
		t.Logf("%s %s: %s", c.Meta().ID, r.Status, r.Message)
		if r.Status != check.Pass {
			t.Errorf("%s = %s: %s; want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
	// The seeded tasks are gone; only the shared fixture user remains.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	users, tasks, err := fixture.Cleanup(ctx, target)
	if err != nil || users != 2 || tasks != 0 {
		t.Errorf("cleanup removed %d users and %d tasks (%v); want the run's pair of users (probe.Pair) and no task left behind", users, tasks, err)
	}
}
