package capacity_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/capacity"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/scenario"
)

// oneWorker serves one request at a time, each taking work: it sustains
// at most 1/work requests per second, and its queue grows past that.
func oneWorker(t *testing.T, work time.Duration) *httptest.Server {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		time.Sleep(work)
		mu.Unlock()
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

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
  http_req_duration: ["p(95)<40"]
  http_req_failed: ["rate<0.01"]
`

func TestSearchFindsTheKnee(t *testing.T) {
	srv := oneWorker(t, 4*time.Millisecond) // at most 250/s
	f, err := scenario.Parse("cap.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := capacity.Search(context.Background(), f, srv.URL, capacity.Options{
		Start: 25, Max: 3200, Hold: time.Second, Precision: 0.25, Progress: &log,
		// The test is about the search; generous generator limits keep a
		// busy CI machine from ending it early.
		Engine: []engine.Option{engine.WithLimits(engine.Limits{MaxDropped: 0.01, MaxSendLag: time.Second, MaxCPU: 1})},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\n%s", res, log.String())
	if res.LowerBound || res.Rate < 25 || res.Rate >= 400 {
		t.Fatalf("capacity %d/s (lower bound %v: %s); the server sustains at most 250/s", res.Rate, res.LowerBound, res.Why)
	}
	var held, failed bool
	for _, st := range res.Steps {
		held = held || st.Passed
		failed = failed || !st.Passed
		if st.Passed && st.Rate > res.Rate || !st.Passed && st.Rate <= res.Rate {
			t.Errorf("step %+v contradicts the result %d/s", st, res.Rate)
		}
	}
	if !held || !failed || !strings.Contains(log.String(), "held") {
		t.Errorf("steps %+v: want some held and some failed, one progress line each", res.Steps)
	}
}

func TestSearchStopsAtMax(t *testing.T) {
	srv := oneWorker(t, 0)
	f, err := scenario.Parse("cap.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	res, err := capacity.Search(context.Background(), f, srv.URL, capacity.Options{Start: 10, Max: 20, Hold: 500 * time.Millisecond,
		Engine: []engine.Option{engine.WithLimits(engine.Limits{MaxDropped: 0.01, MaxSendLag: time.Second, MaxCPU: 1})}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rate != 20 || !res.LowerBound || len(res.Steps) != 2 {
		t.Errorf("result %+v; want 20/s as a lower bound after 2 steps", res)
	}
}
