package health_test

import (
	"context"
	"crypto/rand"
	stdbuildinfo "debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/health"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/internal/buildinfo"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// flaws switch one deliberate defect on in the fake API.
type flaws struct {
	publicMetrics       bool // the API's port serves /metrics too
	healthz500          bool
	healthzAsksMongo    bool // liveness runs a MongoDB command
	healthzNeedsMongo   bool // liveness fails while MongoDB is down
	readyzType          string
	readyzNoStatus      bool
	readyzNoChecks      bool
	readyzNoRedis       bool
	readyzLeaks         bool
	readyzAlways200     bool // readiness answers 200 even when it says fail
	readyzFailsOnRedis  bool // readiness 503 when Redis is down
	readyzIgnoresRedis  bool // readiness says pass when Redis is down
	apiNeedsRedis       bool // authenticated requests 500 without Redis
	mongoNeverRecovers  bool // readiness stays 503 after MongoDB returns
	dropSeries          string
	garbageMetrics      bool
	rawPathLabels       bool
	noRequestID         bool
	replacesPlainID     bool
	echoesUnsafeID      bool
	mongoDownOnStart    bool
	readyzStatusOnlyTxt bool // status field with the wrong value
	authSpent           bool // registration is refused while Redis counts it
}

// fake is the API and its stores, which the fake environment toggles.
type fake struct {
	f        flaws
	mongoUp  atomic.Bool
	redisUp  atomic.Bool
	everDown atomic.Bool
	commands atomic.Int64
	mu       sync.Mutex
	routes   map[string]int
}

func newFake(f flaws) *fake {
	k := &fake{f: f, routes: map[string]int{}}
	k.mongoUp.Store(!f.mongoDownOnStart)
	k.redisUp.Store(true)
	return k
}

func (k *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := k.f
	id := r.Header.Get("X-Request-ID")
	plain := id != "" && len(id) <= 64 && !strings.ContainsAny(id, " <>")
	switch {
	case f.noRequestID:
	case f.echoesUnsafeID && id != "":
		w.Header().Set("X-Request-ID", id)
	case plain && !f.replacesPlainID:
		w.Header().Set("X-Request-ID", id)
	default:
		var b [8]byte
		_, _ = rand.Read(b[:])
		w.Header().Set("X-Request-ID", hex.EncodeToString(b[:]))
	}
	route := r.URL.Path
	if !f.rawPathLabels && strings.HasPrefix(route, "/api/tasks/") {
		route = "/api/tasks/:id"
	} else if !f.rawPathLabels && !slices.Contains([]string{"/healthz", "/readyz", "/metrics", "/api/health", "/api/tasks", "/api/auth/profile", "/api/auth/register"}, route) {
		route = "unmatched"
	}
	defer func() {
		k.mu.Lock()
		k.routes[route]++
		k.mu.Unlock()
	}()
	mongo, redis := k.mongoUp.Load(), k.redisUp.Load()
	reply := func(status int, ctype string, v any) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	const js = "application/json; charset=utf-8"
	switch r.URL.Path {
	case "/healthz":
		if f.healthzAsksMongo {
			k.commands.Add(1)
		}
		if f.healthz500 || f.healthzNeedsMongo && !mongo {
			reply(500, js, map[string]string{"status": "fail"})
			return
		}
		reply(200, js, map[string]string{"status": "pass"})
	case "/readyz":
		k.commands.Add(1)
		if !mongo {
			k.everDown.Store(true)
		}
		mongoOK := mongo && !(f.mongoNeverRecovers && k.everDown.Load())
		st := func(ok bool) string {
			if ok {
				return "pass"
			}
			return "fail"
		}
		status, code := "pass", 200
		switch {
		case !mongoOK && f.readyzAlways200:
			status = "fail"
		case !mongoOK:
			status, code = "fail", 503
		case !redis && f.readyzFailsOnRedis:
			status, code = "fail", 503
		case !redis && !f.readyzIgnoresRedis:
			status = "warn"
		}
		checks := map[string]any{
			"mongodb:responseTime": []map[string]any{{"componentType": "datastore", "observedValue": 0.4, "status": st(mongoOK)}},
			"redis:responseTime":   []map[string]any{{"componentType": "cache", "observedValue": 0.2, "status": st(redis)}},
		}
		if f.readyzNoRedis {
			delete(checks, "redis:responseTime")
		}
		if f.readyzLeaks {
			checks["mongodb:responseTime"] = []map[string]any{{"status": "pass", "output": "mongodb://admin:hunter2@db-0.internal:27017"}}
		}
		body := map[string]any{"status": status, "checks": checks}
		if f.readyzNoStatus {
			delete(body, "status")
		}
		if f.readyzStatusOnlyTxt {
			body["status"] = "healthy"
		}
		if f.readyzNoChecks {
			delete(body, "checks")
		}
		reply(code, or(f.readyzType, "application/health+json"), body)
	case "/metrics":
		if !f.publicMetrics {
			reply(404, js, map[string]string{"message": "Route not found"})
			return
		}
		k.serveMetrics(w)
	case "/api/auth/register":
		if f.authSpent && redis {
			w.Header().Set("Retry-After", "900")
			reply(429, js, map[string]string{"message": "Too many authentication attempts"})
			return
		}
		reply(201, js, map[string]any{"token": "fake-token", "user": map[string]string{"id": "u1"}})
	case "/api/auth/profile", "/api/tasks":
		if r.Header.Get("Authorization") != "Bearer fake-token" {
			reply(401, js, map[string]string{"message": "Not authorized"})
			return
		}
		if !mongo || f.apiNeedsRedis && !redis {
			reply(500, js, map[string]string{"message": "Internal server error"})
			return
		}
		reply(200, js, map[string]any{"count": 0, "tasks": []any{}})
	default:
		reply(404, js, map[string]string{"message": "Route not found"})
	}
}

// metrics renders the families the API exposes, less the dropped one.
func (k *fake) metrics() string {
	var b strings.Builder
	family := func(name, typ, body string) {
		if name == k.f.dropSeries {
			return
		}
		fmt.Fprintf(&b, "# HELP %s fake\n# TYPE %s %s\n%s", name, name, typ, body)
	}
	k.mu.Lock()
	var reqs strings.Builder
	for _, route := range slices.Sorted(func(yield func(string) bool) {
		for r := range k.routes {
			if !yield(r) {
				return
			}
		}
	}) {
		fmt.Fprintf(&reqs, "taskapi_http_requests_total{method=\"GET\",route=%q,status_class=\"2xx\"} %d\n", route, k.routes[route])
	}
	k.mu.Unlock()
	hist := func(name string) string {
		return fmt.Sprintf("%s_bucket{le=\"0.1\"} 1\n%s_bucket{le=\"+Inf\"} 1\n%s_sum 0.01\n%s_count 1\n", name, name, name, name)
	}
	family("taskapi_http_requests_total", "counter", reqs.String())
	family("taskapi_http_request_duration_seconds", "histogram", hist("taskapi_http_request_duration_seconds"))
	family("taskapi_http_requests_in_flight", "gauge", "taskapi_http_requests_in_flight 1\n")
	family("taskapi_mongo_commands_total", "counter", fmt.Sprintf("taskapi_mongo_commands_total{command=\"ping\",outcome=\"ok\"} %d\n", k.commands.Load()))
	family("taskapi_mongo_command_duration_seconds", "histogram", hist("taskapi_mongo_command_duration_seconds"))
	family("taskapi_mongo_pool_connections_open", "gauge", "taskapi_mongo_pool_connections_open 2\n")
	family("taskapi_mongo_pool_connections_in_use", "gauge", "taskapi_mongo_pool_connections_in_use 0\n")
	family("taskapi_redis_available", "gauge", "taskapi_redis_available 1\n")
	family("taskapi_redis_pool_connections", "gauge", "taskapi_redis_pool_connections 1\n")
	family("taskapi_ratelimit_rejections_total", "counter", "taskapi_ratelimit_rejections_total{limiter=\"auth\"} 0\n")
	family("taskapi_cache_requests_total", "counter", "taskapi_cache_requests_total{cache=\"profile\",result=\"hit\"} 3\n")
	family("go_goroutines", "gauge", "go_goroutines 12\n")
	family("go_gc_duration_seconds", "summary", "go_gc_duration_seconds{quantile=\"0.5\"} 0.0001\ngo_gc_duration_seconds_sum 0.001\ngo_gc_duration_seconds_count 4\n")
	family("go_memstats_heap_alloc_bytes", "gauge", "go_memstats_heap_alloc_bytes 1e+06\n")
	family("process_cpu_seconds_total", "counter", "process_cpu_seconds_total 0.5\n")
	family("process_resident_memory_bytes", "gauge", "process_resident_memory_bytes 2e+07\n")
	family("process_open_fds", "gauge", "process_open_fds 9\n")
	return b.String()
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// fakeEnv stops and starts the fake's stores.
type fakeEnv struct {
	k    *fake
	apis []string
	log  []string
	mu   sync.Mutex
}

func (e *fakeEnv) Apply(_ context.Context, component, action string) error {
	e.mu.Lock()
	e.log = append(e.log, action+" "+component)
	e.mu.Unlock()
	var store *atomic.Bool
	switch component {
	case "mongo-0":
		store = &e.k.mongoUp
	case "redis-primary":
		store = &e.k.redisUp
	default:
		return fmt.Errorf("no component %s", component)
	}
	switch action {
	case "stop":
		store.Store(false)
	case "start":
		store.Store(true)
	default:
		return fmt.Errorf("unknown action %s", action)
	}
	return nil
}

func (e *fakeEnv) Components() []string { return []string{"mongo-0", "redis-primary", "api-1"} }
func (e *fakeEnv) APITargets() []string { return e.apis }

// serve starts the fake and returns a target with its environment.
// serveMetrics writes the fake's series, as the API's metrics listener
// does.
func (k *fake) serveMetrics(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if k.f.garbageMetrics {
		_, _ = w.Write([]byte("<html>metrics are here</html>\n"))
		return
	}
	_, _ = w.Write([]byte(k.metrics()))
}

// serve runs the fake API and, on a listener of its own as METRICS_ADDR
// has it, its /metrics.
func serve(t *testing.T, f flaws) (*check.Target, *fakeEnv) {
	t.Helper()
	k := newFake(f)
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	msrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		k.serveMetrics(w)
	}))
	t.Cleanup(msrv.Close)
	e := &fakeEnv{k: k, apis: []string{srv.URL}}
	return &check.Target{BaseURL: srv.URL, MetricsURL: msrv.URL + "/metrics", Env: e, Prefix: "readiness-health", Shared: &check.Shared{}}, e
}

