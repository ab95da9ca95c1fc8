package transport

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"syscall"
	"time"
)

// hostPool is one host's connections, shared by every request to it.
//
// A request that finds no idle connection waits for one, and a dial is
// started for it in the background, at most maxDials at a time: whichever
// comes first, a connection another request releases or the new one,
// serves the longest waiting request, and a connection dialled for a
// request that was served meanwhile joins the pool. This is net/http's
// rule, with the dials bounded. Binding each request to the connection
// it dialled (as fasthttp's HostClient does) made an open-model run feed
// on itself whenever connecting was slow (a server slow to accept, a full
// listen backlog and its SYN retransmits, a crowded machine): requests
// waited out their dials while connections freed up beside them, the
// late iterations took more virtual users, each of which dialled again.
type hostPool struct {
	addr        string
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	tls         *tls.Config // nil for http
	dialTimeout time.Duration
	idleTimeout time.Duration
	maxConns    int // 0: no cap
	maxDials    int

	mu      sync.Mutex
	idle    []*conn // oldest first; requests take the newest (see get)
	open    int     // connections open or being dialled
	dialing int
	// closes counts closeIdle's calls: a dial that started before the
	// last one and finds no request waiting closes its connection rather
	// than leaving it idle after its owner has let the pool go.
	closes  int
	waiters []*waiter // first come, first served
	// stopDials cancels the dials under way; closeIdle calls it, so no
	// dial outlives the run that let the pool go (a server slow to
	// accept would otherwise keep them for dialTimeout).
	dials     context.Context
	stopDials context.CancelFunc
}

// conn is a pooled connection.
type conn struct {
	net.Conn
	// idle is when it last became idle: it expires idleTimeout after.
	idle time.Time
	// reused tells whether it carried a request before the current one.
	reused bool
	// sender writes requests on the first read of their answer, when the
	// connection is a plain socket (see sender); nil otherwise.
	sender *sender
	// sent and received count the bytes of plain connections, for
	// data_sent and data_received; only the request holding the
	// connection touches them. A TLS connection counts its records on
	// the socket under it instead (see wire).
	sent, received int64
	// watch cuts a request short when its context ends.
	watch watch
}

// Close closes the connection and drops its context registration.
func (c *conn) Close() error {
	c.unwatch()
	return c.Conn.Close()
}

// newConn pools nc.
func newConn(nc net.Conn) *conn {
	c := &conn{Conn: nc, idle: time.Now()}
	if sc, ok := socket(nc); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.sender = newSender(nc, raw)
		}
	}
	return c
}

// socket is nc's socket when nc is one of the net package's, which are
// always non-blocking: the sender's system calls rely on that (package
// rawio). Any other connection, even one that gives a file descriptor, is
// read and written through its own methods.
func socket(nc net.Conn) (syscall.Conn, bool) {
	switch sc := nc.(type) {
	case *net.TCPConn:
		return sc, true
	case *net.UnixConn:
		return sc, true
	}
	return nil, false
}

// Read reads the answer, sending the request first if sender holds one.
func (c *conn) Read(p []byte) (int, error) {
	var n int
	var err error
	if c.sender != nil && c.sender.pending() {
		n, err = c.sender.read(p)
	} else {
		n, err = c.Conn.Read(p)
	}
	c.received += int64(n)
	return n, err
}

// Write writes the request, or holds it for the answer's first read when
// the connection has a sender.
func (c *conn) Write(p []byte) (int, error) {
	var n int
	var err error
	if c.sender != nil {
		n, err = c.sender.Write(p)
	} else {
		n, err = c.Conn.Write(p)
	}
	c.sent += int64(n)
	return n, err
}

// wire is the bytes written and read on c so far: on the socket under a
// TLS connection (its records), else c's own counts.
func (c *conn) wire() (sent, received int64) {
	if cc := counting(c.Conn); cc != nil {
		return cc.sent.Load(), cc.received.Load()
	}
	return c.sent, c.received
}

// waiter is a request waiting for a connection; the pool sends it one
// connection or a dial's error, exactly once, on a buffered channel.
type waiter struct {
	ch chan dialed
}

type dialed struct {
	c   *conn
	err error
}

var waiterPool = sync.Pool{New: func() any { return &waiter{ch: make(chan dialed, 1)} }}

// get returns a connection for one request: an idle one, else the first
// released or dialled, waiting until ctx is done or deadline (if not
// zero) passes.
func (p *hostPool) get(ctx context.Context, deadline time.Time) (*conn, error) {
	p.mu.Lock()
	if c, stale := p.takeIdle(time.Now()); c != nil || len(stale) > 0 {
		p.mu.Unlock()
		closeAll(stale)
		if c != nil {
			return c, nil
		}
		p.mu.Lock()
	}
	w := waiterPool.Get().(*waiter)
	p.waiters = append(p.waiters, w)
	p.dialMore()
	p.mu.Unlock()

	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	var err error
	select {
	case d := <-w.ch:
		waiterPool.Put(w)
		return d.c, d.err
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = context.DeadlineExceeded
	}
	p.mu.Lock()
	queued := p.removeWaiter(w)
	p.mu.Unlock()
	if !queued {
		// Served as it gave up: the connection goes back, as it was.
		if d := <-w.ch; d.c != nil {
			p.release(d.c, d.c.reused)
		}
	}
	waiterPool.Put(w)
	return nil, err
}

