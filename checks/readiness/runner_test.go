package readiness_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/internal/syncio"
)

// fn is a check with the given id and severity running f.
func fn(id string, sev check.Severity, f func(ctx context.Context, t *check.Target) check.Result) check.Check {
	return check.Func{M: check.Meta{ID: id, Title: "title of " + id, Category: check.Transport, Severity: sev}, F: f}
}

func passing(id string, sev check.Severity) check.Check {
	return fn(id, sev, func(context.Context, *check.Target) check.Result { return check.Passf("ok") })
}

func target() *check.Target { return &check.Target{BaseURL: "http://127.0.0.1:1"} }

func result(t *testing.T, rep *readiness.Report, id string) readiness.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", id, rep.Results)
	return readiness.Result{}
}

func TestTimeoutAbandonsAHungCheck(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	hung := fn("hung.check", check.Medium, func(context.Context, *check.Target) check.Result {
		<-release // ignores its context, as a buggy check would
		return check.Passf("too late")
	})
	start := time.Now()
	rep := readiness.Run(context.Background(), []check.Check{hung}, target(), readiness.WithTimeout(50*time.Millisecond))
	r := result(t, rep, "hung.check")
	if r.Status != check.Error || !strings.Contains(r.Message, "timed out after 50ms") || !strings.Contains(r.Message, "abandoned") {
		t.Errorf("hung check: %s %q; want an error saying it timed out and was abandoned", r.Status, r.Message)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("the run took %v; the runner should stop waiting soon after the deadline", el)
	}
	if r.Took < 50*time.Millisecond {
		t.Errorf("Took = %v; want at least the timeout", r.Took)
	}
}

func TestTimeoutOfACheckThatHonoursItsContext(t *testing.T) {
	t.Parallel()
	polite := fn("polite.check", check.High, func(ctx context.Context, _ *check.Target) check.Result {
		<-ctx.Done()
		return check.Errorf("GET /health: " + ctx.Err().Error())
	})
	rep := readiness.Run(context.Background(), []check.Check{polite}, target(), readiness.WithTimeout(30*time.Millisecond))
	r := result(t, rep, "polite.check")
	if r.Status != check.Error || !strings.HasPrefix(r.Message, "timed out after 30ms: GET /health: context deadline exceeded") {
		t.Errorf("got %s %q; want the timeout and the check's own message", r.Status, r.Message)
	}
	if strings.Contains(r.Message, "abandoned") {
		t.Errorf("a check that returned was reported abandoned: %q", r.Message)
	}
}

func TestPanicBecomesAnError(t *testing.T) {
	t.Parallel()
	boom := fn("boom.check", check.Critical, func(context.Context, *check.Target) check.Result {
		var m map[string]int
		m["x"]++ // a nil map write: the kind of panic a buggy check has
		return check.Passf("unreachable")
	})
	rep := readiness.Run(context.Background(), []check.Check{boom, passing("fine.check", check.Low)}, target())
	r := result(t, rep, "boom.check")
	if r.Status != check.Error || !strings.Contains(r.Message, "panicked") || !strings.Contains(r.Message, "nil map") {
		t.Errorf("panicking check: %s %q; want an error with the panic message", r.Status, r.Message)
	}
	if len(r.Evidence) != 1 || !strings.Contains(r.Evidence[0].Note, "runner_test.go") {
		t.Errorf("the panic's evidence should hold the stack down to the check; got %+v", r.Evidence)
	}
	if got := result(t, rep, "fine.check"); got.Status != check.Pass {
		t.Errorf("a panic in one check changed another's result: %+v", got)
	}
	if rep.ExitCode != readiness.ExitFailed {
		t.Errorf("a critical check that panicked gave exit %d; want 1 (an error is not a pass)", rep.ExitCode)
	}
}

