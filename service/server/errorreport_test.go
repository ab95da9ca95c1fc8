package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/service/errorreport/errorreporttest"
	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/mongo"
)

// corruptTask stores a task of userID that cannot be decoded (createdAt
// is a string): listing it is a real store failure, a 500.
func corruptTask(t *testing.T, e *env, userID, title string) {
	t.Helper()
	uid, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = e.mongoClient(t).Database(e.db).Collection(mongo.TasksCollection).InsertOne(ctx, bson.D{
		{Key: "_id", Value: bson.NewObjectID()}, {Key: "title", Value: title}, {Key: "description", Value: ""},
		{Key: "status", Value: "pending"}, {Key: "user", Value: uid},
		{Key: "createdAt", Value: "yesterday"}, {Key: "updatedAt", Value: "yesterday"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// shutdown stops in within the test's patience and reports how long it took.
func shutdown(t *testing.T, in *instance) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- in.Shutdown(ctx)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("Shutdown did not return within 2 minutes")
	}
	return time.Since(start)
}

// What the forced 500 is sent with; none of it may reach Sentry.
const (
	sentryRequestID = "req-sentry-500"
	privateSearch   = "private-words"
	cookieValue     = "cookie-value-5f1e"
)

// TestErrorReportForced500 lists tasks through a document that cannot be
// decoded: the API answers 500, and the shutdown that follows delivers
// the event, with the request id, route, status and release, and nothing
// of the request.
func TestErrorReportForced500(t *testing.T) {
	ep := errorreporttest.New(t)
	e := newEnv(t)
	in := e.start(t, "SENTRY_DSN="+ep.DSN(), "SENTRY_ENVIRONMENT=staging", "SENTRY_RELEASE=taskapi@v1.4.0+1a2b3c4d5e6f")
	c := in.client(t)
	id, email := c.register("Reported")
	corruptTask(t, e, id, "my "+privateSearch+" task")
	// Sentry answers 200 ms after each post: a Shutdown that did not wait
	// for the queue (up to errorreport.FlushTimeout, 2 s) would return
	// before the event is delivered.
	ep.Delay(200 * time.Millisecond)

	r := c.do("GET", "/api/tasks?search="+privateSearch, nil,
		"X-Request-ID", sentryRequestID, "Cookie", "token="+cookieValue).expect(t, 500, "Internal server error")
	if got := r.header.Get("X-Request-ID"); got != sentryRequestID {
		t.Fatalf("X-Request-ID = %q; want %q", got, sentryRequestID)
	}
	c.do("GET", "/api/tasks/0123456789abcdef01234567", nil).expect(t, 404, "") // a 4xx: not the server's failure
	shutdown(t, in)
	if n := ep.Delivered(); n != 1 {
		t.Errorf("Sentry had answered %d event posts when Shutdown returned; want the 500's", n)
	}

	evs := ep.DecodedEvents(t)
	if len(evs) != 1 {
		t.Fatalf("Sentry got %d events by the end of Shutdown; want the 500's (strays: %v)", len(evs), ep.Strays())
	}
	ev := evs[0]
	for _, f := range []struct{ name, got, want string }{
		{"tags.request_id", ev.Tags["request_id"], sentryRequestID},
		{"tags.route", ev.Tags["route"], "/api/tasks"},
		{"tags.method", ev.Tags["method"], "GET"},
		{"tags.status", ev.Tags["status"], "500"},
		{"transaction", ev.Transaction, "GET /api/tasks"},
		{"release", ev.Release, "taskapi@v1.4.0+1a2b3c4d5e6f"},
		{"environment", ev.Environment, "staging"},
	} {
		if f.got != f.want {
			t.Errorf("event %s = %q; want %q", f.name, f.got, f.want)
		}
	}
	if n := len(ev.Exception); n == 0 || !strings.Contains(ev.Exception[n-1].Value, "list tasks: decode") {
		t.Errorf("exceptions = %+v; want the store's decode error", ev.Exception)
	}
	env := ep.Events()[0]
	assertNothingSecret(t, env.Raw, c.token, cookieValue, privateSearch, email, "secret123", e.mongoURI, e.redis.URL(), testJWTSecret)

	shown := showEnvelope(t, env)
	path := filepath.Join("..", "..", "docs", "sentry-envelope.json")
	if golden.Updating() {
		if err := os.WriteFile(path, shown, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if want, err := os.ReadFile(path); err != nil || !bytes.Equal(shown, want) {
		t.Errorf("%s differs from the envelope captured now (go test ./service/server -run TestErrorReportForced500 -update rewrites it): %v\n%s", path, err, shown)
	}
}

// assertNothingSecret fails if the envelope holds any of values, a JWT,
// or the request's fields.
func assertNothingSecret(t *testing.T, raw []byte, values ...string) {
	t.Helper()
	for _, v := range append(values, "eyJ", "Bearer", "Authorization", "Cookie") {
		if v != "" && bytes.Contains(raw, []byte(v)) {
			t.Errorf("the envelope contains %q:\n%s", v, raw)
		}
	}
	var ev map[string]any
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if json.Unmarshal(line, &ev) == nil && ev["exception"] != nil {
			for _, field := range []string{"request", "user", "breadcrumbs", "modules"} {
				if _, ok := ev[field]; ok {
					t.Errorf("the event has a %q field: %v", field, ev[field])
				}
			}
		}
	}
}

// varies are the fields whose values change from run to run (ids, times,
// the machine); the shown envelope has a placeholder instead.
var varies = []string{"event_id", "sent_at", "timestamp", "server_name", "length", "num_cpu", "go_maxprocs", "go_numroutines", "go_numcgocalls", "arch"}

// showEnvelope renders env for the reader: pretty JSON, the DSN's key
// and address replaced, run-to-run values as placeholders.
func showEnvelope(t *testing.T, env errorreporttest.Envelope) []byte {
	t.Helper()
	type item struct {
		Header  map[string]any `json:"header"`
		Payload map[string]any `json:"payload"`
	}
	shown := struct {
		Header map[string]any `json:"header"`
		Items  []item         `json:"items"`
	}{Header: env.Header}
	shown.Header["dsn"] = "https://[Filtered]@sentry.example.com/" + errorreporttest.Project
	for _, it := range env.Items {
		var payload map[string]any
		if err := json.Unmarshal(it.Payload, &payload); err != nil {
			t.Fatal(err)
		}
		shown.Items = append(shown.Items, item{it.Header, payload})
	}
	var placeholders func(v any)
	placeholders = func(v any) {
		switch m := v.(type) {
		case map[string]any:
			for k, e := range m {
				if _, isMap := e.(map[string]any); !isMap && slices.Contains(varies, k) {
					m[k] = "<" + k + ">"
				}
				placeholders(e)
			}
		case []any:
			for _, e := range m {
				placeholders(e)
			}
		}
	}
	placeholders(shown.Header)
	for _, it := range shown.Items {
		placeholders(it.Header)
		placeholders(it.Payload)
		// The machine's, unlike the SDK's version (which changes with go.mod).
		contexts, _ := it.Payload["contexts"].(map[string]any)
		if rt, ok := contexts["runtime"].(map[string]any); ok {
			rt["version"] = "<go version>"
		}
		if os, ok := contexts["os"].(map[string]any); ok {
			os["name"] = "<os>"
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // "<event_id>", not "\u003cevent_id\u003e"
	enc.SetIndent("", "  ")
	if err := enc.Encode(shown); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestErrorReportPanicAndSheddingPolicy drives the real middleware chain
// through routes only this test registers: a panic is reported with its
// stack and without the request's body or credentials; a 503 (shedding,
// an open breaker) and a 4xx are not.
func TestErrorReportPanicAndSheddingPolicy(t *testing.T) {
	ep := errorreporttest.New(t)
	e := newEnv(t)
	srv := e.open(t, discard, "SENTRY_DSN="+ep.DSN())
	app := srv.App()
	app.Post("/test/panic", func(fiber.Ctx) error {
		panic("cannot go on with mongodb://admin:hunter2-db@db.internal:27017 and " + sampleJWT)
	})
	app.Get("/test/shed", func(fiber.Ctx) error {
		return &failure.Error{Kind: failure.Unavailable, Message: "Server busy, please retry", Err: context.DeadlineExceeded}
	})
	app.Get("/test/invalid", func(fiber.Ctx) error { return failure.Invalidf("no") })
	in := serve(t, srv)
	c := in.client(t)

	c.do("GET", "/test/shed", nil).expect(t, 503, "")
	c.do("GET", "/test/invalid", nil).expect(t, 400, "")
	body := `{"password":"body-password-1","title":"body-marker-7f3a"}`
	c.token = sampleJWT
	c.do("POST", "/test/panic", body, "X-Request-ID", "req-panic-1", "Cookie", "token="+cookieValue).expect(t, 500, "Internal server error")
	shutdown(t, in)

	evs := ep.DecodedEvents(t)
	if len(evs) != 1 {
		t.Fatalf("Sentry got %d events; want only the panic's (503 and 400 are not reported)", len(evs))
	}
	ev := evs[0]
	if ev.Tags["request_id"] != "req-panic-1" || ev.Tags["route"] != "/test/panic" || ev.Tags["status"] != "500" {
		t.Errorf("tags = %v; want the panicking request's id, route and 500", ev.Tags)
	}
	if len(ev.Exception) != 1 || ev.Exception[0].Type != "panic" ||
		ev.Exception[0].Value != "cannot go on with mongodb://[Filtered]@db.internal:27017 and [Filtered]" {
		t.Fatalf("exception = %+v; want the scrubbed panic", ev.Exception)
	}
	st := ev.Exception[0].Stacktrace
	if st == nil || len(st.Frames) == 0 {
		t.Fatal("the panic has no stack")
	}
	innermost := st.Frames[len(st.Frames)-1]
	if !strings.HasPrefix(innermost.Function, "TestErrorReportPanicAndSheddingPolicy") || !innermost.InApp {
		t.Errorf("innermost frame = %+v; want the panicking handler, in app", innermost)
	}
	assertNothingSecret(t, ep.Events()[0].Raw, sampleJWT, cookieValue, "hunter2-db", "body-password-1", "body-marker-7f3a", testJWTSecret)
}

// sampleJWT has a JWT's shape; the scrubber masks it wherever it appears.
const sampleJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2NWYwIn0.c2lnbmF0dXJl"

// testJWTSecret is the JWT_SECRET env.open gives every instance.
const testJWTSecret = "test-secret-that-is-long-enough-0123456789"

// TestErrorReportOffWhenUnset: without SENTRY_DSN in the configuration,
// failures reach no endpoint, even one the process environment names
// (where the SDK would look if it were ever started without a DSN).
func TestErrorReportOffWhenUnset(t *testing.T) {
	// t.Setenv: this package's tests run one at a time anyway (servers
	// opened at once race on the driver's shared index options).
	ep := errorreporttest.New(t)
	t.Setenv("SENTRY_DSN", ep.DSN())
	e := newEnv(t)
	srv := e.open(t, discard)
	srv.App().Get("/test/panic", func(fiber.Ctx) error { panic("unreported") })
	in := serve(t, srv)
	c := in.client(t)
	id, _ := c.register("Unreported")
	corruptTask(t, e, id, "t")
	c.do("GET", "/api/tasks", nil).expect(t, 500, "")
	c.do("GET", "/test/panic", nil).expect(t, 500, "")
	shutdown(t, in)
	if n := ep.Requests(); n != 0 {
		t.Errorf("the Sentry endpoint got %d requests with SENTRY_DSN unset; want none", n)
	}
}

// TestErrorReportHangingSentry: while Sentry holds the first event's
// request unanswered, the API's failing requests still answer at once,
// and Shutdown gives up on delivery after errorreport.FlushTimeout.
//
// A request that waited for Sentry would take at least the SDK client's
// 5 s timeout (errorreport.SendTimeout), which a 4 s bound can never let
// through; one that does not wait takes milliseconds, far under it even
// on a busy machine.
func TestErrorReportHangingSentry(t *testing.T) {
	ep := errorreporttest.New(t)
	ep.Hang()
	e := newEnv(t)
	in := e.start(t, "SENTRY_DSN="+ep.DSN())
	c := in.client(t)
	id, _ := c.register("Hung")
	corruptTask(t, e, id, "t")
	c.do("GET", "/api/tasks", nil).expect(t, 500, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ep.WaitRequest(ctx); err != nil {
		t.Fatal(err)
	}

	var slowest time.Duration
	for range 20 {
		start := time.Now()
		c.do("GET", "/api/tasks", nil).expect(t, 500, "")
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("slowest of 20 failing requests while Sentry hung: %v", slowest)
	if slowest >= 4*time.Second {
		t.Errorf("the slowest failing request took %v while Sentry hung; want far less than the 5s send timeout", slowest)
	}
	if took := shutdown(t, in); took > 30*time.Second {
		t.Errorf("Shutdown took %v while Sentry hung; want about the 2s flush timeout", took)
	}
	if got := ep.Requests(); got < 1 {
		t.Errorf("the endpoint got %d requests; want the first event's", got)
	}
}
