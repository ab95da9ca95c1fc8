package input

import (
	"net/http"

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
