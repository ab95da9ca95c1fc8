package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pingServer answers every request with Body and counts them.
func pingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(Body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// One turn of each model, through the child's own entry point: what it
// writes is what the benchmark reads, and the requests it counts are
// those the server saw.
func TestEngineChild(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec engineSpec
	}{
		{"closed fast", engineSpec{vus: 2, duration: time.Second, http: TransportFast}},
		{"closed std", engineSpec{vus: 2, duration: time.Second, http: TransportStd}},
		{"open", engineSpec{vus: 2, maxVUs: 20, rate: 50, duration: time.Second, http: TransportFast}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, seen := pingServer(t)
			tc.spec.target = srv.URL
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out bytes.Buffer
			if err := EngineChild(ctx, tc.spec.args()[1:], &out); err != nil {
				t.Fatal(err)
			}
			r, err := parseEngineResult(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if r.Requests != seen.Load() || r.Failures != 0 {
				t.Errorf("%d requests, %d failed; the server saw %d", r.Requests, r.Failures, seen.Load())
			}
			if r.Elapsed < time.Second || r.P50 <= 0 || r.SentP50 <= 0 || r.P99 < r.P50 {
				t.Errorf("elapsed %s, p50 %s (as sent %s), p99 %s", r.Elapsed, r.P50, r.SentP50, r.P99)
			}
			if tc.spec.rate > 0 {
				// 50/s for 1 s, however slow the machine: the open model
				// sends every iteration due, dropping only without a VU.
				if r.Requests+r.Dropped != 50 || r.VUsMax < 2 || r.StartRate <= 0 {
					t.Errorf("open: %d sent + %d dropped, want 50; %d VUs at most, start rate %v", r.Requests, r.Dropped, r.VUsMax, r.StartRate)
				}
			} else if r.VUsMax != 2 || r.Dropped != 0 {
				t.Errorf("closed: %d VUs, %d dropped", r.VUsMax, r.Dropped)
			}
		})
	}
}

func TestEngineSpecArgsRoundTrip(t *testing.T) {
	s := engineSpec{target: "http://127.0.0.1:1", vus: 64, maxVUs: 1000, rate: 5000, duration: 10 * time.Second, http: TransportStd}
	args := s.args()
	if args[0] != ChildEngine {
		t.Fatalf("args start %q, want %q", args[0], ChildEngine)
	}
	got, err := parseEngineArgs(args[1:])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("got %+v, want %+v", got, s)
	}
}

func TestParseEngineArgsRejects(t *testing.T) {
	ok := []string{"-target", "http://127.0.0.1:1", "-vus", "2", "-duration", "1s"}
	with := func(extra ...string) []string { return append(append([]string{}, ok...), extra...) }
	for name, args := range map[string][]string{
		"no target":      {"-vus", "2", "-duration", "1s"},
		"not a URL":      {"-target", "127.0.0.1:1", "-vus", "2", "-duration", "1s"},
		"no VUs":         {"-target", "http://127.0.0.1:1", "-duration", "1s"},
		"no duration":    {"-target", "http://127.0.0.1:1", "-vus", "2"},
		"negative rate":  with("-rate", "-1"),
		"max below vus":  with("-rate", "10", "-max-vus", "1"),
		"unknown http":   with("-http", "h3"),
		"unknown flag":   with("-fast"),
		"not a duration": {"-target", "http://127.0.0.1:1", "-vus", "2", "-duration", "soon"},
	} {
		if _, err := parseEngineArgs(args); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.HasPrefix(err.Error(), ChildEngine) {
			t.Errorf("%s: %v; want it to say which command", name, err)
		}
	}
}

func TestParseEngineResultRejects(t *testing.T) {
	for _, in := range []string{"", "panic: oops", `{"requests":0,"elapsed":1}`, `{"requests":5}`} {
		if _, err := parseEngineResult([]byte(in)); err == nil {
			t.Errorf("parseEngineResult(%q): no error", in)
		}
	}
}
