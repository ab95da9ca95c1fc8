package probe_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// seen is what the test server received.
type seen struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
}

func (s *seen) add(r *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	s.bodies = append(s.bodies, body)
}

func (s *seen) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		t.Fatal("the server saw no request")
	}
	return s.requests[len(s.requests)-1], s.bodies[len(s.bodies)-1]
}

// server answers by path: /redirect sends elsewhere, /limited is a 429,
// /big is over MaxBody, /gzip compresses when asked, anything else echoes
// a JSON body with a token and a password in it.
func server(t *testing.T) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.add(r, body)
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/limited":
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/big":
			w.Write(bytes.Repeat([]byte("a"), probe.MaxBody+10))
		case "/gzip":
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.Write([]byte(`{"plain":true}`))
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write([]byte(`{"plain":false}`))
			zw.Close()
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Set-Cookie", "sid=s3cr3t; Path=/; HttpOnly")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"token":"` + jwt + `","user":{"name":"A"},"password":"hunter2"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// A redirect is the answer: a check judges the URL it asked for.
func TestSendFollowsNoRedirect(t *testing.T) {
	srv, s := server(t)
	x := probe.Send(ctx(t), &check.Target{BaseURL: srv.URL}, probe.Request{Method: http.MethodGet, Path: "/redirect"})
	if x.Err != nil || x.Status != http.StatusFound || x.Header.Get("Location") != "/elsewhere" {
		t.Fatalf("Send = %d %v, Location %q; want the 302 itself", x.Status, x.Err, x.Header.Get("Location"))
	}
	if n := len(s.requests); n != 1 {
		t.Errorf("the server saw %d requests; want 1 (no redirect followed)", n)
	}
}

// A target's own client wins over DefaultClient, redirect policy and all.
func TestSendUsesTheTargetsClient(t *testing.T) {
	srv, _ := server(t)
	x := probe.Send(ctx(t), &check.Target{BaseURL: srv.URL, Client: &http.Client{}}, probe.Request{Method: http.MethodGet, Path: "/redirect"})
	if x.Status != http.StatusCreated {
		t.Errorf("Send with a following client = %d; want the 201 of /elsewhere", x.Status)
	}
}

// Send asks for an uncompressed answer, so that the body can be quoted
// and its headers are the server's own; a request that asks for gzip
// gets it as sent, and evidence only describes it.
func TestSendAsksForIdentityEncoding(t *testing.T) {
	srv, s := server(t)
	target := &check.Target{BaseURL: srv.URL}
	x := probe.Send(ctx(t), target, probe.Request{Method: http.MethodGet, Path: "/gzip"})
	r, _ := s.last(t)
	if got := r.Header.Get("Accept-Encoding"); got != "identity" {
		t.Errorf("Accept-Encoding %q; want identity", got)
	}
	if got := r.Header.Get("User-Agent"); got != probe.UserAgent {
		t.Errorf("User-Agent %q; want %q", got, probe.UserAgent)
	}
	if string(x.Body) != `{"plain":true}` {
		t.Errorf("body %q; want the plain one", x.Body)
	}

	x = probe.Send(ctx(t), target, probe.Request{Method: http.MethodGet, Path: "/gzip", Header: http.Header{"Accept-Encoding": {"gzip"}}})
	if x.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q; want the server's gzip, not decompressed by the transport", x.Header.Get("Content-Encoding"))
	}
	if ex := x.Excerpt(); !strings.HasSuffix(ex, "bytes, Content-Encoding: gzip)") {
		t.Errorf("Excerpt of a gzip body = %q; want it described", ex)
	}
}

