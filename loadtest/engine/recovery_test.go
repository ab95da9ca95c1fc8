package engine_test

import (
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/record"
)

// spikeFile has a spike phase from 10s to 20s; the recovery budget asks
// p95 under 100ms within the given budget after it.
func spikeFile(t *testing.T, within string) string {
	return `
name: spike
scenarios:
  burst:
    executor: ramping-arrival-rate
    preAllocatedVUs: 1
    stages:
      - {duration: 10s, target: 1, phase: before}
      - {duration: 10s, target: 1, phase: spike}
      - {duration: 20s, target: 1, phase: recovery}
    journeys: [ping]
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
recovery:
  - {after: spike, metric: http_req_duration, stat: p(95), below: 100, within: ` + within + `}
`
}

// slowUntil records ten requests a second for 40s, each taking 500ms
// until recovered (seconds from the start), 10ms after.
func slowUntil(recovered int) record.Snapshot {
	start := time.Unix(1_700_000_000, 0)
	rec := record.MustNew(start)
	for sec := 0; sec < 40; sec++ {
		lat := 10 * time.Millisecond
		if sec >= 10 && sec < recovered {
			lat = 500 * time.Millisecond
		}
		for i := 0; i < 10; i++ {
			at := start.Add(time.Duration(sec)*time.Second + time.Duration(i)*100*time.Millisecond)
			rec.Add(record.Sample{Scenario: "burst", Endpoint: "ping", Start: at, Intended: at, Latency: lat, Status: 200})
		}
	}
	return rec.Snapshot()
}

func TestRecoveries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		within    string
		recovered int
		passed    bool
		after     float64 // seconds after the spike ended; <0: never
	}{
		{"at once", "5s", 20, true, 1},
		{"within budget", "10s", 26, true, 7},
		{"over budget", "5s", 26, false, 7},
		{"never", "30s", 99, false, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := parse(t, spikeFile(t, tc.within))
			got := engine.Recoveries(f, slowUntil(tc.recovered))
			if len(got) != 1 {
				t.Fatalf("%d verdicts, want 1", len(got))
			}
			r := got[0]
			if r.Passed != tc.passed || r.Reason == "" || r.Line == 0 {
				t.Errorf("verdict %+v; want passed=%v with a reason and a line", r, tc.passed)
			}
			switch {
			case tc.after < 0 && r.RecoveredAfter != nil:
				t.Errorf("recovered after %v, want never", *r.RecoveredAfter)
			case tc.after >= 0 && (r.RecoveredAfter == nil || *r.RecoveredAfter != tc.after):
				t.Errorf("recovered after %v, want %vs", r.RecoveredAfter, tc.after)
			}
		})
	}
}

func TestRecoveryOfAnUnknownPhase(t *testing.T) {
	f := parse(t, spikeFile(t, "5s"))
	f.Recoveries[0].After = "nope"
	if r := engine.Recoveries(f, slowUntil(20))[0]; r.Passed || r.Reason == "" {
		t.Errorf("a budget after a phase the schedule lacks must fail with a reason: %+v", r)
	}
}
