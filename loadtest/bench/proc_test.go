package bench

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestChildRun(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	r, err := child{name: "sh", path: sh, args: []string{"-c", "cat; echo out; echo err >&2"}, stdin: strings.NewReader("in\n"), limit: time.Minute}.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(r.stdout) != "in\nout\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if r.wall <= 0 {
		t.Error("no wall time")
	}

	_, err = child{name: "failing", path: sh, args: []string{"-c", "echo why it failed >&2; exit 3"}, limit: time.Minute}.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "why it failed") || !strings.Contains(err.Error(), "failing") {
		t.Errorf("a failing child: %v; want its name and stderr", err)
	}
	if _, err := (child{name: "unbounded", path: sh}).run(context.Background()); err == nil {
		t.Error("a child with no time limit ran")
	}
}

func TestChildRunLimit(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	_, err = child{name: "hung", path: sh, args: []string{"-c", "sleep 300"}, limit: 100 * time.Millisecond}.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "hung: still running after 100ms, killed") {
		t.Fatalf("got %v; want the limit's error", err)
	}
}

// A child that is stopped is killed with everything it started: a peer
// that hangs must leave nothing running.
func TestChildRunKillsGroup(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		// The grandchild writes its pid once it runs; both then wait.
		_, err := child{name: "parent", path: sh, args: []string{"-c", "sleep 300 & echo $! > " + pidFile + "; wait"}, limit: time.Hour}.run(ctx)
		done <- err
	}()
	var pid int
	for deadline := time.Now().Add(time.Minute); pid == 0; time.Sleep(10 * time.Millisecond) {
		data, _ := os.ReadFile(pidFile)
		if s := strings.TrimSpace(string(data)); s != "" && strings.HasSuffix(string(data), "\n") {
			if pid, err = strconv.Atoi(s); err != nil {
				t.Fatalf("pid %q: %v", s, err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the grandchild never started")
		}
	}
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("got %v; want the stop", err)
	}
	waitGone(t, pid)
}

func TestChildRunStopsWithContext(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupted"))
	_, err = child{name: "sleeper", path: sh, args: []string{"-c", "sleep 300"}, limit: time.Hour}.run(ctx)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("got %v; want the context's cause", err)
	}
}

// waitGone waits until process pid has ended (or is a zombie nobody has
// reaped yet), failing after a minute.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if procState(pid) == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 5}
	for _, s := range []string{"abc", "defg", "h"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := b.String(); got != "defgh" {
		t.Errorf("kept %q, want the last 5 bytes", got)
	}
}
