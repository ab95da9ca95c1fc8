package embedded_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/internal/testserver"
)

// testCtx returns a context that ends after d or when the test ends.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually calls f every 100 ms until it succeeds, failing the test with
// f's last error when timeout has passed.
func eventually(t *testing.T, timeout time.Duration, f func(ctx context.Context) error) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("still failing after %v: %v", timeout, err)
		case <-tick.C:
		}
	}
}

func startMongo(t *testing.T, ctx context.Context, dir string, opts ...embedded.MongoOption) *embedded.Mongo {
	t.Helper()
	start := time.Now()
	m, err := embedded.StartMongo(ctx, dir, opts...)
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	t.Logf("StartMongo (%s) took %v", m.Backend(), time.Since(start))
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

// postgresBin returns the directory of PostgreSQL's binaries, skipping the
// test if PostgreSQL is not installed unless REQUIRE_POSTGRES=1.
func postgresBin(t *testing.T) string {
	t.Helper()
	if bin := embedded.FindPostgreSQL(); bin != "" {
		return bin
	}
	if os.Getenv("REQUIRE_POSTGRES") == "1" {
		t.Fatal("PostgreSQL (initdb and postgres) not found and REQUIRE_POSTGRES=1")
	}
	t.Skip("PostgreSQL not installed")
	return ""
}

// backends are the ways a Mongo can store its data, for table tests.
var backends = []struct {
	name string
	opts func(t *testing.T) []embedded.MongoOption
	want embedded.MongoBackend
}{
	{"postgresql", func(t *testing.T) []embedded.MongoOption {
		return []embedded.MongoOption{embedded.MongoPostgreSQL(postgresBin(t))}
	}, embedded.PostgreSQL},
	{"sqlite", func(*testing.T) []embedded.MongoOption {
		return []embedded.MongoOption{embedded.MongoSQLite()}
	}, embedded.SQLite},
	{"empty PostgreSQL directory forces sqlite", func(*testing.T) []embedded.MongoOption {
		return []embedded.MongoOption{embedded.MongoPostgreSQL("")}
	}, embedded.SQLite},
}

func mongoClient(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatalf("mongo.Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c
}

type task struct {
	ID    string `bson:"_id"`
	Title string `bson:"title"`
}

func findTask(ctx context.Context, t *testing.T, coll *mongo.Collection, id string) task {
	t.Helper()
	var got task
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
		t.Fatalf("FindOne(%q): %v", id, err)
	}
	return got
}

func TestMongoStopStart(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testMongoStopStart(t, b.opts(t), b.want)
		})
	}
}

func testMongoStopStart(t *testing.T, opts []embedded.MongoOption, want embedded.MongoBackend) {
	ctx := testCtx(t, 60*time.Second)
	m := startMongo(t, ctx, filepath.Join(t.TempDir(), "my data"), opts...) // does not exist yet
	if m.Backend() != want {
		t.Fatalf("Backend() = %v, want %v", m.Backend(), want)
	}
	if m.Fallback() != "" {
		t.Errorf("Fallback() = %q for a backend asked for", m.Fallback())
	}
	uri := m.URI()
	anonymous := "mongodb://" + m.Addr() + "/"
	if want == embedded.PostgreSQL {
		// FerretDB passes the client's credentials on to PostgreSQL,
		// which asks for the cluster's password: the URI carries it, and
		// a client without it is refused.
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		pw, ok := u.User.Password()
		if u.Host != m.Addr() || !ok || len(pw) < 32 || u.Query().Get("authMechanism") != "PLAIN" {
			t.Fatalf("URI() = %q; want the cluster's password, PLAIN, and Addr() %q", uri, m.Addr())
		}
		if err := mongoClient(t, anonymous).Ping(ctx, nil); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
			t.Errorf("ping without credentials: %v; want refused by PostgreSQL", err)
		}
	} else if uri != anonymous {
		t.Fatalf("URI() = %q, Addr() = %q", uri, m.Addr())
	}

	client := mongoClient(t, uri)
	coll := client.Database("taskready").Collection("tasks")
	wantTask := task{ID: "t1", Title: "survive a restart"}
	if _, err := coll.InsertOne(ctx, wantTask); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	if got := findTask(ctx, t, coll, "t1"); got != wantTask {
		t.Fatalf("FindOne = %+v, want %+v", got, wantTask)
	}

	start := time.Now()
	for range 2 { // idempotent
		if err := m.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	t.Logf("Stop took %v", time.Since(start))
	pingCtx, cancel := context.WithTimeout(ctx, time.Second)
	err := client.Ping(pingCtx, nil)
	cancel()
	if err == nil {
		t.Fatal("Ping succeeded after Stop")
	}
	t.Logf("Ping after Stop: %v", err)
	if c, err := net.DialTimeout("tcp", m.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("dial succeeded after Stop")
	}

	start = time.Now()
	for range 2 { // idempotent
		if err := m.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	if m.URI() != uri {
		t.Fatalf("URI changed across Stop/Start: %q -> %q", uri, m.URI())
	}
	eventually(t, 20*time.Second, func(ctx context.Context) error { return client.Ping(ctx, nil) })
	t.Logf("Start until first good Ping took %v", time.Since(start))
	if got := findTask(ctx, t, coll, "t1"); got != wantTask {
		t.Fatalf("after restart FindOne = %+v, want %+v", got, wantTask)
	}
}

func TestMongoCloseAndReopen(t *testing.T) {
	t.Parallel()
	for _, b := range backends[:2] {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testMongoCloseAndReopen(t, b.opts(t))
		})
	}
}