func TestDisruptiveChecksRunAloneAndLast(t *testing.T) {
	t.Parallel()
	var (
		mu         sync.Mutex
		inFlight   int
		maxFlight  int
		safeDone   int
		violations []string
		order      []string
	)
	enter := func(id string, disruptive bool) {
		mu.Lock()
		defer mu.Unlock()
		inFlight++
		maxFlight = max(maxFlight, inFlight)
		if disruptive {
			order = append(order, id)
			if inFlight != 1 {
				violations = append(violations, id+" ran beside another check")
			}
			if safeDone != 6 {
				violations = append(violations, id+" ran before every other check finished")
			}
		}
	}
	leave := func(disruptive bool) {
		mu.Lock()
		defer mu.Unlock()
		inFlight--
		if !disruptive {
			safeDone++
		}
	}
	mk := func(id string, disruptive bool) check.Check {
		c := fn(id, check.Medium, func(context.Context, *check.Target) check.Result {
			enter(id, disruptive)
			time.Sleep(20 * time.Millisecond)
			leave(disruptive)
			return check.Passf("ok")
		})
		if disruptive {
			return check.Disruptive(c)
		}
		return c
	}
	checks := []check.Check{
		mk("store.stop-primary", true), mk("a", false), mk("b", false), mk("c", false),
		mk("cache.stop-redis", true), mk("d", false), mk("e", false), mk("f", false),
	}
	rep := readiness.Run(context.Background(), checks, target(), readiness.WithConcurrency(3))
	for _, v := range violations {
		t.Error(v)
	}
	if maxFlight < 2 || maxFlight > 3 {
		t.Errorf("at most %d checks ran at once; want 2 or 3 with concurrency 3", maxFlight)
	}
	if got := strings.Join(order, ","); got != "store.stop-primary,cache.stop-redis" {
		t.Errorf("disruptive checks ran in the order %s; want the order given", got)
	}
	if !result(t, rep, "store.stop-primary").Disruptive || result(t, rep, "a").Disruptive {
		t.Error("the report does not say which checks were disruptive")
	}
	if !check.IsDisruptive(checks[0]) || check.IsDisruptive(checks[1]) {
		t.Error("IsDisruptive is wrong")
	}
}

