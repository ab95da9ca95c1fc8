package headers_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/headers"
	"github.com/taskready/taskready/checks/internal/checktest"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// flaws switch one deliberate defect on in the fake API.
type flaws struct {
	noNosniffOnErrors bool   // helmet-like middleware skipped on errors
	poweredBy         string // X-Powered-By value
	server            string // Server value
	noXFO             bool   // no X-Frame-Options
	csp               string // replaces the CSP ("-" for none)
	referrer          string // replaces Referrer-Policy
	noCacheControl    bool
	cookie            string // replaces the login's Set-Cookie
	noCompression     bool
	noRequestID       bool
	hsts              string // replaces Strict-Transport-Security
}

// fakeAPI is the smallest server that answers the routes the header checks
// sample, well configured unless a flaw says otherwise.
func fakeAPI(f flaws) http.Handler {
	var mu sync.Mutex
	tasks := map[string]bool{}
	next := 0
	reqID := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		mu.Lock()
		reqID++
		id := fmt.Sprintf("req-%d", reqID)
		mu.Unlock()
		if !f.noRequestID {
			h.Set("X-Request-ID", id)
		}
		if f.poweredBy != "" {
			h.Set("X-Powered-By", f.poweredBy)
		}
		if f.server != "" {
			h.Set("Server", f.server)
		}
		secure := func() {
			switch f.csp {
			case "":
				h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			case "-":
			default:
				h.Set("Content-Security-Policy", f.csp)
			}
			if !f.noXFO {
				h.Set("X-Frame-Options", "DENY")
			}
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", or(f.referrer, "no-referrer"))
			h.Set("Strict-Transport-Security", or(f.hsts, "max-age=31536000; includeSubDomains"))
		}
		reply := func(status int, v any) {
			body, _ := json.Marshal(v)
			h.Set("Content-Type", "application/json; charset=utf-8")
			h.Add("Vary", "Accept-Encoding")
			if !f.noCompression && len(body) > 200 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				_, _ = zw.Write(body)
				_ = zw.Close()
				body = b.Bytes()
				h.Set("Content-Encoding", "gzip")
			}
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}
		private := func() {
			if !f.noCacheControl {
				h.Set("Cache-Control", "no-store")
			}
		}
		authed := r.Header.Get("Authorization") == "Bearer fake-token"
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/health":
			secure()
			reply(200, map[string]string{"status": "OK", "message": "Server is running"})
		case r.Method == http.MethodPost && r.URL.Path == "/api/auth/register":
			secure()
			private()
			reply(201, map[string]any{"token": "fake-token", "user": map[string]string{"id": "u1"}})
		case r.Method == http.MethodPost && r.URL.Path == "/api/auth/login":
			secure()
			private()
			h.Set("Set-Cookie", or(f.cookie, "token=fake-token; Path=/; HttpOnly; SameSite=Strict; Secure"))
			reply(200, map[string]any{"message": "Login successful", "token": "fake-token"})
		case strings.HasPrefix(r.URL.Path, "/api/tasks") && !authed:
			secure()
			reply(401, map[string]string{"message": "Not authorized, no token provided"})
		case r.Method == http.MethodPost && r.URL.Path == "/api/tasks":
			secure()
			private()
			mu.Lock()
			next++
			tid := fmt.Sprintf("t%d", next)
			tasks[tid] = true
			mu.Unlock()
			reply(201, map[string]any{"task": map[string]string{"_id": tid}})
		case r.Method == http.MethodGet && r.URL.Path == "/api/tasks":
			secure()
			private()
			mu.Lock()
			list := []map[string]string{}
			for tid := range tasks {
				list = append(list, map[string]string{"_id": tid, "title": "a task", "description": strings.Repeat("x", 300)})
			}
			mu.Unlock()
			reply(200, map[string]any{"count": len(list), "tasks": list})
		case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/tasks/"):
			secure()
			private()
			mu.Lock()
			delete(tasks, strings.TrimPrefix(r.URL.Path, "/api/tasks/"))
			mu.Unlock()
			reply(200, map[string]string{"message": "Task deleted successfully"})
		default:
			if !f.noNosniffOnErrors {
				secure()
			} else {
				h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
				h.Set("X-Frame-Options", "DENY")
				h.Set("Referrer-Policy", "no-referrer")
			}
			reply(404, map[string]string{"message": "Route not found"})
		}
	})
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func byID(t *testing.T, id string) check.Check {
	t.Helper()
	return checktest.ByID(t, headers.Checks(), id)
}

