package input

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/check"
)

// This file is the package's own small HTTP layer, a sibling of the one in
// checks/jwt: fixture.Do sends only well-formed JSON and returns no
// headers or timing, and these checks must send malformed, mistyped,
// oversized and chunked bodies and time the answers. Users and tasks are
// still created through checks/fixture.

// Bounds of what a probe reads and quotes.
const (
	maxRead    = 1 << 20 // bytes read of any answer
	maxExcerpt = 300     // bytes of a body quoted in evidence
	maxShown   = 12      // evidence entries kept per result
)

// defaultClient is used when the target sets none: a bounded timeout so a
// hanging target cannot hold a check beyond its context by accident.
var defaultClient = &http.Client{Timeout: 30 * time.Second}

func client(t *check.Target) *http.Client {
	if t.Client != nil {
		return t.Client
	}
	return defaultClient
}

// request is one probe and what evidence shows of it.
type request struct {
	method, path string
	what         string // what the probe tries, for evidence: "title is a number"
	token        string // sent as a Bearer token; shown redacted
	contentType  string // default application/json when there is a body
	body         []byte
	bodyShown    string // evidence's description of a body too big to quote
	chunked      bool   // send the body without Content-Length
	paced        bool   // pause early in the body (see pacedBody)
}

// String is the request as evidence shows it; the token never appears.
func (q request) String() string {
	var b strings.Builder
	b.WriteString(q.method + " " + q.path)
	if q.what != "" {
		b.WriteString(" (" + q.what + ")")
	}
	if q.token != "" {
		b.WriteString("; Authorization: Bearer <redacted>")
	}
	if q.body != nil {
		fmt.Fprintf(&b, "; Content-Type: %s", q.ctype())
		if q.chunked {
			b.WriteString("; Transfer-Encoding: chunked")
		}
		shown := q.bodyShown
		if shown == "" {
			shown = excerpt(q.body)
		}
		fmt.Fprintf(&b, "; body (%d bytes): %s", len(q.body), shown)
	}
	return b.String()
}

func (q request) ctype() string {
	if q.contentType != "" {
		return q.contentType
	}
	return "application/json"
}

// reply is the target's answer to one probe.
type reply struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration // from sending to the end of the body
}

// String is the answer as evidence shows it.
func (p *reply) String() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", p.status, http.StatusText(p.status))
	for _, h := range []string{"Content-Type", "Retry-After", "Connection"} {
		if v := p.header.Get(h); v != "" {
			fmt.Fprintf(&b, "; %s: %s", h, v)
		}
	}
	fmt.Fprintf(&b, "; after %s; body: %s", p.took.Round(time.Millisecond), excerpt(p.body))
	return b.String()
}

// limitedError is a 429: the probe learned nothing about what it tests.
type limitedError struct{}

func (limitedError) Error() string {
	return "the target's rate limit refused the probe (429): run the checks with higher RATE_LIMIT_AUTH / RATE_LIMIT_API or from a fresh window"
}

// chunkedReader hides a body's length from the transport, which then
// sends it chunked.
type chunkedReader struct{ io.Reader }

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

// send sends q and reads the answer. A transport failure and a 429 are
// errors (with the reply, for a 429): neither is a verdict on the input.
func send(ctx context.Context, t *check.Target, q request) (*reply, error) {
	var body io.Reader
	switch {
	case q.body == nil:
	case q.paced && q.chunked:
		body = newPacedBody(ctx, q.body, pacedChunkedHead)
	case q.paced:
		body = newPacedBody(ctx, q.body, 0)
	case q.chunked:
		body = chunkedReader{bytes.NewReader(q.body)}
	default:
		body = bytes.NewReader(q.body)
	}
	req, err := http.NewRequestWithContext(ctx, q.method, strings.TrimRight(t.BaseURL, "/")+q.path, body)
	if err != nil {
		return nil, err
	}
	if q.paced && !q.chunked {
		req.ContentLength = int64(len(q.body)) // announced, as a client that knows the size does
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "taskready-checks")
	if q.body != nil {
		req.Header.Set("Content-Type", q.ctype())
	}
	if q.token != "" {
		req.Header.Set("Authorization", "Bearer "+q.token)
	}
	start := time.Now()
	res, err := client(t).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxRead))
	p := &reply{status: res.StatusCode, header: res.Header, body: raw, took: time.Since(start)}
	if err != nil {
		return p, fmt.Errorf("reading the answer: %w", err)
	}
	if p.status == http.StatusTooManyRequests {
		return p, limitedError{}
	}
	return p, nil
}

