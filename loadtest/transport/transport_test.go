package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/transport"
)

// seen is what the echo handler got.
type seen struct {
	Method, RequestURI, Host, Body string
	Header                         http.Header
	ContentLength                  int64
}

// echo answers 201 with what it got as JSON, two cookies and a custom
// header; /chunked streams its answer, /redirect sends to /echo.
func echo(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo?from=redirect", http.StatusFound)
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := range 3 {
			fmt.Fprintf(w, "part%d;", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/bare", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // no sniffed type
		_, _ = w.Write([]byte("x"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		out, _ := json.Marshal(seen{Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Body: string(b), Header: r.Header, ContentLength: r.ContentLength})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("X-Answer", "42")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(out)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func decode(t *testing.T, res *http.Response) seen {
	t.Helper()
	defer res.Body.Close()
	var got seen
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRequestAndResponse(t *testing.T) {
	s := echo(t)
	c := transport.NewClient(transport.Options{})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/a%2Fb/c?x=1&y=%20", strings.NewReader(`{"k":"v"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Host = "api.example"
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 201 || res.Status != "201 Created" || res.Proto != "HTTP/1.1" {
		t.Errorf("status %d %q %q", res.StatusCode, res.Status, res.Proto)
	}
	if got := res.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Errorf("Set-Cookie %q", got)
	}
	if res.Header.Get("X-Answer") != "42" || res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Date") == "" {
		t.Errorf("headers %v", res.Header)
	}
	if res.ContentLength <= 0 || res.Header.Get("Content-Length") != fmt.Sprint(res.ContentLength) {
		t.Errorf("content length %d, header %q", res.ContentLength, res.Header.Get("Content-Length"))
	}
	got := decode(t, res)
	if got.Method != "POST" || got.RequestURI != "/a%2Fb/c?x=1&y=%20" || got.Host != "api.example" || got.Body != `{"k":"v"}` || got.ContentLength != 9 {
		t.Errorf("server saw %+v", got)
	}
	if v := got.Header.Values("X-Multi"); len(v) != 2 || v[0] != "one" || v[1] != "two" {
		t.Errorf("X-Multi %q", v)
	}
	if got.Header.Get("User-Agent") != transport.DefaultUserAgent || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", got.Header)
	}
	if got.Header.Get("Accept-Encoding") != "" {
		t.Errorf("Accept-Encoding %q: no compression was asked for", got.Header.Get("Accept-Encoding"))
	}
}

func TestNoMadeUpHeaders(t *testing.T) {
	s := echo(t)
	c := transport.NewClient(transport.Options{})
	req, _ := http.NewRequest(http.MethodPut, s.URL+"/", strings.NewReader("raw"))
	req.Header.Set("User-Agent", "mine")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, res)
	if got.Header.Get("Content-Type") != "" || got.Header.Get("User-Agent") != "mine" {
		t.Errorf("headers %v", got.Header)
	}

	res, err = c.Get(s.URL + "/bare")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, ok := res.Header["Content-Type"]; ok {
		t.Errorf("Content-Type %q: the server sent none", res.Header.Get("Content-Type"))
	}
}

func TestRedirectChunkedHead(t *testing.T) {
	s := echo(t)
	c := transport.NewClient(transport.Options{})
	res, err := c.Get(s.URL + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, res); got.RequestURI != "/echo?from=redirect" || got.Method != "GET" {
		t.Errorf("after the redirect the server saw %+v", got)
	}

	res, err = c.Get(s.URL + "/chunked")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "part0;part1;part2;" || res.ContentLength != -1 || len(res.TransferEncoding) != 1 || res.Header.Get("Transfer-Encoding") != "" {
		t.Errorf("chunked: %q, length %d, %q, %v", b, res.ContentLength, res.TransferEncoding, res.Header)
	}

	res, err = c.Head(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if len(b) != 0 || res.StatusCode != 201 {
		t.Errorf("HEAD: %d, body %q", res.StatusCode, b)
	}
	// The connection is still in step after a HEAD.
	res, err = c.Get(s.URL + "/again")
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, res); got.RequestURI != "/again" {
		t.Errorf("after HEAD: %+v", got)
	}
}

func TestBodyAfterClose(t *testing.T) {
	s := echo(t)
	res, err := transport.NewClient(transport.Options{}).Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := res.Body.Read(make([]byte, 1)); err == nil {
		t.Error("Read after Close succeeded")
	}
}

// slow answers after d unless the request is cancelled; arrived gets one
// value per request.
func slow(t *testing.T, d time.Duration) (*httptest.Server, chan struct{}) {
	arrived := make(chan struct{}, 10)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(s.Close)
	return s, arrived
}

func TestDeadline(t *testing.T) {
	s, _ := slow(t, 5*time.Second)
	c := transport.NewClient(transport.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	start := time.Now()
	_, err := c.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %s", d)
	}
}

func TestCancel(t *testing.T) {
	s, arrived := slow(t, 5*time.Second)
	c := transport.NewClient(transport.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := c.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want cancelled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %s", d)
	}
	// A request with a context already done is not sent.
	_, err = c.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("done context: err %v", err)
	}
}

// TestStaleConnection has the server close the pooled connection: a GET
// is sent again on a fresh one, a POST is not (it cannot be replayed).
func TestStaleConnection(t *testing.T) {
	var posts atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	c := transport.NewClient(transport.Options{})
	get := func() error {
		res, err := c.Get(s.URL)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	s.CloseClientConnections()
	time.Sleep(50 * time.Millisecond) // let the close reach the client
	if err := get(); err != nil {
		t.Fatalf("GET on a closed pooled connection: %v", err)
	}
	s.CloseClientConnections()
	time.Sleep(50 * time.Millisecond)
	res, err := c.Post(s.URL, "text/plain", strings.NewReader("x"))
	if err == nil {
		res.Body.Close()
		if posts.Load() != 1 {
			t.Errorf("%d POSTs arrived", posts.Load())
		}
	} else if posts.Load() != 0 {
		t.Errorf("the POST failed (%v) yet %d arrived", err, posts.Load())
	}
}

func TestMaxConnsWaits(t *testing.T) {
	s, _ := slow(t, 100*time.Millisecond)
	c := transport.NewClient(transport.Options{MaxConnsPerHost: 1})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
			res, err := c.Do(req)
			if err == nil {
				res.Body.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("with one connection for three requests: %v", err)
		}
	}
}

func TestBadRequests(t *testing.T) {
	c := transport.New(transport.Options{})
	closed := &closeCounter{Reader: strings.NewReader("body")}
	req, _ := http.NewRequest(http.MethodPost, "ftp://example.com/", closed)
	if _, err := c.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("ftp: %v", err)
	}
	if closed.n != 1 {
		t.Errorf("request body closed %d times, want 1", closed.n)
	}
	req, _ = http.NewRequest(http.MethodGet, "http:///path", nil)
	if _, err := c.RoundTrip(req); err == nil {
		t.Error("no host: no error")
	}
}

func TestHeadersTooLarge(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("x", 8<<10))
	}))
	t.Cleanup(s.Close)
	if _, err := transport.NewClient(transport.Options{ReadBufferSize: 4 << 10}).Get(s.URL); err == nil {
		t.Error("8 KiB header into a 4 KiB buffer: no error")
	}
	res, err := transport.NewClient(transport.Options{}).Get(s.URL)
	if err != nil {
		t.Fatalf("8 KiB header with the default buffer: %v", err)
	}
	res.Body.Close()
}

// TestConcurrent runs many requests at once over few connections (run
// with -race): each answer matches its request.
func TestConcurrent(t *testing.T) {
	s := echo(t)
	c := transport.NewClient(transport.Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				path := fmt.Sprintf("/g%d/i%d", g, i)
				res, err := c.Get(s.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				var got seen
				err = json.NewDecoder(res.Body).Decode(&got)
				res.Body.Close()
				if err != nil || got.RequestURI != path {
					t.Errorf("asked %s, server saw %s (%v)", path, got.RequestURI, err)
				}
			}
		})
	}
	wg.Wait()
	c.CloseIdleConnections()
}

type closeCounter struct {
	io.Reader
	n int
}

func (c *closeCounter) Close() error { c.n++; return nil }
