package capacity_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/capacity"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/scenario"
)

const file = `
name: cap
scenarios:
  browse:
    executor: constant-vus
    vus: 1
    duration: 1s
    journeys: [get]
journeys:
  get:
    - name: get
      request: {method: GET, path: /}
thresholds:
  http_req_failed: ["rate<0.05"]
`

// knee is a target whose answers are a function of the offered rate
// alone: of each capacity step it serves the first budget requests and
// sheds every later one with a 503. With steps of one second a step at
// r/s holds (under 5% failed) while at most 5% of its r requests are
// beyond budget, so the capacity is budget/s, and the search's verdicts
// are counts: they do not depend on how fast this machine answers.
//
// knee is also the search's progress writer: the line for a step is
// written after that step's run returned (every request answered) and
// before the next starts, so it starts the next step's count.
type knee struct {
	budget int64
	n      atomic.Int64
	mu     sync.Mutex
	log    bytes.Buffer
}

func newKnee(t *testing.T, budget int64) (*knee, string) {
	k := &knee{budget: budget}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k.n.Add(1) > k.budget {
			http.Error(w, `{"message":"over budget"}`, http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return k, srv.URL
}

func (k *knee) Write(p []byte) (int, error) {
	k.n.Store(0)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.log.Write(p)
}

func (k *knee) String() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.log.String()
}

// limits are generous generator limits: these tests are about the
// search, and a busy CI machine must not end it early. (No step drops
// an iteration: maxVUs is above every step's iterations.)
var limits = engine.WithLimits(engine.Limits{MaxDropped: 0.01, MaxSendLag: time.Minute, MaxCPU: 100}) // the test process's CPU includes other tests

// vus is each step's most VUs: more than any step of these tests has
// iterations, so that none is dropped however slowly they are answered.
const vus = 400

func parse(t *testing.T) *scenario.File {
	t.Helper()
	f, err := scenario.Parse("cap.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// steps renders a search's steps as "25 held, 50 failed, ...".
func steps(res capacity.Result) string {
	var s []string
	for _, st := range res.Steps {
		verdict := "held"
		if !st.Passed {
			verdict = "failed"
		}
		s = append(s, fmt.Sprintf("%d %s", st.Rate, verdict))
	}
	return strings.Join(s, ", ")
}

func TestSearchFindsTheKnee(t *testing.T) {
	k, url := newKnee(t, 80) // serves up to 80/s
	res, err := capacity.Search(context.Background(), parse(t), url, capacity.Options{
		Start: 25, Max: 3200, Hold: time.Second, Precision: 0.1, MaxVUs: vus, Progress: k, Engine: []engine.Option{limits},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\n%s", res, k)
	// Doubling finds 50 held and 100 failed (20 of 100 shed); bisection
	// tries 75 (held), 87 (7 of 87 shed: failed) and 81 (1 of 81: held),
	// which is within 10% of 87.
	if want := "25 held, 50 held, 100 failed, 75 held, 87 failed, 81 held"; steps(res) != want {
		t.Errorf("steps %s; want %s", steps(res), want)
	}
	if res.Rate != 81 || res.LowerBound || res.Why != "81/s held and 87/s did not" {
		t.Errorf("capacity %d/s (lower bound %v: %s); want 81/s, found", res.Rate, res.LowerBound, res.Why)
	}
	for _, st := range res.Steps {
		if !st.GeneratorKeptUp || !st.Passed && len(st.Reasons) == 0 {
			t.Errorf("step %+v: want a valid step, and a reason when it failed", st)
		}
	}
	if lines := strings.Count(k.String(), "\n"); lines != len(res.Steps) || strings.Count(k.String(), "held") != 4 {
		t.Errorf("progress: %d lines for %d steps:\n%s", lines, len(res.Steps), k)
	}
}

func TestSearchStopsAtMax(t *testing.T) {
	k, url := newKnee(t, 1<<40) // never sheds
	res, err := capacity.Search(context.Background(), parse(t), url, capacity.Options{
		Start: 10, Max: 20, Hold: 500 * time.Millisecond, MaxVUs: vus, Progress: k, Engine: []engine.Option{limits},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rate != 20 || !res.LowerBound || steps(res) != "10 held, 20 held" || res.Why != "held at the highest rate tried, 20/s" {
		t.Errorf("result %+v (%s); want 20/s as a lower bound after 10 and 20 held", res, steps(res))
	}
}

func TestSearchNothingHolds(t *testing.T) {
	k, url := newKnee(t, 0) // every request shed
	res, err := capacity.Search(context.Background(), parse(t), url, capacity.Options{
		Start: 10, Max: 100, Hold: 500 * time.Millisecond, MaxVUs: vus, Progress: k, Engine: []engine.Option{limits},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rate != 0 || res.LowerBound || steps(res) != "10 failed" || res.Why != "not even the start rate, 10/s, held" {
		t.Errorf("result %+v (%s); want 0/s after 10/s failed", res, steps(res))
	}
}

func TestSearchWithoutJourneys(t *testing.T) {
	f := parse(t)
	f.Scenarios = nil
	if _, err := capacity.Search(context.Background(), f, "http://127.0.0.1:1", capacity.Options{}); !errors.Is(err, capacity.ErrNoJourneys) {
		t.Errorf("Search of a file without scenarios = %v; want ErrNoJourneys", err)
	}
}

// TestDefaultVUsCoverThinkTime checks the default cap by Little's law: a
// journey that thinks keeps its VU longer, so it needs more of them.
func TestDefaultVUsCoverThinkTime(t *testing.T) {
	thinking := strings.Replace(file, "request: {method: GET, path: /}",
		"request: {method: GET, path: /}\n      think: 750ms\n    - name: again\n      request: {method: GET, path: /}\n      think: 750ms", 1)
	for _, tt := range []struct {
		name string
		src  string
		rate int
		want int
	}{
		{"one quick request", file, 100, 50},         // 2 × 100/s × 250ms
		{"a floor of ten", file, 4, 10},              // 2 × 4/s × 250ms = 2
		{"two thinking requests", thinking, 50, 200}, // 2 × 50/s × 2 × (750+250)ms
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := scenario.Parse("cap.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if got := capacity.DefaultVUs(f, f.Scenarios[0], tt.rate); got != tt.want {
				t.Errorf("DefaultVUs at %d/s = %d; want %d", tt.rate, got, tt.want)
			}
		})
	}
}
