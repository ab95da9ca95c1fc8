//go:build unix && !linux

package embedded

import "syscall"

// sysProcAttr puts redis-server in its own process group, so that the whole
// group can be killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
