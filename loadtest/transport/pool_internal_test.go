package transport

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"
)

// TestDialledConnectionsStayPooled: a connection dialled for a request
// that was served meanwhile joins the idle ones as fresh, neither stale
// (which would close the whole pool when it is taken) nor expiring from
// under the next release.
func TestDialledConnectionsStayPooled(t *testing.T) {
	ln := acceptingListener(t)
	var d net.Dialer
	p := &hostPool{addr: ln.Addr().String(), dial: d.DialContext, dialTimeout: time.Minute, idleTimeout: time.Minute, maxDials: DefaultMaxDials}
	t.Cleanup(p.closeIdle)
	// What dialMore does for a waiter, the waiter then served by another
	// connection: the dial lands in the idle ones.
	raced := func() *conn {
		t.Helper()
		p.mu.Lock()
		p.dialing++
		p.open++
		p.mu.Unlock()
		p.dialOne(context.Background(), p.closes)
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.idle) == 0 {
			t.Fatal("the dial did not join the idle connections")
		}
		return p.idle[len(p.idle)-1]
	}

	b := raced()
	got, err := p.get(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got != b || got.reused {
		t.Fatalf("took %p (reused %v), want the fresh dialled %p", got, got.reused, b)
	}
	c := raced()
	p.put(got) // the release must not expire c, the oldest idle one
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) != 2 || p.idle[0] != c || p.open != 2 {
		t.Errorf("idle %v, %d open; want the dialled one and the released one, 2 open", p.idle, p.open)
	}
}

// acceptingListener is a loopback listener that accepts every connection
// and holds it open until the test ends.
func acceptingListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	return ln
}

// TestDialAfterCloseIsNotKept: a dial still under way when the pool's
// idle connections are closed (a run ending) closes its connection
// rather than leave it open in a pool nobody uses.
func TestDialAfterCloseIsNotKept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var d net.Dialer
	p := &hostPool{addr: ln.Addr().String(), dial: d.DialContext, dialTimeout: time.Minute, idleTimeout: time.Minute, maxDials: DefaultMaxDials}
	p.mu.Lock()
	p.dialing++
	p.open++
	closes := p.closes
	p.mu.Unlock()
	p.closeIdle()
	p.dialOne(context.Background(), closes)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) != 0 || p.open != 0 {
		t.Errorf("%d idle, %d open after the pool was closed, want none", len(p.idle), p.open)
	}
}

// TestCloseIdleStopsDials: letting the pool go (what the executor does
// at the end of a run) cancels the dials under way, rather than leave
// them for the hour of their dial timeout.
func TestCloseIdleStopsDials(t *testing.T) {
	started, ended := make(chan struct{}), make(chan error, 1)
	hang := func(ctx context.Context, network, addr string) (net.Conn, error) {
		close(started)
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	}
	p := &hostPool{addr: "127.0.0.1:1", dial: hang, dialTimeout: time.Hour, idleTimeout: time.Minute, maxDials: DefaultMaxDials}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := p.get(ctx, time.Time{})
		got <- err
	}()
	<-started
	cancel() // the request gives up; its dial goes on
	if err := <-got; err == nil {
		t.Fatal("get succeeded with no server")
	}
	p.closeIdle()
	select {
	case err := <-ended:
		if err != context.Canceled {
			t.Errorf("the dial ended with %v; want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the dial outlived closeIdle by a minute")
	}
	// A later request dials again, under a new context: one with no
	// deadline, so that a busy machine's slow start of the goroutine
	// cannot end the request before it dials.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	started = make(chan struct{})
	go func() { _, _ = p.get(ctx2, time.Time{}) }()
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("no dial after closeIdle")
	}
	p.closeIdle()
	<-ended
}

// TestDialsGoOnWhileRequestsWait: when a dial ends and requests still
// wait beyond the dials under way, the next dial starts then, not when
// another request happens to arrive: on a busy start those arrivals
// stall too, and the waiting requests waited on nothing.
func TestDialsGoOnWhileRequestsWait(t *testing.T) {
	ln := acceptingListener(t)
	began, release := make(chan struct{}, 3), make(chan struct{})
	var d net.Dialer
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		began <- struct{}{}
		<-release
		return d.DialContext(ctx, network, addr)
	}
	p := &hostPool{addr: ln.Addr().String(), dial: dial, dialTimeout: time.Minute, idleTimeout: time.Minute, maxDials: 1}
	t.Cleanup(p.closeIdle)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := make(chan *conn, 3)
	for range 3 {
		go func() {
			c, err := p.get(ctx, time.Time{})
			if err != nil {
				t.Error(err)
			}
			got <- c
		}()
	}
	for waiting := 0; waiting < 3; {
		if ctx.Err() != nil {
			t.Fatal("three requests did not queue for a connection")
		}
		p.mu.Lock()
		waiting = len(p.waiters)
		p.mu.Unlock()
		runtime.Gosched()
	}
	for i := range 3 {
		select {
		case <-began:
		case <-ctx.Done():
			t.Fatalf("dial %d never began with %d requests still waiting", i+1, 3-i)
		}
		release <- struct{}{}
		if c := <-got; c != nil {
			_ = c.Close()
		}
	}
}