func TestConcurrencyOneRunsChecksOneByOne(t *testing.T) {
	t.Parallel()
	var inFlight, maxFlight atomic.Int32
	var checks []check.Check
	for _, id := range []string{"a", "b", "c", "d"} {
		checks = append(checks, fn(id, check.Low, func(context.Context, *check.Target) check.Result {
			n := inFlight.Add(1)
			for {
				m := maxFlight.Load()
				if n <= m || maxFlight.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			inFlight.Add(-1)
			return check.Passf("ok")
		}))
	}
	readiness.Run(context.Background(), checks, target(), readiness.WithConcurrency(1))
	if maxFlight.Load() != 1 {
		t.Errorf("%d checks ran at once with concurrency 1", maxFlight.Load())
	}
}

func TestProgressLinePerCheck(t *testing.T) {
	t.Parallel()
	var b syncio.Buffer
	checks := []check.Check{passing("a.one", check.High), fn("b.two", check.Low, func(context.Context, *check.Target) check.Result {
		return check.Failf("the answer had no\nHSTS header")
	})}
	readiness.Run(context.Background(), checks, target(), readiness.WithProgress(&b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("progress wrote %d lines; want 2:\n%s", len(lines), b.String())
	}
	var fail string
	for _, l := range lines {
		if strings.Contains(l, "b.two") {
			fail = l
		}
	}
	if !strings.Contains(fail, "FAIL") || !strings.Contains(fail, "the answer had no HSTS header") || !strings.Contains(fail, "/2]") {
		t.Errorf("progress line %q lacks the status, the message on one line or the count", fail)
	}
}

func TestTargetIsACopyWithPolicyAndPrefix(t *testing.T) {
	t.Parallel()
	var seen check.Target
	spy := fn("spy.check", check.Info, func(_ context.Context, tt *check.Target) check.Result {
		seen = *tt
		return check.Passf("ok")
	})
	pol, err := readiness.ParsePolicy([]byte("thresholds:\n  hsts_min_age: 180d\n  max_page_size: 50\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tg := &check.Target{BaseURL: "http://api", Policy: check.Policy{MaxPageSize: 20, KeepDaily: 3}}
	rep := readiness.Run(context.Background(), []check.Check{spy}, tg, readiness.WithPolicy(pol), readiness.WithRunID("run-1"))
	if seen.Policy.HSTSMinAge != 180*24*time.Hour || seen.Policy.MaxPageSize != 50 || seen.Policy.KeepDaily != 3 || seen.Policy.KeepWeekly != 4 {
		t.Errorf("the check saw policy %+v; want the file's thresholds over the target's, defaults for the rest", seen.Policy)
	}
	if seen.Prefix != "readiness-run-1" || seen.Client == nil {
		t.Errorf("the check saw prefix %q, client %v; want readiness-run-1 and a client", seen.Prefix, seen.Client)
	}
	if tg.Policy.MaxPageSize != 20 || tg.Prefix != "" || tg.Client != nil {
		t.Errorf("Run changed the caller's target: %+v", tg)
	}
	if rep.Run.ID != "run-1" || rep.Run.Policy != "p.yaml" || rep.Run.Target != "http://api" {
		t.Errorf("run info %+v", rep.Run)
	}
	want := map[string]string{"hsts_min_age": "180d", "max_page_size": "50", "keep_daily": "3", "max_backup_age": "26h0m0s"}
	for _, th := range rep.Run.Thresholds {
		if w, ok := want[th.Name]; ok && th.Value != w {
			t.Errorf("threshold %s = %s in the report; want %s", th.Name, th.Value, w)
		}
	}
}

// The checks of one run share one Shared, and two runs of one runner in
// one process never do: what a run's checks register is the run's alone.
func TestEachRunHasItsOwnShared(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string][]*check.Shared{}
	spy := func(id string) check.Check {
		return fn(id, check.Info, func(_ context.Context, tt *check.Target) check.Result {
			mu.Lock()
			defer mu.Unlock()
			seen[id] = append(seen[id], tt.Shared)
			return check.Passf("ok")
		})
	}
	r, err := readiness.New([]check.Check{spy("a"), spy("b")})
	if err != nil {
		t.Fatal(err)
	}
	tg := &check.Target{BaseURL: "http://api", Shared: &check.Shared{}}
	r.Run(context.Background(), tg)
	r.Run(context.Background(), tg)
	a, b := seen["a"], seen["b"]
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("runs seen: a %d, b %d; want 2 each", len(a), len(b))
	}
	for i := range 2 {
		if a[i] == nil || a[i] != b[i] || a[i] == tg.Shared {
			t.Errorf("run %d: a saw %p, b saw %p (the caller's %p); want one Shared of the run's own", i+1, a[i], b[i], tg.Shared)
		}
	}
	if a[0] == a[1] {
		t.Errorf("both runs saw Shared %p; want one each", a[0])
	}
}

// The runner cleans up after its checks, with the target they saw: the
// run's prefix and Shared, on a context the run's cancellation does not
// end.
func TestCleanupSeesTheRunsTarget(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var during *check.Target
	c := fn("cancels.run", check.Info, func(_ context.Context, tt *check.Target) check.Result {
		during = tt
		cancel()
		return check.Passf("ok")
	})
	calls := 0
	cleanup := func(cctx context.Context, tt *check.Target) {
		calls++
		if cctx.Err() != nil {
			t.Errorf("cleanup context is done (%v); want it to outlive the run's cancellation", cctx.Err())
		}
		if during == nil || tt.Prefix != "readiness-run-7" || tt.Shared == nil || tt.Shared != during.Shared {
			t.Errorf("cleanup saw prefix %q, Shared %p; want readiness-run-7 and the Shared the checks saw", tt.Prefix, tt.Shared)
		}
	}
	readiness.Run(ctx, []check.Check{c}, target(), readiness.WithRunID("run-7"), readiness.WithCleanup(cleanup))
	if calls != 1 {
		t.Errorf("cleanup called %d times; want once", calls)
	}
}

func TestCancelledRunReportsChecksNotRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := readiness.Run(ctx, []check.Check{passing("a", check.Critical), check.Disruptive(passing("b", check.Low))}, target())
	for _, r := range rep.Results {
		if r.Status != check.Error || !strings.Contains(r.Message, "not run") {
			t.Errorf("%s after cancel: %s %q; want an error saying it did not run", r.ID, r.Status, r.Message)
		}
	}
	if rep.Passed {
		t.Error("a cancelled run passed")
	}
}

func TestMalformedStatusIsAnError(t *testing.T) {
	t.Parallel()
	odd := fn("odd.check", check.Low, func(context.Context, *check.Target) check.Result {
		return check.Result{Status: "passed", Message: "looks fine"}
	})
	r := result(t, readiness.Run(context.Background(), []check.Check{odd}, target()), "odd.check")
	if r.Status != check.Error || !strings.Contains(r.Message, `"passed"`) || !strings.Contains(r.Message, "looks fine") {
		t.Errorf("got %s %q", r.Status, r.Message)
	}
}

func TestTookIsMeasured(t *testing.T) {
	t.Parallel()
	slow := fn("slow.check", check.Low, func(context.Context, *check.Target) check.Result {
		time.Sleep(30 * time.Millisecond)
		return check.Result{Status: check.Pass, Message: "ok", Took: time.Hour}
	})
	r := result(t, readiness.Run(context.Background(), []check.Check{slow}, target()), "slow.check")
	if r.Took < 30*time.Millisecond || r.Took > 10*time.Second {
		t.Errorf("Took = %v; want the runner's measure (~30ms), not the check's own", r.Took)
	}
}

func TestNewRejectsBadChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		checks []check.Check
		want   string
	}{
		{"nil", []check.Check{nil}, "checks[0] is nil"},
		{"no id", []check.Check{passing("", check.Low)}, "has no id"},
		{"duplicate", []check.Check{passing("a.b", check.Low), passing("a.b", check.High)}, "checks[0] and checks[1] share the id a.b"},
		{"severity", []check.Check{passing("a.b", "severe")}, `severity "severe"`},
		{"category", []check.Check{check.Func{M: check.Meta{ID: "x", Severity: check.Low}}}, "no category"},
		{"meta panics", []check.Check{panicMeta{}}, "Meta panicked"},
	}
	for _, tt := range tests {
		_, err := readiness.New(tt.checks)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want one containing %q", tt.name, err, tt.want)
		}
	}
}