func run(t *testing.T, c check.Check, target *check.Target) check.Result {
	t.Helper()
	return checktest.Run(t, c, target, 30*time.Second)
}

// TestAWellConfiguredServerPasses proves the fake is right, so that each
// flaw below is the only reason its check fails.
func TestAWellConfiguredServerPasses(t *testing.T) {
	srv := httptest.NewServer(fakeAPI(flaws{}))
	defer srv.Close()
	target := &check.Target{BaseURL: srv.URL, Prefix: "readiness-good", Shared: &check.Shared{}}
	for _, c := range headers.Checks() {
		r := run(t, c, target)
		want := check.Pass
		if c.Meta().ID == "headers.hsts" {
			want = check.NotApplicable
		}
		if r.Status != want {
			t.Errorf("%s = %s (%s); want %s", c.Meta().ID, r.Status, r.Message, want)
		}
	}
}

func TestEachFlawFailsItsCheck(t *testing.T) {
	for _, tt := range []struct {
		name  string
		f     flaws
		tls   bool
		check string
		want  string // in the failing evidence's Observed
	}{
		{"nosniff missing on errors", flaws{noNosniffOnErrors: true}, false, "headers.nosniff", "no X-Content-Type-Options"},
		{"X-Powered-By: Express", flaws{poweredBy: "Express"}, false, "headers.x-powered-by", "X-Powered-By: Express"},
		{"Server: nginx/1.18.0", flaws{server: "nginx/1.18.0"}, false, "headers.server-version", "nginx/1.18.0"},
		{"no framing protection", flaws{noXFO: true, csp: "default-src 'none'"}, false, "headers.framing", "neither"},
		{"framing allowed by CSP wildcard", flaws{noXFO: true, csp: "default-src 'none'; frame-ancestors *"}, false, "headers.framing", "frame-ancestors *"},
		{"CSP missing", flaws{csp: "-"}, false, "headers.csp", "no Content-Security-Policy"},
		{"CSP for a web page", flaws{csp: "default-src 'self'; frame-ancestors 'none'"}, false, "headers.csp", "not 'none'"},
		{"Referrer-Policy unsafe-url", flaws{referrer: "unsafe-url"}, false, "headers.referrer-policy", "unsafe-url"},
		{"no Cache-Control on private data", flaws{noCacheControl: true}, false, "headers.cache-control", "no Cache-Control"},
		{"cookie readable by scripts", flaws{cookie: "token=fake-token; Path=/; SameSite=Strict"}, false, "headers.cookie-flags", "no HttpOnly"},
		{"cookie sent cross-site", flaws{cookie: "token=fake-token; Path=/; HttpOnly; SameSite=None; Secure"}, false, "headers.cookie-flags", "SameSite=None"},
		{"cookie without Secure over HTTPS", flaws{cookie: "token=fake-token; Path=/; HttpOnly; SameSite=Strict"}, true, "headers.cookie-flags", "no Secure"},
		{"no compression", flaws{noCompression: true}, false, "headers.compression", "uncompressed"},
		{"no request id", flaws{noRequestID: true}, false, "headers.request-id", "no X-Request-ID"},
		{"HSTS too short", flaws{hsts: "max-age=300"}, true, "headers.hsts", "max-age=300"},
		{"HSTS twice", flaws{hsts: "max-age=31536000, max-age=0"}, true, "headers.hsts", "more than once"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			if tt.tls {
				srv = httptest.NewTLSServer(fakeAPI(tt.f))
			} else {
				srv = httptest.NewServer(fakeAPI(tt.f))
			}
			defer srv.Close()
			target := &check.Target{BaseURL: srv.URL, Client: srv.Client(), Prefix: "readiness-flaw", Shared: &check.Shared{}}
			r := run(t, byID(t, tt.check), target)
			if r.Status != check.Fail {
				t.Fatalf("%s = %s (%s); want fail", tt.check, r.Status, r.Message)
			}
			if len(r.Evidence) == 0 {
				t.Fatal("a failure without evidence")
			}
			ev := r.Evidence[0]
			t.Logf("%s: %s\nrequest:\n%s\nresponse:\n%s\nexpected: %s\nobserved: %s", tt.check, r.Message, ev.Request, ev.Response, ev.Expected, ev.Observed)
			if !strings.Contains(ev.Observed, tt.want) || ev.Expected == "" || ev.Request == "" || ev.Response == "" {
				t.Errorf("evidence %+v; want Observed to contain %q, and the request, response and expectation", ev, tt.want)
			}
			if strings.Contains(ev.Request+ev.Response, "fake-token") {
				t.Errorf("evidence quotes the token: %+v", ev)
			}
			if len(ev.Response) > 600 {
				t.Errorf("response evidence is %d bytes; the body excerpt must stay under 300", len(ev.Response))
			}
		})
	}
}

