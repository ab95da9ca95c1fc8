//go:build unix

package embedded_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/taskready/taskready/embedded"
)

func TestTempDirNamesItsOwner(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dir, err := embedded.TempDir("embedded-test")
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(dir)
	want := "embedded-test-" + strconv.Itoa(os.Getpid()) + "-"
	if !strings.HasPrefix(name, want) || filepath.Dir(dir) != os.TempDir() {
		t.Errorf("TempDir = %s; want %s<random> in %s", dir, want, os.TempDir())
	}
	// Its owner, this process, runs: it stays.
	lo, err := embedded.RemoveLeftovers("", "embedded-test")
	if err != nil || len(lo.Removed)+len(lo.Unknown) != 0 {
		t.Errorf("RemoveLeftovers = %+v, %v; want nothing touched", lo, err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("a live owner's directory went: %v", err)
	}
}

func TestRemoveLeftovers(t *testing.T) {
	if _, err := exec.LookPath("true"); err != nil {
		t.Skip("no true(1) to get an exited process's id")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := strconv.Itoa(cmd.ProcessState.Pid())
	if err := syscall.Kill(cmd.ProcessState.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Skipf("process id %s was given out again at once (%v)", dead, err)
	}
	live := strconv.Itoa(os.Getpid())
	root := t.TempDir()
	cases := []struct {
		name string
		dir  bool
		want string // removed, unknown or kept
	}{
		{"a-" + dead + "-1", true, "removed"},
		{"b-" + dead + "-22", true, "removed"},
		{"a-" + live + "-1", true, "kept"},
		{"a-1", true, "unknown"},                 // an older harness's name
		{"a-" + dead + "-1-extra", true, "kept"}, // not TempDir's
		{"a-" + dead + "-x", true, "kept"},
		{"a-0-1", true, "kept"}, // no process has id 0
		{"a-", true, "kept"},
		{"c-" + dead + "-1", true, "kept"},  // another prefix
		{"b-" + dead + "-3", false, "kept"}, // a file, not a directory
	}
	for _, tc := range cases {
		p := filepath.Join(root, tc.name)
		var err error
		if tc.dir {
			err = os.MkdirAll(filepath.Join(p, "inside"), 0o700)
		} else {
			err = os.WriteFile(p, nil, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	lo, err := embedded.RemoveLeftovers(root, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	var removed, unknown []string
	for _, tc := range cases {
		p := filepath.Join(root, tc.name)
		_, statErr := os.Stat(p)
		switch tc.want {
		case "removed":
			removed = append(removed, p)
			if !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("%s (owner exited) still there: %v", tc.name, statErr)
			}
		case "unknown":
			unknown = append(unknown, p)
			fallthrough
		default:
			if statErr != nil {
				t.Errorf("%s should stay: %v", tc.name, statErr)
			}
		}
	}
	slices.Sort(removed)
	slices.Sort(lo.Removed)
	if !slices.Equal(lo.Removed, removed) || !slices.Equal(lo.Unknown, unknown) {
		t.Errorf("RemoveLeftovers = %+v; want removed %v, unknown %v", lo, removed, unknown)
	}
	if _, err := embedded.RemoveLeftovers(filepath.Join(root, "missing"), "a"); err == nil {
		t.Error("RemoveLeftovers of a missing directory: no error")
	}
}
