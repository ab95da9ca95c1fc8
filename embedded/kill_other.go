//go:build !unix

package embedded

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to set on this platform.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p (process groups are not used on this platform).
func killGroup(p *os.Process) { _ = p.Kill() }
