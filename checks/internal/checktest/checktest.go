// Package checktest holds what the tests of the check packages share: the
// real API (cmd/taskapi, built once per test process) started on embedded
// stores, a target for it (managed.Target) with a MongoDB connection for
// fixture.Cleanup, running checks with a timeout and their evidence
// checked for secrets, and the conformance every check package's tests
// show the same way (Meta, RealAPI, Fake: conformance.go).
//
// It is internal to checks/: only the check packages' tests use it.
package checktest

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/envtest"
	"github.com/taskready/taskready/internal/managed"
	"github.com/taskready/taskready/internal/testbin"
)

// NoRateLimits is API environment that lifts the rate limits, for tests
// whose checks send more requests than the default budgets allow.
var NoRateLimits = []string{"RATE_LIMIT_AUTH=100000/1m", "RATE_LIMIT_API=100000/1m"}

// Main runs a package's tests, then removes the binaries they built: a
// test package that starts the real API calls it from its TestMain.
func Main(m *testing.M) { testbin.Main(m) }

// Binary builds cmd/taskapi once per test process, as env's tests do,
// and returns its path; it fails t when the build does.
func Binary(t testing.TB) string { return envtest.APIBinary(t) }

// API starts instances of the real API (behind the balancer) on embedded
// stores, with bcrypt at its cheapest and apiEnv, and closes it all when
// the test ends. It skips the test in -short mode.
func API(t *testing.T, instances int, apiEnv ...string) *env.Env {
	t.Helper()
	return envtest.Embedded(t, instances, apiEnv...)
}

// Mongo connects to e's MongoDB and disconnects when the test ends, after
// the cleanups registered later (a fixture.Cleanup needs the connection).
func Mongo(t *testing.T, e *env.Env) *mongo.Client {
	t.Helper()
	return envtest.Mongo(t, e)
}

// Target is a target for one run against e (managed.Target: its
// environment, metrics endpoint and store addresses), with a MongoDB
// connection and prefix, whose fixtures fixture.Cleanup removes when the test ends
// (an error fails the test): the users stay otherwise, since the API
// cannot delete them. The checks run against it share their fixture
// users, as the checks of one run do.
func Target(t *testing.T, e *env.Env, prefix string) *check.Target {
	t.Helper()
	target := managed.Target(e)
	target.Mongo, target.Database, target.Prefix, target.Shared = Mongo(t, e), check.DefaultDatabase, prefix, &check.Shared{}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, _, err := fixture.Cleanup(ctx, target); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return target
}

// ByID returns the check of cs with id, failing t when there is none.
func ByID(t testing.TB, cs []check.Check, id string) check.Check {
	t.Helper()
	for _, c := range cs {
		if c.Meta().ID == id {
			return c
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

// Run runs c against target within timeout, as a runner would bound it.
func Run(t testing.TB, c check.Check, target *check.Target, timeout time.Duration) check.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Run(ctx, target)
}

// RealJWT matches a token with a JSON payload: a real one, never allowed
// in evidence (the JWT-shaped garbage checks send has payload "e30").
var RealJWT = regexp.MustCompile(`eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*`)

// CheckTimeout bounds each check RunAll runs, as a runner bounds it: long
// enough for the slowest (a store failover, a connection flood) on a busy
// machine.
const CheckTimeout = 2 * time.Minute

// RunAll runs checks against target as a runner would, as one run
// (sharing their fixture users, in a Shared of their own unless target
// has one): one after the other, the disruptive ones last in their order,
// each within CheckTimeout. It logs each result with its evidence, checks
// the evidence with SafeEvidence, and returns the results by id.
func RunAll(t *testing.T, target *check.Target, checks []check.Check, secrets ...*regexp.Regexp) map[string]check.Result {
	t.Helper()
	if target.Shared == nil {
		run := *target
		run.Shared = &check.Shared{}
		target = &run
	}
	ordered := slices.Concat(
		slices.DeleteFunc(slices.Clone(checks), check.IsDisruptive),
		slices.DeleteFunc(slices.Clone(checks), func(c check.Check) bool { return !check.IsDisruptive(c) }))
	out := map[string]check.Result{}
	for _, c := range ordered {
		res := Run(t, c, target, CheckTimeout)
		out[c.Meta().ID] = res
		t.Logf("%-32s %-14s %s", c.Meta().ID, res.Status, res.Message)
		for _, e := range res.Evidence {
			t.Logf("    request:  %s\n    response: %s\n    expected: %s | observed: %s %s", e.Request, e.Response, e.Expected, e.Observed, e.Note)
		}
		SafeEvidence(t, c.Meta().ID, res, secrets...)
	}
	return out
}

// SafeEvidence checks a result as a report will show it: a message
// always; no real JWT, nor anything secrets match, in any evidence; body
// excerpts within probe.MaxExcerpt; and a failure names the request and
// what was observed.
func SafeEvidence(t *testing.T, id string, res check.Result, secrets ...*regexp.Regexp) {
	t.Helper()
	if res.Message == "" {
		t.Errorf("%s: empty message", id)
	}
	for _, e := range res.Evidence {
		for _, s := range []string{e.Request, e.Response, e.Expected, e.Observed, e.Note} {
			for _, re := range append([]*regexp.Regexp{RealJWT}, secrets...) {
				if re.MatchString(s) {
					t.Errorf("%s: evidence shows a secret (%s): %q", id, re, s)
				}
			}
		}
		// An answer is its status and headers, a blank line, then the
		// body's excerpt.
		if _, ex, ok := strings.Cut(e.Response, "\n\n"); ok && len(ex) > probe.MaxExcerpt {
			t.Errorf("%s: body excerpt over %d bytes: %q", id, probe.MaxExcerpt, ex)
		}
	}
	if res.Status == check.Fail {
		useful := slices.ContainsFunc(res.Evidence, func(e check.Evidence) bool { return e.Request != "" && e.Observed != "" })
		if !useful {
			t.Errorf("%s failed without evidence naming the request and what was observed: %+v", id, res.Evidence)
		}
	}
}
