package resilience_test

import (
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/resilience"
)

func TestMain(m *testing.M) { checktest.Main(m) }

func byID(t *testing.T, id string) check.Check {
	t.Helper()
	return checktest.ByID(t, resilience.Checks(), id)
}

func run(t *testing.T, c check.Check, target *check.Target) check.Result {
	t.Helper()
	return checktest.Run(t, c, target, 90*time.Second)
}

// scaled shrinks the load and store checks' bounds for one test.
func scaled(t *testing.T) {
	t.Cleanup(resilience.Scale())
}

// verdict is what one check must find against one fake.
type verdict struct {
	name   string
	id     string
	f      flaws
	want   check.Status
	naming string // a phrase the failure's message must hold
}

// TestAgainstFakes proves each HTTP-level check able to fail: a fake with
// the old behaviour fails it, with the problem named; the fake without
// the flaw passes it.
func TestAgainstFakes(t *testing.T) {
	for _, v := range []verdict{
		{"JSON method errors", resilience.IDErrorShape, flaws{}, check.Pass, ""},
		{"plain-text 501", resilience.IDErrorShape, flaws{plainErrors: true}, check.Fail, "not the contract's {message} JSON"},
		{"invalid UTF-8 refused", resilience.IDNonUTF8, flaws{}, check.Pass, ""},
		{"invalid UTF-8 is a 500", resilience.IDNonUTF8, flaws{utf8Crash: true}, check.Fail, "500 Internal Server Error: a server error"},
		{"logout revokes", resilience.IDLogoutRevokes, flaws{}, check.Pass, ""},
		{"token survives logout", resilience.IDLogoutRevokes, flaws{keepTokens: true}, check.Fail, "the token still works after logout"},
		{"unique email decides", resilience.IDConcurrentSignup, flaws{}, check.Pass, ""},
		{"registration race", resilience.IDConcurrentSignup, flaws{signupRace: true}, check.Fail, "want exactly 1"},
		{"registrations shed without Retry-After", resilience.IDConcurrentSignup, flaws{registerSheds: true}, check.Fail, "shed with 503 (without Retry-After)"},
	} {
		t.Run(v.name, func(t *testing.T) {
			a := newFake(t, v.f)
			target := &check.Target{BaseURL: a.srv.URL, Prefix: "readiness-fake"}
			judge(t, v, run(t, byID(t, v.id), target))
		})
	}
}

func judge(t *testing.T, v verdict, r check.Result) {
	t.Helper()
	checktest.SafeEvidence(t, v.id, r)
	if r.Status != v.want {
		t.Fatalf("%s = %s (%s), want %s\n%+v", v.id, r.Status, r.Message, v.want, r.Evidence)
	}
	if v.naming != "" && !strings.Contains(r.Message, v.naming) {
		t.Errorf("%s message %q does not name the problem (%q)", v.id, r.Message, v.naming)
	}
	t.Logf("%s %s: %s", v.id, r.Status, r.Message)
}

func TestFramingAgainstFakes(t *testing.T) {
	for _, v := range []struct {
		verdict
		f framing
	}{
		{verdict{"refuses ambiguous framing and closes", resilience.IDSmuggling, flaws{}, check.Pass, ""}, framing{}},
		{verdict{"serves the hidden request", resilience.IDSmuggling, flaws{}, check.Fail, "the hidden request was served"}, framing{honourTE: true}},
		{verdict{"keeps the connection after Content-Length wins", resilience.IDSmuggling, flaws{}, check.Fail, "the connection stayed open"}, framing{honourCL: true}},
		{verdict{"drains before closing", resilience.IDBodyDrain, flaws{}, check.Pass, ""}, framing{}},
		{verdict{"closes without reading", resilience.IDBodyDrain, flaws{}, check.Fail, "sees a reset, not the refusal"}, framing{resetLarge: true}},
	} {
		t.Run(v.name, func(t *testing.T) {
			target := &check.Target{BaseURL: rawFake(t, v.f)}
			judge(t, v.verdict, run(t, byID(t, v.id), target))
		})
	}
}

func TestOverloadAgainstFakes(t *testing.T) {
	scaled(t)
	for _, v := range []verdict{
		{"sheds with 503 and Retry-After", resilience.IDOverload, flaws{}, check.Pass, ""},
		{"500 past capacity", resilience.IDOverload, flaws{overload500: true}, check.Fail, "5xx other than 503"},
		{"503 without Retry-After", resilience.IDOverload, flaws{overloadBare: true}, check.Fail, "carried no Retry-After"},
		{"stays unavailable after the burst", resilience.IDOverload, flaws{stuckAfter: time.Minute}, check.Fail, "does not recover by itself"},
		{"a rate limit below the burst", resilience.IDOverload, flaws{apiLimit: 100}, check.Error, "raise RATE_LIMIT_API"},
	} {
		t.Run(v.name, func(t *testing.T) {
			a := newFake(t, v.f)
			target := &check.Target{BaseURL: a.srv.URL, Prefix: "readiness-fake"}
			judge(t, v, run(t, byID(t, v.id), target))
		})
	}
}

