package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/env/envtest"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/fault"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/seed"
)

// biteFile is logins and task lists at 10 iterations a second: 2 s
// before, 3 s of the phase "hit", 2 s after. Its thresholds on "hit"
// hold on a healthy API with room to spare (a login and a list of ten
// tasks take milliseconds), and fault, when not empty, plays during
// "hit" only.
func biteFile(t *testing.T, fault string) *scenario.File {
	t.Helper()
	src := `
name: bite
users: {prefix: bite, count: 5, password: bite-password-1}
defaults: {timeout: 1s}
scenarios:
  traffic:
    executor: ramping-arrival-rate
    startRate: 10
    preAllocatedVUs: 10
    maxVUs: 100
    stages:
      - {duration: 2s, target: 10, phase: before}
      - {duration: 3s, target: 10, phase: hit}
      - {duration: 2s, target: 10, phase: after}
    journeys: [browse]
journeys:
  browse:
    - name: login
      request: {method: POST, path: /api/auth/login, json: {email: "{{user.email}}", password: "{{user.password}}"}}
      check: {status: 200}
      extract: {token: token}
    - name: list
      request: {method: GET, path: "/api/tasks?page=1&limit=10", headers: {Authorization: "Bearer {{token}}"}}
      check: {status: 200}
thresholds:
  "http_req_failed{phase:hit}": ["rate<0.05"]
  "http_req_duration{phase:hit}": ["p(95)<300"]
`
	if fault != "" {
		src += "faults:\n  - " + fault + "\n"
	}
	f, err := scenario.Parse("bite.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Every action a fault can take bites: a run with it during "hit" crosses
// a threshold on "hit" (exit 99) and the outcome names the fault, while
// the same run without it passes. Each fault is far beyond what the
// thresholds allow (an API gone, 300 ms each way on a link the login
// needs, 1 KB/s for answers of several hundred bytes), so the verdict does
// not hang on this machine's speed. slow_close is the exception: it delays
// a close, which keep-alive HTTP and the drivers' pooled connections
// never wait for, so no threshold can see it (the link's own test shows
// the close delayed).
func TestEveryFaultActionBites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	e := envtest.Embedded(t, 1, "RATE_LIMIT_AUTH=100000/1m", "RATE_LIMIT_API=100000/1m")
	if _, err := seed.Run(ctx, envtest.Database(t, e), seed.Options{Users: 5, TasksPerUser: 10, Seed: 1, Prefix: "bite", Password: "bite-password-1"}); err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, f *scenario.File) summary.Run {
		t.Helper()
		target, err := fault.LoadTarget(f.Faults, e, e.Target)
		if err != nil {
			t.Fatal(err)
		}
		res, err := engine.Run(ctx, f, target, engine.WithFaults(e), engine.WithLimits(lenient)) // a busy machine's send lag is not the verdict here
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary(engine.Meta{ID: "bite"})
		s.Run.Decide()
		return s.Run
	}
	if r := run(t, biteFile(t, "")); r.Outcome.ExitCode != summary.ExitPass {
		t.Fatalf("without a fault: %+v; want a pass, or no fault's crossing would prove anything", r.Outcome)
	}
	for _, fault := range []string{
		"{name: api-kill, target: api-1, action: kill, phase: hit, until: after}",
		"{name: api-stop, target: api-1, action: stop, phase: hit, until: after}",
		"{name: api-pause, target: api-1, action: pause, phase: hit, until: after}",
		"{name: slow-mongo, target: mongo, action: latency, latency: 300ms, jitter: 50ms, phase: hit, until: after}",
		"{name: thin-clients, target: api, action: bandwidth, rate: 1, phase: hit, until: after}",
		"{name: mongo-stall, target: mongo, action: timeout, timeout: 0s, phase: hit, until: after}",
		"{name: mongo-resets, target: mongo, action: reset_peer, phase: hit, until: after}",
		"{name: mongo-reset, target: mongo, action: reset, phase: hit, until: after}",
		"{name: sliced-clients, target: api, action: slicer, size: 10, delay: 10ms, phase: hit, until: after}",
		"{name: capped-clients, target: api, action: limit_data, bytes: 500, phase: hit, until: after}",
		"{name: mongo-gone, target: mongo, action: down, phase: hit, until: after}",
	} {
		f := biteFile(t, fault)
		name := f.Faults[0].Name
		t.Run(f.Faults[0].Action, func(t *testing.T) {
			r := run(t, f)
			if len(r.Faults) != 1 || !r.Faults[0].Played || r.Faults[0].Error != "" {
				t.Fatalf("fault %s = %+v; want played and undone", name, r.Faults)
			}
			if r.Outcome.ExitCode != summary.ExitCrossed {
				t.Fatalf("exit %d (%v); want 99: %s must cross a threshold on hit", r.Outcome.ExitCode, r.Outcome.Reasons, name)
			}
			want := fmt.Sprintf("(during fault %s)", name)
			if !strings.Contains(strings.Join(r.Outcome.Reasons, "\n"), want) {
				t.Errorf("reasons %q; want one naming the fault: %s", r.Outcome.Reasons, want)
			}
			f := r.Faults[0]
			t.Logf("%s: %d errors of %d requests, p95 %v → %v ms; %s", name, f.Errors, f.Requests, deref(f.P95Before), deref(f.P95During), r.Outcome.Reasons[0])
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return "–"
	}
	return *p
}