type panicMeta struct{}

func (panicMeta) Meta() check.Meta                                { panic("no meta") }
func (panicMeta) Run(context.Context, *check.Target) check.Result { return check.Passf("") }

func TestRunWithBadPolicyIsAConfigError(t *testing.T) {
	t.Parallel()
	pol, err := readiness.ParsePolicy([]byte("overrides:\n  - id: headers.hst\n    action: ignore\n    reason: CDN sets it\n    owner: ops\n    expires: 2099-01-01\n"), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checks := []check.Check{passing("headers.hsts", check.High)}
	if _, err := readiness.New(checks, readiness.WithPolicy(pol)); err == nil ||
		err.Error() != `policy.yaml:2: override for unknown check "headers.hst"; did you mean "headers.hsts"?` {
		t.Errorf("New: %v", err)
	}
	rep := readiness.Run(context.Background(), checks, target(), readiness.WithPolicy(pol))
	if rep.ExitCode != readiness.ExitConfig || rep.Passed || len(rep.Results) != 0 || rep.Run.Error == "" {
		t.Errorf("config error report: exit %d passed %v results %d error %q", rep.ExitCode, rep.Passed, len(rep.Results), rep.Run.Error)
	}
	if len(rep.Gates) != 1 || rep.Gates[0].Name != readiness.GateConfig || rep.Gates[0].Passed {
		t.Errorf("gates %+v; want one failed configuration gate", rep.Gates)
	}
	// The same policy is fine for a subset run that knows the full list.
	if _, err := readiness.New(checks, readiness.WithPolicy(pol), readiness.WithKnownIDs("headers.hst")); err != nil {
		t.Errorf("with the id known: %v", err)
	}
}

func TestNilTarget(t *testing.T) {
	t.Parallel()
	rep := readiness.Run(context.Background(), []check.Check{passing("a", check.Low)}, nil)
	if rep.ExitCode != readiness.ExitConfig {
		t.Errorf("nil target: exit %d; want 2", rep.ExitCode)
	}
}
