package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RedisDirPrefix begins the name of the temporary directory a redis-server
// keeps its configuration and log in.
const RedisDirPrefix = "embedded-redis"

// TempDir creates a directory in the system's temporary directory named
// PREFIX-PID-RANDOM, PID being this process's: the owner's process id in
// the name itself, so that no moment exists when the directory is there
// without it, and RemoveLeftovers can tell a crashed owner's directory
// from a live one's.
func TempDir(prefix string) (string, error) {
	return os.MkdirTemp("", prefix+"-"+strconv.Itoa(os.Getpid())+"-")
}

// Leftovers is what RemoveLeftovers found.
type Leftovers struct {
	// Removed are the directories whose owner had exited, now gone.
	Removed []string
	// Unknown are directories of a prefix named without an owner (by a
	// version before TempDir): kept, since nothing tells whether a
	// process still uses them.
	Unknown []string
}

// RemoveLeftovers removes the directories under dir (the system's
// temporary directory when "") that TempDir made with one of prefixes and
// whose owning process no longer runs: what a process killed before it
// could clean up (SIGKILL, a crash, the OOM killer) leaves behind. A
// directory whose owner runs, or whose owner cannot be told, is kept, as
// is one another user owns. A process id the system has since given to
// another process keeps its directory too: the check errs on keeping.
func RemoveLeftovers(dir string, prefixes ...string) (Leftovers, error) {
	var out Leftovers
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out, fmt.Errorf("embedded: leftovers in %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		pid, known, ok := owner(e.Name(), prefixes)
		if !ok || !e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if err != nil || !ownedByUs(info) {
			continue
		}
		switch {
		case !known:
			out.Unknown = append(out.Unknown, path)
		case !running(pid):
			if err := os.RemoveAll(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("embedded: remove %s: %w", path, err))
				continue
			}
			out.Removed = append(out.Removed, path)
		}
	}
	return out, errors.Join(errs...)
}

// owner parses PREFIX-PID-RANDOM (known, the pid) or an older
// PREFIX-RANDOM (not known); ok is false for any other name.
func owner(name string, prefixes []string) (pid int, known, ok bool) {
	for _, p := range prefixes {
		rest, found := strings.CutPrefix(name, p+"-")
		if !found {
			continue
		}
		a, b, two := strings.Cut(rest, "-")
		switch {
		case two && digits(a) && digits(b):
			pid, err := strconv.Atoi(a)
			return pid, err == nil && pid > 0, err == nil && pid > 0
		case !two && digits(rest):
			return 0, false, true
		}
	}
	return 0, false, false
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
