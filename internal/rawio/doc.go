// Package rawio reads and writes non-blocking descriptors without telling
// the Go scheduler about the system call, where that has been measured to
// pay (rawio_linux.go), and through the syscall package elsewhere and
// under the race detector (rawio_other.go).
//
// Only descriptors whose calls never wait may be given to it: the net
// package's sockets and a non-blocking timerfd. A call the scheduler
// does not know of holds its processor for as long as it lasts.
package rawio
