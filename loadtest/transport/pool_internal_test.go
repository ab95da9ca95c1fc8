package transport

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestDialledConnectionsStayPooled: a connection dialled for a request
// that was served meanwhile joins the idle ones as fresh, neither stale
// (which would close the whole pool when it is taken) nor expiring from
// under the next release.
func TestDialledConnectionsStayPooled(t *testing.T) {
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
		p.dialOne(p.closes)
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
	p.dialOne(closes)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) != 0 || p.open != 0 {
		t.Errorf("%d idle, %d open after the pool was closed, want none", len(p.idle), p.open)
	}
}
