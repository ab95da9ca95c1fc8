package env_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/env"
)

// TestEmbeddedStoresLeaveNothing: the embedded stores on PostgreSQL run
// its cluster in the environment's temporary directory, and Close stops
// the cluster's processes and removes the directory. Not parallel: it
// tells the cluster's postmaster by its parent, this process.
func TestEmbeddedStoresLeaveNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds the postmaster in /proc")
	}
	if embedded.FindPostgreSQL() == "" {
		if os.Getenv("REQUIRE_POSTGRES") == "1" {
			t.Fatal("PostgreSQL not found and REQUIRE_POSTGRES=1")
		}
		t.Skip("PostgreSQL not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := env.NewEmbedded(env.EmbeddedOptions{MongoBackend: embedded.PostgreSQL}).Stores(ctx)
	if err != nil {
		t.Fatalf("Stores: %v", err)
	}
	if !strings.Contains(s.Description, "FerretDB (PostgreSQL)") {
		t.Errorf("Description = %q; want it to name the backend", s.Description)
	}
	pid, data := postmaster(t)
	root := filepath.Dir(filepath.Dir(data)) // <root>/postgresql/data
	if !strings.HasPrefix(filepath.Base(root), "harness-mongo-") {
		t.Errorf("cluster in %s; want it in the environment's temporary directory", data)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH) {
		t.Errorf("processes of the postmaster's group (pid %d) still run after Close", pid)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left behind after Close: %v", root, err)
	}
}

// postmaster returns the pid and data directory of the one postgres that
// is a child of this process.
func postmaster(t *testing.T) (int, string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	var dirs []string
	for _, p := range procs {
		stat, err := os.ReadFile(filepath.Join(p, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if filepath.Base(args[0]) != "postgres" {
			continue
		}
		for i, a := range args[:len(args)-1] {
			if a == "-D" {
				pid, _ := strconv.Atoi(filepath.Base(p))
				pids, dirs = append(pids, pid), append(dirs, args[i+1])
			}
		}
	}
	if len(pids) != 1 {
		t.Fatalf("found %d postgres children of this process (%v); want 1", len(pids), dirs)
	}
	return pids[0], dirs[0]
}
