package embedded

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/internal/syncio"
)

// requirePostgres returns the directory of PostgreSQL's binaries, skipping
// the test if PostgreSQL is not installed unless REQUIRE_POSTGRES=1.
func requirePostgres(t *testing.T) string {
	t.Helper()
	if bin := FindPostgreSQL(); bin != "" {
		return bin
	}
	if os.Getenv("REQUIRE_POSTGRES") == "1" {
		t.Fatal("PostgreSQL (initdb and postgres) not found and REQUIRE_POSTGRES=1")
	}
	t.Skip("PostgreSQL not installed")
	return ""
}

// alive reports whether a process (or, for a negative pid, a process
// group) still exists.
func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// TestPostgresCloseLeavesNothing: Close stops postgres and every process
// it forked, and removes the socket's temporary directory (used when the
// data directory's path is too long for a socket, or has characters that
// PostgreSQL's list of socket directories cannot hold). The data stays.
func TestPostgresCloseLeavesNothing(t *testing.T) {
	t.Parallel()
	bin := requirePostgres(t)
	for name, leaf := range map[string]string{
		"long path": strings.Repeat("long-directory-name-", 5),
		"comma":     "a, b",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			dir := filepath.Join(t.TempDir(), leaf)
			m, err := StartMongo(ctx, dir, MongoPostgreSQL(bin))
			if err != nil {
				t.Fatalf("StartMongo: %v", err)
			}
			if m.pg == nil || !m.pg.sockTemp {
				m.Close()
				t.Fatalf("%s did not get a temporary socket directory", dir)
			}
			pid, sock := m.pg.proc.pid(), m.pg.sock
			if err := m.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if alive(-pid) { // postgres leads its process group, see sysProcAttr
				t.Errorf("processes of postgres's group (pid %d) still run after Close", pid)
			}
			if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket directory %s left behind: %v", sock, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "postgresql", "data", "PG_VERSION")); err != nil {
				t.Errorf("the cluster's data is gone after Close: %v", err)
			}
		})
	}
}

// TestPostgresKilledIsReported: when postgres dies under a running Mongo,
// the error says so (logged at once; returned by Start and Close), and
// clients get errors rather than hanging.
func TestPostgresKilledIsReported(t *testing.T) {
	t.Parallel()
	bin := requirePostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs syncio.Buffer
	m, err := StartMongo(ctx, t.TempDir(), MongoPostgreSQL(bin),
		MongoLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	client, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database("taskready").Collection("tasks")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "title", Value: "before"}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}

	// The whole group: a backend outlives its killed postmaster until it
	// next checks on it, and may meanwhile still answer the next insert.
	// Every process of the cluster: backends call setsid, so signalling
	// the postmaster's group misses them, and a backend whose postmaster
	// died answers until it notices. Freeze the postmaster (no more
	// forks), kill its children, then it.
	pid := m.pg.proc.pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for _, child := range childrenOf(t, pid) {
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.pg.proc.done:
	case <-ctx.Done():
		t.Fatal("postgres did not exit after SIGKILL")
	}

	opCtx, opCancel := context.WithTimeout(ctx, 20*time.Second)
	defer opCancel()
	_, err = coll.InsertOne(opCtx, bson.D{{Key: "title", Value: "after"}})
	if err == nil {
		t.Fatal("InsertOne succeeded with postgres killed")
	}
	if opCtx.Err() != nil {
		t.Fatalf("InsertOne hung until its deadline instead of failing: %v", err)
	}
	t.Logf("client error: %v", err)

	// The watcher records the exit right after it; Start reports it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err = m.Start(ctx); err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{"PostgreSQL stopped while serving", "signal: killed"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Start = %v; want an error containing %q", err, want)
		}
	}
	if log := logs.String(); !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "PostgreSQL stopped while serving") {
		t.Errorf("log does not report the exit:\n%s", log)
	}
	if err := m.Close(); err == nil || !strings.Contains(err.Error(), "PostgreSQL stopped while serving") {
		t.Errorf("Close = %v; want the exit reported", err)
	}
}

// TestMongoSaysHowToGetPostgreSQL: with no PostgreSQL anywhere, Mongo runs
// on SQLite and its fallback note says how to install PostgreSQL. Not
// parallel: empties PATH and the search directories.
func TestMongoSaysHowToGetPostgreSQL(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := postgresDirs
	postgresDirs = nil
	t.Cleanup(func() { postgresDirs = saved })

	if got := FindPostgreSQL(); got != "" {
		t.Fatalf("FindPostgreSQL() = %q with nothing to find", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := StartMongo(ctx, t.TempDir(), MongoLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	defer m.Close()
	if m.Backend() != SQLite {
		t.Fatalf("Backend() = %v, want SQLite", m.Backend())
	}
	if why := m.Fallback(); !strings.Contains(why, "not installed") || !strings.Contains(why, "apt-get install postgresql") {
		t.Errorf("Fallback() = %q; want it to say that PostgreSQL is missing and how to install it", why)
	}

	// A cluster's data is never hidden behind an empty SQLite database.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "postgresql", "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "postgresql", "data", "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if m2, err := StartMongo(ctx, dir, MongoLogger(slog.New(slog.DiscardHandler))); err == nil {
		m2.Close()
		t.Error("StartMongo on a PostgreSQL cluster without PostgreSQL succeeded")
	} else if !strings.Contains(err.Error(), "holds a PostgreSQL cluster") {
		t.Errorf("StartMongo = %v; want it to say why it refuses", err)
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want int // sign
	}{
		{"15", "9.6", 1},
		{"9.6", "15", -1},
		{"16", "16", 0},
		{"10", "9", 1},
		{"9.6", "9.5", 1},
		{"13", "13.1", -1},
	} {
		got := compareVersions(tt.a, tt.b)
		if (got > 0) != (tt.want > 0) || (got < 0) != (tt.want < 0) {
			t.Errorf("compareVersions(%q, %q) = %d; want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to find postgres's backends in: %v", err)
	}
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split
		// after its closing parenthesis.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}
