// Package wiretally counts the bytes a test server reads and writes on its
// connections, so that tests of data_sent and data_received can compare a
// client's counts with what really crossed the wire.
package wiretally

import (
	"net"
	"sync/atomic"
)

// Tally counts the bytes read and written on all connections of the
// listeners it wraps.
type Tally struct{ Read, Written atomic.Int64 }

// Listen wraps l so that its connections count into t.
func (t *Tally) Listen(l net.Listener) net.Listener { return listener{l, t} }

type listener struct {
	net.Listener
	t *Tally
}

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, t: l.t}, nil
}

type conn struct {
	net.Conn
	t *Tally
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.t.Read.Add(int64(n))
	return n, err
}

// Write counts first, so that a client that has read the bytes sees them
// counted.
func (c *conn) Write(p []byte) (int, error) {
	c.t.Written.Add(int64(len(p)))
	n, err := c.Conn.Write(p)
	c.t.Written.Add(int64(n - len(p)))
	return n, err
}