func TestHSTSOverHTTPSPasses(t *testing.T) {
	srv := httptest.NewTLSServer(fakeAPI(flaws{}))
	defer srv.Close()
	target := &check.Target{BaseURL: srv.URL, Client: srv.Client(), Prefix: "readiness-tls", Shared: &check.Shared{}}
	for _, id := range []string{"headers.hsts", "headers.cookie-flags"} {
		if r := run(t, byID(t, id), target); r.Status != check.Pass {
			t.Errorf("%s over HTTPS = %s (%s); want pass", id, r.Status, r.Message)
		}
	}
	// A stricter policy than the server's year fails it.
	target = &check.Target{BaseURL: srv.URL, Client: srv.Client(), Prefix: "readiness-tls-2y",
		Policy: check.Policy{HSTSMinAge: 2 * 365 * 24 * time.Hour}}
	if r := run(t, byID(t, "headers.hsts"), target); r.Status != check.Fail {
		t.Errorf("HSTS of one year under a two-year policy = %s; want fail", r.Status)
	}
}

func TestNoCookieIsNotApplicable(t *testing.T) {
	srv := httptest.NewServer(fakeAPI(flaws{cookie: "theme=; Max-Age=0"}))
	defer srv.Close()
	r := run(t, byID(t, "headers.cookie-flags"), &check.Target{BaseURL: srv.URL, Prefix: "readiness-nocookie"})
	if r.Status != check.NotApplicable {
		t.Errorf("a login without a session cookie = %s (%s); want not_applicable", r.Status, r.Message)
	}
}

func TestAnUnreachableTargetIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := run(t, byID(t, "headers.nosniff"), &check.Target{BaseURL: url, Prefix: "readiness-gone"})
	if r.Status != check.Error {
		t.Errorf("nosniff against a closed port = %s (%s); want error", r.Status, r.Message)
	}
}

// The headers checks span categories: cookies are auth, compression is
// limits.
func TestMeta(t *testing.T) {
	checktest.Meta(t, headers.Checks(), checktest.Want{IDs: []string{"headers.hsts", "headers.nosniff", "headers.framing", "headers.csp",
		"headers.referrer-policy", "headers.x-powered-by", "headers.server-version", "headers.cache-control", "headers.cookie-flags",
		"headers.compression", "headers.request-id"}})
}

// Against two instances of the real API behind the balancer, on embedded
// stores, with the default limits, every check passes but HSTS, which
// does not apply to plain HTTP; the sample's tasks are deleted, and only
// the run's pair of users (probe.Pair) remains.
func TestRealAPI(t *testing.T) {
	checktest.RealAPI{Prefix: "readiness-headers-test", Want: map[string]check.Status{"headers.hsts": check.NotApplicable},
		Users: 2}.Passes(t, headers.Checks())
}
