//go:build unix

package rawio

import (
	"errors"
	"syscall"
	"testing"
)

// TestRawIO: Write and Read move bytes on a non-blocking socket,
// say EAGAIN when there is nothing to read (the sender then waits for
// the poller) and EOF as 0 bytes. Under -race they are the syscall
// package's; make test also runs this package without it.
func TestRawIO(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Skipf("socketpair: %v", err)
	}
	a, b := fds[0], fds[1]
	t.Cleanup(func() { _ = syscall.Close(a) })

	buf := make([]byte, 16)
	if _, err := Read(b, buf); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("read of an empty socket: %v, want EAGAIN", err)
	}
	if n, err := Write(a, []byte("GET / HTTP/1.1")); n != 14 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if n, err := Write(a, nil); n != 0 || err != nil {
		t.Fatalf("empty write: %d, %v", n, err)
	}
	if n, err := Read(b, buf); err != nil || string(buf[:n]) != "GET / HTTP/1.1" {
		t.Fatalf("read: %q, %v", buf[:n], err)
	}
	if err := syscall.Close(b); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(a, []byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("write to a closed peer: %v, want EPIPE", err)
	}
	if _, err := Read(-1, buf); !errors.Is(err, syscall.EBADF) {
		t.Errorf("read of a bad descriptor: %v, want EBADF", err)
	}
}
