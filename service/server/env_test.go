package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/internal/testserver"
	"github.com/taskready/taskready/service/config"
	"github.com/taskready/taskready/service/redis"
	"github.com/taskready/taskready/service/server"
)

// sharedMongo is one FerretDB for the package; each test gets its own
// database in it, so tests stay independent without paying a start each.
var sharedMongo *embedded.Mongo

func TestMain(m *testing.M) {
	testserver.MainWithMongo("taskapi-test-mongo-", func(db *testserver.Mongo) int {
		sharedMongo = db.Mongo
		redis.SetLogger(discard) // outages are provoked on purpose here
		code := m.Run()
		if code == 0 {
			missing, err := undocumentedAnswers()
			if err != nil || len(missing) > 0 {
				fmt.Fprintf(os.Stderr, "openapi.json does not document answers the API gave: %v %s\n", err, strings.Join(missing, "; "))
				return 1
			}
		}
		return code
	})
}

var discard = slog.New(slog.DiscardHandler)

var dbSeq atomic.Int64

// env is a set of stores that one or more API instances share.
type env struct {
	mongoURI string
	db       string
	redis    *embedded.Redis
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	return &env{
		mongoURI: sharedMongo.URI(),
		db:       fmt.Sprintf("test_%d_%d", os.Getpid(), dbSeq.Add(1)),
		redis:    testserver.Redis(tb),
	}
}

// instance is one running API process (in this process, on a real socket).
type instance struct {
	*server.Server
	base string
	// metrics is the base URL of the instance's metrics listener.
	metrics string
}

// start runs an API instance on a loopback port with test-friendly
// settings (cheap bcrypt, generous limits) overridden by vars.
// mongoClient is a driver client on the env's MongoDB, closed with the test.
func (e *env) mongoClient(tb testing.TB) *mongo.Client {
	tb.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(e.mongoURI))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

func (e *env) start(tb testing.TB, vars ...string) *instance {
	tb.Helper()
	return e.startLogged(tb, discard, vars...)
}

// open opens a server on the env's stores, with vars (KEY=VALUE) over the
// test settings, without serving it.
func (e *env) open(tb testing.TB, log *slog.Logger, vars ...string) *server.Server {
	tb.Helper()
	settings := map[string]string{
		"MONGODB_URI":     e.mongoURI,
		"MONGODB_DB":      e.db,
		"REDIS_URL":       e.redis.URL(),
		"BCRYPT_COST":     "4",
		"RATE_LIMIT_AUTH": "1000/15m",
		"RATE_LIMIT_API":  "10000/15m",
		"JWT_SECRET":      "test-secret-that-is-long-enough-0123456789",
		"LOG_LEVEL":       "error",
	}
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		settings[k] = v
	}
	cfg, err := config.Load(func(k string) string { return settings[k] })
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.Open(ctx, cfg, log)
	if err != nil {
		tb.Fatalf("open server: %v", err)
	}
	return srv
}

// startLogged is start with the instance logging to log.
func (e *env) startLogged(tb testing.TB, log *slog.Logger, vars ...string) *instance {
	tb.Helper()
	return serve(tb, e.open(tb, log, vars...))
}

// serve serves srv on loopback ports until the test ends.
func serve(tb testing.TB, srv *server.Server) *instance {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done, metricsDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	go func() { defer close(metricsDone); _ = srv.ServeMetrics(mln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		<-metricsDone
	})
	return &instance{Server: srv, base: "http://" + ln.Addr().String(), metrics: "http://" + mln.Addr().String()}
}

// client talks to an instance the way the React client does.
type client struct {
	tb    testing.TB
	base  string
	token string
	http  *http.Client
}

// Its timeout only catches a hang: under the race detector on a busy
// machine a bcrypt at production cost alone can take over 10s, and the
// tests judge answers, not their speed.
func (in *instance) client(tb testing.TB) *client {
	return &client{tb: tb, base: in.base, http: &http.Client{Timeout: time.Minute}}
}

// response is what came back, with the body decoded when it is JSON.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r response) str(key string) string {
	v, _ := r.body[key].(string)
	return v
}

func (r response) obj(key string) map[string]any {
	v, _ := r.body[key].(map[string]any)
	return v
}

// do sends method path with body (a string is sent raw as JSON, anything
// else is marshalled; nil sends nothing) and header pairs.
func (c *client) do(method, path string, body any, headers ...string) response {
	c.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	observe(method, path, res.StatusCode)
	out := response{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// expect fails the test unless r has the status and, when given, message.
func (r response) expect(tb testing.TB, status int, message string) response {
	tb.Helper()
	if r.status != status || message != "" && r.str("message") != message {
		tb.Fatalf("got %d %s; want %d %q", r.status, r.raw, status, message)
	}
	return r
}

var userSeq atomic.Int64

// register signs a new user up and keeps their token.
func (c *client) register(name string) (id, email string) {
	c.tb.Helper()
	email = fmt.Sprintf("%s-%d@example.com", strings.ToLower(name), userSeq.Add(1))
	r := c.do("POST", "/api/auth/register", map[string]string{"name": name, "email": email, "password": "secret123"})
	r.expect(c.tb, 201, "User registered successfully")
	c.token = r.str("token")
	return r.obj("user")["id"].(string), email
}

// createTask creates a task and returns it.
func (c *client) createTask(fields map[string]any) map[string]any {
	c.tb.Helper()
	r := c.do("POST", "/api/tasks", fields).expect(c.tb, 201, "Task created successfully")
	return r.obj("task")
}

// eventually polls cond until it holds or the deadline passes; outages
// take effect asynchronously, so a test waits for them, with a bound.
func eventually(tb testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > within {
			tb.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fiberTestConfig gives in-process requests the same patience as a client.
var fiberTestConfig = fiber.TestConfig{Timeout: 10 * time.Second, FailOnTimeout: true}
