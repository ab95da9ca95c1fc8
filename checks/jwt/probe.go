package jwt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/check"
)

// This file is the package's own small HTTP layer. fixture.Do cannot send
// what these checks need (a raw Authorization value, a forged token) nor
// return headers, so the checks send probes here and keep fixture for the
// users and tasks they create. checks/input carries a sibling of this
// file: the packages stay independent of each other, as the other check
// packages are, and fixture stays small.

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
	// auth is the Authorization value sent ("" for none); authShown is how
	// evidence names it, so that a real token never reaches a report.
	auth, authShown string
	body            []byte // sent as JSON when not nil
}

// String is the request as evidence shows it.
func (q request) String() string {
	var b strings.Builder
	b.WriteString(q.method + " " + q.path)
	if q.auth != "" {
		shown := q.authShown
		if shown == "" {
			shown = "Bearer <redacted>"
		}
		b.WriteString("; Authorization: " + shown)
	}
	if q.body != nil {
		fmt.Fprintf(&b, "; body: %s", excerpt(q.body))
	}
	return b.String()
}

// reply is the target's answer to one probe.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// String is the answer as evidence shows it: status, the headers that
// matter to an auth check, and a redacted body excerpt.
func (p *reply) String() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", p.status, http.StatusText(p.status))
	for _, h := range []string{"Content-Type", "WWW-Authenticate", "Retry-After"} {
		if v := p.header.Get(h); v != "" {
			fmt.Fprintf(&b, "; %s: %s", h, v)
		}
	}
	fmt.Fprintf(&b, "; body: %s", excerpt(p.body))
	return b.String()
}

// limitedError is a 429: the probe learned nothing about what it tests.
type limitedError struct{ status int }

func (e *limitedError) Error() string {
	return "the target's rate limit refused the probe (429): run the checks with higher RATE_LIMIT_AUTH / RATE_LIMIT_API or from a fresh window"
}

// send sends q and reads the answer. A transport failure and a 429 are
// errors (with the reply, for a 429): neither is a verdict on the target.
func send(ctx context.Context, t *check.Target, q request) (*reply, error) {
	var body io.Reader
	if q.body != nil {
		body = bytes.NewReader(q.body)
	}
	req, err := http.NewRequestWithContext(ctx, q.method, strings.TrimRight(t.BaseURL, "/")+q.path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "taskready-checks")
	if q.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if q.auth != "" {
		req.Header.Set("Authorization", q.auth)
	}
	res, err := client(t).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxRead))
	p := &reply{status: res.StatusCode, header: res.Header, body: raw}
	if err != nil {
		return p, fmt.Errorf("reading the answer: %w", err)
	}
	if p.status == http.StatusTooManyRequests {
		return p, &limitedError{status: p.status}
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

// record notes one probe: the error from send, or judge's verdict.
func (tl *tally) record(q request, p *reply, err error, expected string, judge func(*reply) (verdict, string)) {
	tl.sent++
	if err != nil {
		tl.errs = append(tl.errs, check.Evidence{Request: q.String(), Response: p.String(), Expected: expected, Observed: "no verdict: " + err.Error()})
		return
	}
	v, observed := judge(p)
	e := check.Evidence{Request: q.String(), Response: p.String(), Expected: expected, Observed: observed}
	switch v {
	case fail:
		tl.fails = append(tl.fails, e)
	case warn:
		tl.warns = append(tl.warns, e)
	}
}

// result turns the tally into a Result: any failure fails the check (a
// finding stands even if other probes could not run), then errors, then
// warnings; what names the probes ("forged tokens").
func (tl *tally) result(what, passMsg string) check.Result {
	switch {
	case len(tl.fails) > 0:
		return check.Failf(fmt.Sprintf("%d of %d %s: %s", len(tl.fails), tl.sent, what, tl.fails[0].Observed), capped(append(tl.fails, tl.warns...))...)
	case len(tl.errs) > 0:
		return check.Errorf(fmt.Sprintf("%d of %d %s reached no verdict: %s", len(tl.errs), tl.sent, what, tl.errs[0].Observed), capped(tl.errs)...)
	case len(tl.warns) > 0:
		return check.Warnf(fmt.Sprintf("%d of %d %s: %s", len(tl.warns), tl.sent, what, tl.warns[0].Observed), capped(tl.warns)...)
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

// refused judges an answer to a request that must be refused with 401.
func refused(p *reply) (verdict, string) {
	switch {
	case p.status == http.StatusUnauthorized:
		return ok, "401"
	case p.status >= 200 && p.status < 300:
		return fail, fmt.Sprintf("%d: accepted", p.status)
	case p.status >= 500:
		return fail, fmt.Sprintf("%d: a server error instead of a refusal", p.status)
	}
	return warn, fmt.Sprintf("%d: refused, but the contract says 401", p.status)
}

// errorResult is the Result of a check that could not set up or finish.
func errorResult(msg string, err error, q *request, p *reply) check.Result {
	var le *limitedError
	if errors.As(err, &le) {
		msg += ": " + le.Error()
	} else if err != nil {
		msg += ": " + err.Error()
	}
	if q == nil {
		return check.Errorf(oneLine(msg))
	}
	return check.Errorf(oneLine(msg), check.Evidence{Request: q.String(), Response: p.String()})
}

var (
	secretField = regexp.MustCompile(`(?i)"([a-z_]*(?:token|password|secret|hash)[a-z_]*)"\s*:\s*"(?:[^"\\]|\\.)*"`)
	jwtLike     = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	bearerValue = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
	bcryptHash  = regexp.MustCompile(`\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{10,}`)
)

// redact hides tokens, passwords and hashes, so evidence is safe to paste.
func redact(s string) string {
	s = secretField.ReplaceAllString(s, `"$1":"<redacted>"`)
	s = jwtLike.ReplaceAllString(s, "<redacted token>")
	s = bcryptHash.ReplaceAllString(s, "<redacted hash>")
	return bearerValue.ReplaceAllString(s, "Bearer <redacted>")
}

// excerpt is a body as evidence quotes it: one line, redacted, at most
// maxExcerpt bytes.
func excerpt(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return "(empty)"
	}
	return clip(redact(oneLine(string(b))), maxExcerpt)
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