func byID(t *testing.T, id string) check.Check {
	t.Helper()
	return checktest.ByID(t, health.Checks(), id)
}

func run(t *testing.T, c check.Check, target *check.Target) check.Result {
	t.Helper()
	return checktest.Run(t, c, target, 2*time.Minute)
}

func TestAWellBehavedAPIPasses(t *testing.T) {
	target, e := serve(t, flaws{})
	for _, c := range health.Checks() {
		if r := run(t, c, target); r.Status != check.Pass {
			t.Errorf("%s = %s (%s); want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
	want := []string{"stop mongo-0", "start mongo-0", "stop redis-primary", "start redis-primary"}
	if !slices.Equal(e.log, want) {
		t.Errorf("environment actions %v; want %v", e.log, want)
	}
}

func TestEachFlawFailsItsCheck(t *testing.T) {
	for _, tt := range []struct {
		name  string
		f     flaws
		check string
		want  check.Status
		say   string // in the message
	}{
		{"liveness 500", flaws{healthz500: true}, "health.liveness", check.Fail, "500"},
		{"liveness asks MongoDB", flaws{healthzAsksMongo: true}, "health.liveness", check.Warn, "MongoDB saw"},
		{"readiness as plain JSON", flaws{readyzType: "application/json"}, "health.readiness-report", check.Fail, "not application/health+json"},
		{"readiness without status", flaws{readyzNoStatus: true}, "health.readiness-report", check.Fail, "no status"},
		{"readiness with an unknown status", flaws{readyzStatusOnlyTxt: true}, "health.readiness-report", check.Fail, "healthy"},
		{"readiness without checks", flaws{readyzNoChecks: true}, "health.readiness-report", check.Fail, "no checks"},
		{"readiness without Redis", flaws{readyzNoRedis: true}, "health.readiness-report", check.Fail, "no checks entry for redis"},
		{"readiness leaks a connection string", flaws{readyzLeaks: true}, "health.readiness-report", check.Fail, "URL"},
		{"readiness fail with 200", flaws{readyzAlways200: true, mongoDownOnStart: true}, "health.readiness-report", check.Fail, "status fail with HTTP 200"},
		{"metrics missing a series", flaws{dropSeries: "taskapi_http_requests_total"}, "health.metrics", check.Fail, "no taskapi_http_requests_total"},
		{"metrics missing the process collector", flaws{dropSeries: "process_resident_memory_bytes"}, "health.metrics", check.Fail, "process_resident_memory_bytes"},
		{"metrics not Prometheus text", flaws{garbageMetrics: true}, "health.metrics", check.Fail, "not the Prometheus text format"},
		{"metrics labelled by raw path", flaws{rawPathLabels: true}, "health.metrics", check.Fail, "raw path"},
		{"metrics on the public port", flaws{publicMetrics: true}, "health.metrics-not-public", check.Fail, "anyone can read the metrics"},
		{"no request id", flaws{noRequestID: true}, "health.request-id", check.Fail, "no X-Request-ID"},
		{"caller's id replaced", flaws{replacesPlainID: true}, "health.request-id", check.Fail, "replaced"},
		{"unsafe id echoed", flaws{echoesUnsafeID: true}, "health.request-id", check.Warn, "verbatim"},
		{"readiness always 200", flaws{readyzAlways200: true}, "health.mongo-outage", check.Fail, "did not turn 503"},
		{"liveness needs MongoDB", flaws{healthzNeedsMongo: true}, "health.mongo-outage", check.Fail, "/healthz failed"},
		{"readiness never recovers", flaws{mongoNeverRecovers: true}, "health.mongo-outage", check.Fail, "did not recover"},
		{"readiness fails on a Redis outage", flaws{readyzFailsOnRedis: true}, "health.redis-outage", check.Fail, "503"},
		{"readiness ignores Redis", flaws{readyzIgnoresRedis: true}, "health.redis-outage", check.Fail, "did not say warn"},
		{"API fails without Redis", flaws{apiNeedsRedis: true}, "health.redis-outage", check.Fail, "fails instead of degrading"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // some wait out a deadline
			target, e := serve(t, tt.f)
			r := run(t, byID(t, tt.check), target)
			if r.Status != tt.want {
				t.Fatalf("%s = %s (%s); want %s", tt.check, r.Status, r.Message, tt.want)
			}
			if !strings.Contains(r.Message, tt.say) {
				t.Errorf("message %q; want it to say %q", r.Message, tt.say)
			}
			if len(r.Evidence) == 0 {
				t.Fatal("no evidence")
			}
			for _, ev := range r.Evidence {
				if ev.Request == "" || ev.Response == "" || ev.Expected == "" || ev.Observed == "" {
					t.Errorf("incomplete evidence %+v", ev)
				}
			}
			last := r.Evidence[len(r.Evidence)-1]
			t.Logf("%s: %s\nrequest:\n%s\nresponse:\n%s\nexpected: %s\nobserved: %s", tt.check, r.Message, last.Request, last.Response, last.Expected, last.Observed)
			// Whatever happened, what was stopped was started again.
			if (!e.k.mongoUp.Load() && !tt.f.mongoDownOnStart) || !e.k.redisUp.Load() {
				t.Errorf("the check left a store stopped: %v", e.log)
			}
		})
	}
}

func TestDisruptiveChecksNeedAnEnvironment(t *testing.T) {
	target, _ := serve(t, flaws{})
	target.Env = nil
	for _, id := range []string{"health.mongo-outage", "health.redis-outage"} {
		r := run(t, byID(t, id), target)
		if r.Status != check.NotApplicable || !strings.Contains(r.Message, "managed environment") {
			t.Errorf("%s without an environment = %s (%s); want not_applicable naming the environment", id, r.Status, r.Message)
		}
	}
}

func TestAFaultThatCannotBeUndoneIsAnError(t *testing.T) {
	target, e := serve(t, flaws{})
	target.Env = &stuckEnv{fakeEnv: e}
	r := run(t, byID(t, "health.mongo-outage"), target)
	if r.Status != check.Error || !strings.Contains(r.Message, "left degraded") {
		t.Errorf("a store that cannot start = %s (%s); want error saying the environment is degraded", r.Status, r.Message)
	}
}

// stuckEnv stops but cannot start.
type stuckEnv struct{ *fakeEnv }

func (s *stuckEnv) Apply(ctx context.Context, component, action string) error {
	if action == "start" {
		return fmt.Errorf("start %s: engine gone", component)
	}
	return s.fakeEnv.Apply(ctx, component, action)
}

func TestARedisOutageAfterTheAuthBurstStillGetsItsUser(t *testing.T) {
	target, _ := serve(t, flaws{authSpent: true})
	r := run(t, byID(t, "health.redis-outage"), target)
	if r.Status != check.Pass {
		t.Fatalf("redis-outage with the auth budget spent = %s (%s); want pass", r.Status, r.Message)
	}
	var noted bool
	for _, ev := range r.Evidence {
		noted = noted || strings.Contains(ev.Note, "registered during the outage")
	}
	if !noted {
		t.Errorf("no evidence says where the user came from: %+v", r.Evidence)
	}
}

// TestMetricsNotPublicStatuses: the public port may refuse /metrics as
// unknown, unauthenticated or forbidden; anything else fails, Prometheus
// text most of all.
func TestMetricsNotPublicStatuses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   check.Status
		say    string
	}{
		{"404", 404, `{"message":"Route not found"}`, check.Pass, "404"},
		{"401", 401, `{"message":"Not authorized"}`, check.Pass, "401"},
		{"403", 403, `{"message":"Forbidden"}`, check.Pass, "403"},
		{"200 Prometheus text", 200, "# TYPE go_info gauge\ngo_info{version=\"go1.26.0\"} 1\n", check.Fail, "go_info"},
		{"200 something else", 200, "<html>hello</html>", check.Fail, "not 404, 401 or 403"},
		{"500", 500, `{"message":"Internal server error"}`, check.Fail, "500"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			r := run(t, byID(t, "health.metrics-not-public"), &check.Target{BaseURL: srv.URL})
			if r.Status != tt.want || !strings.Contains(r.Message, tt.say) {
				t.Fatalf("= %s (%s); want %s saying %q", r.Status, r.Message, tt.want, tt.say)
			}
			if len(r.Evidence) == 0 {
				t.Error("no evidence")
			}
		})
	}
}

