package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/syncio"
	"github.com/taskready/taskready/internal/testbin"
)

// buildBinaries returns the harness and taskapi binaries, each built
// once per test process: linking them is seconds of CPU each.
func buildBinaries(t *testing.T) (harness, taskapi string) {
	t.Helper()
	return testbin.Path(t, harnessPkg), testbin.Path(t, "github.com/taskready/taskready/cmd/taskapi")
}

type endpoints struct {
	ID         string   `json:"id"`
	Target     string   `json:"target"`
	APIs       []string `json:"apis"`
	MongoURI   string   `json:"mongo_uri"`
	Components []string `json:"components"`
	Links      []string `json:"links"`
	Control    string   `json:"control"`
}

// TestUpSeedFaultAndInterrupt drives the CLI as an engineer would: up in
// one process, seed and fault from others, Ctrl-C, and nothing left, with
// each provider that can run here.
func TestUpSeedFaultAndInterrupt(t *testing.T) {
	t.Parallel()
	harness, taskapi := buildBinaries(t)
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		upSeedFault(t, harness, taskapi, "-provider", "embedded")
	})
	t.Run("docker", func(t *testing.T) {
		t.Parallel()
		if out, err := exec.Command(harness, "down", "-env", "probe-only").CombinedOutput(); err != nil || strings.Contains(string(out), "no container engine") {
			if os.Getenv("REQUIRE_CONTAINERS") == "1" {
				t.Fatalf("REQUIRE_CONTAINERS=1 but harness down says: %s %v", out, err)
			}
			t.Skipf("no container engine: %s", out)
		}
		ep := upSeedFault(t, harness, taskapi, "-provider", "docker", "-mongo-replicas", "1", "-redis-replicas", "1")
		if ep.ID == "" {
			t.Fatal("a docker environment has no id")
		}
		// Only this environment: other tests may hold theirs right now.
		out, err := exec.Command(harness, "down", "-env", ep.ID).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "removed 0 ") {
			t.Errorf("after Ctrl-C, harness down found leftovers: %s %v", out, err)
		}
	})
}

func upSeedFault(t *testing.T, harness, taskapi string, provider ...string) endpoints {
	// The API under a path of this test's own: the processes left behind
	// are found by it, while other tests run the shared binary beside.
	own := filepath.Join(t.TempDir(), "taskapi")
	if err := os.Symlink(taskapi, own); err != nil {
		t.Fatal(err)
	}
	taskapi = own
	state := filepath.Join(t.TempDir(), "env.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// No limit is given: up raises the API's default auth budget (5 per
	// 15 minutes), which the smoke alone would spend, as run does.
	args := append([]string{"up", "-api-bin", taskapi, "-json", "-state", state, "-api-env", "BCRYPT_COST=4"}, provider...)
	up := exec.CommandContext(ctx, harness, args...)
	stdout, err := up.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var progress syncio.Buffer
	up.Stderr = &progress
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = up.Process.Kill() })
	var ep endpoints
	if err := json.NewDecoder(stdout).Decode(&ep); err != nil {
		t.Fatalf("up -json: %v\n%s", err, progress.String())
	}
	go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(stdout)) }()
	if len(ep.APIs) != 2 || ep.Target == "" || len(ep.Links) != 2 {
		t.Fatalf("endpoints = %+v", ep)
	}

	harnessRun := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, harness, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("harness %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := harnessRun("smoke", "-target", ep.Target); !strings.Contains(out, " 0 failed, 0 skipped") {
		t.Errorf("contract smoke through the single address:\n%s", out)
	}
	out := harnessRun("seed", "-state", state, "-users", "20", "-tasks-per-user", "5")
	if !strings.Contains(out, "seeded 20 users and 100 tasks") {
		t.Errorf("seed said:\n%s", out)
	}
	res, err := http.Post(ep.Target+"/api/auth/login", "application/json",
		strings.NewReader(`{"email":"seed-000001@example.com","password":"seed-password-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("login as a seeded user = %d", res.StatusCode)
	}
	if got := res.Header.Get("RateLimit-Limit"); got != "100000000" {
		t.Errorf("login's RateLimit-Limit = %q; want the raised 100000000", got)
	}

	// Every instance's readiness follows MongoDB down and back up.
	harnessRun("fault", "-state", state, "stop", "mongo-0")
	for _, api := range ep.APIs {
		eventuallyStatus(t, api+"/readyz", 503)
	}
	harnessRun("fault", "-state", state, "start", "mongo-0")
	for _, api := range ep.APIs {
		eventuallyStatus(t, api+"/readyz", 200)
	}
	if slices.Contains(provider, "docker") {
		// A frozen Redis degrades the API; it does not stop it.
		harnessRun("fault", "-state", state, "pause", "redis-primary")
		login := `{"email":"seed-000002@example.com","password":"seed-password-1"}`
		for range 3 {
			res, err := (&http.Client{Timeout: 10 * time.Second}).Post(ep.Target+"/api/auth/login", "application/json", strings.NewReader(login))
			if err != nil {
				t.Fatalf("login with Redis paused: %v", err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("login with Redis paused = %d; want 200", res.StatusCode)
			}
		}
		harnessRun("fault", "-state", state, "unpause", "redis-primary")
	}
	harnessRun("fault", "-state", state, "latency", "redis", "10ms")
	harnessRun("fault", "-state", state, "heal", "redis")

	if err := up.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := up.Wait(); err != nil {
		t.Fatalf("up after Ctrl-C: %v\n%s", err, progress.String())
	}
	for _, c := range []string{"mongo-0", "redis-primary", "api-1", "api-2"} {
		if !strings.Contains(progress.String(), c+" ") {
			t.Errorf("up did not report how long %s took:\n%s", c, progress.String())
		}
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left behind: %v", err)
	}
	for _, addr := range append([]string{ep.Target}, ep.APIs...) {
		if _, err := (&http.Client{Timeout: time.Second}).Get(addr + "/healthz"); err == nil {
			t.Errorf("%s still answers after Ctrl-C", addr)
		}
	}
	if out, err := exec.CommandContext(ctx, "pgrep", "-f", taskapi).Output(); err == nil {
		t.Errorf("taskapi processes left: %s", out)
	}
	return ep
}

// eventuallyStatus polls url until it answers want, for at most 10 s: a
// stopped container's connections end a moment after the engine says so.
func eventuallyStatus(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d; want %d within 10s", url, res.StatusCode, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
