//go:build unix && !linux

package embedded

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttr puts a child server in its own process group, so that the
// whole group can be killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// postgresProcAttr is sysProcAttr for initdb and postgres, which refuse to
// run as root (only Linux gives them a user namespace of their own).
func postgresProcAttr() (*syscall.SysProcAttr, error) {
	if os.Geteuid() == 0 {
		return nil, errors.New("PostgreSQL refuses to run as root; run as another user")
	}
	return sysProcAttr(), nil
}
