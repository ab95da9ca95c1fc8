package transport_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/wiretally"
	"github.com/taskready/taskready/loadtest/transport"
)

// tallyServer answers every request, after reading its body, with a JSON
// document, and counts what it reads and writes on the wire.
func tallyServer(t *testing.T) (*httptest.Server, *wiretally.Tally) {
	t.Helper()
	var n wiretally.Tally
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "0123456789abcdef")
		_, _ = io.WriteString(w, `{"task":{"_id":"65f0c1","title":"`+strings.Repeat("x", 300)+`"}}`)
	}))
	srv.Listener = n.Listen(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestWireCountsWhatTheServerRead: the bytes a request and its answer
// took on the wire, as counted on the client, are exactly those the
// server read and wrote, for the fasthttp transport (Exchange and
// RoundTrip) and an http.Transport under CountConns, on a fresh and on a
// reused connection.
func TestWireCountsWhatTheServerRead(t *testing.T) {
	srv, n := tallyServer(t)
	body := `{"title":"Load test task","description":"written by vu 1","status":"pending"}`
	fast := transport.New(transport.Options{})
	defer fast.CloseIdleConnections()
	std := transport.CountConns(&http.Transport{DisableCompression: true})
	defer std.CloseIdleConnections()
	clientDo := func(rt http.RoundTripper) func(t *testing.T, method, target, body string) (sent, received int64) {
		return func(t *testing.T, method, target, body string) (int64, int64) {
			var w transport.Wire
			var rd io.Reader
			if body != "" {
				rd = strings.NewReader(body)
			}
			req, err := http.NewRequestWithContext(transport.WithWire(context.Background(), &w), method, target, rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")
			res, err := (&http.Client{Transport: rt}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if !w.Counted() {
				t.Fatal("the transport did not count")
			}
			return w.Sent(), w.Received()
		}
	}
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, method, target, body string) (sent, received int64)
	}{
		{"fast Exchange", func(t *testing.T, method, target, body string) (int64, int64) {
			u, _ := url.Parse(target)
			req := &transport.Request{Method: method, URL: u, Header: [][2]string{{"Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}}}
			if body != "" {
				req.Body = []byte(body)
				req.Header = append(req.Header, [2]string{"Content-Type", "application/json"})
			}
			var answer bytes.Buffer
			if status, _, err := fast.Exchange(context.Background(), req, &answer); err != nil || status != 200 {
				t.Fatalf("status %d, %v", status, err)
			}
			return req.Sent, req.Received
		}},
		{"fast RoundTrip", clientDo(fast)},
		{"std", clientDo(std)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, r := range []struct{ method, path, body string }{
				{"POST", "/api/tasks", body}, // a fresh connection
				{"GET", "/api/tasks?page=1&limit=10", ""},
				{"PUT", "/api/tasks/65f0c1", body}, // reused
			} {
				read0, written0 := n.Read.Load(), n.Written.Load()
				sent, received := tc.do(t, r.method, srv.URL+r.path, r.body)
				read, written := n.Read.Load()-read0, n.Written.Load()-written0
				if sent != read || received != written {
					t.Errorf("request %d (%s %s): counted %d sent, %d received; the server read %d and wrote %d",
						i, r.method, r.path, sent, received, read, written)
				}
				t.Logf("%s %s: %d bytes sent, %d received", r.method, r.path, sent, received)
				if min := int64(len(r.body) + len(r.method+" "+r.path+" HTTP/1.1\r\n")); sent <= min {
					t.Errorf("request %d: %d bytes sent, no more than its request line and body (%d)", i, sent, min)
				}
			}
		})
	}
}

// A transport that cannot count says so: the journey then falls back to
// the bodies' lengths.
func TestWireNotCounted(t *testing.T) {
	srv, _ := tallyServer(t)
	var w transport.Wire
	req, _ := http.NewRequestWithContext(transport.WithWire(context.Background(), &w), "GET", srv.URL, nil)
	res, err := srv.Client().Do(req) // net/http's own connections
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if w.Counted() || w.Sent() != 0 || w.Received() != 0 {
		t.Errorf("counted %v, %d sent, %d received through an uncounted transport", w.Counted(), w.Sent(), w.Received())
	}
}
