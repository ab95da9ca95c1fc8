package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/internal/syncio"
)

func TestMetricsExposition(t *testing.T) {
	in := newEnv(t).start(t, "RATE_LIMIT_API=3/1m")
	c := in.client(t)
	c.register("Metric")
	task := c.createTask(map[string]any{"title": "m"})
	c.do("GET", "/api/tasks/"+task["_id"].(string), nil)
	c.do("GET", "/api/tasks/0123456789abcdef01234567", nil) // 404 on the same template
	c.do("GET", "/api/tasks", nil)                          // 429: the budget of 3 is spent
	for i := 0; i < 5; i++ {
		c.do("GET", "/scanner/probe/"+strings.Repeat("x", i), nil) // must not grow label sets
	}
	text := metricsText(t, in)

	for _, want := range []string{
		`taskapi_http_requests_total{method="POST",route="/api/auth/register",status_class="2xx"} 1`,
		`taskapi_http_requests_total{method="GET",route="/api/tasks/:id",status_class="2xx"} 1`,
		`taskapi_http_requests_total{method="GET",route="/api/tasks/:id",status_class="4xx"} 1`,
		`taskapi_http_requests_total{method="GET",route="unmatched",status_class="4xx"} 5`,
		`taskapi_http_request_duration_seconds_bucket{method="GET",route="/api/tasks/:id",status_class="2xx",le="+Inf"} 1`,
		`taskapi_http_requests_in_flight 0`, // the scrape is not an API request
		`taskapi_ratelimit_rejections_total{limiter="api"} 1`,
		`taskapi_cache_requests_total{cache="profile",result="miss"} 1`,
		`taskapi_cache_requests_total{cache="profile",result="hit"}`,
		`taskapi_cache_requests_total{cache="profile",result="error"} 0`, // present before any error
		`taskapi_mongo_commands_total{command="insert",outcome="ok"}`,
		`taskapi_mongo_command_duration_seconds_bucket{command="find"`,
		`taskapi_mongo_pool_connections_open`,
		`taskapi_mongo_pool_connections_in_use`,
		`taskapi_mongo_pool_checkout_failures_total{reason="timeout"} 0`, // present before any failure
		`taskapi_mongo_available 1`,
		`taskapi_redis_pool_connections`,
		`taskapi_redis_available 1`,
		`taskapi_redis_command_duration_seconds_bucket{command="get"`,
		`taskapi_redis_commands_total{command="evalsha",outcome="ok"}`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, "scanner") || strings.Contains(text, "0123456789abcdef") {
		t.Error("/metrics has a raw path in a label")
	}
	// The public port does not serve the series: 404 in the API's error
	// shape, like any unknown route.
	res := c.do("GET", "/metrics", nil).expect(t, 404, "")
	if bytes.Contains(res.raw, []byte("go_goroutines")) || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /metrics on the API port = %s %q; want a JSON 404", res.header.Get("Content-Type"), res.raw)
	}
}

func TestAccessLogs(t *testing.T) {
	var buf syncio.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	in := newEnv(t).startLogged(t, log)
	c := in.client(t)
	c.register("Logger")
	c.do("POST", "/api/auth/login", map[string]string{"email": "nobody@example.com", "password": "hunter2-secret"})
	r := c.do("GET", "/api/tasks?search=private-words", nil, "X-Request-ID", "req-123", "Cookie", "token=cookie-value")

	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		lines = append(lines, line)
	}
	i := slices.IndexFunc(lines, func(l map[string]any) bool { return l["request_id"] == "req-123" })
	if i < 0 {
		t.Fatalf("no log line for request req-123 in:\n%s", buf.String())
	}
	got := lines[i]
	for k, want := range map[string]any{"msg": "request", "method": "GET", "route": "/api/tasks", "path": "/api/tasks", "status": float64(r.status)} {
		if got[k] != want {
			t.Errorf("log %s = %v; want %v", k, got[k], want)
		}
	}
	if _, ok := got["latency_ms"].(float64); !ok {
		t.Errorf("log line lacks latency_ms: %v", got)
	}
	for _, secret := range []string{"secret123", "hunter2-secret", c.token, "cookie-value", "private-words", testSecret, "$2a$"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

func TestIndexesAreCreatedIdempotently(t *testing.T) {
	e := newEnv(t)
	e.start(t)
	e.start(t) // a second instance on the same database must start too
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := e.mongoClient(t)
	db := client.Database(e.db)

	indexKeys := func(coll string) map[string]bson.Raw {
		cur, err := db.Collection(coll).Indexes().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var specs []struct {
			Name   string   `bson:"name"`
			Key    bson.Raw `bson:"key"`
			Unique bool     `bson:"unique"`
		}
		if err := cur.All(ctx, &specs); err != nil {
			t.Fatal(err)
		}
		out := map[string]bson.Raw{}
		for _, s := range specs {
			if s.Unique {
				s.Name += " (unique)"
			}
			out[s.Name] = s.Key
		}
		return out
	}
	users, tasks := indexKeys("users"), indexKeys("tasks")
	if k, ok := users["email_unique (unique)"]; !ok || norm(k.String()) != `{"email":{"$numberInt":"1"}}` {
		t.Errorf("users indexes = %v; want a unique index on email", users)
	}
	for name, key := range map[string]string{"user_createdAt": `{"user": {"$numberInt":"1"},"createdAt": {"$numberInt":"-1"}}`, "user_status_createdAt": `{"user": {"$numberInt":"1"},"status": {"$numberInt":"1"},"createdAt": {"$numberInt":"-1"}}`} {
		got, ok := tasks[name]
		if !ok {
			t.Errorf("tasks lacks index %s (has %v)", name, tasks)
			continue
		}
		if norm(got.String()) != norm(key) {
			t.Errorf("index %s key = %s; want %s", name, got, key)
		}
	}

	// The unique index decides a registration race. The server's errors
	// are kept so that a 5xx says what the store answered.
	var errs syncio.Buffer
	c := e.startLogged(t, slog.New(slog.NewTextHandler(&errs, &slog.HandlerOptions{Level: slog.LevelError}))).client(t)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	bodies := make([]string, len(statuses))
	for i := range statuses {
		wg.Go(func() {
			r := c.do("POST", "/api/auth/register", map[string]string{"name": "Race", "email": "race@example.com", "password": "secret123"})
			statuses[i], bodies[i] = r.status, string(r.raw)
		})
	}
	wg.Wait()
	if n := count(statuses, 201); n != 1 || count(statuses, 400) != len(statuses)-1 {
		t.Errorf("concurrent registrations of one email: statuses %v (bodies %q); want one 201 and the rest 400; server errors:\n%s",
			statuses, bodies, errs.String())
	}
}

func norm(s string) string { return strings.ReplaceAll(s, " ", "") }

func count(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

// TestReplacedIndexesAreDropped: a database indexed by an earlier version
// loses the index no query uses any more once its replacement exists.
func TestReplacedIndexesAreDropped(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := e.mongoClient(t)
	tasks := client.Database(e.db).Collection("tasks")
	if _, err := tasks.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "user", Value: 1}, {Key: "status", Value: 1}}, Options: options.Index().SetName("user_status"),
	}); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	cur, err := tasks.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var specs []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range specs {
		names[s.Name] = true
	}
	if names["user_status"] || !names["user_status_createdAt"] {
		t.Errorf("tasks indexes %v; want user_status replaced by user_status_createdAt", names)
	}
}
