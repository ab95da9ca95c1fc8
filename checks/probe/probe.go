// Package probe sends the requests of readiness checks and turns them
// into redacted evidence.
//
// Every HTTP check package sends through Send, so that all of them judge
// the same thing: the answer of the URL they asked for (no redirect is
// followed), as the server sent it (an uncompressed answer is asked for,
// so that its headers are the server's own and its body can be quoted),
// read up to MaxBody. What evidence quotes of a request or an answer goes
// through Redact, because reports are read by more people than may hold
// a session. Pair and Memo let the checks of a run share what they
// create (the fixture users, above all) in the run's Target.Shared;
// Title, DeleteTask and Tally.Result are the chores every HTTP check
// shares: marking what it creates, removing it, and turning what it saw
// into a Result.
package probe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/taskready/taskready/checks/check"
)

// Bounds of what a check reads, quotes and shows.
const (
	// MaxBody is the most Send reads of an answer: no check needs more,
	// and a hostile target must not make a check hold more.
	MaxBody = 1 << 20
	// MaxExcerpt is the most bytes of a body evidence quotes, so that a
	// report stays readable.
	MaxExcerpt = 300
	// MaxShown is the most evidence entries Capped keeps per result.
	MaxShown = 12
)

// UserAgent is sent unless a request sets its own, so that the target's
// logs can tell the checks' requests apart from real traffic.
const UserAgent = "taskready-checks"

// DefaultClient is used when the target sets no client. It follows no
// redirect, because a check judges the answer of the URL it asked for,
// not of wherever it was sent; its timeout keeps a hanging target from
// holding a check until the check's own deadline.
var DefaultClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Client returns the target's client, or DefaultClient when it sets none,
// so that a caller's own transport settings always win.
func Client(t *check.Target) *http.Client {
	if t.Client != nil {
		return t.Client
	}
	return DefaultClient
}

// Request is one call to the target, and what evidence shows of it.
type Request struct {
	// Method is the HTTP method, "GET" and the like.
	Method string
	// Path is relative to Base, query included.
	Path string
	// Base is an instance's base URL, for checks that must reach one
	// instance directly; the target's BaseURL when empty.
	Base string
	// Label says in evidence whose request it is or what it tries ("as
	// B (not the owner)", "title is a number"), which the path alone
	// does not tell.
	Label string
	// Header is sent as is, and shown redacted (see RedactHeader).
	Header http.Header
	// Shown replaces the value of a header in evidence, for a check that
	// must say what it sent where redaction would hide it (a forged token
	// is described, not hidden); keys are header names.
	Shown map[string]string
	// Body is sent when not nil, as application/json unless Header sets
	// a Content-Type.
	Body []byte
	// BodyShown replaces the body's excerpt in evidence, for a body too
	// big or too deep for an excerpt to say what it is.
	BodyShown string
	// Chunked sends the body without Content-Length, as a client that
	// streams it does.
	Chunked bool
	// Paced pauses early in the body (see pacedBody), so that the answer
	// of a target that refuses the body before reading it all is read
	// before the write fails.
	Paced bool
}

// Exchange is a request and what came back, kept for judging and for
// evidence.
type Exchange struct {
	// Req is the request as sent: its Header holds the Content-Type Send
	// defaulted.
	Req Request
	// Status is 0 when no answer came (Err says why).
	Status int
	// Header is the answer's, as the server sent it (see Send).
	Header http.Header
	// Body is the answer's body, at most MaxBody bytes.
	Body []byte
	// Took is from sending the request to the end of the answer's body.
	Took time.Duration
	// Err is why the request failed or the answer could not be read.
	Err error
}

// Send sends r to t and reads the answer. Unless r says otherwise it asks
// for an uncompressed answer, so that the body can be quoted and the
// headers are the server's own (Go's transport would otherwise decompress
// gzip and drop Content-Encoding).
func Send(ctx context.Context, t *check.Target, r Request) Exchange {
	base := r.Base
	if base == "" {
		base = t.BaseURL
	}
	r.Header = r.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	var body io.Reader
	if r.Body != nil {
		if r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", "application/json")
		}
		switch {
		case r.Paced && r.Chunked:
			body = newPacedBody(ctx, r.Body, pacedChunkedHead)
		case r.Paced:
			body = newPacedBody(ctx, r.Body, 0)
		case r.Chunked:
			body = lengthless{bytes.NewReader(r.Body)}
		default:
			body = bytes.NewReader(r.Body)
		}
	}
	x := Exchange{Req: r}
	req, err := http.NewRequestWithContext(ctx, r.Method, strings.TrimRight(base, "/")+r.Path, body)
	if err != nil {
		x.Err = err
		return x
	}
	if r.Paced && !r.Chunked && r.Body != nil {
		req.ContentLength = int64(len(r.Body)) // announced, as a client that knows the size does
	}
	req.Header = r.Header.Clone()
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	start := time.Now()
	res, err := Client(t).Do(req)
	if err != nil {
		x.Err = err
		return x
	}
	defer res.Body.Close()
	x.Status, x.Header = res.StatusCode, res.Header
	x.Body, err = io.ReadAll(io.LimitReader(res.Body, MaxBody))
	x.Took = time.Since(start)
	if err != nil {
		x.Err = fmt.Errorf("reading the answer: %w", err)
	}
	return x
}

// Bearer returns the Authorization header for token, the one way every
// check authenticates.
func Bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// lengthless hides a body's length from the transport, which then sends
// it chunked.
type lengthless struct{ io.Reader }

// How a paced body is sent. With its length announced, nothing goes
// before the pause: the header is all a target needs to refuse it. Sent
// chunked, the head is just over the contract's 100 kB limit, so that a
// target enforcing it has what it needs, and finds out as the head ends.
// The pause is bounded: a target that reads on waits this long more.
const (
	pacedChunkedHead = 101 << 10
	pacedPause       = time.Second
)

// pacedBody sends its head, then pauses before the rest until pacedPause
// has passed, the transport closes it (the answer came), or the request
// ends. A server that refuses an oversized body answers and closes the
// connection without reading the rest; when the client is still writing
// then, the reset that follows makes Go's transport report the write
// error instead of the answer (and may cost any client the 413). Paused,
// the client reads the answer first.
type pacedBody struct {
	ctx        context.Context
	head, tail []byte
	paused     bool
	closed     chan struct{}
	once       sync.Once
}

func newPacedBody(ctx context.Context, b []byte, head int) *pacedBody {
	n := min(len(b), head)
	return &pacedBody{ctx: ctx, head: b[:n], tail: b[n:], closed: make(chan struct{})}
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	if !b.paused && len(b.tail) > 0 {
		b.paused = true
		timer := time.NewTimer(pacedPause)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-b.closed:
			return 0, io.ErrClosedPipe
		case <-b.ctx.Done():
			return 0, b.ctx.Err()
		}
	}
	if len(b.tail) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.tail)
	b.tail = b.tail[n:]
	return n, nil
}

// Close ends a pause: the transport closes the body when it is done with
// the request, an early answer included.
func (b *pacedBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}
