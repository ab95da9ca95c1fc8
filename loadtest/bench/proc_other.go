//go:build !linux

package bench

import (
	"errors"
	"syscall"
	"time"
)

// procAttr puts a child in a process group of its own, so that stopping it
// stops whatever it started too. Only Linux can also tie the child's life
// to the benchmark's; elsewhere every child is bounded by its own timeout.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the process group that pid leads.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }

// processCPU cannot read a running process's CPU time here.
func processCPU(int) (time.Duration, error) {
	return 0, errors.New("the CPU time of a running process is read from /proc, which this system lacks")
}

// allowedCPUs cannot read the affinity mask here: nothing is pinned.
func allowedCPUs() []int { return nil }
