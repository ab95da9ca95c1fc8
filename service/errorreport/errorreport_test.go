package errorreport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/buildinfo"
	"github.com/taskready/taskready/service/errorreport"
	"github.com/taskready/taskready/service/errorreport/errorreporttest"
)

func flush(t *testing.T, r *errorreport.Reporter) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !r.Flush(ctx) {
		t.Fatal("Flush: the local endpoint did not take the events within 30s")
	}
}

// newReporter returns a Reporter on ep, closed with the test.
func newReporter(t *testing.T, ep *errorreporttest.Endpoint, opts ...errorreport.Option) *errorreport.Reporter {
	t.Helper()
	r, err := errorreport.New(ep.DSN(), opts...)
	if err != nil || r == nil {
		t.Fatalf("New(%s) = %v, %v; want a reporter", ep.DSN(), r, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r.Close(ctx)
	})
	return r
}

const (
	jwt        = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2NWYwIn0.c2lnbmF0dXJlLXZhbHVl"
	jwtSecret  = "s3cr3t-signing-key-never-sent-0123456789"
	mongoPass  = "hunter2-mongo"
	redisPass  = "redis-pass-77"
	requestID  = "req-abc-123"
	storeCause = "dial mongodb://admin:" + mongoPass + "@db.internal:27017 failed"
)

func TestReportSendsTheFailureAndNothingSecret(t *testing.T) {
	t.Parallel()
	ep := errorreporttest.New(t)
	r := newReporter(t, ep, errorreport.WithEnvironment("staging"), errorreport.WithRelease("taskapi@v1.2.3"),
		errorreport.WithSecrets(jwtSecret, redisPass, "", "ab"))
	cause := fmt.Errorf("list tasks: %w", errors.New(storeCause+"; token "+jwt+"; key "+jwtSecret+
		"; redis://:"+redisPass+"@cache:6379; Authorization: Bearer abc.def.ghi; password=letmein"))
	r.Report(errorreport.Failure{RequestID: requestID, Method: "GET", Route: "/api/tasks/:id", Status: 500, Err: cause})
	flush(t, r)

	evs := ep.DecodedEvents(t)
	if len(evs) != 1 {
		t.Fatalf("the endpoint got %d events; want 1 (strays: %v)", len(evs), ep.Strays())
	}
	ev := evs[0]
	for _, c := range []struct{ name, got, want string }{
		{"release", ev.Release, "taskapi@v1.2.3"},
		{"environment", ev.Environment, "staging"},
		{"level", ev.Level, "error"},
		{"transaction", ev.Transaction, "GET /api/tasks/:id"},
		{"tags.request_id", ev.Tags["request_id"], requestID},
		{"tags.route", ev.Tags["route"], "/api/tasks/:id"},
		{"tags.method", ev.Tags["method"], "GET"},
		{"tags.status", ev.Tags["status"], "500"},
	} {
		if c.got != c.want {
			t.Errorf("event %s = %q; want %q", c.name, c.got, c.want)
		}
	}
	if len(ev.Exception) != 2 {
		t.Fatalf("event has %d exceptions; want the chain of 2: %+v", len(ev.Exception), ev.Exception)
	}
	outer := ev.Exception[1] // Sentry lists the chain innermost first
	if !strings.HasPrefix(outer.Value, "list tasks: dial mongodb://[Filtered]@db.internal:27017 failed") {
		t.Errorf("outer exception = %q; want the scrubbed message", outer.Value)
	}
	for _, e := range ev.Exception {
		if e.Stacktrace != nil {
			t.Errorf("exception %s has a stack trace: the middleware's stack says nothing about a returned error", e.Type)
		}
	}
	if len(ev.Fingerprint) != 3 || ev.Fingerprint[0] != "GET /api/tasks/:id" || ev.Fingerprint[1] != "500" {
		t.Errorf("fingerprint = %q; want route, status and error types", ev.Fingerprint)
	}
	if len(ev.Request) > 0 || len(ev.Modules) > 0 {
		t.Errorf("event carries request %s / modules %s; want neither", ev.Request, ev.Modules)
	}
	raw := string(ep.Events()[0].Raw)
	for _, secret := range []string{mongoPass, redisPass, jwt, "eyJ", jwtSecret, "abc.def.ghi", "letmein"} {
		if strings.Contains(raw, secret) {
			t.Errorf("the envelope contains %q:\n%s", secret, raw)
		}
	}
	if auth := ep.Events()[0].Auth; !strings.Contains(auth, "sentry_key="+errorreporttest.PublicKey) {
		t.Errorf("X-Sentry-Auth = %q; want the DSN's key", auth)
	}
}

