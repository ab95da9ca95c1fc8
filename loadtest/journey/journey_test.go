package journey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/journey"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/transport"
)

// fakeAPI is a tiny stand-in for the task API's login, list, create, get,
// update, delete and profile routes, plus /echo (answers with what it
// got), /vars (fixed values to extract) and /slow (never answers in
// time). It tests the runner, not the API.
type fakeAPI struct {
	*httptest.Server
	mu    sync.Mutex
	tasks []string
	last  echo
	hits  atomic.Int64
}

type echo struct {
	Path        string          `json:"path"`
	Method      string          `json:"method"`
	Auth        string          `json:"auth"`
	ContentType string          `json:"contentType"`
	Body        json.RawMessage `json:"body"`
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{}
	mux := http.NewServeMux()
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer tok-1" {
				http.Error(w, `{"message":"unauthorized"}`, 401)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /api/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Email != "seed3@example.com" || in.Password != "pw" {
			http.Error(w, `{"message":"bad credentials"}`, 401)
			return
		}
		fmt.Fprint(w, `{"token":"tok-1","user":{"email":"seed3@example.com"}}`)
	})
	mux.HandleFunc("GET /api/auth/profile", authed(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"user":{"email":"seed3@example.com"}}`)
	}))
	mux.HandleFunc("GET /api/tasks", authed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var items []map[string]string
		for _, id := range f.tasks {
			items = append(items, map[string]string{"_id": id})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"tasks": items, "pagination": map[string]int{"page": 1}})
	}))
	mux.HandleFunc("POST /api/tasks", authed(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		id := fmt.Sprintf("t%d", len(f.tasks)+1)
		f.tasks = append(f.tasks, id)
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"task":{"_id":%q}}`, id)
	}))
	mux.HandleFunc("/api/tasks/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"task":{"_id":%q}}`, r.PathValue("id"))
	}))
	mux.HandleFunc("/echo/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) == 0 {
			body = []byte("null")
		}
		e := echo{Path: r.URL.Path, Method: r.Method, Auth: r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"), Body: body}
		f.mu.Lock()
		f.last = e
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(e)
	})
	mux.HandleFunc("/vars", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"token":"tok-1","n":42,"big":1e3,"ratio":0.5,"ok":true,"nil":null,
			"task":{"_id":"abc","tags":["x","y"]},"tasks":[{"_id":"first"},{"_id":"second"}]}`)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "plain text") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) lastEcho() echo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// client is the client the fake's VUs use: net/http's, or
// TestFastTransport's.
var client = func(f *fakeAPI) *http.Client { return f.Client() }

func (f *fakeAPI) vu() journey.VU {
	return journey.VU{ID: 2, Iteration: 5, User: journey.User{Index: 3, Email: "seed3@example.com", Password: "pw"},
		Client: client(f), Target: f.URL}
}

func step(name, method, path string) scenario.Step {
	return scenario.Step{Name: name, Endpoint: name, Method: method, Path: path, Timeout: 5 * time.Second}
}

func noSleep(context.Context, time.Duration) error { return nil }

func run(t *testing.T, f *fakeAPI, steps ...scenario.Step) []record.Sample {
	t.Helper()
	j := &scenario.Journey{Name: "j", Steps: steps}
	return journey.Run(context.Background(), j, f.vu(), journey.Tags{Scenario: "sc", Phase: "steady"}, journey.Sleep(noSleep))
}

func passed(s record.Sample) bool { return s.CheckPassed != nil && *s.CheckPassed }

// sentBody reports whether s's BytesOut is what a request with a body of n
// bytes sends: the body alone through the test server's own client, which
// does not count the wire; more (request line and headers) through the
// fasthttp transport, which does. TestBytesOnTheWire checks the exact
// numbers.
func sentBody(f *fakeAPI, s record.Sample, n int) bool {
	if _, wire := client(f).Transport.(*transport.Transport); wire {
		return s.BytesOut > int64(n)
	}
	return s.BytesOut == int64(n)
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestTemplating(t *testing.T) {
	f := newFakeAPI(t)
	vars := step("vars", "GET", "/vars")
	vars.Extract = map[string]string{"token": "token", "n": "n"}
	tests := []struct {
		name     string
		path     string
		auth     string
		body     any
		wantPath string
		wantAuth string
		wantBody string // JSON; "" for no body
	}{
		{name: "builtins in the path", path: "/echo/{{user.email}}/{{ vu }}/{{iteration}}/{{  user.index  }}",
			wantPath: "/echo/seed3@example.com/2/5/3"},
		{name: "extracted variable in a header", path: "/echo/x", auth: "Bearer {{token}}",
			wantPath: "/echo/x", wantAuth: "Bearer tok-1"},
		{name: "text around variables", path: "/echo/a{{n}}b{{vu}}c", wantPath: "/echo/a42b2c"},
		{name: "body strings, nested, non-strings kept", path: "/echo/b",
			body: map[string]any{
				"email": "{{user.email}}", "pw": "{{user.password}}", "idx": "{{user.index}}",
				"count": 5, "ok": true, "none": nil, "ratio": 1.5,
				"list":  []any{"{{vu}}", 1, false, map[string]any{"deep": "i={{ iteration }}"}},
				"plain": "no variables {here}",
			},
			wantPath: "/echo/b",
			wantBody: `{"email":"seed3@example.com","pw":"pw","idx":"3","count":5,"ok":true,"none":null,"ratio":1.5,
				"list":["2",1,false,{"deep":"i=5"}],"plain":"no variables {here}"}`},
		{name: "exact variable in a body stays a string", path: "/echo/c",
			body: map[string]any{"n": "{{n}}", "vu": "{{vu}}"}, wantPath: "/echo/c", wantBody: `{"n":"42","vu":"2"}`},
		{name: "yaml-style map[any]any body", path: "/echo/d",
			body: map[any]any{"k": "{{vu}}"}, wantPath: "/echo/d", wantBody: `{"k":"2"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := step("echo", "POST", tt.path)
			if tt.auth != "" {
				st.Headers = map[string]string{"Authorization": tt.auth}
			}
			st.Body = tt.body
			ss := run(t, f, vars, st)
			if len(ss) != 2 || !passed(ss[1]) || ss[1].Err != "" {
				t.Fatalf("samples = %+v", ss)
			}
			got := f.lastEcho()
			if got.Path != tt.wantPath || got.Auth != tt.wantAuth {
				t.Errorf("path, auth = %q, %q; want %q, %q", got.Path, got.Auth, tt.wantPath, tt.wantAuth)
			}
			if tt.wantBody == "" {
				if string(got.Body) != "null" || got.ContentType != "" || !sentBody(f, ss[1], 0) {
					t.Errorf("body %s, content type %q, BytesOut %d; want none", got.Body, got.ContentType, ss[1].BytesOut)
				}
				return
			}
			var gotV, wantV any
			if err := json.Unmarshal(got.Body, &gotV); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.wantBody), &wantV); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotV, wantV) {
				t.Errorf("body = %s; want %s", got.Body, tt.wantBody)
			}
			if got.ContentType != "application/json" {
				t.Errorf("Content-Type = %q", got.ContentType)
			}
			if !sentBody(f, ss[1], len(got.Body)) {
				t.Errorf("BytesOut = %d for a body of %d", ss[1].BytesOut, len(got.Body))
			}
		})
	}
	// The journey's body is shared by every VU: Run must not change it.
	body := map[string]any{"a": "{{vu}}", "l": []any{"{{vu}}"}}
	st := step("echo", "POST", "/echo/e")
	st.Body = body
	run(t, f, st)
	if body["a"] != "{{vu}}" || body["l"].([]any)[0] != "{{vu}}" {
		t.Errorf("Run changed the journey's body: %v", body)
	}
}