func TestConnectionFloodAgainstFakes(t *testing.T) {
	scaled(t)
	for _, v := range []verdict{
		{"answers through the flood", resilience.IDConnectionFlood, flaws{}, check.Pass, ""},
		{"slow under the flood", resilience.IDConnectionFlood, flaws{floodHang: time.Second}, check.Fail, "p95"},
		{"exits under the flood", resilience.IDConnectionFlood, flaws{floodExit: true}, check.Fail, "did not answer within"},
	} {
		t.Run(v.name, func(t *testing.T) {
			a := newFake(t, v.f)
			target := &check.Target{BaseURL: a.srv.URL, Prefix: "readiness-fake"}
			judge(t, v, run(t, byID(t, v.id), target))
		})
	}
}

func TestMongoFailFastAgainstFakes(t *testing.T) {
	scaled(t)
	for _, v := range []verdict{
		{"503 with Retry-After at once", resilience.IDMongoFailFast, flaws{}, check.Pass, ""},
		{"hangs, then 500", resilience.IDMongoFailFast, flaws{slowWhenDown: time.Second}, check.Fail, "not 503"},
	} {
		t.Run(v.name, func(t *testing.T) {
			a := newFake(t, v.f)
			env := &fakeEnv{names: []string{"mongo-0", "redis-primary", "api-1"}, apis: []string{a.srv.URL}, api: a}
			target := &check.Target{BaseURL: a.srv.URL, Prefix: "readiness-fake", Env: env}
			judge(t, v, run(t, byID(t, v.id), target))
			if !env.restored() {
				t.Errorf("MongoDB was left stopped: %v", env.actions)
			}
		})
	}
}

func TestRedisFailoverAgainstFakes(t *testing.T) {
	scaled(t)
	for _, v := range []struct {
		verdict
		fixed bool
	}{
		{verdict{"follows the Sentinels", resilience.IDRedisFailover, flaws{}, check.Pass, ""}, false},
		{verdict{"a fixed primary address", resilience.IDRedisFailover, flaws{}, check.Fail, "/readyz said pass while the rate limit was not shared"}, true},
	} {
		t.Run(v.name, func(t *testing.T) {
			r := &redisFake{fixedAddress: v.fixed, primaryUp: true, shared: map[string]int{}}
			apis := []string{r.instance(t), r.instance(t)}
			env := &fakeEnv{names: []string{"mongo-0", "redis-primary", "sentinel-1", "sentinel-2", "sentinel-3", "api-1", "api-2"}, apis: apis, redis: r}
			target := &check.Target{BaseURL: apis[0], Prefix: "readiness-fake", Env: env}
			judge(t, v.verdict, run(t, byID(t, v.id), target))
			if !env.restored() {
				t.Errorf("redis-primary was left stopped: %v", env.actions)
			}
		})
	}
}

// TestStoreChecksNeedTheirEnvironment: without an environment, or
// without the components, the store checks say why they do not apply.
func TestStoreChecksNeedTheirEnvironment(t *testing.T) {
	plain := &fakeEnv{names: []string{"mongo-0", "redis-primary", "api-1"}}
	for _, c := range []struct {
		id, why string
		env     check.Environment
	}{
		{resilience.IDMongoFailFast, "managed environment", nil},
		{resilience.IDRedisFailover, "managed environment", nil},
		{resilience.IDRedisFailover, "-redis-sentinels 3", plain},
		{resilience.IDMongoFailFast, "no MongoDB component", &fakeEnv{names: []string{"api-1"}}},
	} {
		r := run(t, byID(t, c.id), &check.Target{BaseURL: "http://127.0.0.1:1", Env: c.env})
		if r.Status != check.NotApplicable || !strings.Contains(r.Message, c.why) {
			t.Errorf("%s = %s (%s), want not applicable naming %q", c.id, r.Status, r.Message, c.why)
		}
	}
}

// The checks that load the API or stop stores say so to the runner, and
// come last.
func TestMeta(t *testing.T) {
	checktest.Meta(t, resilience.Checks(), checktest.Want{Category: check.Resilience,
		IDs: []string{"resilience.error-shape", "resilience.non-utf8-query", "resilience.logout-revokes", "resilience.body-drain",
			"resilience.request-smuggling", "resilience.concurrent-signup", "resilience.connection-flood", "resilience.overload",
			"resilience.mongo-fail-fast", "resilience.redis-failover"},
		Disruptive: []string{"resilience.connection-flood", "resilience.overload", "resilience.mongo-fail-fast", "resilience.redis-failover"}})
}

// TestRealAPI runs the checks as a runner would, the disruptive ones
// alone after the others, against two instances of the real API behind
// the balancer on embedded stores. The rate limits are lifted: the
// checks register twenty-odd users and load the API far past the
// default budgets, which would make them errors, not verdicts. The
// embedded stores have no Redis Sentinels, so resilience.redis-failover
// does not apply here (its fakes prove it).
func TestRealAPI(t *testing.T) {
	checktest.RealAPI{APIEnv: checktest.NoRateLimits, Prefix: "readiness-resilience-test",
		Want: map[string]check.Status{resilience.IDRedisFailover: check.NotApplicable}}.Passes(t, resilience.Checks())
}
