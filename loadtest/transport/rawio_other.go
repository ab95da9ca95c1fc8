//go:build !linux || race

package transport

import "syscall"

// rawRead and rawWrite are the plain system calls where holding the
// processor through them (rawio_linux.go) has not been measured, and
// under the race detector: it learns from syscall.Read and Write that
// what one goroutine wrote before sending is seen by the one that reads
// the answer (a test's server and client), which a raw call hides.
func rawRead(fd int, p []byte) (int, error) { return syscall.Read(fd, p) }

func rawWrite(fd int, p []byte) (int, error) { return syscall.Write(fd, p) }
