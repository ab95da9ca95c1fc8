package child_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/child"
)

// A started child runs until Stop, which ends it and removes its scratch
// directory; what it printed is kept.
func TestStartStop(t *testing.T) {
	dir := t.TempDir()
	scratch := filepath.Join(dir, "scratch")
	if err := os.Mkdir(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := child.Start(exec.Command("sh", "-c", "echo started; exec sleep 60"), scratch)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Output(), "started") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Exited(); err != nil || !strings.Contains(p.Output(), "started") {
		t.Fatalf("running child: Exited() = %v, output %q", err, p.Output())
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := p.Exited(); err == nil || !strings.Contains(err.Error(), "signal: terminated") {
		t.Errorf("after Stop, Exited() = %v; want terminated by SIGTERM", err)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("scratch directory after Stop: %v; want it removed", err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

func TestStartFails(t *testing.T) {
	scratch := filepath.Join(t.TempDir(), "scratch")
	os.Mkdir(scratch, 0o755)
	if _, err := child.Start(exec.Command(filepath.Join(scratch, "no-such-program")), scratch); err == nil || !strings.Contains(err.Error(), "no-such-program") {
		t.Errorf("Start of a missing program: %v; want an error naming it", err)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("scratch directory after a failed start: %v; want it removed", err)
	}
}