// TestMetricsWithoutAURLIsNotApplicable: against a deployment given no
// -metrics-url, the metrics check says why it cannot run.
func TestMetricsWithoutAURLIsNotApplicable(t *testing.T) {
	target, _ := serve(t, flaws{})
	target.MetricsURL = ""
	r := run(t, byID(t, "health.metrics"), target)
	if r.Status != check.NotApplicable || !strings.Contains(r.Message, "METRICS_ADDR") {
		t.Fatalf("= %s (%s); want not applicable, naming METRICS_ADDR", r.Status, r.Message)
	}
}

// The outage checks are disruptive and last; the Redis outage is a Redis
// finding.
func TestMeta(t *testing.T) {
	checktest.Meta(t, health.Checks(), checktest.Want{
		IDs: []string{"health.liveness", "health.readiness-report", "health.metrics", "health.metrics-not-public", "health.request-id",
			"health.mongo-outage", "health.redis-outage"},
		Disruptive: []string{"health.mongo-outage", "health.redis-outage"}})
}

// Against two instances of the real API behind the balancer, on embedded
// stores, with the default limits, every check passes, the disruptive
// ones alone after the others, and the environment is whole again after
// them: every instance ready, both stores in.
func TestRealAPI(t *testing.T) {
	target, _ := checktest.RealAPI{Prefix: "readiness-health-test"}.Passes(t, health.Checks())
	for _, api := range target.Env.APITargets() {
		r := run(t, byID(t, "health.readiness-report"), &check.Target{BaseURL: api})
		if r.Status != check.Pass {
			t.Errorf("%s after the faults: %s (%s)", api, r.Status, r.Message)
		}
	}
	// The API names the build it runs, exactly as the binary records it.
	bi, err := stdbuildinfo.ReadFile(checktest.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	want := buildinfo.From(bi)
	if want.Revision == "" {
		want.Revision = buildinfo.Unknown
	}
	got := health.ReadBuild(context.Background(), target)
	if got.Version != want.Version || got.Revision != want.Revision || !strings.Contains(got.Source, "taskapi_build_info at "+target.MetricsURL) {
		t.Errorf("ReadBuild = %+v; want version %q, revision %q from taskapi_build_info", got, want.Version, want.Revision)
	}
}

// TestReadBuildUnknown: a target that does not tell its build is
// "unknown", with the reason.
func TestReadBuildUnknown(t *testing.T) {
	t.Parallel()
	serve := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			fmt.Fprint(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/metrics"
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tc := range []struct {
		name, metricsURL, why string
	}{
		{"no metrics URL", "", "no metrics URL (-metrics-url)"},
		{"no gauge", serve("# TYPE go_goroutines gauge\ngo_goroutines 7\n"), "has no taskapi_build_info"},
		{"not Prometheus text", serve("<html>hello</html>\n"), "GET http://"},
		{"nothing listens", closed.URL + "/metrics", "GET " + closed.URL + "/metrics: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b := health.ReadBuild(ctx, &check.Target{BaseURL: "http://127.0.0.1:1", MetricsURL: tc.metricsURL, Client: &http.Client{Timeout: 10 * time.Second}})
			if b.Version != buildinfo.Unknown || b.Revision != buildinfo.Unknown || !strings.Contains(b.Source, tc.why) {
				t.Errorf("ReadBuild = %+v; want unknown because %q", b, tc.why)
			}
		})
	}
	if b := health.ReadBuild(context.Background(), nil); b.Revision != buildinfo.Unknown {
		t.Errorf("ReadBuild(nil) = %+v", b)
	}
}