func testMongoCloseAndReopen(t *testing.T, opts []embedded.MongoOption) {
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()

	m, err := embedded.StartMongo(ctx, dir, opts...)
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	client := mongoClient(t, m.URI())
	coll := client.Database("taskready").Collection("tasks")
	if _, err := coll.InsertOne(ctx, task{ID: "t2", Title: "on disk"}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("Close with a connected client took %v", time.Since(start))
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatalf("Stop after Close: %v", err)
	}
	if err := m.Start(ctx); !errors.Is(err, embedded.ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
	if err := (*embedded.Mongo)(nil).Close(); err != nil {
		t.Fatalf("nil Close: %v", err)
	}

	m2 := startMongo(t, ctx, dir) // no options: finds the backend the data is in
	if m2.Backend() != m.Backend() {
		t.Errorf("reopened on %v; the data is in %v", m2.Backend(), m.Backend())
	}
	coll2 := mongoClient(t, m2.URI()).Database("taskready").Collection("tasks")
	if got := findTask(ctx, t, coll2, "t2"); got.Title != "on disk" {
		t.Fatalf("after reopen FindOne = %+v", got)
	}
}

func TestMongoAddrInUse(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m, err := embedded.StartMongo(ctx, t.TempDir(), embedded.MongoAddr(ln.Addr().String()))
	if err == nil {
		m.Close()
		t.Fatal("StartMongo on a taken address succeeded")
	}
	t.Logf("StartMongo on a taken address: %v", err)
}

func TestMongoRejectsURIUnsafeDir(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 10*time.Second)
	for _, name := range []string{"a#b", "a?b", "a%20b"} {
		m, err := embedded.StartMongo(ctx, filepath.Join(t.TempDir(), name))
		if err == nil {
			m.Close()
			t.Fatalf("StartMongo(%q) succeeded", name)
		}
	}
	if _, err := embedded.StartMongo(ctx, ""); err == nil {
		t.Fatal("StartMongo with an empty dir succeeded")
	}
}

func TestMongoConcurrentStopStart(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 60*time.Second)
	m := startMongo(t, ctx, t.TempDir())
	client := mongoClient(t, m.URI())

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 5 {
				var err error
				if i%2 == 0 {
					err = m.Stop(ctx)
				} else {
					err = m.Start(ctx)
				}
				if err != nil {
					t.Errorf("Stop/Start: %v", err)
				}
				_ = m.URI()
			}
		})
	}
	wg.Wait()
	if err := m.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	eventually(t, 20*time.Second, func(ctx context.Context) error { return client.Ping(ctx, nil) })
}

func TestRedisStopStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts func(t *testing.T) []embedded.RedisOption
		kind embedded.RedisKind
	}{
		{
			name: "redis-server",
			opts: func(t *testing.T) []embedded.RedisOption {
				return []embedded.RedisOption{embedded.RedisBinary(testserver.RedisServerPath(t))}
			},
			kind: embedded.RedisServer,
		},
		{
			name: "miniredis",
			opts: func(*testing.T) []embedded.RedisOption {
				return []embedded.RedisOption{embedded.RedisInProcess()}
			},
			kind: embedded.Miniredis,
		},
		{
			name: "empty binary forces miniredis",
			opts: func(*testing.T) []embedded.RedisOption {
				return []embedded.RedisOption{embedded.RedisBinary("")}
			},
			kind: embedded.Miniredis,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t, 60*time.Second)
			start := time.Now()
			r, err := embedded.StartRedis(ctx, tt.opts(t)...)
			if err != nil {
				t.Fatalf("StartRedis: %v", err)
			}
			t.Logf("StartRedis (%s) took %v", r.Kind(), time.Since(start))
			t.Cleanup(func() {
				if err := r.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			if r.Kind() != tt.kind {
				t.Fatalf("Kind() = %v, want %v", r.Kind(), tt.kind)
			}
			url := r.URL()
			if want := "redis://" + r.Addr() + "/0"; url != want || !strings.HasPrefix(url, "redis://127.0.0.1:") {
				t.Fatalf("URL() = %q, Addr() = %q", url, r.Addr())
			}

			opt, err := redis.ParseURL(url)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			opt.MaxRetries = -1
			client := redis.NewClient(opt)
			t.Cleanup(func() { _ = client.Close() })

			if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			if got, err := client.Get(ctx, "k").Result(); err != nil || got != "v" {
				t.Fatalf("GET = %q, %v", got, err)
			}

			start = time.Now()
			for range 2 { // idempotent
				if err := r.Stop(ctx); err != nil {
					t.Fatalf("Stop: %v", err)
				}
			}
			t.Logf("Stop took %v", time.Since(start))
			pingCtx, cancel := context.WithTimeout(ctx, time.Second)
			err = client.Ping(pingCtx).Err()
			cancel()
			if err == nil {
				t.Fatal("PING succeeded after Stop")
			}
			t.Logf("PING after Stop: %v", err)

			start = time.Now()
			for range 2 { // idempotent
				if err := r.Start(ctx); err != nil {
					t.Fatalf("Start: %v", err)
				}
			}
			if r.URL() != url {
				t.Fatalf("URL changed across Stop/Start: %q -> %q", url, r.URL())
			}
			eventually(t, 10*time.Second, func(ctx context.Context) error { return client.Ping(ctx).Err() })
			t.Logf("Start until first good PING took %v", time.Since(start))
			// A value no other server of the test run holds: after Close,
			// another test (or package) may listen on the freed port.
			mine := fmt.Sprintf("v2-%s-%d", tt.name, time.Now().UnixNano())
			if err := client.Set(ctx, "k", mine, 0).Err(); err != nil {
				t.Fatalf("SET after restart: %v", err)
			}

			for range 2 {
				if err := r.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			}
			if err := r.Start(ctx); !errors.Is(err, embedded.ErrClosed) {
				t.Fatalf("Start after Close = %v, want ErrClosed", err)
			}
			if got, ok := stillServing(r.Addr(), "k"); ok && got == mine {
				t.Fatalf("still serving after Close: GET k = %q", got)
			}
		})
	}
	if err := (*embedded.Redis)(nil).Close(); err != nil {
		t.Fatalf("nil Close: %v", err)
	}
}

// stillServing asks whatever listens on addr now for key (RESP inline
// GET) and returns its answer's line; ok is false when nothing accepts.
// A freed port may be taken by another test's server at once, so that a
// connection alone does not show that a closed server still listens.
func stillServing(addr, key string) (answer string, ok bool) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("GET " + key + "\r\n")); err != nil {
		return "", true
	}
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	if strings.HasPrefix(line, "$") && !strings.HasPrefix(line, "$-1") {
		line, _ = br.ReadString('\n')
	}
	return strings.TrimSpace(line), true
}