func TestUUIDIsNewOnEveryUse(t *testing.T) {
	f := newFakeAPI(t)
	st := step("echo", "POST", "/echo/u")
	st.Body = map[string]any{"a": "{{uuid}}", "b": "{{ uuid }}"}
	run(t, f, st)
	var got map[string]string
	if err := json.Unmarshal(f.lastEcho().Body, &got); err != nil {
		t.Fatal(err)
	}
	if !uuidV4.MatchString(got["a"]) || !uuidV4.MatchString(got["b"]) || got["a"] == got["b"] {
		t.Errorf("uuids = %q, %q; want two different v4 UUIDs", got["a"], got["b"])
	}
}

func TestUndefinedVariable(t *testing.T) {
	f := newFakeAPI(t)
	for _, where := range []string{"path", "header", "body"} {
		t.Run(where, func(t *testing.T) {
			st := step("bad", "POST", "/echo/x")
			switch where {
			case "path":
				st.Path = "/echo/{{nope}}"
			case "header":
				st.Headers = map[string]string{"Authorization": "Bearer {{nope}}"}
			case "body":
				st.Body = map[string]any{"l": []any{"x{{ nope }}"}}
			}
			before := f.hits.Load()
			ss := run(t, f, st, step("later", "GET", "/echo/later"))
			if len(ss) != 1 {
				t.Fatalf("%d samples; want 1 (the journey stops)", len(ss))
			}
			s := ss[0]
			if s.Err != "undefined variable nope" || s.Status != 0 || passed(s) || s.CheckPassed == nil {
				t.Errorf("sample = %+v; want Err \"undefined variable nope\", status 0, check failed", s)
			}
			if s.Start.IsZero() || s.Method != "POST" {
				t.Errorf("sample = %+v; want Start and Method set", s)
			}
			if n := f.hits.Load() - before; n != 0 {
				t.Errorf("%d requests sent; want none", n)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	var doc any
	dec := json.NewDecoder(strings.NewReader(`{"token":"tok","n":42,"neg":-7,"big":1e3,"huge":12345678901234567890,
		"ratio":0.5,"ok":true,"no":false,"nil":null,"empty":"",
		"task":{"_id":"abc","tags":["x","y"],"meta":{"a":1}},"tasks":[{"_id":"first"},{"_id":"second"}],"m":[[1,2],[3]]}`))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
		ok         bool
	}{
		{"token", "tok", true},
		{"task._id", "abc", true},
		{"task.tags.1", "y", true},
		{"tasks.0._id", "first", true},
		{"tasks.1._id", "second", true},
		{"m.0.1", "2", true},
		{"n", "42", true},
		{"neg", "-7", true},
		{"big", "1000", true},
		{"huge", "12345678901234567890", true},
		{"ratio", "0.5", true},
		{"ok", "true", true},
		{"no", "false", true},
		{"empty", "", true},
		{"task.meta", `{"a":1}`, true},
		{"task.tags", `["x","y"]`, true},
		{"missing", "", false},
		{"task.missing", "", false},
		{"tasks.2._id", "", false},
		{"tasks.-1._id", "", false},
		{"tasks.x", "", false},
		{"token.deeper", "", false},
		{"nil", "", false},
	}
	for _, tt := range tests {
		got, ok := journey.Lookup(doc, tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
	// Plain json.Unmarshal gives float64s: integers still have no exponent.
	var plain any
	_ = json.Unmarshal([]byte(`{"id":1234567,"f":2.25}`), &plain)
	if got, _ := journey.Lookup(plain, "id"); got != "1234567" {
		t.Errorf("Lookup(float64 1234567) = %q", got)
	}
	if got, _ := journey.Lookup(plain, "f"); got != "2.25" {
		t.Errorf("Lookup(float64 2.25) = %q", got)
	}
}

func TestExtraction(t *testing.T) {
	f := newFakeAPI(t)
	tests := []struct {
		name    string
		extract map[string]string
		want    string // the next step's path after /echo/, when it succeeds
		err     string
	}{
		{name: "top level and nested", extract: map[string]string{"a": "token", "b": "task._id"}, want: "tok-1/abc"},
		{name: "arrays", extract: map[string]string{"a": "tasks.1._id", "b": "task.tags.0"}, want: "second/x"},
		{name: "numbers and booleans", extract: map[string]string{"a": "big", "b": "ok"}, want: "1000/true"},
		{name: "integer and fraction", extract: map[string]string{"a": "n", "b": "ratio"}, want: "42/0.5"},
		{name: "missing", extract: map[string]string{"a": "token", "b": "task.nothing"}, err: "extract b: no task.nothing in the answer"},
		{name: "index out of range", extract: map[string]string{"a": "tasks.5._id", "b": "token"}, err: "extract a: no tasks.5._id in the answer"},
		{name: "null", extract: map[string]string{"a": "nil", "b": "token"}, err: "extract a: no nil in the answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := step("vars", "GET", "/vars")
			first.Extract = tt.extract
			ss := run(t, f, first, step("next", "GET", "/echo/{{a}}/{{b}}"))
			if tt.err != "" {
				if len(ss) != 1 || ss[0].Err != tt.err || ss[0].Status != 200 {
					t.Fatalf("samples = %+v; want one, status 200, Err %q", ss, tt.err)
				}
				return
			}
			if len(ss) != 2 || ss[0].Err != "" || ss[1].Err != "" {
				t.Fatalf("samples = %+v", ss)
			}
			if f.lastEcho().Path != "/echo/"+tt.want {
				t.Errorf("next path = %q; want /echo/%s", f.lastEcho().Path, tt.want)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		st := step("text", "GET", "/text")
		st.Extract = map[string]string{"x": "message"}
		ss := run(t, f, st)
		if len(ss) != 1 || !strings.HasPrefix(ss[0].Err, "extract x:") {
			t.Errorf("samples = %+v; want an extract error", ss)
		}
	})
}

func TestFailingCheckStopsTheJourney(t *testing.T) {
	f := newFakeAPI(t)
	tests := []struct {
		name  string
		check scenario.Check
		pass  bool
	}{
		{"any 2xx", scenario.Check{}, true},
		{"exact status", scenario.Check{Status: 200}, true},
		{"body contains", scenario.Check{Status: 200, BodyContains: `"n":42`}, true},
		{"wrong status", scenario.Check{Status: 201}, false},
		{"body lacks", scenario.Check{BodyContains: "pagination"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := step("vars", "GET", "/vars")
			st.Check = tt.check
			ss := run(t, f, st, step("later", "GET", "/echo/later"))
			if passed(ss[0]) != tt.pass || ss[0].CheckPassed == nil {
				t.Errorf("CheckPassed = %v; want %v", ss[0].CheckPassed, tt.pass)
			}
			if want := map[bool]int{true: 2, false: 1}[tt.pass]; len(ss) != want {
				t.Errorf("%d samples; want %d", len(ss), want)
			}
			if ss[0].Err != "" || ss[0].Status != 200 || ss[0].BytesIn == 0 {
				t.Errorf("sample = %+v; want no Err, status 200, BytesIn", ss[0])
			}
		})
	}
	// A non-2xx answer fails the implicit check.
	ss := run(t, f, step("profile", "GET", "/api/auth/profile"), step("later", "GET", "/echo/later"))
	if len(ss) != 1 || passed(ss[0]) || ss[0].Status != 401 {
		t.Errorf("samples = %+v; want one, 401, check failed", ss)
	}
}

func TestTimeout(t *testing.T) {
	f := newFakeAPI(t)
	slow := step("slow", "GET", "/slow")
	slow.Timeout = 50 * time.Millisecond
	start := time.Now()
	ss := run(t, f, slow, step("later", "GET", "/echo/later"))
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Run took %v; want about the 50ms timeout", el)
	}
	if len(ss) != 1 {
		t.Fatalf("%d samples; want 1", len(ss))
	}
	s := ss[0]
	if s.Err != "timeout after 50ms" || s.Status != 0 || passed(s) {
		t.Errorf("sample = %+v; want Err \"timeout after 50ms\", status 0, check failed", s)
	}
	if s.Latency < 50*time.Millisecond {
		t.Errorf("Latency = %v; want at least the timeout", s.Latency)
	}
	if !record.DefaultFailed(s) {
		t.Error("a timed-out sample is not a failed request")
	}
}

func TestThinkTimeGoesThroughSleep(t *testing.T) {
	f := newFakeAPI(t)
	a, b, c := step("a", "GET", "/echo/a"), step("b", "GET", "/echo/b"), step("c", "GET", "/echo/c")
	a.Think, c.Think = time.Hour, 2*time.Hour
	j := &scenario.Journey{Name: "j", Steps: []scenario.Step{a, b, c}}
	var slept []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	ss := journey.Run(context.Background(), j, f.vu(), journey.Tags{}, journey.Sleep(sleep))
	if len(ss) != 3 || !reflect.DeepEqual(slept, []time.Duration{time.Hour, 2 * time.Hour}) {
		t.Errorf("%d samples, slept %v; want 3 and [1h 2h]", len(ss), slept)
	}

	// A Sleep that reports ctx done stops the journey.
	slept = nil
	stop := func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return context.Canceled }
	ss = journey.Run(context.Background(), j, f.vu(), journey.Tags{}, journey.Sleep(stop))
	if len(ss) != 1 || len(slept) != 1 {
		t.Errorf("%d samples, %d sleeps; want 1 and 1", len(ss), len(slept))
	}

	// The default sleep honours ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	ss = journey.Run(ctx, j, f.vu(), journey.Tags{})
	if len(ss) != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("%d samples after %v; want 1, promptly", len(ss), time.Since(start))
	}
}

func TestCancelledContextAttemptsNothing(t *testing.T) {
	f := newFakeAPI(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j := &scenario.Journey{Name: "j", Steps: []scenario.Step{step("a", "GET", "/echo/a")}}
	if ss := journey.Run(ctx, j, f.vu(), journey.Tags{}); len(ss) != 0 || f.hits.Load() != 0 {
		t.Errorf("%d samples, %d requests; want none", len(ss), f.hits.Load())
	}
}

func TestIntendedAppliesToTheFirstStep(t *testing.T) {
	f := newFakeAPI(t)
	j := &scenario.Journey{Name: "j", Steps: []scenario.Step{step("a", "GET", "/echo/a"), step("b", "GET", "/echo/b")}}
	ss := journey.Run(context.Background(), j, f.vu(), journey.Tags{})
	for _, s := range ss {
		if !s.Intended.Equal(s.Start) || s.Start.IsZero() {
			t.Errorf("%s: Intended %v, Start %v; want equal", s.Step, s.Intended, s.Start)
		}
	}
	want := time.Now().Add(-time.Second)
	ss = journey.Run(context.Background(), j, f.vu(), journey.Tags{}, journey.Intended(want))
	if !ss[0].Intended.Equal(want) || !ss[1].Intended.Equal(ss[1].Start) {
		t.Errorf("Intended = %v, %v; want %v then Start", ss[0].Intended, ss[1].Intended, want)
	}
	if ss[0].CorrectedLatency() < time.Second {
		t.Errorf("CorrectedLatency = %v; want the second of delay in it", ss[0].CorrectedLatency())
	}
}

// TestShippedSmokeAgainstFake runs smoke.yaml's journeys against the fake
// and checks the samples' tags.
func TestShippedSmokeAgainstFake(t *testing.T) {
	f := newFakeAPI(t)
	file, err := scenario.Load("../../scenarios/smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tags := journey.Tags{Scenario: "smoke", Phase: "smoke"}
	var slept []time.Duration
	sleep := func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	for _, name := range []string{"write", "browse"} {
		j := file.Journeys[name]
		ss := journey.Run(context.Background(), j, f.vu(), tags, journey.Sleep(sleep))
		if len(ss) != len(j.Steps) {
			t.Fatalf("%s: %d samples; want %d: %+v", name, len(ss), len(j.Steps), ss)
		}
		for i, s := range ss {
			st := j.Steps[i]
			if !passed(s) || s.Err != "" {
				t.Errorf("%s/%s: %+v; want passed", name, s.Step, s)
			}
			if s.Scenario != "smoke" || s.Phase != "smoke" || s.Journey != name || s.Step != st.Name ||
				s.Endpoint != st.Endpoint || s.Method != st.Method || s.Latency <= 0 || s.BytesIn == 0 {
				t.Errorf("%s step %d: sample %+v", name, i, s)
			}
		}
	}
	if len(slept) != 9 || slept[0] != 100*time.Millisecond {
		t.Errorf("slept %v; want 9 × 100ms", slept)
	}
}

// An observer hears of every request sent, as sent and as answered,
// the failed ones too, and of no step that was never sent.
func TestObserveHearsEveryRequest(t *testing.T) {
	f := newFakeAPI(t)
	var got []journey.Exchange
	observe := journey.Observe(func(x *journey.Exchange) {
		c := *x
		c.Body, c.Answer = bytes.Clone(x.Body), bytes.Clone(x.Answer) // only valid during the call
		got = append(got, c)
	})
	post := step("post", "POST", "/echo/{{user.index}}")
	post.Headers = map[string]string{"Authorization": "Bearer tok-{{vu}}"}
	post.Body = map[string]any{"title": "t {{iteration}}"}
	slow := step("slow", "GET", "/slow")
	slow.Timeout = 50 * time.Millisecond
	j := &scenario.Journey{Name: "j", Steps: []scenario.Step{post, slow, step("never", "GET", "/echo/never")}}
	journey.Run(context.Background(), j, f.vu(), journey.Tags{}, journey.Sleep(noSleep), observe)

	if len(got) != 2 {
		t.Fatalf("observed %d requests; want 2 (the third step is never sent): %+v", len(got), got)
	}
	p := got[0]
	if p.Method != "POST" || p.Path != "/echo/3" || p.Authorization != "Bearer tok-2" || string(p.Body) != `{"title":"t 5"}` ||
		p.Status != 200 || !strings.Contains(string(p.Answer), `"path":"/echo/3"`) || p.Err != "" || p.User.Index != 3 || p.End.Before(p.Start) {
		t.Errorf("first exchange = %+v (answer %s); want the POST as sent and answered", p, p.Answer)
	}
	if s := got[1]; s.Path != "/slow" || s.Status != 0 || !strings.Contains(s.Err, "timeout after 50ms") {
		t.Errorf("second exchange = %+v; want the timed-out GET, no status, its error", s)
	}
}