func TestSendRequest(t *testing.T) {
	srv, s := server(t)
	other, so := server(t)
	target := &check.Target{BaseURL: srv.URL + "/"}

	// A body is JSON unless said otherwise; the caller's headers go as they are.
	h := probe.Bearer("tok-1")
	h.Set("X-Request-ID", "r1")
	x := probe.Send(ctx(t), target, probe.Request{Method: http.MethodPost, Path: "/api/tasks?x=1", Header: h, Body: []byte(`{"title":"t"}`)})
	r, body := s.last(t)
	if r.Method != http.MethodPost || r.URL.RequestURI() != "/api/tasks?x=1" || string(body) != `{"title":"t"}` {
		t.Errorf("server saw %s %s %q", r.Method, r.URL.RequestURI(), body)
	}
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer tok-1" || r.Header.Get("X-Request-ID") != "r1" {
		t.Errorf("server saw headers %v", r.Header)
	}
	if x.Req.Header.Get("Content-Type") != "application/json" || h.Get("Content-Type") != "" {
		t.Errorf("the exchange records the defaulted Content-Type, the caller's header stays as it was: %v, %v", x.Req.Header, h)
	}
	if x.Status != http.StatusCreated || x.Err != nil || x.Took <= 0 {
		t.Errorf("exchange %d %v %s", x.Status, x.Err, x.Took)
	}
	if !x.Decode(&struct{}{}) {
		t.Error("Decode of a JSON answer = false")
	}

	// Base sends to another instance.
	probe.Send(ctx(t), target, probe.Request{Method: http.MethodGet, Path: "/x", Base: other.URL})
	if r, _ := so.last(t); r.URL.Path != "/x" {
		t.Errorf("the other instance saw %s", r.URL.Path)
	}

	// Chunked hides the length; Paced announces it, and still delivers all.
	big := bytes.Repeat([]byte("b"), 200<<10)
	probe.Send(ctx(t), target, probe.Request{Method: http.MethodPost, Path: "/c", Body: big, Chunked: true})
	if r, body := s.last(t); r.ContentLength != -1 || len(r.TransferEncoding) == 0 || len(body) != len(big) {
		t.Errorf("chunked: Content-Length %d, Transfer-Encoding %v, %d bytes", r.ContentLength, r.TransferEncoding, len(body))
	}
	probe.Send(ctx(t), target, probe.Request{Method: http.MethodPost, Path: "/p", Body: big, Paced: true})
	if r, body := s.last(t); r.ContentLength != int64(len(big)) || len(body) != len(big) {
		t.Errorf("paced: Content-Length %d, %d bytes", r.ContentLength, len(body))
	}
	probe.Send(ctx(t), target, probe.Request{Method: http.MethodPost, Path: "/pc", Body: big, Paced: true, Chunked: true})
	if r, body := s.last(t); r.ContentLength != -1 || len(body) != len(big) {
		t.Errorf("paced and chunked: Content-Length %d, %d bytes", r.ContentLength, len(body))
	}
}

func TestSendReadsAtMostMaxBody(t *testing.T) {
	srv, _ := server(t)
	x := probe.Send(ctx(t), &check.Target{BaseURL: srv.URL}, probe.Request{Method: http.MethodGet, Path: "/big"})
	if len(x.Body) != probe.MaxBody {
		t.Errorf("read %d bytes; want %d", len(x.Body), probe.MaxBody)
	}
}

