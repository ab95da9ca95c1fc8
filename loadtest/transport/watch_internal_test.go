package transport

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// TestCutShortOnlyTheContextsRequest: the end of a context fails the I/O
// of a request of that context in flight on the connection, and of no
// other: the callback of a context a connection carried a request of
// before may still run (its stop came too late) while the connection
// carries another's.
func TestCutShortOnlyTheContextsRequest(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	c := newConn(a)
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	read := func() error {
		go func() { _, _ = b.Write([]byte("x")) }()
		_, err := c.Read(make([]byte, 1))
		return err
	}

	if err := c.begin(ctx2); err != nil {
		t.Fatal(err)
	}
	c.cutShort(ctx1) // a late callback of an earlier context
	if err := read(); err != nil {
		t.Fatalf("ctx1's end failed a read of ctx2's request: %v", err)
	}
	if c.end() {
		t.Fatal("ctx1's end cut ctx2's request short")
	}

	if err := c.begin(ctx2); err != nil {
		t.Fatal(err)
	}
	c.cutShort(ctx2)
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a read after its context's end: %v, want the deadline passed", err)
	}
	if !c.end() {
		t.Fatal("end does not report the request cut short")
	}

	cancel1()
	if err := c.begin(ctx1); !errors.Is(err, context.Canceled) {
		t.Errorf("begin with an ended context: %v, want it cancelled", err)
	}
}

// countingCtx is a context that is never done but counts the callbacks
// registered on it and still registered (context.AfterFunc uses a
// context's own AfterFunc method when it has one).
type countingCtx struct {
	context.Context
	done chan struct{}

	mu                sync.Mutex
	registered, alive int
}

func newCountingCtx() *countingCtx {
	return &countingCtx{Context: context.Background(), done: make(chan struct{})}
}

func (c *countingCtx) Done() <-chan struct{} { return c.done }

func (c *countingCtx) AfterFunc(func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.registered++
	c.alive++
	var once sync.Once
	return func() bool {
		stopped := false
		once.Do(func() {
			c.mu.Lock()
			c.alive--
			c.mu.Unlock()
			stopped = true
		})
		return stopped
	}
}

func (c *countingCtx) counts() (registered, alive int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.registered, c.alive
}

// TestOneRegistrationPerConnection: requests of one context on one
// connection register on the context once, not once each; a request of
// another context moves the registration; closing the connection drops
// it, so a long-lived context does not keep closed connections alive.
func TestOneRegistrationPerConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	u, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := New(Options{MaxConnsPerHost: 1})
	t.Cleanup(tr.CloseIdleConnections)
	send := func(ctx context.Context) {
		t.Helper()
		if _, _, err := tr.Exchange(ctx, &Request{URL: u.URL, Deadline: time.Now().Add(time.Minute)}, new(bytes.Buffer)); err != nil {
			t.Fatal(err)
		}
	}
	run, other := newCountingCtx(), newCountingCtx()
	for range 5 {
		send(run)
	}
	if reg, alive := run.counts(); reg != 1 || alive != 1 {
		t.Fatalf("5 requests of one context: %d registrations, %d alive; want 1 and 1", reg, alive)
	}
	send(other)
	if reg, alive := run.counts(); reg != 1 || alive != 0 {
		t.Errorf("after another context's request: the first has %d registrations, %d alive; want 1 and 0", reg, alive)
	}
	tr.CloseIdleConnections()
	if reg, alive := other.counts(); reg != 1 || alive != 0 {
		t.Errorf("after closing the connection: %d registrations, %d alive; want 1 and 0", reg, alive)
	}
}
