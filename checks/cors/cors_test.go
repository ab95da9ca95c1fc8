package cors_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/cors"
	"github.com/taskready/taskready/checks/internal/checktest"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// policy decides the CORS headers of one answer of the fake API.
type policy func(origin string, preflight bool, h http.Header)

// allowlist is the right policy: only the front end, with credentials.
func allowlist(origin string, _ bool, h http.Header) {
	h.Add("Vary", "Origin")
	if origin == "http://localhost:3000" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// fakeAPI registers users and answers the task list (401 without the
// token), with CORS headers from p on every answer and preflight.
func fakeAPI(p policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		switch {
		case r.Method == http.MethodOptions:
			p(origin, true, w.Header())
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodPost && r.URL.Path == "/api/auth/register":
			p(origin, false, w.Header())
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"token":"fake-token","user":{"id":"u1"}}`))
		case r.URL.Path == "/api/tasks" && r.Header.Get("Authorization") == "Bearer fake-token":
			p(origin, false, w.Header())
			_, _ = w.Write([]byte(`{"count":0,"tasks":[]}`))
		default:
			p(origin, false, w.Header())
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Not authorized, no token provided"}`))
		}
	})
}

func byID(t *testing.T, id string) check.Check {
	t.Helper()
	return checktest.ByID(t, cors.Checks(), id)
}

func run(t *testing.T, c check.Check, target *check.Target) check.Result {
	t.Helper()
	return checktest.Run(t, c, target, 30*time.Second)
}

func TestAnAllowlistPasses(t *testing.T) {
	srv := httptest.NewServer(fakeAPI(allowlist))
	defer srv.Close()
	target := &check.Target{BaseURL: srv.URL, Prefix: "readiness-good", Shared: &check.Shared{}}
	for _, c := range cors.Checks() {
		if r := run(t, c, target); r.Status != check.Pass {
			t.Errorf("%s = %s (%s); want pass", c.Meta().ID, r.Status, r.Message)
		}
	}
}

func TestEachFlawFailsItsCheck(t *testing.T) {
	echo := func(creds bool, only func(origin string, preflight bool) bool) policy {
		return func(origin string, preflight bool, h http.Header) {
			if origin != "" && only(origin, preflight) {
				h.Set("Access-Control-Allow-Origin", origin)
				if creds {
					h.Set("Access-Control-Allow-Credentials", "true")
				}
			}
		}
	}
	anyOrigin := func(string, bool) bool { return true }
	for _, tt := range []struct {
		name   string
		p      policy
		check  string
		want   check.Status
		origin string // the Origin the failing evidence's request names
	}{
		{"any origin echoed with credentials", echo(true, anyOrigin), "cors.origin-reflection", check.Fail, cors.ForeignOrigin},
		{"null echoed with credentials", echo(true, func(o string, _ bool) bool { return o == "null" }), "cors.null-origin", check.Fail, "null"},
		{"any origin echoed also admits null", echo(true, anyOrigin), "cors.null-origin", check.Fail, "null"},
		{"wildcard with credentials", func(_ string, _ bool, h http.Header) {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Credentials", "true")
		}, "cors.wildcard-credentials", check.Fail, cors.ForeignOrigin},
		{"preflight echoes any origin", echo(true, func(_ string, pre bool) bool { return pre }), "cors.preflight", check.Fail, cors.ForeignOrigin},
		{"preflight echoes null", echo(true, func(o string, pre bool) bool { return pre && o == "null" }), "cors.preflight", check.Fail, "null"},
		{"origin echoed without credentials", echo(false, anyOrigin), "cors.origin-reflection", check.Warn, cors.ForeignOrigin},
		{"wildcard without credentials on a private route", func(_ string, _ bool, h http.Header) {
			h.Set("Access-Control-Allow-Origin", "*")
		}, "cors.wildcard-credentials", check.Warn, cors.ForeignOrigin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(fakeAPI(tt.p))
			defer srv.Close()
			r := run(t, byID(t, tt.check), &check.Target{BaseURL: srv.URL, Prefix: "readiness-flaw"})
			if r.Status != tt.want {
				t.Fatalf("%s = %s (%s); want %s", tt.check, r.Status, r.Message, tt.want)
			}
			var ev *check.Evidence
			for i := range r.Evidence {
				if strings.Contains(r.Evidence[i].Request, "Origin: "+tt.origin) && strings.Contains(r.Evidence[i].Response, "Access-Control-Allow-Origin") {
					ev = &r.Evidence[i]
				}
			}
			if ev == nil {
				t.Fatalf("no evidence shows the exchange from %s: %+v", tt.origin, r.Evidence)
			}
			t.Logf("%s: %s\nrequest:\n%s\nresponse:\n%s\nexpected: %s\nobserved: %s", tt.check, r.Message, ev.Request, ev.Response, ev.Expected, ev.Observed)
			if ev.Expected == "" || ev.Observed == "" || strings.Contains(ev.Request, "fake-token") {
				t.Errorf("evidence %+v: want expected and observed, and no token", ev)
			}
		})
	}
}

func TestWithoutATokenAPassIsOnlyAWarning(t *testing.T) {
	// A target that refuses registration (its auth budget is spent).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/auth/register" {
			w.Header().Set("Retry-After", "900")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	r := run(t, byID(t, "cors.origin-reflection"), &check.Target{BaseURL: srv.URL, Prefix: "readiness-notoken"})
	if r.Status != check.Warn || !strings.Contains(r.Evidence[0].Note, "429") {
		t.Errorf("probe without a token = %s (%s) %+v; want warn naming the refused registration", r.Status, r.Message, r.Evidence)
	}
}
func TestMeta(t *testing.T) {
	checktest.Meta(t, cors.Checks(), checktest.Want{Category: check.CORS,
		IDs: []string{"cors.origin-reflection", "cors.null-origin", "cors.wildcard-credentials", "cors.preflight"}})
}

// Against two instances of the real API behind the balancer, on embedded
// stores, with the default limits, every check passes.
func TestRealAPI(t *testing.T) {
	checktest.RealAPI{Prefix: "readiness-cors-test"}.Passes(t, cors.Checks())
}
