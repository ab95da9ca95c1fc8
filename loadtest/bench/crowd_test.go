package bench

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestHogChildRejects(t *testing.T) {
	for name, args := range map[string][]string{
		"nothing":    nil,
		"no limit":   {"cpu"},
		"no kind":    {"-for", "1s"},
		"two kinds":  {"-for", "1s", "cpu", "mem"},
		"bad kind":   {"-for", "1s", "disk"},
		"bad limit":  {"-for", "soon", "cpu"},
		"zero limit": {"-for", "0s", "cpu"},
	} {
		if err := HogChild(context.Background(), args); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A hog ends at its limit on its own: bounded even if nobody stops it.
func TestHogChildEndsAtLimit(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) }) // HogChild sets 1 for its process
	for _, kind := range []string{HogCPU, HogMemory} {
		if err := HogChild(context.Background(), []string{"-for", "50ms", kind}); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
}

// The crowding is the test binary run as hogs (TestMain): one per core
// and a memory hog, all gone after stop.
func TestCrowd(t *testing.T) {
	c, err := startCrowd(os.Args[0], 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.stop() })
	if got, want := len(c.procs), runtime.NumCPU()+1; got != want {
		t.Fatalf("%d hogs, want %d", got, want)
	}
	if !strings.Contains(c.size(), "1 memory-bandwidth hog") {
		t.Errorf("size %q", c.size())
	}
	// They run until stopped: none has exited, whatever the machine's
	// speed, as their limit is minutes away.
	if n := c.alive(); n != len(c.procs) {
		t.Errorf("%d of %d hogs alive", n, len(c.procs))
	}
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	if n := c.alive(); n != 0 {
		t.Errorf("%d hogs alive after stop", n)
	}
	for _, p := range c.procs {
		waitGone(t, p.Process.Pid)
	}
	if err := c.stop(); err != nil {
		t.Errorf("a second stop: %v", err)
	}
}
