package access

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
)

// Every request of these checks goes through fixture.Do: they only send
// JSON with a fixture user's token, and what they create is then created
// through checks/fixture. This file turns a call into redacted evidence.

// Bounds of what evidence quotes.
const (
	maxExcerpt = 300 // bytes of a body quoted in evidence
	maxShown   = 12  // evidence entries kept per result
)

// exchange is one call and what came back.
type exchange struct {
	method, path string
	as           string // whose token was sent: "as A", "as B", "" for none
	body         any
	status       int
	raw          []byte
	err          error // transport failure, or a 429 (limitedError)
}

// limitedError is a 429: the call learned nothing about what it tests.
type limitedError struct{}

func (limitedError) Error() string {
	return "the target's rate limit refused the request (429): run the checks with higher RATE_LIMIT_AUTH / RATE_LIMIT_API or from a fresh window"
}

// do sends one call as u (nil for no token); as names u in evidence.
func do(ctx context.Context, t *check.Target, method, path string, u *fixture.User, as string, body any) *exchange {
	token := ""
	if u != nil {
		token = u.Token
	}
	x := &exchange{method: method, path: path, as: as, body: body}
	x.status, x.raw, x.err = fixture.Do(ctx, t, method, path, token, body, nil)
	if x.err == nil && x.status == http.StatusTooManyRequests {
		x.err = limitedError{}
	}
	return x
}

// decode parses the answer into v; false when it is not JSON.
func (x *exchange) decode(v any) bool { return json.Unmarshal(x.raw, v) == nil }

// request is the call as evidence shows it; the token is never shown.
func (x *exchange) request() string {
	s := x.method + " " + x.path
	if x.as != "" {
		s += " " + x.as + " (Authorization: Bearer <redacted>)"
	}
	if x.body != nil {
		b, _ := json.Marshal(x.body)
		s += "; body: " + excerpt(b)
	}
	return s
}

// response is the answer as evidence shows it.
func (x *exchange) response() string {
	if x.status == 0 {
		if x.err != nil {
			return "no answer: " + x.err.Error()
		}
		return ""
	}
	return fmt.Sprintf("%d %s; body: %s", x.status, http.StatusText(x.status), excerpt(x.raw))
}

// evidence is the call with the comparison it was judged by.
func (x *exchange) evidence(expected, observed string) check.Evidence {
	return check.Evidence{Request: x.request(), Response: x.response(), Expected: expected, Observed: observed}
}

// errorResult is the Result of a check that could not reach a verdict.
func errorResult(msg string, err error, x *exchange) check.Result {
	if err != nil {
		msg += ": " + err.Error()
	}
	if x == nil {
		return check.Errorf(oneLine(msg))
	}
	return check.Errorf(oneLine(msg), x.evidence("", "no verdict"))
}

// unexpected is the Result when a call the check relies on (reading the
// fixture's own task) did not answer as the contract says.
func unexpected(what string, x *exchange, want int) check.Result {
	if x.err != nil {
		return errorResult(what, x.err, x)
	}
	if x.status == want {
		return check.Errorf(fmt.Sprintf("%s: got %d but not the JSON the contract describes", what, x.status), x.evidence(fmt.Sprint(want), "an unexpected body"))
	}
	return check.Errorf(fmt.Sprintf("%s: got %d, want %d", what, x.status, want), x.evidence(fmt.Sprint(want), fmt.Sprint(x.status)))
}

// findings collect a check's failures and warnings into one Result.
type findings struct {
	fails, warns []check.Evidence
}

func (f *findings) fail(e check.Evidence) { f.fails = append(f.fails, e) }
func (f *findings) warn(e check.Evidence) { f.warns = append(f.warns, e) }

// result fails on any failure (with the warnings as further evidence),
// warns on any warning, and passes otherwise.
func (f *findings) result(failMsg, passMsg string) check.Result {
	switch {
	case len(f.fails) > 0:
		return check.Failf(fmt.Sprintf("%s: %s", failMsg, f.fails[0].Observed), capped(append(f.fails, f.warns...))...)
	case len(f.warns) > 0:
		return check.Warnf(fmt.Sprintf("%s, with a caveat: %s", passMsg, f.warns[0].Observed), capped(f.warns)...)
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

var (
	secretField = regexp.MustCompile(`(?i)"([a-z_]*(?:token|password|secret|hash)[a-z_]*)"\s*:\s*"(?:[^"\\]|\\.)*"`)
	jwtLike     = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	hashLike    = regexp.MustCompile(`\$(?:2[abxy]?|argon2(?:id|i|d)|scrypt|pbkdf2[-\w]*)\$[^"\s]{10,}`)
)

// redact hides tokens, passwords and hashes, so evidence is safe to paste.
func redact(s string) string {
	s = secretField.ReplaceAllString(s, `"$1":"<redacted>"`)
	s = jwtLike.ReplaceAllString(s, "<redacted token>")
	s = hashLike.ReplaceAllString(s, "<redacted hash>")
	return strings.ReplaceAll(s, fixture.Password, "<redacted password>")
}

// excerpt is a body as evidence quotes it: one line, redacted, at most
// maxExcerpt bytes.
func excerpt(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return "(empty)"
	}
	s := redact(oneLine(string(b)))
	if len(s) <= maxExcerpt {
		return s
	}
	n := maxExcerpt - len("…") // the mark of the cut counts too
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
