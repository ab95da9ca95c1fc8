// Package testserver holds what this module's tests share to reach real
// servers: one embedded MongoDB per test binary started from TestMain, a
// Redis per test, the redis-server binary and a free loopback port. It is
// for tests only; production code starts its stores through embedded and
// the environment providers.
package testserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/embedded"
)

// requireRedisServer names the variable CI sets so that a missing
// redis-server fails the tests instead of skipping them or falling back
// to miniredis.
const requireRedisServer = "REQUIRE_REDIS_SERVER"

var discard = slog.New(slog.DiscardHandler)

// Mongo is the embedded MongoDB (FerretDB) a test binary shares, with a
// driver client on it; each test uses a database of its own, so tests stay
// independent without paying a start each.
type Mongo struct {
	*embedded.Mongo
	// Client is connected to the server and disconnected after run.
	Client *mongo.Client
}

// MainWithMongo is the body of a TestMain: it starts one embedded MongoDB
// in a temporary directory named after prefix, calls run (which calls
// m.Run and returns its code, or a code of its own), stops the server,
// removes the directory and exits with run's code. A server that does not
// start is reported on stderr and exits 1 before any test runs.
func MainWithMongo(prefix string, run func(*Mongo) int) {
	os.Exit(withMongo(prefix, run))
}

func withMongo(prefix string, run func(*Mongo) int) int {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedded.StartMongo(ctx, dir, embedded.MongoLogger(discard))
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded mongo:", err)
		return 1
	}
	defer srv.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer client.Disconnect(context.Background())
	return run(&Mongo{Mongo: srv, Client: client})
}

// Redis starts a Redis for one test and stops it when the test ends:
// redis-server when installed, else miniredis, which the test log names;
// with REQUIRE_REDIS_SERVER=1 (as CI sets) the fallback fails tb instead.
func Redis(tb testing.TB) *embedded.Redis {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := embedded.StartRedis(ctx, embedded.RedisLogger(discard))
	if err != nil {
		tb.Fatalf("start redis: %v", err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	if r.Kind() != embedded.RedisServer {
		if os.Getenv(requireRedisServer) == "1" {
			tb.Fatalf("redis-server is required (%s=1) but %s started; install redis-server", requireRedisServer, r.Kind())
		}
		tb.Logf("redis-server not found; using %s", r.Kind())
	}
	return r
}

// RedisServerPath returns redis-server's path, for tests that need the
// real server (replication, Sentinel, a restart), skipping tb if it is not
// installed unless REQUIRE_REDIS_SERVER=1.
func RedisServerPath(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/redis-server", "/usr/bin/redis-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv(requireRedisServer) == "1" {
		tb.Fatal("redis-server not found and " + requireRedisServer + "=1")
	}
	tb.Skip("redis-server not installed")
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago, for a
// child process that must be told its port before it starts.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// HoldPort makes *pick hand out, on its first call, a loopback port the
// test holds (listening, never answering), and pick's own ports after:
// a port taken between its pick and a child's listen, as another process
// can take a FreePort. It returns the held port and whether it has been
// handed out; *pick is restored at cleanup. Tests using it must not run
// in parallel with others that call *pick.
func HoldPort(tb testing.TB, pick *func() (int, error)) (port int, handedOut func() bool) {
	tb.Helper()
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { held.Close() })
	port = held.Addr().(*net.TCPAddr).Port
	orig := *pick
	var calls atomic.Int32
	*pick = func() (int, error) {
		if calls.Add(1) == 1 {
			return port, nil
		}
		return orig()
	}
	tb.Cleanup(func() { *pick = orig })
	return port, func() bool { return calls.Load() > 0 }
}
