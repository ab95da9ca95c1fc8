//go:build !linux || race

package rawio

import "syscall"

// Read and Write are the plain system calls where holding the processor
// through them (rawio_linux.go) has not been measured, and
// under the race detector: it learns from syscall.Read and Write that
// what one goroutine wrote before sending is seen by the one that reads
// the answer (a test's server and client), which a raw call hides.
func Read(fd int, p []byte) (int, error) { return syscall.Read(fd, p) }

// Write is write(2) of p on fd, as Read.
func Write(fd int, p []byte) (int, error) { return syscall.Write(fd, p) }
