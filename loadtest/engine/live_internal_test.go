package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
)

// tourAt is the shipped tour at 12 s: two scenarios, one open.
var tourAt = status{
	elapsed: 12*time.Second + 400*time.Millisecond, length: 20 * time.Second,
	rate: 181.5, p95: 12345 * time.Microsecond, requests: 2210, failures: 3,
	active: 14, maxVUs: 62, dropped: 2, open: true,
	scenarios: []scenarioStatus{
		{name: "traffic", state: running, phase: "spike", done: 0.6},
		{name: "editors", state: running, phase: "steady", done: 0.62},
	},
}

func TestLiveLineFitsTheWidth(t *testing.T) {
	closed := status{elapsed: 95 * time.Second, length: 4 * time.Minute, rate: 52, p95: 1500 * time.Millisecond,
		requests: 4800, active: 10, maxVUs: 10,
		scenarios: []scenarioStatus{{name: "soak", state: running, phase: "steady", done: 0.395}}}
	// A terminal of N columns gives the line N-1 (progress.Width): its
	// last column left free.
	load := status{elapsed: 72 * time.Second, length: 4 * time.Minute, rate: 51, p95: 12345 * time.Microsecond,
		requests: 3600, active: 12, maxVUs: 200, open: true,
		scenarios: []scenarioStatus{{name: "traffic", state: running, phase: "steady", done: 0.45}}}
	for _, tt := range []struct {
		name    string
		s       status
		columns int
		want    string
	}{
		{"tour", tourAt, 40, "12s/20s  182 req/s  p95 12.3ms"},
		{"tour", tourAt, 80, "12s/20s  182 req/s  p95 12.3ms  err 0.14%  VUs 14/62  dropped 2"},
		{"tour", tourAt, 120, "12s/20s  182 req/s  p95 12.3ms  err 0.14%  VUs 14/62  dropped 2  traffic:spike 60%  editors:steady 62%  2210 requests"},
		// A closed-model run has nothing to drop: the room goes to its scenario.
		{"closed", closed, 40, "1m35s/4m0s  52 req/s  p95 1500ms"},
		{"closed", closed, 80, "1m35s/4m0s  52 req/s  p95 1500ms  err 0.00%  VUs 10/10  steady 39%"},
		{"closed", closed, 120, "1m35s/4m0s  52 req/s  p95 1500ms  err 0.00%  VUs 10/10  steady 39%  4800 requests"},
		// The load scenario in its steady phase: all but the count fit in 80.
		{"load", load, 40, "1m12s/4m0s  51 req/s  p95 12.3ms"},
		{"load", load, 80, "1m12s/4m0s  51 req/s  p95 12.3ms  err 0.00%  VUs 12/200  dropped 0  steady 45%"},
		{"load", load, 120, "1m12s/4m0s  51 req/s  p95 12.3ms  err 0.00%  VUs 12/200  dropped 0  steady 45%  3600 requests"},
		{"slow", status{elapsed: time.Second, length: time.Minute, rate: 2.5, p95: 3 * time.Second, requests: 2, maxVUs: 2}, 80, "1s/1m0s  2.5 req/s  p95 3000ms  err 0.00%  VUs 0/2  2 requests"},
		// Narrower than the first field: cut, never wrapped.
		{"tour", tourAt, 6, "12s/2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := fit(tt.s.fields(), tt.columns-1)
			if got != tt.want {
				t.Errorf("%d columns:\n got %q\nwant %q", tt.columns, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n >= tt.columns {
				t.Errorf("%d columns: the line takes %d", tt.columns, n)
			}
		})
	}
}

func TestDoneLineFitsTheWidth(t *testing.T) {
	done := tourAt
	done.elapsed = 20*time.Second + 300*time.Millisecond
	for columns, want := range map[int]string{
		30:  "done in 20s  2210 requests",
		80:  "done in 20s  2210 requests  errors 0.14%  dropped 2",
		120: "done in 20s  2210 requests  errors 0.14%  dropped 2",
	} {
		if got := fit(done.doneFields(), columns-1); got != want {
			t.Errorf("%d columns: got %q, want %q", columns, got, want)
		}
	}
}

func TestScenarioStates(t *testing.T) {
	for _, tt := range []struct {
		name string
		sc   scenarioStatus
		want string
	}{
		{"phase", scenarioStatus{name: "traffic", state: running, phase: "warm-up", done: 0.255}, "traffic:warm-up 25%"},
		{"no phase", scenarioStatus{name: "traffic", state: running, done: 1.2}, "traffic 100%"},
		{"waiting", scenarioStatus{name: "late", state: waiting}, "late:waiting"},
		{"stopping", scenarioStatus{name: "traffic", state: stopping}, "traffic:stopping"},
		{"done", scenarioStatus{name: "traffic", state: finished}, "traffic:done"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sc.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestScenarioProgress reads where a schedule is from its executor's
// plan: by time, or by iterations for per-vu-iterations with no end.
func TestScenarioProgress(t *testing.T) {
	ramp := scenario.Scenario{Name: "traffic", Executor: scenario.RampingArrivalRate, StartRate: 1, PreAllocatedVUs: 1, MaxVUs: 2,
		Stages: []scenario.Stage{{Duration: 10 * time.Second, Target: 5, Phase: "warm-up"}, {Duration: 30 * time.Second, Target: 5, Phase: "steady"}}}
	iters := scenario.Scenario{Name: "once", Executor: scenario.PerVUIterations, VUs: 2, Iterations: 5, Phase: "setup"}
	for _, tt := range []struct {
		name            string
		s               scenario.Scenario
		own             time.Duration
		started, active int64
		want            string
	}{
		{"before its start", ramp, -time.Second, 0, 0, "traffic:waiting"},
		{"in its first stage", ramp, 4 * time.Second, 3, 1, "traffic:warm-up 10%"},
		{"in its second stage", ramp, 30 * time.Second, 90, 1, "traffic:steady 75%"},
		{"iterations in flight at the end", ramp, 40 * time.Second, 170, 1, "traffic:stopping"},
		{"over", ramp, 41 * time.Second, 170, 0, "traffic:done"},
		{"by iterations", iters, time.Hour, 4, 2, "once:setup 40%"},
		{"every iteration started", iters, time.Hour, 10, 1, "once:stopping"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sched, err := executor.Plan(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if got := scenarioProgress(sched, tt.own, tt.started, tt.active).String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMillis(t *testing.T) {
	for d, want := range map[time.Duration]string{
		860 * time.Microsecond:   "0.9ms",
		12345 * time.Microsecond: "12.3ms",
		250 * time.Millisecond:   "250ms",
		12 * time.Second:         "12.0s",
	} {
		if got := millis(d); got != want || strings.ContainsRune(got, 'µ') {
			t.Errorf("millis(%s) = %q; want %q", d, got, want)
		}
	}
}

// TestTallyCountsBusyVUsAndDrops runs two scenarios against a server
// that holds every request until the test lets go: three looping VUs,
// and an arrival rate on a single VU, whose every later iteration finds
// it busy. While held, the line's status shows all four VUs active and
// drops mounting; once let go, none active.
func TestTallyCountsBusyVUsAndDrops(t *testing.T) {
	gate := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(release) // before srv.Close: a held handler would keep it waiting
	f, err := scenario.Parse("held.yaml", []byte(`
name: held
scenarios:
  looping: {executor: constant-vus, vus: 3, duration: 1s, journeys: [hold]}
  paced: {executor: constant-arrival-rate, rate: 50, duration: 1s, preAllocatedVUs: 1, maxVUs: 1, journeys: [hold]}
journeys:
  hold: [{name: hold, request: {method: GET, path: /}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"looping", "paced"}
	live := newTally(names, nil)
	w := newWatcher(f, schedules(f), config{tick: time.Second}, time.Now(), live)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	samples := make(chan []record.Sample, 64)
	go func() {
		for range samples { // the run's samples are not this test's
		}
	}()
	var wg sync.WaitGroup
	counters := make([]executor.Counters, len(f.Scenarios))
	for i, s := range f.Scenarios {
		wg.Go(func() {
			counters[i], _ = executor.Run(ctx, executor.Config{Target: srv.URL, File: f, Client: srv.Client(), Events: live}, s, samples)
		})
	}

	// Both schedules last 1 s; held, their iterations outlast them, so
	// the state that must come is stopping with 4 VUs busy.
	var st status
	for st = w.status(time.Second); !(st.active == 4 && st.dropped > 0 && allStopping(st)); st = w.status(time.Second) {
		if ctx.Err() != nil {
			t.Fatalf("held for a minute, status never showed 4 busy VUs, drops and both stopping: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if line := fit(st.fields(), 200); !strings.Contains(line, "VUs 4/4") || !strings.Contains(line, "looping:stopping  paced:stopping") {
		t.Errorf("line %q", line)
	}
	release()
	wg.Wait()
	close(samples)
	st = w.status(2 * time.Second)
	if st.active != 0 || !strings.Contains(fit(st.fields(), 200), "looping:done  paced:done") {
		t.Errorf("after the run: %+v", st)
	}
	dropped := counters[0].Dropped + counters[1].Dropped
	if st.dropped != dropped || dropped == 0 {
		t.Errorf("the status counted %d drops, the executors %d", st.dropped, dropped)
	}
	for i, name := range names {
		if got := live.byName[name].started.Load(); got != counters[i].Iterations {
			t.Errorf("%s: the tally counted %d iterations, the executor %d", name, got, counters[i].Iterations)
		}
	}
}

func allStopping(st status) bool {
	for _, sc := range st.scenarios {
		if sc.state != stopping {
			return false
		}
	}
	return true
}
