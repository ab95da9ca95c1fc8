package input

import (
	"fmt"
	"net/http"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// The checks send their probes through checks/probe, whose requests can
// carry what these checks need (malformed, mistyped, oversized, chunked
// and paced bodies) and whose exchanges are timed, and make their users
// and tasks through checks/fixture. A 429 is no verdict.

// answerHeaders are the headers of an answer shown in evidence: what was
// answered, whether to retry, whether the connection was dropped.
var answerHeaders = []string{"Content-Type", "Retry-After", "Connection"}

// header asks for JSON, with token as a Bearer token ("" for none) and
// contentType as the body's type ("" for JSON, which probe.Send sets).
func header(token, contentType string) http.Header {
	h := http.Header{"Accept": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return h
}

// newTally is a tally whose evidence shows answerHeaders.
func newTally() probe.Tally { return probe.Tally{Headers: answerHeaders} }

// result turns the tally into a Result: any failure fails the check (a
// finding stands even if other probes could not run), then errors, then
// warnings; what names the probes.
func result(tl *probe.Tally, what, passMsg string) check.Result {
	switch {
	case len(tl.Fails) > 0:
		return check.Failf(fmt.Sprintf("%d of %d %s: %s", len(tl.Fails), tl.Sent, what, tl.Fails[0].Observed), probe.Capped(append(tl.Fails, tl.Warns...))...)
	case len(tl.Errs) > 0:
		return check.Errorf(fmt.Sprintf("%d of %d probes reached no verdict: %s", len(tl.Errs), tl.Sent, tl.Errs[0].Observed), probe.Capped(tl.Errs)...)
	case len(tl.Warns) > 0:
		return check.Warnf(fmt.Sprintf("%s, but %d of %d with a caveat: %s", passMsg, len(tl.Warns), tl.Sent, tl.Warns[0].Observed), probe.Capped(tl.Warns)...)
	}
	return check.Passf(passMsg)
}
