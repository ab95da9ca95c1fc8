package executor_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/k6"
	"github.com/taskready/taskready/loadtest/memory"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
	"github.com/taskready/taskready/loadtest/summary"
)

const burstFile = `
name: bursts
scenarios:
  b:
    executor: burst
    vus: 4
    duration: 300ms
    timeUnit: 100ms
    phase: spiky
    startTime: 50ms
    journeys: [ping]
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
      check: {status: 200}
`

// TestBurstRunsThroughTheEngine: the example executor of burst_test.go,
// one file and its schema entry, loads, runs, and reports as a shipped
// one does: its iterations, its timeline, its phase, its segments and its
// memory check come from its own file, and the k6 export, which it has
// no twin in, refuses it with a clear error.
func TestBurstRunsThroughTheEngine(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	f, err := scenario.Parse("bursts.yaml", []byte(burstFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := engine.Run(ctx, f, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	run := res.Summary(engine.Meta{ID: "bursts"}).Run
	// 300ms/100ms = 3 bursts of 4 VUs, however late each one starts.
	want := summary.Scenario{Name: "b", Executor: "burst", Iterations: 12, VUsMax: 4}
	if len(run.Scenarios) != 1 || run.Scenarios[0] != want {
		t.Errorf("scenarios %+v, want %+v", run.Scenarios, want)
	}
	if got := hits.Load(); got != 12 {
		t.Errorf("the target saw %d requests, want 12", got)
	}
	if len(run.Timeline) != 1 || run.Timeline[0] != (summary.Span{Scenario: "b", Phase: "spiky", From: 0.05, To: 0.35}) {
		t.Errorf("timeline %+v, want spiky from 0.05s to 0.35s", run.Timeline)
	}
	// Every burst is due within the schedule, so all its requests are in
	// its phase however late a busy machine starts them.
	if len(run.Phases) != 1 || run.Phases[0].Phase != "spiky" {
		t.Errorf("phases %+v, want spiky alone", run.Phases)
	}

	var vus []int
	for i := range 3 {
		vus = append(vus, executor.Segment(f, segment.Segment{Index: i, Count: 3}).Scenarios[0].VUs)
	}
	if vus[0]+vus[1]+vus[2] != 4 || vus[2] != 2 {
		t.Errorf("4 VUs over 3 segments: %v, want [1 1 2]", vus)
	}
	err = executor.CheckMemory(f, memory.Available{Bytes: 3 * executor.BytesPerVU, Source: "a test's word"})
	if !errors.Is(err, scenario.ErrInvalid) || !strings.Contains(err.Error(), "scenarios.b.vus: 4 VUs") {
		t.Errorf("CheckMemory with room for 3 VUs = %v, want scenarios.b.vus refused", err)
	}
	if err := k6.Export(io.Discard, f); err == nil || !strings.Contains(err.Error(), `executor "burst" has no k6 equivalent`) {
		t.Errorf("k6 export = %v, want no k6 equivalent", err)
	}
}

// TestBurstKeepsToItsSchema: the loader reads the burst executor's fields
// by its schema entry, as it does the built-in ones'.
func TestBurstKeepsToItsSchema(t *testing.T) {
	for _, tc := range []struct{ from, to, says string }{
		{"    vus: 4\n", "", "scenarios.b.vus: is required by the burst executor"},
		{"    timeUnit: 100ms\n", "    timeUnit: 100ms\n    rate: 5\n", "scenarios.b.rate: does not apply to the burst executor"},
	} {
		_, err := scenario.Parse("bursts.yaml", []byte(strings.Replace(burstFile, tc.from, tc.to, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("Parse = %v, want it to say %q", err, tc.says)
		}
	}
}
