package fault_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/env/link"
	"github.com/taskready/taskready/loadtest/fault"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
)

func TestPlan(t *testing.T) {
	phases := map[string]time.Duration{"warm-up": 0, "steady": 10 * time.Second, "recovery": 40 * time.Second}
	phaseStart := func(p string) (time.Duration, bool) { d, ok := phases[p]; return d, ok }
	tests := []struct {
		name       string
		f          scenario.Fault
		start, end time.Duration
		err        string
	}{
		{"at, for", scenario.Fault{At: 5 * time.Second, For: 3 * time.Second}, 5 * time.Second, 8 * time.Second, ""},
		{"phase, offset, until", scenario.Fault{Phase: "steady", Offset: 2 * time.Second, Until: "recovery"}, 12 * time.Second, 40 * time.Second, ""},
		{"kill never undone", scenario.Fault{Action: scenario.FaultKill, Phase: "steady"}, 10 * time.Second, fault.Never, ""},
		{"unknown phase", scenario.Fault{Phase: "stedy"}, 0, 0, `no phase "stedy"`},
		{"until before start", scenario.Fault{Phase: "recovery", Until: "steady"}, 0, 0, "before the fault does"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Name = "f"
			got, err := fault.Plan([]scenario.Fault{tt.f}, phaseStart)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Plan error = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Start != tt.start || got[0].End != tt.end {
				t.Errorf("start, end = %s, %s; want %s, %s", got[0].Start, got[0].End, tt.start, tt.end)
			}
		})
	}
}

// player records what it was asked to do, in order; failOn makes one
// call fail.
type player struct {
	mu     sync.Mutex
	calls  []string
	failOn string
}

func (p *player) record(call string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, call)
	if call == p.failOn {
		return fmt.Errorf("refused")
	}
	return nil
}

func (p *player) Apply(_ context.Context, component, action string) error {
	return p.record(action + " " + component)
}

func (p *player) Degrade(name, fault string, f link.Fault) error {
	return p.record(fmt.Sprintf("degrade %s %s: %s %s", name, fault, f.Action, f.Detail()))
}

func (p *player) Restore(name, fault string) error {
	return p.record("restore " + name + " " + fault)
}

// Each action is played at its start and undone at its end, in that
// order; a fault still active when the run ends is undone then, and one
// not yet due is never played.
func TestPlay(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	plan := []fault.Planned{
		{Fault: scenario.Fault{Name: "stop", Target: "mongo-0", Action: scenario.FaultStop}, Start: 0, End: ms(20)},
		{Fault: scenario.Fault{Name: "pause", Target: "api-1", Action: scenario.FaultPause}, Start: ms(10), End: ms(30)},
		{Fault: scenario.Fault{Name: "slow", Target: "mongo", Action: scenario.FaultLatency,
			Link: link.Fault{Action: link.Latency, Latency: ms(200), Jitter: ms(50)}}, Start: 0, End: ms(20)},
		{Fault: scenario.Fault{Name: "thin", Target: "mongo", Action: link.Bandwidth, Link: link.Fault{Action: link.Bandwidth, Rate: 16}}, Start: ms(5), End: ms(25)},
		{Fault: scenario.Fault{Name: "cut", Target: "redis", Action: scenario.FaultReset, Link: link.Fault{Action: link.ResetPeer}}, Start: 0, End: time.Hour},
		{Fault: scenario.Fault{Name: "kill", Target: "api-2", Action: scenario.FaultKill}, Start: 0, End: fault.Never},
		{Fault: scenario.Fault{Name: "late", Target: "api-1", Action: scenario.FaultKill}, Start: time.Hour, End: fault.Never},
	}
	p := &player{}
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	var logs []string
	var logMu sync.Mutex
	done := make(chan []fault.Window)
	go func() {
		done <- fault.Play(ctx, p, plan, start, func(e fault.Event) { logMu.Lock(); logs = append(logs, e.Text); logMu.Unlock() })
	}()
	// The run ends once the short faults are healed: "cut" is undone by
	// the end, "late" never starts.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		healed := slices.Contains(p.calls, "start mongo-0") && slices.Contains(p.calls, "unpause api-1") && slices.Contains(p.calls, "restore mongo slow") && slices.Contains(p.calls, "restore mongo thin")
		p.mu.Unlock()
		if healed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("faults not healed within 10s: %v", p.calls)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	ws := <-done

	before := func(a, b string) {
		t.Helper()
		i, j := slices.Index(p.calls, a), slices.Index(p.calls, b)
		if i < 0 || j < 0 || i > j {
			t.Errorf("calls %v: want %q before %q", p.calls, a, b)
		}
	}
	before("stop mongo-0", "start mongo-0")
	before("pause api-1", "unpause api-1")
	// Each fault on a link is undone by its name: the two on mongo one
	// by one.
	before("degrade mongo slow: latency 200ms ± 50ms", "restore mongo slow")
	before("degrade mongo thin: bandwidth 16 KB/s", "restore mongo thin")
	before("degrade redis cut: reset_peer ", "restore redis cut")
	if slices.Contains(p.calls, "start api-2") || slices.Contains(p.calls, "kill api-1") {
		t.Errorf("calls %v: a kill without an end was undone, or a fault not yet due was played", p.calls)
	}
	for _, w := range ws {
		switch w.Name {
		case "late":
			if w.Played || w.Err == "" {
				t.Errorf("late: played %v, err %q; want not played, with the reason", w.Played, w.Err)
			}
		case "kill":
			if !w.Played || w.Undone {
				t.Errorf("kill: played %v undone %v; want played, never undone", w.Played, w.Undone)
			}
		default:
			if !w.Played || !w.Undone || w.Began < w.Start || w.Ended < w.Began {
				t.Errorf("%s: played %v undone %v began %s ended %s (planned %s); want played at or after its start, then undone", w.Name, w.Played, w.Undone, w.Began, w.Ended, w.Start)
			}
		}
	}
	if len(logs) == 0 {
		t.Error("nothing was logged")
	}
}

