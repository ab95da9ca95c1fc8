package transport

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// Wire counts the bytes requests took on the wire, as k6 counts
// data_sent and data_received: what was written (request line, headers
// and body, as sent) and what was read (status line, headers and body of
// the answer), in TLS records on https; a TLS handshake is not counted. A
// request sent again on a fresh connection counts every attempt. It is
// safe for concurrent use; the zero value is ready.
type Wire struct {
	sent, received atomic.Int64
	counted        atomic.Bool
}

// Sent returns the bytes written.
func (w *Wire) Sent() int64 { return w.sent.Load() }

// Received returns the bytes read.
func (w *Wire) Received() int64 { return w.received.Load() }

// Counted reports whether a transport counted into w: false when the
// requests went through one that cannot, such as an http.Transport whose
// connections CountConns does not wrap (Sent and Received are then 0).
func (w *Wire) Counted() bool { return w.counted.Load() }

func (w *Wire) add(sent, received int64) {
	w.sent.Add(sent)
	w.received.Add(received)
	w.counted.Store(true)
}

type wireKey struct{}

// WithWire returns a context under which requests count their bytes on
// the wire into w: through this package's Transport (RoundTrip; Exchange
// sets Request.Sent and Received instead), and through an http.Transport whose
// connections CountConns wraps, where the connection a request gets
// counts into w while the request has it.
func WithWire(ctx context.Context, w *Wire) context.Context {
	ctx = context.WithValue(ctx, wireKey{}, w)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if c := counting(info.Conn); c != nil {
				c.owner.Store(w)
				w.counted.Store(true)
			}
		},
	})
}

// wireOf is the Wire of WithWire in ctx, nil if none.
func wireOf(ctx context.Context) *Wire {
	w, _ := ctx.Value(wireKey{}).(*Wire)
	return w
}

// CountConns makes t's connections count the bytes they carry, so that
// requests sent through t under WithWire count theirs, and returns t. It
// wraps t's DialContext (a net.Dialer's if nil) and DialTLSContext.
func CountConns(t *http.Transport) *http.Transport {
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	t.DialContext = countDial(dial)
	if t.DialTLSContext != nil {
		t.DialTLSContext = countDial(t.DialTLSContext)
	}
	return t
}

func countDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countConn{Conn: c}, nil
	}
}

// countConn counts the bytes written to and read from a connection, and
// adds them to its owner, the Wire of the request that holds it (set by
// WithWire's trace; this package's Transport reads the counts around
// each request instead).
type countConn struct {
	net.Conn
	sent, received atomic.Int64
	owner          atomic.Pointer[Wire]
}

// Write counts p before writing it: once the peer has the bytes, whoever
// reads the counts (another goroutine, for net/http) must see them.
func (c *countConn) Write(p []byte) (int, error) {
	w := c.owner.Load()
	c.sent.Add(int64(len(p)))
	if w != nil {
		w.sent.Add(int64(len(p)))
	}
	n, err := c.Conn.Write(p)
	if short := int64(len(p) - n); short > 0 {
		c.sent.Add(-short)
		if w != nil {
			w.sent.Add(-short)
		}
	}
	return n, err
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.received.Add(int64(n))
		if w := c.owner.Load(); w != nil {
			w.received.Add(int64(n))
		}
	}
	return n, err
}

// counting returns the counting connection under c: c itself, or the
// connection a TLS client runs over; nil if there is none.
func counting(c net.Conn) *countConn {
	switch t := c.(type) {
	case *countConn:
		return t
	case *tls.Conn:
		cc, _ := t.NetConn().(*countConn)
		return cc
	}
	return nil
}
