package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/taskready/taskready/checks/check"
)

// ErrRateLimited is what Problem returns for a 429: the request learned
// nothing about what the check tests, so it is no verdict either way.
var ErrRateLimited = errors.New("the target's rate limit refused the request (429): run the checks with higher RATE_LIMIT_AUTH / RATE_LIMIT_API or from a fresh window")

// Call is how evidence names the request: the method, the path and the
// label, then the headers sent (secrets redacted, Shown values as given)
// and an excerpt of the body.
func (x Exchange) Call() string {
	r := x.Req
	var b strings.Builder
	b.WriteString(r.Method + " " + r.Path)
	if r.Label != "" {
		b.WriteString(" — " + r.Label)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		for _, v := range r.Header[k] {
			b.WriteString("\n" + k + ": " + r.shown(k, v))
		}
	}
	if r.Chunked && r.Body != nil {
		b.WriteString("\nTransfer-Encoding: chunked")
	}
	if ex := r.bodyExcerpt(); ex != "" {
		b.WriteString("\n\n" + ex)
	}
	return b.String()
}

// shown is the value of header k as evidence shows it.
func (r Request) shown(k, v string) string {
	for name, s := range r.Shown {
		if strings.EqualFold(name, k) {
			return s
		}
	}
	return RedactHeader(k, v)
}

// bodyExcerpt is the request body as evidence shows it, with its size
// when the excerpt is not the whole of it.
func (r Request) bodyExcerpt() string {
	ex := r.BodyShown
	if ex == "" {
		ex = Excerpt(r.Body)
	}
	if ex != "" && (r.BodyShown != "" || len(r.Body) > MaxExcerpt) {
		ex += fmt.Sprintf(" (%d bytes)", len(r.Body))
	}
	return ex
}

// Answer is the status line, the named headers (those present) and a
// body excerpt, redacted; or why there was no answer.
func (x Exchange) Answer(names ...string) string {
	if x.Status == 0 {
		return "no answer: " + ErrString(x.Err)
	}
	var b strings.Builder
	b.WriteString(StatusLine(x.Status))
	for _, n := range names {
		for _, v := range x.Header.Values(n) {
			b.WriteString("\n" + http.CanonicalHeaderKey(n) + ": " + RedactHeader(n, v))
		}
	}
	if ex := x.Excerpt(); ex != "" {
		b.WriteString("\n\n" + ex)
	}
	return b.String()
}

// Excerpt is the start of the answer's body as evidence quotes it (see
// the function Excerpt); a compressed body is only described, since its
// bytes say nothing to a reader.
func (x Exchange) Excerpt() string {
	if len(x.Body) == 0 {
		return ""
	}
	if ce := x.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return "(" + strconv.Itoa(len(x.Body)) + " bytes, Content-Encoding: " + ce + ")"
	}
	return Excerpt(x.Body)
}

// Evidence is the exchange as check evidence, with the named answer
// headers shown.
func (x Exchange) Evidence(expected, observed string, names ...string) check.Evidence {
	return check.Evidence{Request: x.Call(), Response: x.Answer(names...), Expected: expected, Observed: observed}
}

// Decode parses the answer's body as JSON into v; false when it is not
// JSON, which checks report as an answer the contract does not allow.
func (x Exchange) Decode(v any) bool { return json.Unmarshal(x.Body, v) == nil }

// Problem is why the exchange says nothing about what a check tests: the
// request failed, or the target's rate limit refused it
// (ErrRateLimited); nil when the answer can be judged. Checks that look
// for the rate limit read Status instead.
func (x Exchange) Problem() error {
	switch {
	case x.Err != nil:
		return x.Err
	case x.Status == http.StatusTooManyRequests:
		return ErrRateLimited
	}
	return nil
}

// ErrorResult is the Result of a check that could not reach a verdict:
// msg and err on one line, with x (when not nil) as evidence of what was
// tried.
func ErrorResult(msg string, err error, x *Exchange, names ...string) check.Result {
	if err != nil {
		msg += ": " + err.Error()
	}
	if x == nil {
		return check.Errorf(OneLine(msg))
	}
	return check.Errorf(OneLine(msg), x.Evidence("", "no verdict", names...))
}

