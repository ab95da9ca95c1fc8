package env_test

import (
	"bufio"
	"context"
	"crypto/tls"
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
	"github.com/taskready/taskready/internal/pki"
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

// With TLS the balancer serves HTTPS on its address, tells the instances
// the scheme (X-Forwarded-Proto), offers HTTP/1.1 only and TLS 1.2 and
// later, and its plain-HTTP port answers every request with a 308 to the
// same host name, path and query over HTTPS.
func TestBalancerTerminatesTLS(t *testing.T) {
	t.Parallel()
	var proto atomic.Value
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(r.Header.Get("X-Forwarded-Proto"))
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)
	ca, cert, err := pki.Local()
	if err != nil {
		t.Fatal(err)
	}
	b := startBalancer(t, env.BalancerOptions{TLS: env.ServerTLS(cert.TLS), Redirect: true}, backend.URL)
	if !strings.HasPrefix(b.URL(), "https://127.0.0.1:") || !strings.HasPrefix(b.PlainURL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q, PlainURL %q; want https and http on loopback", b.URL(), b.PlainURL())
	}
	client := &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Get(b.URL() + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Proto != "HTTP/1.1" || proto.Load() != "https" {
		t.Errorf("over TLS: %s %s, the instance saw X-Forwarded-Proto %q; want 200 over HTTP/1.1, https", res.Proto, res.Status, proto.Load())
	}

	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(b.URL(), "https://"))
	for _, tt := range []struct{ method, host, want string }{
		{http.MethodGet, "", "https://127.0.0.1:" + tlsPort + "/api/tasks?status=done"},
		{http.MethodPost, "localhost", "https://localhost:" + tlsPort + "/api/tasks?status=done"},
	} {
		req, _ := http.NewRequest(tt.method, b.PlainURL()+"/api/tasks?status=done", strings.NewReader("{}"))
		if tt.host != "" {
			req.Host = tt.host
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != tt.want {
			t.Errorf("%s %s over plain HTTP: %s to %q; want 308 to %q", tt.method, tt.host, res.Status, res.Header.Get("Location"), tt.want)
		}
	}

	addr := strings.TrimPrefix(b.URL(), "https://")
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), MinVersion: v, MaxVersion: v})
		if ok := err == nil; ok != (v >= tls.VersionTLS12) {
			t.Errorf("%s: handshake error %v; want success only for TLS 1.2 and later", tls.VersionName(v), err)
		}
		if err == nil {
			c.Close()
		}
	}

	if p := startBalancer(t, env.BalancerOptions{TLS: env.ServerTLS(cert.TLS)}, backend.URL).PlainURL(); p != "" {
		t.Errorf("PlainURL without Redirect = %q; want none", p)
	}
}
