package main_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeEngine is a container engine's API on a unix socket that this test
// controls: it answers the calls harness down makes (ping, info, list
// containers and networks: none), and from the failInfo-th info on
// answers 500, as an engine going away between two calls does. Pointing
// harness down at it keeps the test away from any real engine, where it
// would remove what tests running beside it hold.
type fakeEngine struct {
	host     string // DOCKER_HOST
	infos    atomic.Int64
	failInfo int64 // 0: never
}

func startFakeEngine(t *testing.T, failInfo int64) *fakeEngine {
	t.Helper()
	// A short path: a unix socket's is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "engine")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	e := &fakeEngine{host: "unix://" + sock, failInfo: failInfo}
	srv := &http.Server{Handler: http.HandlerFunc(e.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return e
}

func (e *fakeEngine) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", "1.47")
	w.Header().Set("Content-Type", "application/json")
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/_ping"):
		_, _ = w.Write([]byte("OK"))
	case strings.HasSuffix(p, "/info"):
		if n := e.infos.Add(1); e.failInfo > 0 && n >= e.failInfo {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"the engine went away"}`))
			return
		}
		_, _ = w.Write([]byte(`{"ID":"fake","ServerVersion":"0.0.0-fake","OperatingSystem":"a test's fake engine","OSType":"linux"}`))
	case strings.HasSuffix(p, "/containers/json"), strings.HasSuffix(p, "/networks"):
		_, _ = w.Write([]byte(`[]`))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"not in this fake engine"}`))
	}
}

// deadPID returns the id of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	for range 10 {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.ProcessState.Pid()
		// Given to another process already? Rare; take another.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return pid
		}
	}
	t.Fatal("no dead process id in ten tries")
	return 0
}

// downEnv is the environment of a harness down that sees only the test's
// temporary directory and engine.
func downEnv(tmp, dockerHost string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "TMPDIR" || k == "HOME" || k == "DOCKER_HOST" || strings.HasPrefix(k, "TESTCONTAINERS_") {
			continue
		}
		env = append(env, kv)
	}
	// HOME: no ~/.testcontainers.properties may point elsewhere.
	return append(env, "TMPDIR="+tmp, "HOME="+tmp, "DOCKER_HOST="+dockerHost, "TESTCONTAINERS_RYUK_DISABLED=true")
}

func harnessDown(t *testing.T, harness string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness, append([]string{"down"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("harness down timed out:\n%s", out)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("harness down: %v", err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestDown: a killed run's temporary directories go, a live one's and
// ones whose owner cannot be told stay; an engine that fails midway is an
// error that says what failed, never a panic.
func TestDown(t *testing.T) {
	t.Parallel()
	harness := buildHarness(t)

	t.Run("leftover directories", func(t *testing.T) {
		tmp := t.TempDir()
		dead, live := strconv.Itoa(deadPID(t)), strconv.Itoa(os.Getpid())
		mk := func(name string) string {
			p := filepath.Join(tmp, name)
			if err := os.MkdirAll(filepath.Join(p, "sub"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, "sub", "data"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		gone := []string{mk("harness-mongo-" + dead + "-1234"), mk("embedded-redis-" + dead + "-5678")}
		kept := []string{mk("harness-mongo-" + live + "-1234"), mk("embedded-redis-" + live + "-5678"), mk("harness-mongo-notes"), mk("embedded-redis-x-1")}
		older := mk("embedded-redis-3889620743") // a harness before owners were recorded
		kept = append(kept, older)

		e := startFakeEngine(t, 0)
		code, text := harnessDown(t, harness, downEnv(tmp, e.host))
		if code != 0 {
			t.Fatalf("harness down exited %d:\n%s", code, text)
		}
		for _, p := range gone {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s (owner %s exited) still there: %v", p, dead, err)
			}
			if !strings.Contains(text, "removed "+p) {
				t.Errorf("output does not name %s:\n%s", p, text)
			}
		}
		for _, p := range kept {
			if _, err := os.Stat(filepath.Join(p, "sub", "data")); err != nil {
				t.Errorf("%s removed: %v", p, err)
			}
		}
		for _, want := range []string{"removed 2 leftover temporary directories", "kept 1 temporary directory of an older harness", "rm -rf " + older, "removed 0 leftover container(s)"} {
			if !strings.Contains(text, want) {
				t.Errorf("output lacks %q:\n%s", want, text)
			}
		}

		// With -env, only that environment's containers: no directory.
		mk("harness-mongo-" + dead + "-4321")
		if code, text := harnessDown(t, harness, downEnv(tmp, e.host), "-env", "0badc0de"); code != 0 || strings.Contains(text, "director") {
			t.Errorf("harness down -env exited %d and touched directories:\n%s", code, text)
		}
	})

	t.Run("an engine that fails midway", func(t *testing.T) {
		tmp := t.TempDir()
		// testcontainers reads the engine's info twice while connecting
		// and panics when the third read fails.
		e := startFakeEngine(t, 3)
		code, text := harnessDown(t, harness, downEnv(tmp, e.host))
		if code != 1 {
			t.Errorf("exited %d, want 1:\n%s", code, text)
		}
		for _, want := range []string{"connect to the container engine: the container library failed", "the engine went away"} {
			if !strings.Contains(text, want) {
				t.Errorf("output lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "goroutine ") || strings.Contains(text, "panic:") {
			t.Errorf("harness down crashed:\n%s", text)
		}
		if e.infos.Load() < 3 {
			t.Errorf("the engine was asked for its info %d times; the test means the third to fail", e.infos.Load())
		}
	})
}