// Excerpt is a body as evidence quotes it: valid UTF-8, redacted, at most
// MaxExcerpt bytes; "" for an empty one. Redaction comes first, so that a
// cut can never leave part of a secret unrecognised.
func Excerpt(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	return Clip(Redact(strings.ToValidUTF8(string(b), "\uFFFD")), MaxExcerpt)
}

// StatusLine is a status code with its text ("404 Not Found"), so that a
// reader need not know the codes.
func StatusLine(status int) string {
	s := strconv.Itoa(status)
	if text := http.StatusText(status); text != "" {
		s += " " + text
	}
	return s
}

// ErrString is err's text, or "no error" for nil, so that a message never
// prints "<nil>".
func ErrString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// Capped keeps a report readable: the first MaxShown entries, and a note
// of how many more there were.
func Capped(ev []check.Evidence) []check.Evidence {
	if len(ev) <= MaxShown {
		return ev
	}
	out := append([]check.Evidence(nil), ev[:MaxShown]...)
	return append(out, check.Evidence{Note: fmt.Sprintf("%d more like these not shown", len(ev)-MaxShown)})
}

// Verdict is what one answer means for a check that sends many.
type Verdict int

// The verdicts, from harmless to a finding.
const (
	OK Verdict = iota
	Warn
	Fail
)

// Tally collects the verdicts of a check's requests, so that one Result
// can say how many failed, warned or reached no verdict, with evidence.
type Tally struct {
	// Headers are the answer headers the evidence of Record shows.
	Headers []string
	// Sent counts the requests recorded (Record counts; Note does not).
	Sent int
	// Fails, Warns and Errs are the evidence by verdict; Errs of the
	// requests that reached none.
	Fails, Warns, Errs []check.Evidence
}

// Note adds evidence with its verdict; OK evidence is dropped, as reports
// show only what needs reading.
func (tl *Tally) Note(v Verdict, e check.Evidence) {
	switch v {
	case Fail:
		tl.Fails = append(tl.Fails, e)
	case Warn:
		tl.Warns = append(tl.Warns, e)
	}
}

// Record counts x and notes it: as no verdict when x has a Problem (judge
// is not called), otherwise with judge's verdict and observation.
func (tl *Tally) Record(x Exchange, expected string, judge func(Exchange) (Verdict, string)) {
	tl.Sent++
	if err := x.Problem(); err != nil {
		tl.Errs = append(tl.Errs, x.Evidence(expected, "no verdict: "+err.Error(), tl.Headers...))
		return
	}
	v, observed := judge(x)
	tl.Note(v, x.Evidence(expected, observed, tl.Headers...))
}

// Result is the tally's verdict: any failure fails the check (a finding
// stands even if other probes could not run), then errors, then
// warnings; what names the failing probes ("tampered tokens were not
// refused with 401"), or what was found when the tally counted no
// requests (only Note, as a check that judges a sequence of calls does).
func (tl *Tally) Result(what, passMsg string) check.Result {
	switch {
	case len(tl.Fails) > 0:
		msg := fmt.Sprintf("%d of %d %s: %s", len(tl.Fails), tl.Sent, what, tl.Fails[0].Observed)
		if tl.Sent == 0 {
			msg = fmt.Sprintf("%s: %s", what, tl.Fails[0].Observed)
		}
		return check.Failf(msg, Capped(append(tl.Fails, tl.Warns...))...)
	case len(tl.Errs) > 0:
		return check.Errorf(fmt.Sprintf("%d of %d probes reached no verdict: %s", len(tl.Errs), tl.Sent, tl.Errs[0].Observed), Capped(tl.Errs)...)
	case len(tl.Warns) > 0:
		msg := fmt.Sprintf("%s, but %d of %d with a caveat: %s", passMsg, len(tl.Warns), tl.Sent, tl.Warns[0].Observed)
		if tl.Sent == 0 {
			msg = fmt.Sprintf("%s, with a caveat: %s", passMsg, tl.Warns[0].Observed)
		}
		return check.Warnf(msg, Capped(tl.Warns)...)
	}
	return check.Passf(passMsg)
}