func TestProblem(t *testing.T) {
	srv, _ := server(t)
	target := &check.Target{BaseURL: srv.URL}
	if x := probe.Send(ctx(t), target, probe.Request{Method: http.MethodGet, Path: "/limited"}); !errors.Is(x.Problem(), probe.ErrRateLimited) || x.Status != http.StatusTooManyRequests {
		t.Errorf("a 429: Problem %v, Status %d; want ErrRateLimited and the status kept", x.Problem(), x.Status)
	}
	if x := probe.Send(ctx(t), target, probe.Request{Method: http.MethodGet, Path: "/"}); x.Problem() != nil {
		t.Errorf("a 201: Problem %v", x.Problem())
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	x := probe.Send(ctx(t), &check.Target{BaseURL: closed.URL}, probe.Request{Method: http.MethodGet, Path: "/"})
	if x.Status != 0 || x.Problem() == nil || !strings.HasPrefix(x.Answer(), "no answer: ") {
		t.Errorf("no server: Status %d, Problem %v, Answer %q", x.Status, x.Problem(), x.Answer())
	}
}

// Evidence names the request and the answer, with every secret redacted.
func TestEvidence(t *testing.T) {
	srv, _ := server(t)
	target := &check.Target{BaseURL: srv.URL}
	h := probe.Bearer(jwt)
	h.Set("Cookie", "sid=s3cr3t")
	x := probe.Send(ctx(t), target, probe.Request{Method: http.MethodPost, Path: "/api/auth/login", Label: "as A", Header: h,
		Body: []byte(`{"email":"a@example.com","password":"hunter2"}`)})
	ev := x.Evidence("201", "a token", "Content-Type", "Set-Cookie", "X-Absent")
	wantCall := "POST /api/auth/login — as A\n" +
		"Authorization: Bearer <redacted>\n" +
		"Content-Type: application/json\n" +
		"Cookie: sid=<redacted>\n\n" +
		`{"email":"a@example.com","password":"<redacted>"}`
	if ev.Request != wantCall {
		t.Errorf("Request:\n%s\nwant:\n%s", ev.Request, wantCall)
	}
	wantAnswer := "201 Created\n" +
		"Content-Type: application/json\n" +
		"Set-Cookie: sid=<redacted>; Path=/; HttpOnly\n\n" +
		`{"token":"<redacted>","user":{"name":"A"},"password":"<redacted>"}`
	if ev.Response != wantAnswer {
		t.Errorf("Response:\n%s\nwant:\n%s", ev.Response, wantAnswer)
	}
	if ev.Expected != "201" || ev.Observed != "a token" {
		t.Errorf("Expected %q, Observed %q", ev.Expected, ev.Observed)
	}

	// Shown says what was sent where redaction would hide it; a body too
	// big to quote is described, with its size.
	x = probe.Send(ctx(t), target, probe.Request{Method: http.MethodPost, Path: "/p",
		Header: http.Header{"Authorization": {"Bearer forged"}}, Shown: map[string]string{"authorization": "Bearer <forged: alg none>"},
		Body: bytes.Repeat([]byte("x"), 1000), BodyShown: "xxx…", Chunked: true})
	if call := x.Call(); !strings.Contains(call, "Authorization: Bearer <forged: alg none>") ||
		!strings.Contains(call, "Transfer-Encoding: chunked") || !strings.HasSuffix(call, "\n\nxxx… (1000 bytes)") {
		t.Errorf("Call:\n%s", call)
	}
}

func TestStatusLineAndErrString(t *testing.T) {
	if got := probe.StatusLine(404); got != "404 Not Found" {
		t.Errorf("StatusLine(404) = %q", got)
	}
	if got := probe.StatusLine(599); got != "599" {
		t.Errorf("StatusLine(599) = %q", got)
	}
	if got := probe.ErrString(nil); got != "no error" {
		t.Errorf("ErrString(nil) = %q", got)
	}
}

func TestErrorResult(t *testing.T) {
	r := probe.ErrorResult("could not\nregister", errors.New("boom"), nil)
	if r.Status != check.Error || r.Message != "could not register: boom" || len(r.Evidence) != 0 {
		t.Errorf("ErrorResult = %+v", r)
	}
	x := probe.Exchange{Req: probe.Request{Method: http.MethodGet, Path: "/x"}, Err: errors.New("refused")}
	r = probe.ErrorResult("stopped", nil, &x)
	if r.Message != "stopped" || len(r.Evidence) != 1 || r.Evidence[0].Observed != "no verdict" || r.Evidence[0].Response != "no answer: refused" {
		t.Errorf("ErrorResult with an exchange = %+v", r)
	}
}

func TestTallyAndCapped(t *testing.T) {
	tl := probe.Tally{Headers: []string{"Retry-After"}}
	judge := func(x probe.Exchange) (probe.Verdict, string) {
		switch x.Status {
		case 200:
			return probe.Fail, "accepted"
		case 400:
			return probe.Warn, "400"
		}
		return probe.OK, ""
	}
	for _, st := range []int{200, 400, 401, 429} {
		tl.Record(probe.Exchange{Req: probe.Request{Method: http.MethodGet, Path: "/"}, Status: st, Header: http.Header{"Retry-After": {"60"}}}, "401", judge)
	}
	if tl.Sent != 4 || len(tl.Fails) != 1 || len(tl.Warns) != 1 || len(tl.Errs) != 1 {
		t.Fatalf("tally %+v", tl)
	}
	if e := tl.Errs[0]; !strings.HasPrefix(e.Observed, "no verdict: ") || !strings.Contains(e.Response, "Retry-After: 60") {
		t.Errorf("the 429's evidence %+v", e)
	}
	ev := make([]check.Evidence, probe.MaxShown+3)
	if got := probe.Capped(ev); len(got) != probe.MaxShown+1 || got[probe.MaxShown].Note != "3 more like these not shown" {
		t.Errorf("Capped: %d entries, last %+v", len(got), got[len(got)-1])
	}
	if got := probe.Capped(ev[:2]); len(got) != 2 {
		t.Errorf("Capped of 2 = %d", len(got))
	}
}
