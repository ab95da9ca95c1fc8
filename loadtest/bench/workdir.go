package bench

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// workPrefix names the benchmark's temporary directories in the system's
// temp dir; each holds the built peers, the tools' outputs and nginx's
// directory.
const workPrefix = "bench-engine-"

// ownerFile, in a work directory, holds the pid of the run that owns it.
const ownerFile = "owner.pid"

// newWorkDir makes a run's work directory under root ("" for the system's
// temp dir), first removing those of earlier runs whose owner is gone: a
// run killed outright (SIGKILL) cannot clean up after itself, and its
// children die with it, but its directory stays. It returns the names of
// the directories it removed.
func newWorkDir(root string) (string, []string, error) {
	if root == "" {
		root = os.TempDir()
	}
	removed := removeStale(root)
	dir, err := os.MkdirTemp(root, workPrefix)
	if err != nil {
		return "", removed, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return "", removed, errors.Join(err, os.RemoveAll(dir))
	}
	return dir, removed, nil
}

// removeStale removes the work directories under root whose owner no
// longer runs. One without an owner file, or whose owner's pid now names
// another process, is left alone: better a directory too many than one
// removed from under a live run.
func removeStale(root string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workPrefix) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || running(pid) {
			continue
		}
		if os.RemoveAll(dir) == nil {
			removed = append(removed, e.Name())
		}
	}
	return removed
}

// running reports whether process pid exists (a process of another user
// that refuses the signal exists too).
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