// verdict is what one answer means for the check.
type verdict int

const (
	ok verdict = iota
	warn
	fail
)

// tally collects the verdicts of a check's probes into one Result.
type tally struct {
	sent               int
	fails, warns, errs []check.Evidence
}

// note adds evidence with its verdict.
func (tl *tally) note(v verdict, e check.Evidence) {
	switch v {
	case fail:
		tl.fails = append(tl.fails, e)
	case warn:
		tl.warns = append(tl.warns, e)
	}
}

// record notes one probe: the error from send, or judge's verdict.
func (tl *tally) record(q request, p *reply, err error, expected string, judge func(*reply) (verdict, string)) {
	tl.sent++
	if err != nil {
		tl.errs = append(tl.errs, check.Evidence{Request: q.String(), Response: p.String(), Expected: expected, Observed: "no verdict: " + err.Error()})
		return
	}
	v, observed := judge(p)
	tl.note(v, check.Evidence{Request: q.String(), Response: p.String(), Expected: expected, Observed: observed})
}

// result turns the tally into a Result: any failure fails the check (a
// finding stands even if other probes could not run), then errors, then
// warnings; what names the probes.
func (tl *tally) result(what, passMsg string) check.Result {
	switch {
	case len(tl.fails) > 0:
		return check.Failf(fmt.Sprintf("%d of %d %s: %s", len(tl.fails), tl.sent, what, tl.fails[0].Observed), capped(append(tl.fails, tl.warns...))...)
	case len(tl.errs) > 0:
		return check.Errorf(fmt.Sprintf("%d of %d probes reached no verdict: %s", len(tl.errs), tl.sent, tl.errs[0].Observed), capped(tl.errs)...)
	case len(tl.warns) > 0:
		return check.Warnf(fmt.Sprintf("%s, but %d of %d with a caveat: %s", passMsg, len(tl.warns), tl.sent, tl.warns[0].Observed), capped(tl.warns)...)
	}
	return check.Passf(passMsg)
}

// capped keeps a report readable: the first maxShown entries and a note.
func capped(ev []check.Evidence) []check.Evidence {
	if len(ev) <= maxShown {
		return ev
	}
	out := append([]check.Evidence(nil), ev[:maxShown]...)
	return append(out, check.Evidence{Note: fmt.Sprintf("%d more like these not shown", len(ev)-maxShown)})
}

// errorResult is the Result of a check that could not set up or finish.
func errorResult(msg string, err error) check.Result {
	var le limitedError
	switch {
	case errors.As(err, &le):
		msg += ": " + le.Error()
	case err != nil:
		msg += ": " + err.Error()
	}
	return check.Errorf(oneLine(msg))
}

var (
	secretField = regexp.MustCompile(`(?i)"([a-z_]*(?:token|password|secret|hash)[a-z_]*)"\s*:\s*"(?:[^"\\]|\\.)*"`)
	jwtLike     = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	bearerValue = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
)

// redact hides tokens and passwords, so evidence is safe to paste.
func redact(s string) string {
	s = secretField.ReplaceAllString(s, `"$1":"<redacted>"`)
	s = jwtLike.ReplaceAllString(s, "<redacted token>")
	return bearerValue.ReplaceAllString(s, "Bearer <redacted>")
}

// excerpt is a body as evidence quotes it: one line, valid UTF-8,
// redacted, at most maxExcerpt bytes.
func excerpt(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return "(empty)"
	}
	return clip(redact(oneLine(strings.ToValidUTF8(string(b), "\uFFFD"))), maxExcerpt)
}

// clip cuts s to at most n bytes on a rune boundary, the mark of the
// cut included.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n = max(0, n-len("…"))
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// oneLine folds line breaks and tabs, so evidence stays one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}
