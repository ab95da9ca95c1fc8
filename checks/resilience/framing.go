package resilience

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"

	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// Bounds of the raw checks.
const (
	// DrainBody is the body body-drain writes: ten times the contract's
	// 100 kB limit.
	DrainBody = 1 << 20
	// DrainHeaders is about how many bytes of headers body-drain sends.
	DrainHeaders = 64 << 10
	// rawWriteTimeout bounds writing one raw request.
	rawWriteTimeout = 10 * time.Second
	// rawQuiet is how long a raw connection may stay silent before the
	// check takes it as kept open.
	rawQuiet = 2 * time.Second
)

var bodyDrain = check.Func{
	M: check.Meta{
		ID: IDBodyDrain, Title: "A client that sends a too-large body or headers in full reads a 413/431, not a reset", Category: check.Resilience, Severity: check.Medium,
		Remediation: "After refusing a request for its size, answer first, then read and discard what the client still sends (bounded in bytes and time) before closing, or close only the write side and linger; closing with unread data makes the kernel send a reset that destroys the answer.",
		References:  []string{"RFC 9110 §15.5.14", "RFC 6585 §5", "RFC 9112 §9.6", "OWASP API4:2023", "CWE-400"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		// Each instance directly where the environment names them: a
		// proxy in front may read the rest of the body itself and hide
		// (or, by its timing, sometimes hide) how the API closes.
		var evs, fails, warns []string
		var all []check.Evidence
		bases := probe.Instances(t)
		for _, base := range bases {
			where := ""
			if len(bases) > 1 {
				where = base + ": "
			}
			e, f, w, a, err := drainOne(ctx, base, t.RootCAs, where)
			if err != nil {
				return check.Errorf(err.Error())
			}
			evs, fails, warns, all = append(evs, e...), append(fails, f...), append(warns, w...), append(all, a...)
		}
		switch {
		case len(fails) > 0:
			return check.Failf(strings.Join(fails, "; ")+": a client that sends the whole request sees a reset, not the refusal", all...)
		case len(warns) > 0:
			return check.Warnf(strings.Join(warns, "; "), all...)
		}
		return check.Passf(strings.Join(evs, "; "), all...)
	},
}

// drainOne sends the too-large body and headers to base; where prefixes
// its findings when there are several instances.
func drainOne(ctx context.Context, base string, roots *x509.CertPool, where string) (evs, fails, warns []string, all []check.Evidence, err error) {
	e, err := endpointOf(base, roots)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	head := "POST /api/tasks HTTP/1.1\r\nHost: " + e.host + "\r\nUser-Agent: " + probe.UserAgent +
		"\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(DrainBody) + "\r\nConnection: close\r\n\r\n"
	body := append([]byte(`{"title":"`), bytes.Repeat([]byte("a"), DrainBody-len(`{"title":""}`))...)
	body = append(body, `"}`...)
	var pad strings.Builder
	for i := 0; pad.Len() < DrainHeaders; i++ {
		fmt.Fprintf(&pad, "X-Pad-%03d: %s\r\n", i, strings.Repeat("p", 1000))
	}
	bigHead := "GET /api/health HTTP/1.1\r\nHost: " + e.host + "\r\nUser-Agent: " + probe.UserAgent + "\r\n" + pad.String() + "Connection: close\r\n\r\n"
	for _, p := range []struct {
		what, shown string
		req         []byte
		want        int
	}{
		{"a 1 MiB body", head + fmt.Sprintf("{\"title\":\"aaaa…\"} (%d bytes)", DrainBody), append([]byte(head), body...), 413},
		{fmt.Sprintf("%d kB of headers", len(bigHead)>>10), "GET /api/health HTTP/1.1\r\nHost: " + e.host + "\r\nX-Pad-000: ppp… (1000 bytes each)\r\n… " + fmt.Sprintf("(%d bytes of headers)", len(bigHead)), []byte(bigHead), 431},
	} {
		written, werr, answers, end := sendRaw(ctx, e, p.req)
		expected := fmt.Sprintf("the whole request written (%d bytes), then a readable %d (any 4xx status line is accepted)", len(p.req), p.want)
		var observed string
		switch {
		case len(answers) == 0:
			observed = fmt.Sprintf("%d of %d bytes written%s; no status line: %s", written, len(p.req), writeNote(werr), endName(end))
			fails = append(fails, where+p.what+": "+observed)
		case isReset(werr) || isReset(end):
			// Read here only because the whole request fitted in the
			// buffers between two local sockets: a client farther away
			// is still writing when the reset comes, and loses the
			// answer with the connection.
			observed = fmt.Sprintf("%d of %d bytes written%s; read %s, then the connection was reset (closed with the request unread)", written, len(p.req), writeNote(werr), probe.StatusLine(answers[0].status))
			fails = append(fails, where+p.what+": "+observed)
		case answers[0].status == p.want:
			observed = fmt.Sprintf("%d of %d bytes written%s; read %s", written, len(p.req), writeNote(werr), probe.StatusLine(answers[0].status))
		case answers[0].status >= 400 && answers[0].status < 500:
			observed = fmt.Sprintf("%d of %d bytes written%s; read %s (readable, though %d says it exactly)", written, len(p.req), writeNote(werr), probe.StatusLine(answers[0].status), p.want)
			warns = append(warns, where+p.what+": "+observed)
		default:
			observed = fmt.Sprintf("%d of %d bytes written%s; read %s", written, len(p.req), writeNote(werr), probe.StatusLine(answers[0].status))
			fails = append(fails, where+p.what+": "+observed)
		}
		evs = append(evs, where+observed)
		ev := rawEvidence(shownRaw(p.what, []byte(p.shown)), answers, end, expected, observed)
		ev.Note = "sent to " + base
		all = append(all, ev)
	}
	return evs, fails, warns, all, nil
}

// isReset reports whether err is the peer resetting the connection: a
// server that closed with unread data in its receive buffer.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func writeNote(err error) string {
	if err == nil {
		return ""
	}
	return " (the write failed: " + err.Error() + ")"
}

