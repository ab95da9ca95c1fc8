//go:build !unix

package embedded

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttr has nothing to set on this platform.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p (process groups are not used on this platform).
func killGroup(p *os.Process) { _ = p.Kill() }

// postgresProcAttr refuses: the PostgreSQL backend's child processes are
// managed for Unix only.
func postgresProcAttr() (*syscall.SysProcAttr, error) {
	return nil, errors.New("the PostgreSQL backend needs a Unix system")
}

// freeze cannot stop a process on this platform.
func freeze(*os.Process, bool) error { return ErrNoFreeze }
