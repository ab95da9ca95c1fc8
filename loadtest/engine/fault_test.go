package engine_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/env/link"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/scenario"
)

// downPlayer "stops" a test server: while stopped, it answers 503.
type downPlayer struct {
	down    atomic.Bool
	refuse  bool
	applied atomic.Int32
}

func (p *downPlayer) Apply(_ context.Context, component, action string) error {
	if p.refuse {
		return errors.New("not supported")
	}
	p.applied.Add(1)
	p.down.Store(action == "stop")
	return nil
}

func (p *downPlayer) Degrade(string, string, link.Fault) error { return errors.New("no links") }
func (p *downPlayer) Restore(string, string) error             { return errors.New("no links") }

const faultFile = `
name: faults
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 50
    duration: 3s
    preAllocatedVUs: 5
    maxVUs: 100
    phase: steady
    journeys: [ping]
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
      check: {status: 200}
`

// A scheduled fault is played during the run and undone before it ends,
// and the summary says what it did: the requests it failed, when, and
// the run stays valid. Errors come only while the player has the server
// down, so they are the fault's.
func TestRunPlaysFaults(t *testing.T) {
	p := &downPlayer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if p.down.Load() {
			http.Error(w, `{"message":"down"}`, http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	f := parse(t, faultFile)
	f.Faults = []scenario.Fault{{Name: "svc-down", Target: "svc", Action: scenario.FaultStop, At: time.Second, For: 500 * time.Millisecond, Line: 20}}

	// The generator's own bounds are lifted: a busy machine's send lag is
	// not what this test is about, the fault's validity check is.
	res, err := engine.Run(context.Background(), f, srv.URL, engine.WithFaults(p), engine.WithInterval(100*time.Millisecond), engine.WithLimits(lenient))
	if err != nil {
		t.Fatal(err)
	}
	if p.applied.Load() != 2 || p.down.Load() {
		t.Fatalf("player applied %d actions, server down %v at the end; want stop then start, and up", p.applied.Load(), p.down.Load())
	}
	s := res.Summary(engine.Meta{ID: "t"})
	if len(s.Run.Faults) != 1 {
		t.Fatalf("summary faults = %+v; want one", s.Run.Faults)
	}
	got := s.Run.Faults[0]
	if !got.Played || got.Start < 1 || got.End == nil || *got.End < 1.5 {
		t.Errorf("fault window %v to %v, played %v; want from 1s, undone at 1.5s or later", got.Start, got.End, got.Played)
	}
	failed := s.Metrics["http_req_failed"].Values["passes"]
	if got.Errors == 0 || float64(got.Errors) != failed {
		t.Errorf("errors during the fault = %d, failed requests in the run = %v; want the same, not zero", got.Errors, failed)
	}
	if got.FirstError == nil || *got.FirstError < got.Start || got.P95Before == nil {
		t.Errorf("first error %v, p95 before %v; want errors from the fault's start and a baseline", got.FirstError, got.P95Before)
	}
	if !s.Run.Validity.Valid {
		t.Errorf("validity = %+v; want valid", s.Run.Validity)
	}
	if got.RecoveredAfter != nil {
		t.Logf("recovered %.1fs after the fault", *got.RecoveredAfter)
	}
}

// lenient are limits no busy machine crosses: for tests whose subject is
// not the generator's validity.
var lenient = engine.Limits{MaxDropped: 1, MaxSendLag: time.Hour, MaxCPU: 1}

// A fault the environment cannot play makes the run invalid, saying
// which and why; a scenario with faults and no player is refused.
func TestRunWithAFaultNotPlayed(t *testing.T) {
	srv := server(t, 0)
	f := parse(t, faultFile)
	f.Faults = []scenario.Fault{{Name: "svc-pause", Target: "svc", Action: scenario.FaultPause, At: 100 * time.Millisecond, For: 100 * time.Millisecond}}
	if _, err := engine.Run(context.Background(), f, srv.URL); err == nil {
		t.Error("a scenario with faults ran without a player")
	}
	res, err := engine.Run(context.Background(), f, srv.URL, engine.WithFaults(&downPlayer{refuse: true}))
	if err != nil {
		t.Fatal(err)
	}
	v := res.Summary(engine.Meta{ID: "t"}).Run.Validity
	var check string
	for _, c := range v.Checks {
		if c.Name == engine.CheckFaults && !c.OK {
			check = c.Note
		}
	}
	if v.Valid || check != "svc-pause: pause svc: not supported" {
		t.Errorf("validity %v, faults check note %q; want invalid, naming the fault and why", v.Valid, check)
	}
}
