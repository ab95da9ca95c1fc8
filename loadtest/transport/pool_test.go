package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/transport"
)

// counting is a server that counts the connections it accepted.
func counting(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s, &conns
}

func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res.Body.Close()
}

func TestSequentialRequestsReuseOneConnection(t *testing.T) {
	s, conns := counting(t)
	c := transport.NewClient(transport.Options{})
	for i := range 20 {
		if err := get(context.Background(), c, s.URL); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 requests one after another opened %d connections, want 1", n)
	}
}

// gatedDialer lets the first dial through and holds every later one
// until open is closed, counting them: a server whose new connections
// cannot be had (a full listen backlog, a SYN lost and sent again a
// second later).
type gatedDialer struct {
	open    chan struct{}
	dials   atomic.Int64
	waiting atomic.Int64
}

func (g *gatedDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if g.dials.Add(1) > 1 {
		g.waiting.Add(1)
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// TestBurstIsServedByReleasedConnections sends a burst of concurrent
// requests over one warm connection while no new connection can be
// opened: every request is answered on the connection the others
// release, none waits for a dial, and at most MaxDialsPerHost dials are
// attempted. (A request bound to the connection it dials, fasthttp's
// rule, would wait here until the dials are let through.)
func TestBurstIsServedByReleasedConnections(t *testing.T) {
	s, _ := counting(t)
	g := &gatedDialer{open: make(chan struct{})}
	const maxDials = 2
	c := transport.NewClient(transport.Options{DialContext: g.dial, MaxDialsPerHost: maxDials})
	t.Cleanup(func() {
		close(g.open)
		c.CloseIdleConnections()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := get(ctx, c, s.URL); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() { errs <- get(ctx, c, s.URL) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a request of the burst: %v", err)
		}
	}
	if n := g.dials.Load() - 1; n > maxDials {
		t.Errorf("the burst attempted %d dials, want at most %d at a time", n, maxDials)
	}
}

// TestDialErrorFailsTheRequest: a host that refuses connections fails
// the request with the dial's error rather than leaving it waiting.
func TestDialErrorFailsTheRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := transport.NewClient(transport.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			err := get(ctx, c, "http://"+addr+"/")
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("request to a closed port: %v, want the dial's error", err)
			}
		})
	}
	wg.Wait()
}

// TestIdleConnectionExpires: a connection idle longer than IdleTimeout
// is not used again (the server may have closed it meanwhile).
func TestIdleConnectionExpires(t *testing.T) {
	s, conns := counting(t)
	c := transport.NewClient(transport.Options{IdleTimeout: 20 * time.Millisecond})
	if err := get(context.Background(), c, s.URL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // longer than IdleTimeout: the connection is stale whatever the machine's speed
	if err := get(context.Background(), c, s.URL); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2: the idle one expired", n)
	}
}

// TestWaitingRequestGivesUp: a request waiting for a connection (all
// taken, MaxConnsPerHost reached) ends with its context, and the
// connection it would have had serves the next request.
func TestWaitingRequestGivesUp(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			close(arrived)
			<-release
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	c := transport.NewClient(transport.Options{MaxConnsPerHost: 1})
	held := make(chan error, 1)
	go func() { held <- get(context.Background(), c, s.URL+"/hold") }()
	<-arrived // the only connection is taken

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := get(ctx, c, s.URL); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for the only connection: %v, want the deadline", err)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := get(context.Background(), c, s.URL); err != nil {
		t.Fatalf("after a waiter gave up: %v", err)
	}
}

// TestLargeRequestBody sends a body larger than a socket's buffer: the
// part written with the answer's first read and the rest that waits for
// room both arrive, and the connection serves the next request.
func TestLargeRequestBody(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading late lets the body fill both sockets' buffers first
		// (whatever the wait, the bytes must all arrive).
		time.Sleep(20 * time.Millisecond)
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	}))
	t.Cleanup(s.Close)
	c := transport.NewClient(transport.Options{})
	t.Cleanup(c.CloseIdleConnections)
	for _, size := range []int{32 << 20, 10} {
		res, err := c.Post(s.URL, "application/octet-stream", bytes.NewReader(make([]byte, size)))
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != fmt.Sprint(size) {
			t.Errorf("sent %d bytes, the server read %s", size, got)
		}
	}
}
