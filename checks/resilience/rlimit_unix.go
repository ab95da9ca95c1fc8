//go:build unix

package resilience

import "syscall"

// openFileLimit raises this process's soft limit on open files to its
// hard limit (Go does so at start on most systems; a parent may have
// lowered it since) and returns the soft limit in force.
func openFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		raised := l
		raised.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			l = raised
		}
	}
	return uint64(l.Cur), nil
}
