package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/embedded"
)

func TestAuthLimitIsSharedAcrossInstances(t *testing.T) {
	e := newEnv(t)
	a := e.start(t, "RATE_LIMIT_AUTH=5/15m")
	b := e.start(t, "RATE_LIMIT_AUTH=5/15m")
	ca, cb := a.client(t), b.client(t)
	login := map[string]string{"email": "someone@example.com", "password": "wrong-password"}
	for i := 1; i <= 5; i++ {
		c := ca
		if i%2 == 0 {
			c = cb
		}
		r := c.do("POST", "/api/auth/login", login).expect(t, 401, "Invalid email or password")
		if got, want := r.header.Get("RateLimit-Remaining"), strconv.Itoa(5-i); got != want {
			t.Errorf("attempt %d: RateLimit-Remaining = %q; want %q (one budget for both instances)", i, got, want)
		}
		if r.header.Get("RateLimit-Limit") != "5" || r.header.Get("RateLimit-Reset") == "" {
			t.Errorf("attempt %d: RateLimit headers = %v", i, r.header)
		}
	}
	r := cb.do("POST", "/api/auth/login", login).expect(t, 429, "Too many authentication attempts, please try again later")
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 900 {
		t.Errorf("Retry-After = %q; want seconds in (0, 900]", r.header.Get("Retry-After"))
	}
	// The other instance agrees, and so does registration from this client.
	ca.do("POST", "/api/auth/register", map[string]string{"name": "N", "email": "n@example.com", "password": "secret123"}).expect(t, 429, "")
}

func TestAuthLimitKeysClientAndEmail(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, "RATE_LIMIT_AUTH=3/15m", "TRUSTED_PROXIES=127.0.0.1")
	c := in.client(t)
	// One account attacked from many addresses: the email key stops it.
	for i := 1; i <= 3; i++ {
		c.do("POST", "/api/auth/login", map[string]string{"email": "target@example.com", "password": "guess"}, "X-Forwarded-For", "203.0.113."+strconv.Itoa(i)).expect(t, 401, "")
	}
	c.do("POST", "/api/auth/login", map[string]string{"email": "target@example.com", "password": "guess"}, "X-Forwarded-For", "203.0.113.99").expect(t, 429, "")
	// Many accounts from one address: the client key stops it.
	for i := 1; i <= 3; i++ {
		c.do("POST", "/api/auth/login", map[string]string{"email": "u" + strconv.Itoa(i) + "@example.com", "password": "guess"}, "X-Forwarded-For", "198.51.100.7").expect(t, 401, "")
	}
	c.do("POST", "/api/auth/login", map[string]string{"email": "fresh@example.com", "password": "guess"}, "X-Forwarded-For", "198.51.100.7").expect(t, 429, "")
}

func TestAPILimitIsPerUserAcrossInstances(t *testing.T) {
	e := newEnv(t)
	a := e.start(t, "RATE_LIMIT_API=4/1m")
	b := e.start(t, "RATE_LIMIT_API=4/1m")
	alice, bob := a.client(t), b.client(t)
	alice.register("Alice")
	bob.register("Bob")
	aliceOnB := b.client(t)
	aliceOnB.token = alice.token

	alice.do("GET", "/api/tasks", nil).expect(t, 200, "")
	aliceOnB.do("GET", "/api/auth/profile", nil).expect(t, 200, "")
	alice.do("GET", "/api/tasks", nil).expect(t, 200, "")
	aliceOnB.do("GET", "/api/tasks", nil).expect(t, 200, "")
	r := alice.do("GET", "/api/tasks", nil).expect(t, 429, "Too many requests, please try again later")
	if r.header.Get("Retry-After") == "" || r.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("429 headers = %v", r.header)
	}
	bob.do("GET", "/api/tasks", nil).expect(t, 200, "") // another user's budget is untouched
}

