package rundir_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/rundir"
)

// fakeRun makes root/name a directory with a summary.json written at
// minute m of a fixed day, so the order of runs does not depend on how
// fast this test writes them.
func fakeRun(t *testing.T, root, name string, m int) {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, rundir.SummaryFile)
	if err := os.WriteFile(file, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := start.Add(time.Duration(m) * time.Minute)
	if err := os.Chtimes(file, at, at); err != nil {
		t.Fatal(err)
	}
}

// entries lists root's names, with "latest->TARGET" for the link.
func entries(t *testing.T, root string) []string {
	t.Helper()
	es, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		name := e.Name()
		if target, err := os.Readlink(filepath.Join(root, name)); err == nil {
			name += "->" + target
		}
		names = append(names, name)
	}
	return names
}

func TestSetLatest(t *testing.T) {
	root := t.TempDir()
	fakeRun(t, root, "20260301-120000-smoke", 0)
	fakeRun(t, root, "20260301-120100-smoke", 1)
	for _, name := range []string{"20260301-120000-smoke", "20260301-120100-smoke"} {
		if copied, err := rundir.SetLatest(root, name); err != nil || copied {
			t.Fatalf("SetLatest(%s) = %v, %v; want a link", name, copied, err)
		}
		want := []string{"20260301-120000-smoke", "20260301-120100-smoke", "latest->" + name}
		if got := entries(t, root); !slices.Equal(got, want) {
			t.Errorf("after SetLatest(%s): %v; want %v (and no temporary link left)", name, got, want)
		}
		if _, err := os.Stat(filepath.Join(root, "latest", rundir.SummaryFile)); err != nil {
			t.Errorf("latest/summary.json: %v", err)
		}
	}

	// The copy an earlier harness made is replaced by the link.
	if err := os.Remove(filepath.Join(root, "latest")); err != nil {
		t.Fatal(err)
	}
	fakeRun(t, root, "latest", 0)
	if _, err := rundir.SetLatest(root, "20260301-120000-smoke"); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(root, "latest")); err != nil || target != "20260301-120000-smoke" {
		t.Errorf("latest over an old copy: %q, %v; want the link", target, err)
	}
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name   string
		keep   int
		latest string
		want   []string // removed
	}{
		{"keep the newest two", 2, "", []string{"a-first", "c-second"}},
		{"keep more than there are", 10, "", nil},
		{"keep one", 1, "", []string{"a-first", "c-second", "b-third"}},
		{"the run latest links to stays", 1, "a-first", []string{"c-second", "b-third"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			// Written in this order; names sort otherwise.
			fakeRun(t, root, "a-first", 1)
			fakeRun(t, root, "c-second", 2)
			fakeRun(t, root, "b-third", 3)
			fakeRun(t, root, "d-fourth", 4)
			// What is not a run directory, Prune never touches.
			for _, dir := range []string{"readiness-20260301", "backups", "running-no-summary-yet"} {
				if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(root, "capacity.json"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "summary.json"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			latest := "d-fourth"
			if tt.latest != "" {
				latest = tt.latest
			}
			if _, err := rundir.SetLatest(root, latest); err != nil {
				t.Fatal(err)
			}
			before := entries(t, root)
			removed, err := rundir.Prune(root, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(removed, tt.want) {
				t.Errorf("removed %v; want %v", removed, tt.want)
			}
			after := slices.DeleteFunc(before, func(n string) bool { return slices.Contains(tt.want, n) })
			if got := entries(t, root); !slices.Equal(got, after) {
				t.Errorf("left %v; want %v", got, after)
			}
		})
	}
	if _, err := rundir.Prune(t.TempDir(), 0); !errors.Is(err, rundir.ErrKeep) {
		t.Errorf("Prune(0) = %v; want ErrKeep", err)
	}
	if _, err := rundir.Prune(filepath.Join(t.TempDir(), "none"), 1); err == nil {
		t.Error("Prune of a missing directory succeeded")
	}
}