// Describe says what each action does, with its parameters; the judge's
// summary carries the same detail.
func TestDescribe(t *testing.T) {
	on := func(target, action string, lf link.Fault) scenario.Fault {
		return scenario.Fault{Name: "f", Target: target, Action: action, Link: lf}
	}
	for _, tt := range []struct {
		f          scenario.Fault
		want, what string
	}{
		{scenario.Fault{Target: "mongo-0", Action: scenario.FaultStop}, "stop mongo-0", ""},
		{on("mongo", "latency", link.Fault{Action: link.Latency, Latency: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}),
			"latency 200ms ± 50ms on link mongo", "200ms ± 50ms"},
		{on("api", "bandwidth", link.Fault{Action: link.Bandwidth, Rate: 16}), "bandwidth 16 KB/s on link api", "16 KB/s"},
		{on("redis", "timeout", link.Fault{Action: link.Timeout, Timeout: 5 * time.Second}), "timeout 5s on link redis", "5s"},
		{on("redis", "timeout", link.Fault{Action: link.Timeout}), "timeout forever on link redis", "forever"},
		{on("mongo", "reset", link.Fault{Action: link.ResetPeer}), "reset link mongo", ""},
		{on("mongo", "reset_peer", link.Fault{Action: link.ResetPeer, Timeout: time.Second}), "reset_peer after 1s on link mongo", "after 1s"},
		{on("mongo", "slow_close", link.Fault{Action: link.SlowClose, Delay: 2 * time.Second}), "slow_close 2s on link mongo", "2s"},
		{on("api", "slicer", link.Fault{Action: link.Slicer, Size: 64, Variation: 16, Delay: time.Millisecond}),
			"slicer 64 ± 16 B, 1ms apart on link api", "64 ± 16 B, 1ms apart"},
		{on("mongo", "limit_data", link.Fault{Action: link.LimitData, Bytes: 1024}), "limit_data 1024 B on link mongo", "1024 B"},
		{on("redis", "down", link.Fault{Action: link.Down}), "down link redis", ""},
	} {
		if got := fault.Describe(tt.f); got != tt.want {
			t.Errorf("Describe(%+v) = %q; want %q", tt.f, got, tt.want)
		}
		judged := fault.Judge([]fault.Window{{Planned: fault.Planned{Fault: tt.f}}}, record.Snapshot{})
		if judged[0].Detail != tt.what || judged[0].Action != tt.f.Action {
			t.Errorf("judged %s: action %q detail %q; want %q, %q", tt.want, judged[0].Action, judged[0].Detail, tt.f.Action, tt.what)
		}
	}
}

func TestPlayReportsAFailedAction(t *testing.T) {
	p := &player{failOn: "stop mongo-0"}
	ws := fault.Play(context.Background(), p, []fault.Planned{
		{Fault: scenario.Fault{Name: "stop", Target: "mongo-0", Action: scenario.FaultStop}, End: time.Millisecond},
	}, time.Now(), nil)
	if ws[0].Played || !strings.Contains(ws[0].Err, "stop mongo-0: refused") {
		t.Errorf("window = %+v; want not played, with the error", ws[0])
	}
	if slices.Contains(p.calls, "start mongo-0") {
		t.Errorf("calls %v: a fault that failed to play was undone", p.calls)
	}
}

// series records ten requests a second for 40 s: 10 ms each and all
// passing, except in the seconds bad says (500 ms, and failing where fail
// says).
func series(bad func(sec int) bool, fail func(sec, i int) bool) record.Snapshot {
	start := time.Unix(1_700_000_000, 0)
	rec := record.MustNew(start)
	for sec := range 40 {
		for i := range 10 {
			lat, status := 10*time.Millisecond, 200
			if bad(sec) {
				lat = 500 * time.Millisecond
				if fail(sec, i) {
					status = 503
				}
			}
			at := start.Add(time.Duration(sec)*time.Second + time.Duration(i)*100*time.Millisecond)
			rec.Add(record.Sample{Scenario: "s", Endpoint: "e", Start: at, Intended: at, Latency: lat, Status: status})
		}
	}
	return rec.Snapshot()
}

