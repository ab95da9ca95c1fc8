//go:build !unix

package embedded

import (
	"io/fs"
	"os"
)

// running reports whether a process with this id exists, as far as
// os.FindProcess can tell (on Windows it opens the process).
func running(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}

// ownedByUs cannot tell a file's owner here: the temporary directory is
// the user's own.
func ownedByUs(fs.FileInfo) bool { return true }