// panicking panics; the recovering defer keeps the stack as the HTTP
// layer's recover middleware does.
func panicking() (pcs []uintptr, err error) {
	defer func() {
		if v := recover(); v != nil {
			pcs = make([]uintptr, 64)
			pcs = pcs[:runtime.Callers(2, pcs)]
			err = fmt.Errorf("%v", v)
		}
	}()
	explode()
	return nil, nil
}

func explode() { panic("boom with " + jwt) }

func TestReportPanicCarriesItsStack(t *testing.T) {
	t.Parallel()
	ep := errorreporttest.New(t)
	r := newReporter(t, ep)
	pcs, err := panicking()
	r.Report(errorreport.Failure{RequestID: requestID, Method: "POST", Route: "/x", Status: 500, Err: err, Panic: pcs})
	flush(t, r)

	evs := ep.DecodedEvents(t)
	if len(evs) != 1 || len(evs[0].Exception) != 1 {
		t.Fatalf("events = %+v; want one with one exception", evs)
	}
	ex := evs[0].Exception[0]
	if ex.Type != "panic" || ex.Value != "boom with [Filtered]" {
		t.Errorf("exception = %s %q; want panic %q", ex.Type, ex.Value, "boom with [Filtered]")
	}
	if ex.Mechanism == nil || ex.Mechanism.Handled == nil || *ex.Mechanism.Handled {
		t.Errorf("mechanism = %+v; want handled: false", ex.Mechanism)
	}
	if ex.Stacktrace == nil || len(ex.Stacktrace.Frames) < 2 {
		t.Fatalf("stack = %+v; want the panic's frames", ex.Stacktrace)
	}
	frames := ex.Stacktrace.Frames
	last := frames[len(frames)-1] // Sentry: innermost last
	if last.Function != "explode" || !last.InApp {
		t.Errorf("innermost frame = %+v; want explode, in app", last)
	}
	for _, f := range frames {
		if f.Module == "runtime" {
			t.Errorf("stack keeps the runtime's frame %s", f.Function)
		}
	}
	if evs[0].Fingerprint != nil {
		t.Errorf("a panic's fingerprint = %q; want Sentry's grouping by stack", evs[0].Fingerprint)
	}
}

func TestNoDSNIsOff(t *testing.T) {
	// Not parallel: the process environment names a DSN, which the SDK
	// would read if it were ever handed an empty one.
	ep := errorreporttest.New(t)
	t.Setenv("SENTRY_DSN", ep.DSN())
	r, err := errorreport.New("", errorreport.WithRelease("taskapi@x"))
	if err != nil || r != nil {
		t.Fatalf(`New("") = %v, %v; want nil, nil`, r, err)
	}
	r.Report(errorreport.Failure{Method: "GET", Route: "/", Status: 500, Err: errors.New("x")})
	if !r.Flush(context.Background()) || !r.Close(context.Background()) || r.ReleaseName() != "" {
		t.Error("a nil Reporter's Flush or Close reported a loss, or it names a release")
	}
	if n := ep.Requests(); n != 0 {
		t.Errorf("the endpoint got %d requests; want none while the DSN is unset", n)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		dsn  string
		opts []errorreport.Option
	}{
		{"no project", "https://key@sentry.example.com", nil},
		{"no key", "https://sentry.example.com/1", nil},
		{"other scheme", "ftp://key@sentry.example.com/1", nil},
		{"sample rate 0", "https://key@sentry.example.com/1", []errorreport.Option{errorreport.WithSampleRate(0)}},
		{"sample rate over 1", "https://key@sentry.example.com/1", []errorreport.Option{errorreport.WithSampleRate(1.5)}},
	} {
		r, err := errorreport.New(tt.dsn, tt.opts...)
		if err == nil || r != nil {
			t.Errorf("%s: New = %v, %v; want an error", tt.name, r, err)
		}
	}
}

