//go:build linux

package embedded

import "syscall"

// sysProcAttr puts redis-server in its own process group (so that the whole
// group can be killed) and has the kernel kill it if this process dies
// without calling Close.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
