package cors_test

import (
	"testing"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/cors"
	"github.com/taskready/taskready/checks/internal/checktest"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// upRealAPI starts two instances of the real API behind the balancer, on
// embedded stores, with the default limits, and a target with a MongoDB
// connection so that the fixture users can be removed afterwards.
func upRealAPI(t *testing.T) *check.Target {
	t.Helper()
	e := checktest.API(t, 2)
	target := checktest.Target(t, e, "readiness-cors-test")
	return target
}

func TestEveryCheckPassesAgainstTheRealAPI(t *testing.T) {
	target := upRealAPI(t)
	for _, c := range cors.Checks() {
		r := run(t, c, target)
		t.Logf("%s %s: %s", c.Meta().ID, r.Status, r.Message)
		if r.Status != check.Pass {
			t.Errorf("%s = %s: %s; want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
}