// hungSender returns a reporter whose sender is stuck in a request that
// the endpoint holds unanswered, and the failure it reported. Its client
// would wait ten minutes: a call that waited for the network would hang
// the test, not just slow it.
func hungSender(t *testing.T) (*errorreport.Reporter, *errorreporttest.Endpoint, errorreport.Failure) {
	t.Helper()
	ep := errorreporttest.New(t)
	ep.Hang()
	r := newReporter(t, ep, errorreport.WithHTTPClient(&http.Client{Timeout: 10 * time.Minute}))
	fail := errorreport.Failure{RequestID: requestID, Method: "GET", Route: "/api/tasks", Status: 500, Err: errors.New("broken")}
	returns(t, "Report", func() { r.Report(fail) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ep.WaitRequest(ctx); err != nil {
		t.Fatal(err)
	}
	return r, ep, fail
}

// returns fails the test when f has not returned within two minutes: it
// waited for the hanging endpoint (the bound only catches such a hang).
func returns(t *testing.T, name string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s blocked while Sentry hangs", name)
	}
}

// TestHangingSentryNeitherBlocksNorGrows: while Sentry holds a request
// unanswered, Report still returns, and Flush and Close give up by their
// deadline however long the sender would wait.
func TestHangingSentryNeitherBlocksNorGrows(t *testing.T) {
	t.Parallel()
	r, _, fail := hungSender(t)
	returns(t, "Report", func() {
		for range 3000 {
			r.Report(fail)
		}
	})
	givesUp(t, "Flush", r.Flush)
	givesUp(t, "Close", r.Close)
}

// givesUp calls f with a 100 ms deadline and fails the test if f claims
// success or outlives the deadline by a minute.
func givesUp(t *testing.T, name string, f func(context.Context) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	result := make(chan bool, 1)
	go func() { result <- f(ctx) }()
	select {
	case ok := <-result:
		if ok {
			t.Errorf("%s reported every event delivered while the endpoint hangs", name)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s outlived its deadline by a minute", name)
	}
}

// TestHangingSentryKeepsABoundedBacklog: what piles up while Sentry hangs
// is dropped past the SDK's buffers, not queued without end; once Sentry
// answers again, the backlog it kept is delivered.
func TestHangingSentryKeepsABoundedBacklog(t *testing.T) {
	t.Parallel()
	r, ep, fail := hungSender(t)
	const reports = 3000
	for range reports {
		r.Report(fail)
	}
	ep.Release()
	flush(t, r)
	got := len(ep.Events())
	// The SDK keeps at most 100 events waiting plus 1,000 envelopes
	// queued; the rest were dropped as they came.
	if got > 1+1000+100 {
		t.Errorf("after the hang the endpoint got %d of %d events; want at most the 1,101 the SDK buffers", got, reports+1)
	}
	if got < 2 {
		t.Errorf("after the hang the endpoint got %d events; want the buffered ones delivered", got)
	}
	t.Logf("delivered %d of %d events reported during the hang", got, reports+1)
}

func TestReportIsSafeFromManyGoroutines(t *testing.T) {
	t.Parallel()
	ep := errorreporttest.New(t)
	r := newReporter(t, ep)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				r.Report(errorreport.Failure{RequestID: fmt.Sprintf("r-%d-%d", i, j), Method: "GET", Route: "/", Status: 500, Err: errors.New("x")})
			}
		}()
	}
	wg.Wait()
	flush(t, r)
	if got := len(ep.DecodedEvents(t)); got != 40 {
		t.Errorf("the endpoint got %d events; want 40", got)
	}
}

func TestRelease(t *testing.T) {
	t.Parallel()
	const rev = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
	for _, tt := range []struct {
		name string
		info buildinfo.Info
		want string
	}{
		{"tagged", buildinfo.Info{Version: "v1.2.0", Revision: rev}, "taskapi@v1.2.0+1a2b3c4d5e6f"},
		{"tagged without vcs", buildinfo.Info{Version: "v1.2.0"}, "taskapi@v1.2.0"},
		{"pseudo-version", buildinfo.Info{Version: "v0.0.0-20260101120000-1a2b3c4d5e6f", Revision: rev}, "taskapi@v0.0.0-20260101120000-1a2b3c4d5e6f"},
		{"working tree", buildinfo.Info{Version: "(devel)", Revision: rev}, "taskapi@1a2b3c4d5e6f"},
		{"modified working tree", buildinfo.Info{Version: "(devel)", Revision: rev, Modified: true}, "taskapi@1a2b3c4d5e6f-modified"},
		{"nothing recorded", buildinfo.Info{Version: "(devel)"}, "taskapi@unknown"},
		{"no build info", buildinfo.Info{}, "taskapi@unknown"},
	} {
		if got := errorreport.Release(tt.info); got != tt.want {
			t.Errorf("%s: Release(%+v) = %q; want %q", tt.name, tt.info, got, tt.want)
		}
	}
}
