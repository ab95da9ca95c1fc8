package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Where no link can be made (Windows without the privilege), latest is a
// copy of the run, replaced by the next run's.
func TestSetLatestCopies(t *testing.T) {
	symlink = func(string, string) error { return errors.New("no links here") }
	t.Cleanup(func() { symlink = os.Symlink })
	root := t.TempDir()
	for _, name := range []string{"old", "new"} {
		if err := os.MkdirAll(filepath.Join(root, name, HistogramsDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name, SummaryFile), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "old", "only-in-old"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"old", "new"} {
		copied, err := SetLatest(root, name)
		if err != nil || !copied {
			t.Fatalf("SetLatest(%s) = %v, %v; want a copy", name, copied, err)
		}
		if data, err := os.ReadFile(filepath.Join(root, LatestName, SummaryFile)); err != nil || string(data) != name {
			t.Errorf("latest/summary.json = %q, %v; want %s's", data, err, name)
		}
	}
	if _, err := os.Stat(filepath.Join(root, LatestName, "only-in-old")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old run's file is left in latest: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, LatestName, HistogramsDir)); err != nil {
		t.Errorf("latest lacks the run's directories: %v", err)
	}
}
