package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func TestNewWorkDirRemovesStale(t *testing.T) {
	root := t.TempDir()
	// A pid that ran and ended: its run was killed before cleaning up.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	mk := func(name, owner string) {
		t.Helper()
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o700); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk(workPrefix+"killed", strconv.Itoa(dead))
	mk(workPrefix+"live", strconv.Itoa(os.Getpid()))
	mk(workPrefix+"no-owner", "")
	mk(workPrefix+"garbled", "not a pid")
	mk("someone-else", strconv.Itoa(dead))

	dir, removed, err := newWorkDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []string{workPrefix + "killed"}) {
		t.Errorf("removed %v, want only the killed run's", removed)
	}
	owner, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil || string(owner) != strconv.Itoa(os.Getpid()) {
		t.Errorf("owner file %q, %v", owner, err)
	}
	var left []string
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{filepath.Base(dir), workPrefix + "garbled", workPrefix + "live", workPrefix + "no-owner", "someone-else"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