func TestJudge(t *testing.T) {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	window := fault.Window{
		Planned: fault.Planned{Fault: scenario.Fault{Name: "mongo-down", Target: "mongo-0", Action: scenario.FaultStop, Line: 7}},
		Played:  true, Began: sec(10), Ended: sec(15), Undone: true,
	}
	// Slow and failing half the time from 10 s to 20 s: 5 s after the
	// fault ended.
	snap := series(between(10, 20), func(_, i int) bool { return i%2 == 0 })
	got := fault.Judge([]fault.Window{window}, snap)[0]
	if got.Start != 10 || got.End == nil || *got.End != 15 {
		t.Errorf("start, end = %v, %v; want 10, 15", got.Start, got.End)
	}
	if got.Requests != 50 || got.Errors != 25 {
		t.Errorf("requests, errors during = %d, %d; want 50, 25", got.Requests, got.Errors)
	}
	if got.RecoveredAfter == nil || *got.RecoveredAfter != 5 {
		t.Errorf("recovered after = %v; want 5 s", deref(got.RecoveredAfter))
	}
	if got.FirstError == nil || *got.FirstError != 10 || got.LastError == nil || *got.LastError != 20 {
		t.Errorf("error window = %v to %v; want 10 to 20", deref(got.FirstError), deref(got.LastError))
	}
	if got.P95Before == nil || *got.P95Before > 11 || got.P95During == nil || *got.P95During < 490 {
		t.Errorf("p95 before, during = %v, %v; want about 10 and 500 ms", deref(got.P95Before), deref(got.P95During))
	}
	if got.BaselineSeconds != 10 {
		t.Errorf("baseline = %v s; want the 10 s before the fault", got.BaselineSeconds)
	}

	// Never back within the baseline's bounds: no recovery, and the
	// error window runs on.
	never := fault.Judge([]fault.Window{window}, series(between(10, 99), func(int, int) bool { return true }))[0]
	if never.RecoveredAfter != nil || never.LastError == nil || *never.LastError != 40 {
		t.Errorf("recovered %v, last error %v; want none, and errors to the end (40 s)", deref(never.RecoveredAfter), deref(never.LastError))
	}

	// A good second that the next ones do not confirm is not a recovery:
	// second 18 is back to normal, 19 is bad again, so recovery is at 20.
	blip := fault.Judge([]fault.Window{window}, series(func(sec int) bool { return sec >= 10 && sec < 20 && sec != 18 },
		func(_, i int) bool { return i == 0 }))[0]
	if blip.RecoveredAfter == nil || *blip.RecoveredAfter != 5 {
		t.Errorf("recovered after = %v; want 5 s (second 18 alone does not count)", deref(blip.RecoveredAfter))
	}
}

// between says whether a second is in [from, to).
func between(from, to int) func(int) bool {
	return func(sec int) bool { return sec >= from && sec < to }
}

func deref(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

// A fault's baseline leaves out the time another fault was active or had
// just ended: what the service looks like unharmed.
func TestJudgeBaselineLeavesOutOtherFaults(t *testing.T) {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	first := fault.Window{Planned: fault.Planned{Fault: scenario.Fault{Name: "first"}}, Played: true, Began: sec(10), Ended: sec(15), Undone: true}
	second := fault.Window{Planned: fault.Planned{Fault: scenario.Fault{Name: "second"}}, Played: true, Began: sec(25), Ended: sec(30), Undone: true}
	snap := series(func(sec int) bool { return sec >= 10 && sec < 18 || sec >= 25 && sec < 30 }, func(int, int) bool { return false })
	got := fault.Judge([]fault.Window{first, second}, snap)[1]
	// Seconds 0–9 and 20–24: first's window and 5 s after it are out.
	if got.BaselineSeconds != 15 || got.P95Before == nil || *got.P95Before > 11 {
		t.Errorf("second's baseline = %v s, p95 %v; want 15 s of 10 ms", got.BaselineSeconds, deref(got.P95Before))
	}
}

// What follows a fault belongs to it only until the next fault begins:
// the next one's errors are not in its error window, and it cannot have
// recovered during them.
func TestJudgeStopsAtTheNextFault(t *testing.T) {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	first := fault.Window{Planned: fault.Planned{Fault: scenario.Fault{Name: "first"}}, Played: true, Began: sec(10), Ended: sec(15), Undone: true}
	next := fault.Window{Planned: fault.Planned{Fault: scenario.Fault{Name: "next"}}, Played: true, Began: sec(16), Ended: sec(30), Undone: true}
	// Slow from 10 s to 18 s, failing only from 16 s: the next fault's.
	snap := series(between(10, 18), func(sec, _ int) bool { return sec >= 16 })
	got := fault.Judge([]fault.Window{first, next}, snap)[0]
	if got.FirstError != nil {
		t.Errorf("first's error window starts at %v; want none: the errors are the next fault's", deref(got.FirstError))
	}
	if got.RecoveredAfter != nil {
		t.Errorf("first recovered after %v; want not before the next fault", deref(got.RecoveredAfter))
	}
}
