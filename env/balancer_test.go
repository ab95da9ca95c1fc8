package env_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/env"
)

// countingBackend is a real HTTP server that answers 200 with its name
// and counts the requests it answered.
func countingBackend(t *testing.T, name string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// pausedBackend accepts connections and reads requests but never answers
// until the test ends: what a SIGSTOPped API looks like from outside,
// since the kernel still completes the handshake.
func pausedBackend(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv, &n
}

func startBalancer(t *testing.T, o env.BalancerOptions, urls ...string) *env.Balancer {
	t.Helper()
	b, err := env.StartBalancerWith(urls, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func send(t *testing.T, method, url, body string) (int, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), time.Since(start)
}

// TestBalancerRetriesAClosedInstance: with one of two instances refusing
// connections, every request is answered by the other, POSTs included
// (a refused connection carried nothing), and the closed one is tried at
// most once per fail timeout.
func TestBalancerRetriesAClosedInstance(t *testing.T) {
	closed, _ := countingBackend(t, "closed")
	closedURL := closed.URL
	closed.Close() // the port now refuses connections
	up, answered := countingBackend(t, "up")
	b := startBalancer(t, env.BalancerOptions{FailTimeout: time.Minute}, closedURL, up.URL)

	const n = 40
	for i := range n {
		method := http.MethodGet
		if i%2 == 1 {
			method = http.MethodPost
		}
		status, body, _ := send(t, method, b.URL()+"/api/health", `{"x":1}`)
		if status != http.StatusOK || body != "up" {
			t.Fatalf("request %d (%s) = %d %q; want 200 from the instance that is up", i, method, status, body)
		}
	}
	if got := answered.Load(); got != n {
		t.Errorf("the instance that is up answered %d of %d", got, n)
	}
}

// TestBalancerRoutesAroundAPausedInstance: with one of two instances
// accepting connections but never answering, idempotent requests are
// answered by the other within the header timeout, the paused one is
// then skipped for the fail timeout, and a POST that may have reached it
// is not sent twice.
func TestBalancerRoutesAroundAPausedInstance(t *testing.T) {
	const headerTimeout = 500 * time.Millisecond
	for _, tt := range []struct {
		name       string
		method     string
		wantStatus int
		wantUp     int64 // requests the healthy instance answers, of the first
	}{
		{"GET is retried on the other instance", http.MethodGet, http.StatusOK, 1},
		{"DELETE is retried on the other instance", http.MethodDelete, http.StatusOK, 1},
		{"POST is not sent twice", http.MethodPost, http.StatusGatewayTimeout, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			paused, reached := pausedBackend(t)
			up, answered := countingBackend(t, "up")
			// The paused instance first in rotation, so the first request
			// goes to it.
			b := startBalancer(t, env.BalancerOptions{HeaderTimeout: headerTimeout, FailTimeout: time.Minute}, paused.URL, up.URL)

			status, _, took := send(t, tt.method, b.URL()+"/api/tasks/1", "")
			if status != tt.wantStatus {
				t.Fatalf("first %s = %d; want %d", tt.method, status, tt.wantStatus)
			}
			if took < headerTimeout {
				t.Errorf("first %s took %s; it should have waited for the header timeout %s", tt.method, took, headerTimeout)
			}
			if got := answered.Load(); got != tt.wantUp {
				t.Errorf("the healthy instance answered %d of the first request; want %d", got, tt.wantUp)
			}

			// The paused instance is out of rotation now: every request
			// goes to the other one (the paused one's count proves it, not
			// a clock).
			const n = 20
			for i := range n {
				status, body, _ := send(t, tt.method, b.URL()+"/api/tasks/1", "")
				if status != http.StatusOK || body != "up" {
					t.Fatalf("request %d after the timeout = %d %q; want 200 from the healthy instance", i, status, body)
				}
			}
			if got := reached.Load(); got != 1 {
				t.Errorf("the paused instance received %d requests; want 1 (the first)", got)
			}
		})
	}
}

// TestBalancerRoundRobin: healthy instances share the requests evenly.
func TestBalancerRoundRobin(t *testing.T) {
	a, na := countingBackend(t, "a")
	bsrv, nb := countingBackend(t, "b")
	b := startBalancer(t, env.BalancerOptions{}, a.URL, bsrv.URL)
	for range 10 {
		if status, _, _ := send(t, http.MethodGet, b.URL()+"/", ""); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	if na.Load() != 5 || nb.Load() != 5 {
		t.Fatalf("round robin gave a %d and b %d of 10", na.Load(), nb.Load())
	}
}

// A request framed both by Content-Length and chunked Transfer-Encoding
// may hide a second request after its chunked body: the balancer answers
// the first and closes, so the hidden one is never read, let alone sent
// on to an instance.
func TestBalancerClosesAfterAChunkedRequest(t *testing.T) {
	backend, served := countingBackend(t, "a")
	b := startBalancer(t, env.BalancerOptions{}, backend.URL)
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(b.URL(), "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hidden := "GET /hidden HTTP/1.1\r\nHost: x\r\n\r\n"
	body := "0\r\n\r\n" + hidden
	req := fmt.Sprintf("POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%s", len(body), body)
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rd := bufio.NewReader(conn)
	res, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("read the first answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if !res.Close {
		t.Errorf("first answer %s without Connection: close", res.Status)
	}
	if extra, err := http.ReadResponse(rd, nil); err == nil {
		t.Errorf("a second answer (%s): the hidden request was served", extra.Status)
	} else if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("after the first answer: %v; want the connection closed", err)
	}
	if n := served.Load(); n != 1 {
		t.Errorf("the instance served %d requests; want 1", n)
	}
}
