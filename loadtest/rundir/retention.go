package rundir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// LatestName is the entry of a directory of runs (out/) that is the
// newest of them: a symbolic link to it, or a copy where links cannot be
// made.
const LatestName = "latest"

// SetLatest makes root/latest the run directory root/name: a relative
// symbolic link, so the tree can be moved or archived whole, put in place
// by renaming a new link over the old one, so that a reader never finds
// no latest at all. Where the file system or the platform refuses links
// (Windows without the privilege), latest is a copy of the run instead,
// and copied says so.
func SetLatest(root, name string) (copied bool, err error) {
	latest := filepath.Join(root, LatestName)
	tmp, err := tempName(root)
	if err != nil {
		return false, err
	}
	if err := symlink(name, tmp); err != nil {
		if err := Copy(filepath.Join(root, name), latest); err != nil {
			return true, fmt.Errorf("copy the run to %s: %w", latest, err)
		}
		return true, nil
	}
	// A copy an earlier version left behind is a directory, which a
	// rename cannot replace.
	if st, err := os.Lstat(latest); err == nil && st.IsDir() {
		if err := os.RemoveAll(latest); err != nil {
			os.Remove(tmp)
			return false, err
		}
	}
	if err := os.Rename(tmp, latest); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("point %s at %s: %w", latest, name, err)
	}
	return false, nil
}

// symlink is os.Symlink, which tests replace to see the copy made where
// links fail.
var symlink = os.Symlink

// tempName is a name in dir that nothing has, for a link to be renamed.
func tempName(dir string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return filepath.Join(dir, "."+LatestName+"-"+hex.EncodeToString(b)), nil
}

// ErrKeep is returned by Prune for a count below 1: the newest run is
// always kept.
var ErrKeep = errors.New("keep at least one run")

// Prune removes the run directories in root beyond the newest keep and
// returns the names it removed, oldest first. A run directory is a
// directory with a summary.json: anything else in root (another
// command's reports, backups, state files, latest itself, a run still
// being written) is never touched. Runs are ordered by when their
// summary.json was written, then by name; the run latest links to is
// kept whatever its age, so the link never dangles.
func Prune(root string, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("prune %s: %w (got %d)", root, ErrKeep, keep)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	linked, _ := os.Readlink(filepath.Join(root, LatestName))
	type run struct {
		name    string
		written time.Time
	}
	var runs []run
	for _, e := range entries {
		// DirEntry does not follow links: latest, a link, is no run of
		// its own, and neither is its copy.
		if !e.IsDir() || e.Name() == LatestName || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		st, err := os.Stat(filepath.Join(root, e.Name(), SummaryFile))
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		runs = append(runs, run{e.Name(), st.ModTime()})
	}
	slices.SortFunc(runs, func(a, b run) int {
		if c := a.written.Compare(b.written); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	var removed []string
	for _, r := range runs[:max(len(runs)-keep, 0)] {
		if r.name == linked {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, r.name)); err != nil {
			return removed, fmt.Errorf("prune: %w", err)
		}
		removed = append(removed, r.name)
	}
	return removed, nil
}