// takeIdle pops the most recently used idle connection, the one the
// server is least likely to have closed; if even that one idled past
// idleTimeout, all are stale and returned for closing instead. Call with
// mu held.
func (p *hostPool) takeIdle(now time.Time) (*conn, []*conn) {
	n := len(p.idle)
	if n == 0 {
		return nil, nil
	}
	c := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	if now.Sub(c.idle) <= p.idleTimeout {
		return c, nil
	}
	stale := append(p.idle, c)
	p.idle = nil
	p.open -= len(stale)
	return nil, stale
}

// put returns a connection that finished a request in good order: to the
// longest waiting request, or to the idle ones.
func (p *hostPool) put(c *conn) { p.release(c, true) }

// release is put, with whether c has carried a request.
func (p *hostPool) release(c *conn, reused bool) {
	now := time.Now()
	c.idle, c.reused = now, reused
	p.mu.Lock()
	if w := p.popWaiter(); w != nil {
		p.mu.Unlock()
		w.ch <- dialed{c: c}
		return
	}
	p.idle = append(p.idle, c)
	// The oldest idle connections are the ones requests no longer reach
	// (they take the newest); close those past idleTimeout, a few per
	// release, so that a burst's connections do not stay open for good.
	var stale []*conn
	for len(stale) < 4 && len(p.idle) > 1 && now.Sub(p.idle[0].idle) > p.idleTimeout {
		stale = append(stale, p.idle[0])
		p.idle[0] = nil
		p.idle = p.idle[1:]
	}
	p.open -= len(stale)
	p.mu.Unlock()
	closeAll(stale)
}

// discard closes a connection that must not carry another request, and
// lets a waiting request dial in its place.
func (p *hostPool) discard(c *conn) {
	_ = c.Close()
	p.mu.Lock()
	p.open--
	p.dialMore()
	p.mu.Unlock()
}

// closeIdle closes the idle connections.
func (p *hostPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	p.closes++
	if p.stopDials != nil {
		p.stopDials()
		p.dials, p.stopDials = nil, nil
	}
	p.mu.Unlock()
	closeAll(idle)
}

// dialMore starts a dial for each request waiting beyond those a dial
// is under way for, at most maxDials at a time and within maxConns. A
// request does not wait for a connection to be released before one is
// dialled for it: that wait would be the generator's, yet counted in the
// target's latency (a closed-model run of 64 VUs settled on 32
// connections that way). Call with mu held.
func (p *hostPool) dialMore() {
	for len(p.waiters) > p.dialing && p.dialing < p.maxDials && (p.maxConns <= 0 || p.open < p.maxConns) {
		if p.dials == nil {
			p.dials, p.stopDials = context.WithCancel(context.Background())
		}
		p.dialing++
		p.open++
		go p.dialOne(p.dials, p.closes)
	}
}

// dialOne dials a connection and hands it over as put does; a failed
// dial fails the longest waiting request, which would otherwise wait on
// a server that cannot be reached.
func (p *hostPool) dialOne(ctx context.Context, closes int) {
	nc, err := p.connect(ctx)
	p.mu.Lock()
	p.dialing--
	if err != nil {
		p.open--
		w := p.popWaiter()
		p.dialMore()
		p.mu.Unlock()
		if w != nil {
			w.ch <- dialed{err: err}
		}
		return
	}
	c := newConn(nc)
	if w := p.popWaiter(); w != nil {
		// The next dial for the requests still waiting starts now, not
		// when another request arrives: on a busy start those stall too.
		p.dialMore()
		p.mu.Unlock()
		w.ch <- dialed{c: c}
		return
	}
	if closes != p.closes {
		p.open--
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// connect dials the host, with the TLS handshake for https, within
// dialTimeout or until ctx ends.
func (p *hostPool) connect(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.dialTimeout)
	defer cancel()
	nc, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if p.tls == nil {
		return nc, nil // counted by conn, so the sender keeps its socket
	}
	tc := tls.Client(&countConn{Conn: nc}, p.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return tc, nil
}

// popWaiter removes and returns the longest waiting request, nil if none.
// Call with mu held.
func (p *hostPool) popWaiter() *waiter {
	if len(p.waiters) == 0 {
		return nil
	}
	w := p.waiters[0]
	p.waiters[0] = nil
	p.waiters = p.waiters[1:]
	if len(p.waiters) == 0 {
		p.waiters = p.waiters[:0:0] // let the backing array go, not creep forward forever
	}
	return w
}

// removeWaiter takes w out of the queue and reports whether it was still
// there. Call with mu held.
func (p *hostPool) removeWaiter(w *waiter) bool {
	for i, x := range p.waiters {
		if x == w {
			copy(p.waiters[i:], p.waiters[i+1:])
			p.waiters[len(p.waiters)-1] = nil
			p.waiters = p.waiters[:len(p.waiters)-1]
			return true
		}
	}
	return false
}

func closeAll(cs []*conn) {
	for _, c := range cs {
		_ = c.Close()
	}
}
