//go:build unix

package listener

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// HungUp reports whether the client has closed its side of the
// connection (or reset it) while a request is being worked on. It peeks
// at the socket without consuming or waiting: a pipelined request waiting
// to be read, or nothing at all, both mean the client is still there.
//
// As with net/http, a client that half-closes after sending its request
// counts as gone: HTTP/1.1 gives a server no way to tell the two apart.
func (c *Conn) HungUp() bool {
	sc, ok := rawConn(c.Conn)
	if !ok {
		return false
	}
	var gone bool
	// The runtime holds the descriptor open for the call, so a socket
	// closed meanwhile (and its number reused) is never peeked at.
	err := sc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		gone = n == 0 && err == nil || errors.Is(err, unix.ECONNRESET)
		return true // never wait for the socket to become readable
	})
	return err == nil && gone
}

// rawConn finds the socket under c, through a TLS connection if need be.
func rawConn(c net.Conn) (syscall.RawConn, bool) {
	if t, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = t.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, false
	}
	raw, err := sc.SyscallConn()
	return raw, err == nil
}
