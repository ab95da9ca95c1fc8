//go:build unix

package embedded

import (
	"os"
	"syscall"
)

// killGroup kills p's process group (p leads it, see sysProcAttr), which
// includes any child it forked, falling back to p alone.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}

// freeze stops (SIGSTOP) or continues (SIGCONT) p.
func freeze(p *os.Process, stop bool) error {
	if stop {
		return p.Signal(syscall.SIGSTOP)
	}
	return p.Signal(syscall.SIGCONT)
}
