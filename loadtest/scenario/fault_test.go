package scenario_test

import (
	"errors"
	"maps"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/env/link"
	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/scenario"
)

// withFaults has phases warm-up (from 0s), steady (10s), recovery
// (1m10s) and editing (5s, the startTime of editors), and faults of
// both shapes: at and for, phase, offset and until, and a kill that is
// never undone.
const withFaults = `name: f
scenarios:
  traffic:
    executor: ramping-arrival-rate
    startRate: 1
    preAllocatedVUs: 2
    stages:
      - {duration: 10s, target: 5, phase: warm-up}
      - {duration: 1m, target: 5, phase: steady}
      - {duration: 20s, target: 5, phase: recovery}
    journeys: [health]
  editors:
    executor: constant-vus
    startTime: 5s
    vus: 1
    duration: 30s
    phase: editing
    journeys: [health]
journeys:
  health:
    - name: health
      request: {method: GET, path: /api/health}
recovery:
  - {after: mongo-down, below: 300, within: 30s}
  - {after: steady, below: 300, within: 30s}
faults:
  - name: mongo-down
    target: mongo-0
    action: stop
    at: 30s
    for: 10s
  - name: slow-mongo
    target: mongo
    action: latency
    latency: 200ms
    jitter: 50ms
    phase: steady
    offset: 5s
    until: recovery
  - {name: redis-gone, target: redis-primary, action: kill, phase: editing}
`

func TestParseFaults(t *testing.T) {
	f, err := scenario.Parse("f.yaml", []byte(withFaults))
	if err != nil {
		t.Fatal(err)
	}
	want := []scenario.Fault{
		{Name: "mongo-down", Target: "mongo-0", Action: scenario.FaultStop, At: 30 * time.Second, For: 10 * time.Second, Line: 27},
		{Name: "slow-mongo", Target: "mongo", Action: scenario.FaultLatency, Phase: "steady", Offset: 5 * time.Second, Until: "recovery",
			Link: link.Fault{Action: link.Latency, Latency: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}, Line: 32},
		{Name: "redis-gone", Target: "redis-primary", Action: scenario.FaultKill, Phase: "editing", Line: 40},
	}
	if !reflect.DeepEqual(f.Faults, want) {
		t.Errorf("faults:\n%+v\nwant\n%+v", f.Faults, want)
	}
	if f.Faults[0].OnLink() || !f.Faults[1].OnLink() {
		t.Errorf("OnLink: stop %t, latency %t; want false, true", f.Faults[0].OnLink(), f.Faults[1].OnLink())
	}
	if len(f.Recoveries) != 2 || f.Recoveries[0].After != "mongo-down" {
		t.Errorf("recovery = %+v; want a budget after the fault mongo-down", f.Recoveries)
	}
	plain, err := scenario.Parse("t.yaml", []byte(valid))
	if err != nil || plain.Faults != nil {
		t.Errorf("a file without faults: %v, faults %+v; want none", err, plain.Faults)
	}
}

