//go:build linux && !race

package rawio

import (
	"syscall"
	"unsafe"
)

// Read and Write are read(2) and write(2) on a non-blocking descriptor
// without telling the Go scheduler about the system call.
//
// syscall.Read and Write hand the goroutine's processor to another thread
// when the call lasts longer than the scheduler's monitor's tick (20 us),
// and a write on loopback, which runs the receiver's side of TCP in the
// caller, often does: the handoff woke a thread per request, which then
// spun looking for work on the CPU the target needed (runtime.sysmon,
// futex and the scheduler were 15% of the engine's CPU with 2 Ps,
// against 5% with one). A non-blocking socket's calls never wait, so
// holding the processor through them costs nothing.
func Read(fd int, p []byte) (int, error) { return rawIO(syscall.SYS_READ, fd, p) }

// Write is write(2) of p on fd, as Read.
func Write(fd int, p []byte) (int, error) { return rawIO(syscall.SYS_WRITE, fd, p) }

// rawIO is read(2) or write(2), as trap says, of p on fd.
func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
