//go:build unix

package embedded

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// running reports whether a process with this id exists: signal 0 checks
// without sending anything, and a process of another user (EPERM) exists
// too.
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownedByUs reports whether this process's user owns the file: another
// user's leftovers are theirs to remove.
func ownedByUs(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