// sendRaw writes req on a fresh connection to e, as a client that writes
// everything before it reads would (a write error does not stop it from
// reading what came back), then reads what answers it can.
func sendRaw(ctx context.Context, e endpoint, req []byte) (written int, werr error, answers []rawAnswer, end error) {
	conn, err := e.dial(ctx)
	if err != nil {
		return 0, err, nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(rawWriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetWriteDeadline(deadline)
	written, werr = conn.Write(req)
	answers, _, end = readAnswers(ctx, conn, rawQuiet, 2)
	return written, werr, answers, end
}

var smuggling = check.Func{
	M: check.Meta{
		ID: IDSmuggling, Title: "A request with Content-Length and Transfer-Encoding, or an unknown coding, is refused and its connection closed", Category: check.Resilience, Severity: check.High,
		Remediation: "Refuse (400) a request that carries both Content-Length and Transfer-Encoding, or a Transfer-Encoding whose final coding is not chunked, and close the connection after answering: a proxy in front that frames the body the other way would otherwise let one request hide another.",
		References:  []string{"RFC 9112 §6.1", "RFC 9112 §6.3", "CWE-444", "WSTG-INPV-15", "OWASP API8:2023"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		// Each instance directly where the environment names them (the
		// harness's own balancer stands in for a proxy and is not what is
		// judged); against a deployment, its front door, as clients meet
		// it.
		var fails, warns []string
		var all []check.Evidence
		bases := probe.Instances(t)
		for _, base := range bases {
			where := ""
			if len(bases) > 1 {
				where = base + ": "
			}
			f, w, a, err := smuggleOne(ctx, base, t.RootCAs, where)
			if err != nil {
				return check.Errorf(err.Error())
			}
			fails, warns, all = append(fails, f...), append(warns, w...), append(all, a...)
		}
		switch {
		case len(fails) > 0:
			return check.Failf(strings.Join(fails, "; "), all...)
		case len(warns) > 0:
			return check.Warnf(strings.Join(warns, "; "), all...)
		}
		return check.Passf("both ambiguous requests were refused with one answer and the connection closed; the hidden GET was never served", all...)
	},
}

// smuggleOne sends both ambiguous requests to base; where prefixes its
// findings when there are several instances.
func smuggleOne(ctx context.Context, base string, roots *x509.CertPool, where string) (fails, warns []string, all []check.Evidence, err error) {
	e, err := endpointOf(base, roots)
	if err != nil {
		return nil, nil, nil, err
	}
	var tag [6]byte
	_, _ = rand.Read(tag[:])
	id := "smuggled-" + hex.EncodeToString(tag[:])
	hidden := "GET /api/health HTTP/1.1\r\nHost: " + e.host + "\r\nX-Request-ID: " + id + "\r\n\r\n"
	for _, p := range []struct {
		what, te, body string
		accepted       []int
	}{
		// Framed by Transfer-Encoding the body ends at "0": the GET
		// after it is a second request; framed by Content-Length it
		// is body. Either framing is somebody's, hence the 400.
		{"Content-Length and Transfer-Encoding: chunked", "chunked", "0\r\n\r\n" + hidden, []int{400}},
		{"Transfer-Encoding: x-unknown (not chunked)", "x-unknown", "0\r\n\r\n" + hidden, []int{400, 501}},
	} {
		req := "POST /api/health HTTP/1.1\r\nHost: " + e.host + "\r\nUser-Agent: " + probe.UserAgent + "\r\nContent-Type: application/json\r\n" +
			fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: %s\r\n\r\n", len(p.body), p.te) + p.body
		conn, err := e.dial(ctx)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("could not connect to %s: %w", e.addr, err)
		}
		_ = conn.SetWriteDeadline(time.Now().Add(rawWriteTimeout))
		_, werr := conn.Write([]byte(req))
		answers, open, end := readAnswers(ctx, conn, rawQuiet, 3)
		conn.Close()
		if werr != nil && len(answers) == 0 {
			return nil, nil, nil, fmt.Errorf("%s%s: could not send the request: %w", where, p.what, werr)
		}
		what := where + p.what
		expected := fmt.Sprintf("one answer (%s), then the connection closed; never an answer to the hidden GET (X-Request-ID %s)", statuses(p.accepted), id)
		var observed string
		switch {
		case len(answers) == 0:
			observed = "no answer: " + endName(end)
			if open {
				fails = append(fails, what+": the request was neither answered nor closed (the server waits for more body)")
			} else {
				warns = append(warns, what+": the connection was closed without an answer")
			}
		case len(answers) > 1:
			observed = fmt.Sprintf("%d answers: the hidden request was served (%s)", len(answers), probe.StatusLine(answers[1].status))
			fails = append(fails, what+": "+observed)
		case open:
			observed = fmt.Sprintf("%s, then the connection stayed open", probe.StatusLine(answers[0].status))
			fails = append(fails, what+": "+observed+" (RFC 9112 §6.1: the server MUST close it)")
		case !slices.Contains(p.accepted, answers[0].status):
			observed = fmt.Sprintf("%s, then closed", probe.StatusLine(answers[0].status))
			if answers[0].status/100 == 2 || answers[0].status >= 500 {
				fails = append(fails, what+": "+observed+": the ambiguous request was processed, not refused")
			} else {
				warns = append(warns, what+": "+observed+" (refused and closed, but "+statuses(p.accepted)+" says why)")
			}
		default:
			observed = fmt.Sprintf("%s, then closed", probe.StatusLine(answers[0].status))
		}
		all = append(all, rawEvidence(shownRaw(what, []byte(req)), answers, end, expected, observed))
	}
	return fails, warns, all, nil
}

func statuses(codes []int) string {
	var s []string
	for _, c := range codes {
		s = append(s, fmt.Sprint(c))
	}
	return strings.Join(s, " or ")
}
