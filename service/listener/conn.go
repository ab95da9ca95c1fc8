package listener

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
)

// Conn is a connection accepted by a Listener. Closing it frees its slot
// under MaxConns, after a lingering close when it was asked for one.
type Conn struct {
	net.Conn
	l      *Listener
	linger atomic.Bool
	once   sync.Once
	err    error
}

// tlsConn keeps a TLS connection recognisable as one through the wrapper:
// fasthttp's RequestCtx.IsTLS looks for these two methods on the conn.
type tlsConn struct {
	*Conn
	tls interface {
		Handshake() error
		ConnectionState() tls.ConnectionState
	}
}

// Handshake runs the TLS handshake of the wrapped connection.
func (c *tlsConn) Handshake() error { return c.tls.Handshake() }

// ConnectionState returns the wrapped connection's TLS state.
func (c *tlsConn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }

func (l *Listener) wrap(c net.Conn) net.Conn {
	conn := &Conn{Conn: c, l: l}
	if t, ok := c.(interface {
		Handshake() error
		ConnectionState() tls.ConnectionState
	}); ok {
		return &tlsConn{Conn: conn, tls: t}
	}
	return conn
}

// LingerOnClose asks that Close, instead of closing at once, first send
// FIN after the data already written, then read and discard what the
// client still sends (up to the listener's DrainBytes, for at most its
// DrainTimeout), as nginx's lingering_close does. The HTTP layer asks for
// it when it refuses a request it did not read to the end (413, 431): a
// socket closed with unread data makes the kernel send RST, and a client
// that writes its whole request before reading then sees ECONNRESET
// instead of the answer.
func (c *Conn) LingerOnClose() { c.linger.Store(true) }

// Close closes the connection, lingering first if asked to. It is safe to
// call more than once; only the first call does anything.
func (c *Conn) Close() error {
	c.once.Do(func() {
		if c.linger.Load() {
			c.l.metrics.lingered()
			drain(c.Conn, c.l.opts.DrainBytes, c.l.opts.DrainTimeout)
		}
		c.err = c.Conn.Close()
		c.l.open.Add(-1)
	})
	return c.err
}

// Lingerer is what the HTTP layer type-asserts a connection to (through
// fasthttp's RequestCtx.Conn) to ask for a lingering close.
type Lingerer interface {
	LingerOnClose()
}

// HangupDetector is what the HTTP layer type-asserts a connection to
// (through fasthttp's RequestCtx.Conn) to learn that its client has gone,
// so that work nobody will read is cancelled instead of run to its
// deadline.
type HangupDetector interface {
	HungUp() bool
}

var (
	_ HangupDetector = (*Conn)(nil)
	_ HangupDetector = (*tlsConn)(nil)
	_ Lingerer       = (*Conn)(nil)
	_ Lingerer       = (*tlsConn)(nil)
	_ net.Conn       = (*tlsConn)(nil)
)
