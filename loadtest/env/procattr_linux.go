package env

import "syscall"

// apiProcAttr puts an API in its own process group, so a Ctrl-C at the
// terminal reaches only the harness, which then stops the APIs gracefully
// (a second, direct signal would kill them mid-shutdown); and asks the
// kernel to end it if the harness dies without cleaning up.
func apiProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