// Each rule of faults, its problem on the line and field it is about.
func TestParseFaultProblems(t *testing.T) {
	tests := []struct {
		name string
		from string // replaced in withFaults
		to   string
		want []string
	}{
		{"unknown field", "    until: recovery", "    untill: recovery",
			[]string{`f.yaml:39: faults[1].untill: unknown field (did you mean "until"?)`}},
		{"not a mapping", "  - {name: redis-gone, target: redis-primary, action: kill, phase: editing}", "  - redis-gone",
			[]string{`f.yaml:40: faults[2]: must be a mapping of keys to values`}},
		{"name missing", "  - name: mongo-down\n    target: mongo-0", "  - target: mongo-0",
			[]string{`f.yaml:27: faults[0].name: is required: reports and recovery budgets name the fault`}},
		{"name empty", "name: mongo-down", `name: ""`,
			[]string{`f.yaml:27: faults[0].name: must not be empty`}},
		{"name twice", "name: slow-mongo", "name: mongo-down",
			[]string{`f.yaml:32: faults[1].name: "mongo-down" is already the name of the fault at line 27; fault names must be unique`}},
		{"name of a phase", "name: slow-mongo", "name: steady",
			[]string{`f.yaml:32: faults[1].name: "steady" is also a phase's name, and recovery.after could not tell which it means`}},
		{"target missing", "    target: mongo-0\n", "",
			[]string{`f.yaml:27: faults[0].target: is required: a component (mongo-0, redis-primary, api-2, ...) or a link (mongo, redis, api)`}},
		{"action missing", "    action: stop\n", "",
			[]string{`f.yaml:27: faults[0].action: is required (one of kill, stop, pause, latency, bandwidth, timeout, reset_peer, reset, slow_close, slicer, limit_data, down)`}},
		{"unknown action", "action: stop", "action: stpo",
			[]string{`f.yaml:29: faults[0].action: unknown action "stpo" (did you mean "stop"?)`}},
		{"no start", "    at: 30s\n", "",
			[]string{`f.yaml:27: faults[0]: needs a start: at (a time from the run's start) or phase (and an offset into it)`}},
		{"at and phase", "    at: 30s\n", "    at: 30s\n    phase: steady\n",
			[]string{`f.yaml:31: faults[0].phase: cannot be given with at: a fault starts at a time from the run's start or in a phase, not both`}},
		{"offset without phase", "    at: 30s\n", "    at: 30s\n    offset: 5s\n",
			[]string{`f.yaml:31: faults[0].offset: applies only with phase (it is counted from the phase's start); from the run's start, use at`}},
		{"negative offset", "offset: 5s", "offset: -5s",
			[]string{`f.yaml:38: faults[1].offset: must be positive (got -5s)`}},
		{"at without a unit", "at: 30s", "at: 30",
			[]string{`f.yaml:30: faults[0].at: needs a unit: 30s or 30ms?`}},
		{"for and until", "    for: 10s\n", "    for: 10s\n    until: recovery\n",
			[]string{`f.yaml:32: faults[0].until: cannot be given with for: a fault ends after a time or when a phase begins, not both`}},
		{"no end", "    for: 10s\n", "",
			[]string{`f.yaml:27: faults[0]: needs an end: for (a duration) or until (a phase); only a kill may have neither, and is then never undone`}},
		{"no end for a pause", "action: kill, phase: editing", "action: pause, phase: editing",
			[]string{`f.yaml:40: faults[2]: needs an end: for (a duration) or until (a phase)`}},
		{"zero for", "for: 10s", "for: 0s",
			[]string{`f.yaml:31: faults[0].for: must be positive (got 0s)`}},
		{"unknown phase", "    phase: steady\n    offset", "    phase: stedy\n    offset",
			[]string{`f.yaml:37: faults[1].phase: no phase "stedy" in any scenario (did you mean "steady"?)`}},
		{"unknown until", "until: recovery", "until: recovry",
			[]string{`f.yaml:39: faults[1].until: no phase "recovry" in any scenario (did you mean "recovery"?)`}},
		{"until before the phase", "until: recovery", "until: warm-up",
			[]string{`f.yaml:39: faults[1].until: phase "warm-up" begins at 0s, not after the fault starts (at 15s: phase "steady" begins at 10s, offset 5s)`}},
		{"until the phase itself", "until: recovery", "until: steady",
			[]string{`f.yaml:39: faults[1].until: phase "steady" begins at 10s, not after the fault starts (at 15s: phase "steady" begins at 10s, offset 5s)`}},
		{"until before at", "    for: 10s\n", "    until: steady\n",
			[]string{`f.yaml:31: faults[0].until: phase "steady" begins at 10s, not after the fault starts (at: 30s)`}},
		{"latency missing", "    latency: 200ms\n", "",
			[]string{`f.yaml:32: faults[1].latency: is required by the latency action: the delay added each way`}},
		{"zero latency", "latency: 200ms", "latency: 0s",
			[]string{`f.yaml:35: faults[1].latency: must be positive (got 0s)`}},
		{"latency not in whole microseconds", "latency: 200ms", "latency: 200500ns",
			[]string{`f.yaml:35: faults[1].latency: must be a whole number of microseconds (got 200.5µs)`}},
		{"jitter above latency", "jitter: 50ms", "jitter: 300ms",
			[]string{`f.yaml:36: faults[1].jitter: must be at most latency (200ms)`}},
		{"latency on a stop", "    for: 10s\n", "    for: 10s\n    latency: 1s\n    jitter: 1ms\n",
			[]string{`f.yaml:32: faults[0].latency: does not apply to the stop action`, `f.yaml:33: faults[0].jitter: does not apply to the stop action`}},
		{"latency on a component", "    target: mongo\n", "    target: mongo-0\n",
			[]string{`f.yaml:33: faults[1].target: the latency action acts on a link, and "mongo-0" is not one (did you mean "mongo"?)`}},
		{"reset of a component", "    target: mongo\n    action: latency\n    latency: 200ms\n    jitter: 50ms\n", "    target: api-2\n    action: reset\n",
			[]string{`f.yaml:33: faults[1].target: the reset action acts on a link, and "api-2" is not one (did you mean "api"?)`}},
		{"stop of a link", "target: mongo-0", "target: mongo",
			[]string{`f.yaml:28: faults[0].target: the stop action acts on a component, and "mongo" is a link (did you mean "mongo-0"?)`}},
		{"kill of a link", "target: redis-primary", "target: redis",
			[]string{`f.yaml:40: faults[2].target: the kill action acts on a component, and "redis" is a link (did you mean "redis-primary"?)`}},
		{"recovery after a misspelt fault", "after: mongo-down", "after: mongo-dwn",
			[]string{`f.yaml:24: recovery: after: no phase "mongo-dwn" in any scenario and no fault of that name (did you mean "mongo-down"?)`}},
		{"recovery after a fault never undone", "after: mongo-down", "after: redis-gone",
			[]string{`f.yaml:24: recovery: after: fault "redis-gone" is never undone, so nothing could recover from its end; give it for or until`}},
		{"faults not a list", "faults:\n  - name: mongo-down", "faults: {}\nfault:\n  - name: mongo-down",
			[]string{`f.yaml:26: faults: must be a list`, `f.yaml:27: fault: unknown field (did you mean "faults"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(withFaults, tt.from) {
				t.Fatalf("fixture lacks %q", tt.from)
			}
			_, err := scenario.Parse("f.yaml", []byte(strings.Replace(withFaults, tt.from, tt.to, 1)))
			if !errors.Is(err, scenario.ErrInvalid) {
				t.Fatalf("err = %v; want ErrInvalid", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

// linkFault is a file whose one fault, on the clients' link, has the
// given lines from line 17 on: its action, then its parameters; lines
// with a target of their own name it in place of api.
func linkFault(lines string) string {
	target := "    target: api\n"
	if strings.Contains(lines, "target:") {
		target = ""
	}
	return `name: l
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 10s
    journeys: [health]
journeys:
  health:
    - name: health
      request: {method: GET, path: /api/health}
faults:
  - name: f
` + target + `    at: 1s
    for: 1s
` + lines
}

// linkFaults are the lines of a valid fault of each action on a link,
// and what it reads as.
var linkFaults = []struct {
	lines string
	want  link.Fault
}{
	{"    action: latency\n    latency: 200ms\n    jitter: 50ms\n", link.Fault{Action: link.Latency, Latency: 200 * time.Millisecond, Jitter: 50 * time.Millisecond}},
	{"    action: bandwidth\n    rate: 16\n", link.Fault{Action: link.Bandwidth, Rate: 16}},
	{"    action: timeout\n    timeout: 0s\n", link.Fault{Action: link.Timeout}},
	{"    action: timeout\n    timeout: 5s\n", link.Fault{Action: link.Timeout, Timeout: 5 * time.Second}},
	{"    action: reset_peer\n", link.Fault{Action: link.ResetPeer}},
	{"    action: reset_peer\n    timeout: 100ms\n", link.Fault{Action: link.ResetPeer, Timeout: 100 * time.Millisecond}},
	{"    action: reset\n", link.Fault{Action: link.ResetPeer}},
	{"    action: slow_close\n    delay: 2s\n", link.Fault{Action: link.SlowClose, Delay: 2 * time.Second}},
	{"    action: slicer\n    size: 64\n    variation: 16\n    delay: 1ms\n", link.Fault{Action: link.Slicer, Size: 64, Variation: 16, Delay: time.Millisecond}},
	{"    action: slicer\n    size: 1\n", link.Fault{Action: link.Slicer, Size: 1}},
	{"    action: limit_data\n    bytes: 1024\n", link.Fault{Action: link.LimitData, Bytes: 1024}},
	{"    action: down\n", link.Fault{Action: link.Down}},
}

// Every action on a link reads its parameters into the link's fault;
// reset is reset_peer by its former name.
func TestParseLinkFaults(t *testing.T) {
	for _, tt := range linkFaults {
		f, err := scenario.Parse("f.yaml", []byte(linkFault(tt.lines)))
		if err != nil {
			t.Errorf("%s: %v", tt.lines, err)
			continue
		}
		if got := f.Faults[0]; got.Link != tt.want || !got.OnLink() {
			t.Errorf("%s: link fault %+v (on a link: %t); want %+v", tt.lines, got.Link, got.OnLink(), tt.want)
		}
	}
}

// linkFaultProblems break each rule of a link's parameters; the schema
// sees those it can (types, bounds, which parameters go with an action),
// not the rest (whole units, variation below size, positive durations).
var linkFaultProblems = []struct {
	name   string
	lines  string
	want   []string
	schema bool // the JSON Schema refuses it too
}{
	{"rate missing", "    action: bandwidth\n",
		[]string{`f.yaml:13: faults[0].rate: is required by the bandwidth action: the most KB/s that pass each way (1 KB = 1000 bytes)`}, true},
	{"zero rate", "    action: bandwidth\n    rate: 0\n", []string{`f.yaml:18: faults[0].rate: must be at least 1 (got 0)`}, true},
	{"rate with a unit", "    action: bandwidth\n    rate: 16KB\n", []string{`f.yaml:18: faults[0].rate: must be a whole number`}, true},
	{"rate too high", "    action: bandwidth\n    rate: 99999999999\n", []string{`f.yaml:18: faults[0].rate: must be at most 10000000 (got 99999999999)`}, true},
	{"rate misspelt", "    action: bandwidth\n    rtae: 16\n",
		[]string{`f.yaml:18: faults[0].rtae: unknown field (did you mean "rate"?)`, `f.yaml:13: faults[0].rate: is required by the bandwidth action`}, true},
	{"timeout missing", "    action: timeout\n",
		[]string{`f.yaml:13: faults[0].timeout: is required by the timeout action: how long a connection passes nothing before it is closed; 0s holds it open until the fault ends`}, true},
	{"negative timeout", "    action: timeout\n    timeout: -1s\n", []string{`f.yaml:18: faults[0].timeout: must be positive (got -1s)`}, true},
	{"timeout without a unit", "    action: timeout\n    timeout: 500\n", []string{`f.yaml:18: faults[0].timeout: needs a unit: 500s or 500ms?`}, true},
	{"timeout in microseconds", "    action: reset_peer\n    timeout: 1500us\n",
		[]string{`f.yaml:18: faults[0].timeout: must be a whole number of milliseconds (got 1.5ms)`}, false},
	{"latency on a reset_peer", "    action: reset_peer\n    latency: 1s\n",
		[]string{`f.yaml:18: faults[0].latency: does not apply to the reset_peer action (it takes timeout)`}, true},
	{"timeout on a down", "    action: down\n    timeout: 1s\n", []string{`f.yaml:18: faults[0].timeout: does not apply to the down action`}, true},
	{"delay missing", "    action: slow_close\n",
		[]string{`f.yaml:13: faults[0].delay: is required by the slow_close action: how long a close waits before it is passed on`}, true},
	{"zero delay", "    action: slow_close\n    delay: 0s\n", []string{`f.yaml:18: faults[0].delay: must be positive (got 0s)`}, false},
	{"size missing", "    action: slicer\n    delay: 1ms\n", []string{`f.yaml:13: faults[0].size: is required by the slicer action: the average slice, in bytes`}, true},
	{"size misspelt", "    action: slicer\n    sise: 64\n", []string{`f.yaml:18: faults[0].sise: unknown field (did you mean "size"?)`}, true},
	{"variation as large as size", "    action: slicer\n    size: 16\n    variation: 16\n",
		[]string{`f.yaml:19: faults[0].variation: must be less than size (16)`}, false},
	{"negative variation", "    action: slicer\n    size: 16\n    variation: -1\n", []string{`f.yaml:19: faults[0].variation: must not be negative (got -1)`}, true},
	{"slicer delay in nanoseconds", "    action: slicer\n    size: 16\n    delay: 1ns\n",
		[]string{`f.yaml:19: faults[0].delay: must be a whole number of microseconds (got 1ns)`}, false},
	{"bytes on a slicer", "    action: slicer\n    size: 16\n    bytes: 5\n",
		[]string{`f.yaml:19: faults[0].bytes: does not apply to the slicer action (it takes size, variation, delay)`}, true},
	{"zero bytes", "    action: limit_data\n    bytes: 0\n", []string{`f.yaml:18: faults[0].bytes: must be at least 1 (got 0)`}, true},
	{"bytes not a number", "    action: limit_data\n    bytes: lots\n", []string{`f.yaml:18: faults[0].bytes: must be a whole number`}, true},
	{"action misspelt", "    action: limitdata\n", []string{`f.yaml:17: faults[0].action: unknown action "limitdata" (did you mean "limit_data"?)`}, true},
	{"action with a dash", "    action: reset-peer\n", []string{`f.yaml:17: faults[0].action: unknown action "reset-peer" (did you mean "reset_peer"?)`}, true},
	{"bandwidth of a component", "    action: bandwidth\n    rate: 16\n    target: api-1\n", // in place of api
		[]string{`f.yaml:18: faults[0].target: the bandwidth action acts on a link, and "api-1" is not one (did you mean "api"?)`}, true},
}

// Each rule of a link's parameters, its problem once, on the line and
// field it is about.
func TestParseLinkFaultProblems(t *testing.T) {
	for _, tt := range linkFaultProblems {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenario.Parse("f.yaml", []byte(linkFault(tt.lines)))
			if !errors.Is(err, scenario.ErrInvalid) {
				t.Fatalf("err = %v; want ErrInvalid", err)
			}
			for _, want := range tt.want {
				if n := strings.Count(err.Error(), want); n != 1 {
					t.Errorf("error says %q %d times; want once:\n%v", want, n, err)
				}
			}
		})
	}
}

// TestPhaseStartsFollowTheSchedules: the loader's reading of when phases
// begin, which refuses an until that begins before its fault, is the
// executors' (Schedule.Spans, after each scenario's startTime), which
// the run resolves faults with.
func TestPhaseStartsFollowTheSchedules(t *testing.T) {
	files := map[string][]byte{"withFaults": []byte(withFaults), "valid": []byte(valid)}
	shipped, _ := filepath.Glob("../../scenarios/*.yaml")
	for _, path := range shipped {
		files[path] = nil
	}
	for name, data := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			var f *scenario.File
			var err error
			if data == nil {
				f, err = scenario.Load(name)
			} else {
				f, err = scenario.Parse(name, data)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]time.Duration{}
			for _, s := range f.Scenarios {
				sched, err := executor.Plan(s)
				if err != nil {
					t.Fatal(err)
				}
				for _, sp := range sched.Spans() {
					if at, ok := want[sp.Phase]; !ok || s.StartTime+sp.From < at {
						want[sp.Phase] = s.StartTime + sp.From
					}
				}
			}
			if got := scenario.PhaseStarts(f); !maps.Equal(got, want) {
				t.Errorf("phase starts %v; the schedules say %v", got, want)
			}
		})
	}
}
