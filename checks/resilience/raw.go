package resilience

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// Raw requests go over a connection of their own: Go's client refuses to
// send Content-Length with Transfer-Encoding, and hides a second answer
// or a reset behind its own error.

// rawDialTimeout bounds opening one connection.
const rawDialTimeout = 5 * time.Second

// endpoint is where raw connections go: the target's host and port,
// whether TLS wraps them, and the authorities that verify it (nil: the
// system's).
type endpoint struct {
	addr, host string
	tls        bool
	roots      *x509.CertPool
}

// endpointOf reads base ("http://127.0.0.1:5000") as an endpoint whose
// certificate, over https, chains to roots (Target.RootCAs).
func endpointOf(base string, roots *x509.CertPool) (endpoint, error) {
	u, err := url.Parse(base)
	if err != nil {
		return endpoint{}, fmt.Errorf("target URL %q: %w", base, err)
	}
	e := endpoint{host: u.Host, tls: u.Scheme == "https", roots: roots}
	port := u.Port()
	if port == "" {
		port = "80"
		if e.tls {
			port = "443"
		}
	}
	e.addr = net.JoinHostPort(u.Hostname(), port)
	return e, nil
}

// dial opens a connection to e within ctx and rawDialTimeout; TLS ones
// verify the certificate, as any client would.
func (e endpoint) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, rawDialTimeout)
	defer cancel()
	if e.tls {
		d := tls.Dialer{Config: &tls.Config{ServerName: strings.Split(e.host, ":")[0], RootCAs: e.roots, NextProtos: []string{"http/1.1"}}}
		return d.DialContext(ctx, "tcp", e.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", e.addr)
}

// rawAnswer is one answer read off a raw connection.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
}

// line is the answer as evidence shows it: status line, the headers that
// say what it is, and a body excerpt.
func (a rawAnswer) line() string {
	var b strings.Builder
	b.WriteString(probe.StatusLine(a.status))
	for _, h := range []string{"Content-Type", "Connection", "X-Request-ID"} {
		if v := a.header.Get(h); v != "" {
			b.WriteString("\n" + h + ": " + probe.RedactHeader(h, v))
		}
	}
	// Clipped further than a body excerpt, and on a line of its own
	// rather than after a blank line: one evidence may quote several
	// answers.
	if ex := probe.Excerpt(a.body); ex != "" {
		b.WriteString("\nbody: " + probe.Clip(ex, probe.MaxExcerpt/2))
	}
	return b.String()
}

// readAnswers reads answers off conn until it is closed, fails, or has
// been silent for quiet (then open is true: the server kept it), at most
// most answers and never past ctx. end says why reading stopped.
func readAnswers(ctx context.Context, conn net.Conn, quiet time.Duration, most int) (answers []rawAnswer, open bool, end error) {
	br := bufio.NewReader(conn)
	for len(answers) < most {
		deadline := time.Now().Add(quiet)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = conn.SetReadDeadline(deadline)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && br.Buffered() == 0 {
					return answers, true, err
				}
			}
			return answers, false, err
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, probe.MaxBody))
		res.Body.Close()
		answers = append(answers, rawAnswer{status: res.StatusCode, header: res.Header, body: body})
		if err != nil {
			return answers, false, err
		}
		if res.Close {
			// The server said it closes: see whether it does.
			_ = conn.SetReadDeadline(time.Now().Add(quiet))
			if _, err := br.Peek(1); err != nil {
				return answers, errors.Is(err, os.ErrDeadlineExceeded), err
			}
		}
	}
	return answers, true, nil
}

// endName says why reading stopped, in words.
func endName(err error) string {
	switch {
	case err == nil:
		return "stopped reading"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server (EOF)"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "connection still open, silent"
	}
	return err.Error()
}

// shownRaw is a raw request as evidence quotes it: its bytes with line
// ends made visible, clipped, with its size when clipped.
func shownRaw(label string, b []byte) string {
	s := strings.ReplaceAll(string(b), "\r\n", "\\r\\n\n")
	if len(s) > 2*probe.MaxExcerpt {
		s = probe.Clip(s, 2*probe.MaxExcerpt) + fmt.Sprintf(" (%d bytes in all)", len(b))
	}
	return "raw " + label + ":\n" + probe.Redact(s)
}

// rawEvidence is one raw exchange as check evidence.
func rawEvidence(request string, answers []rawAnswer, end error, expected, observed string) check.Evidence {
	var parts []string
	for i, a := range answers {
		parts = append(parts, fmt.Sprintf("answer %d: %s", i+1, a.line()))
	}
	parts = append(parts, "then: "+endName(end))
	return check.Evidence{Request: request, Response: strings.Join(parts, "\n---\n"), Expected: expected, Observed: observed}
}