func TestRedisDownKeepsServing(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, "RATE_LIMIT_API=8/1m")
	c := in.client(t)
	c.register("Resilient")
	c.createTask(map[string]any{"title": "before the outage"})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.redis.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	c.do("GET", "/api/tasks", nil).expect(t, 200, "")
	c.createTask(map[string]any{"title": "during the outage"})
	c.do("GET", "/api/auth/profile", nil).expect(t, 200, "")
	other := in.client(t)
	other.register("NewDuringOutage")
	other.do("POST", "/api/auth/login", map[string]string{"email": "nobody@example.com", "password": "x123456"}).expect(t, 401, "")

	ready := c.do("GET", "/readyz", nil).expect(t, 200, "")
	redisCheck := ready.obj("checks")["redis:responseTime"].([]any)[0].(map[string]any)
	if ready.str("status") != "warn" || redisCheck["status"] != "fail" {
		t.Errorf("/readyz with Redis down = %s; want status warn, redis fail", ready.raw)
	}
	if m := metricsText(t, in); !strings.Contains(m, "taskapi_redis_available 0") || !strings.Contains(m, `taskapi_ratelimit_fallback_total{limiter="api"}`) {
		t.Errorf("/metrics does not show the outage")
	}
	// The per-instance fallback still enforces the budget.
	limited := false
	for i := 0; i < 10 && !limited; i++ {
		limited = c.do("GET", "/api/tasks", nil).status == 429
	}
	if !limited {
		t.Error("no 429 within 10 requests on an 8/1m budget while Redis was down")
	}

	if err := e.redis.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "readyz back to pass", func() bool {
		return c.do("GET", "/readyz", nil).str("status") == "pass"
	})
}

// metricsText scrapes the instance's metrics listener, where /metrics
// lives (the API port answers it 404).
func metricsText(t *testing.T, in *instance) string {
	t.Helper()
	res, err := http.Get(in.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics = %d, %v", in.metrics, res.StatusCode, err)
	}
	return string(body)
}

func TestMongoDownAndBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := embedded.StartMongo(ctx, t.TempDir(), embedded.MongoLogger(discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	e := newEnv(t)
	// Without the guard and the breaker a request would wait out server
	// selection, here 20s rather than the default 3s, so that the bounds
	// below (5s) are far above what they take on a busy machine and far
	// below what they save.
	e.mongoURI = m.URI() + "&serverSelectionTimeoutMS=20000"
	if !strings.Contains(m.URI(), "?") {
		e.mongoURI = m.URI() + "?serverSelectionTimeoutMS=20000"
	}
	in := e.start(t, "REQUEST_TIMEOUT=20s")
	c := in.client(t)
	c.register("Outage")
	c.createTask(map[string]any{"title": "survives"})
	c.do("GET", "/readyz", nil).expect(t, 200, "")

	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// The first request after the loss: the driver finds its connection
	// gone and would wait out server selection for another server; the
	// guard abandons that wait once the driver reports no primary.
	start := time.Now()
	first := c.do("GET", "/api/tasks", nil).expect(t, 503, "Service temporarily unavailable, please retry")
	if took := time.Since(start); took > 5*time.Second || first.header.Get("Retry-After") == "" {
		t.Errorf("the first request after MongoDB stopped: 503 in %s, Retry-After %q; want it within 5s, with Retry-After", took, first.header.Get("Retry-After"))
	}
	// Each readiness probe is bounded by its own timeout (1s).
	start = time.Now()
	r := c.do("GET", "/readyz", nil)
	if took := time.Since(start); r.status != 503 || took > 5*time.Second {
		t.Fatalf("/readyz right after MongoDB stopped = %d in %s; want 503 within 5s", r.status, took)
	}
	mongoCheck := r.obj("checks")["mongodb:responseTime"].([]any)[0].(map[string]any)
	if r.str("status") != "fail" || mongoCheck["status"] != "fail" {
		t.Errorf("/readyz = %s", r.raw)
	}
	// Requests fail cleanly: a retryable 503, never a 500 or a hang.
	c.do("GET", "/api/tasks", nil).expect(t, 503, "Service temporarily unavailable, please retry")
	c.do("GET", "/api/health", nil).expect(t, 200, "") // liveness does not depend on the stores
	// Once the breaker is open they fail at once: without it each waited
	// out server selection. The bound is far above a breaker's answer
	// (about a millisecond) and far below that wait.
	for i := range 10 {
		start := time.Now()
		path := "/api/tasks"
		if i%2 == 1 {
			path = "/api/auth/login"
		}
		var body any
		if path == "/api/auth/login" {
			body = map[string]string{"email": "outage@example.com", "password": "secret123"}
		}
		r := c.do(map[bool]string{true: "POST", false: "GET"}[body != nil], path, body).expect(t, 503, "Service temporarily unavailable, please retry")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s while MongoDB is down took %s; want a fast 503 from the breaker", path, took)
		}
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 5 {
			t.Errorf("%s: Retry-After = %q; want 1 to 5 seconds", path, r.header.Get("Retry-After"))
		}
	}

	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 15*time.Second, "readyz 200 after MongoDB is back", func() bool {
		return c.do("GET", "/readyz", nil).status == 200
	})
	t.Logf("readyz recovered %s after MongoDB restarted", took.Round(time.Millisecond))
	if got := taskTitles(c.do("GET", "/api/tasks", nil).expect(t, 200, "")); len(got) != 1 || got[0] != "survives" {
		t.Errorf("tasks after recovery = %v", got)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	e := newEnv(t)
	// bcrypt at cost 12 makes registration take a few hundred
	// milliseconds (seconds under the race detector): a real slow request
	// to be caught in flight. The request deadline must outlast it.
	in := e.start(t, "BCRYPT_COST=12", "REQUEST_TIMEOUT=2m")

	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := net.Dial("tcp", strings.TrimPrefix(in.base, "http://"))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		body := `{"name":"Slow","email":"slow@example.com","password":"secret123"}`
		_, _ = conn.Write([]byte("POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			done <- result{err: err}
			return
		}
		status, _ := strconv.Atoi(strings.Fields(line)[1])
		done <- result{status: status}
	}()
	eventually(t, 5*time.Second, "the registration to be in flight", func() bool {
		return strings.Contains(metricsText(t, in), "taskapi_http_requests_in_flight 1") // the registration; the scrape is not counted
	})

	var wg sync.WaitGroup
	var shutdownErr error
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shutdownErr = in.Shutdown(ctx)
	})
	res := <-done
	wg.Wait()
	if res.err != nil || res.status != 201 {
		t.Fatalf("in-flight registration = %d, %v; want 201", res.status, res.err)
	}
	if shutdownErr != nil {
		t.Errorf("Shutdown = %v", shutdownErr)
	}
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(in.base, "http://"), time.Second); err == nil {
		conn.Close()
		t.Error("the listener still accepts connections after shutdown")
	}
}

func TestRequestsWithoutAUsableTokenAreLimitedByAddress(t *testing.T) {
	in := newEnv(t).start(t, "RATE_LIMIT_API=3/1m")
	anon := in.client(t)
	for i := 1; i <= 3; i++ {
		r := anon.do("GET", "/api/tasks", nil).expect(t, 401, "Not authorized, no token provided")
		if got, want := r.header.Get("RateLimit-Remaining"), strconv.Itoa(3-i); got != want {
			t.Errorf("refusal %d: RateLimit-Remaining = %q; want %q", i, got, want)
		}
	}
	anon.token = "guessed.token.value"
	anon.do("GET", "/api/tasks", nil).expect(t, 429, "Too many requests, please try again later")

	// A signed-in user's budget is their own.
	c := in.client(t)
	c.register("Unaffected")
	c.do("GET", "/api/tasks", nil).expect(t, 200, "")
}
