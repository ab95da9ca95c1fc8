//go:build !linux

package env

import "syscall"

// apiProcAttr puts an API in its own process group, so a Ctrl-C at the
// terminal reaches only the harness, which stops the APIs gracefully.
func apiProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// waitState cannot read process states here; signals take effect at once
// on the systems the harness targets.
func waitState(int, func(byte) bool) error { return nil }