// fakeRedisServer writes a "redis-server" that prints a message and fails.
func fakeRedisServer(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs a shell script")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "redis-server")
	script := "#!/bin/sh\necho 'starting'\necho 'FATAL: boom, cannot start' >&2\nexit 3\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRedisServerFailureReportsOutput(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	r, err := embedded.StartRedis(ctx, embedded.RedisBinary(fakeRedisServer(t)))
	if err == nil {
		r.Close()
		t.Fatal("StartRedis with a failing binary succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "redis-server exited") || !strings.Contains(msg, "boom, cannot start") {
		t.Fatalf("error does not carry the output: %v", err)
	}
	t.Logf("error: %v", err)
}

func TestRedisFallsBackToMiniredis(t *testing.T) { // not parallel: sets PATH
	fake := fakeRedisServer(t)
	t.Setenv("PATH", filepath.Dir(fake))
	ctx := testCtx(t, 30*time.Second)
	r, err := embedded.StartRedis(ctx, embedded.RedisLogger(nil))
	if err != nil {
		t.Fatalf("StartRedis: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if r.Kind() != embedded.Miniredis {
		t.Fatalf("Kind() = %v, want miniredis", r.Kind())
	}
	if got := r.Kind().String(); got != "miniredis (in-process)" {
		t.Fatalf("Kind().String() = %q", got)
	}
	if got := embedded.RedisServer.String(); got != "redis-server" {
		t.Fatalf("RedisServer.String() = %q", got)
	}
}

func TestRedisServerPortTaken(t *testing.T) {
	t.Parallel()
	bin := testserver.RedisServerPath(t)
	ctx := testCtx(t, 60*time.Second)

	// Someone else holds the port while we are stopped: Start keeps
	// trying, and succeeds once the port is released.
	r, err := embedded.StartRedis(ctx, embedded.RedisBinary(bin))
	if err != nil {
		t.Fatalf("StartRedis: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	squatter, err := net.Listen("tcp", r.Addr())
	if err != nil {
		t.Fatalf("listen on stopped port: %v", err)
	}
	release := time.AfterFunc(500*time.Millisecond, func() { squatter.Close() })
	defer release.Stop()
	start := time.Now()
	if err := r.Start(ctx); err != nil {
		t.Fatalf("Start while port briefly taken: %v", err)
	}
	t.Logf("Start waited %v for the port", time.Since(start))

	// A taken fixed port at StartRedis fails fast with redis-server's words.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r2, err := embedded.StartRedis(ctx, embedded.RedisBinary(bin), embedded.RedisAddr(ln.Addr().String()))
	if err == nil {
		r2.Close()
		t.Fatal("StartRedis on a taken port succeeded")
	}
	if !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("error does not say why: %v", err)
	}
	t.Logf("StartRedis on a taken port: %v", err)
}

// TestRedisPassword: with a password, the server refuses clients without
// it, before and after a restart, and the URL carries it for those that
// should get in. Not parallel: its redis-server forks must not overlap
// TestRedisServerFailureReportsOutput writing its script (ETXTBSY).
func TestRedisPassword(t *testing.T) {
	const password = "0123456789abcdef"
	for _, tt := range []struct {
		name string
		opts func(t *testing.T) []embedded.RedisOption
	}{
		{"redis-server", func(t *testing.T) []embedded.RedisOption {
			return []embedded.RedisOption{embedded.RedisBinary(testserver.RedisServerPath(t))}
		}},
		{"miniredis", func(*testing.T) []embedded.RedisOption {
			return []embedded.RedisOption{embedded.RedisInProcess()}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t, 60*time.Second)
			r, err := embedded.StartRedis(ctx, append(tt.opts(t), embedded.RedisPassword(password))...)
			if err != nil {
				t.Fatalf("StartRedis: %v", err)
			}
			t.Cleanup(func() { _ = r.Close() })
			if want := "redis://:" + password + "@" + r.Addr() + "/0"; r.URL() != want {
				t.Fatalf("URL() = %q; want %q", r.URL(), want)
			}
			check := func(when string) {
				t.Helper()
				anon := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1})
				defer anon.Close()
				if err := anon.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
					t.Errorf("%s: PING without the password = %v; want NOAUTH", when, err)
				}
				opt, err := redis.ParseURL(r.URL())
				if err != nil {
					t.Fatal(err)
				}
				opt.MaxRetries = -1
				authed := redis.NewClient(opt)
				defer authed.Close()
				if err := authed.Set(ctx, "k", "v", 0).Err(); err != nil {
					t.Errorf("%s: SET with the URL's password: %v", when, err)
				}
			}
			check("after StartRedis")
			if err := r.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
			check("after Stop and Start")
		})
	}
	if _, err := embedded.StartRedis(testCtx(t, 5*time.Second), embedded.RedisPassword("two words")); err == nil {
		t.Error("a password with a space was accepted")
	}
}
