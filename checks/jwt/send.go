package jwt

import (
	"context"
	"fmt"
	"net/http"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// The checks send their probes through checks/probe, which turns them
// into redacted evidence, and make their users and tasks through
// checks/fixture. What is theirs: the Authorization value is sent as
// given (a forged token, an empty Bearer, a Basic credential) and
// described in evidence rather than hidden, and a 429 is no verdict.

// answerHeaders are the headers of an answer that matter to an auth
// check, shown in evidence.
var answerHeaders = []string{"Content-Type", "WWW-Authenticate", "Retry-After"}

// send sends q asking for JSON, with auth as the Authorization value (""
// for none), which evidence shows as shown ("" to show it redacted).
func send(ctx context.Context, t *check.Target, q probe.Request, auth, shown string) probe.Exchange {
	q.Header = http.Header{"Accept": {"application/json"}}
	if auth != "" {
		q.Header.Set("Authorization", auth)
		if shown != "" {
			q.Shown = map[string]string{"Authorization": shown}
		}
	}
	return probe.Send(ctx, t, q)
}

// newTally is a tally whose evidence shows answerHeaders.
func newTally() probe.Tally { return probe.Tally{Headers: answerHeaders} }

// refused judges an answer to a request that must be refused with 401.
func refused(x probe.Exchange) (probe.Verdict, string) {
	switch {
	case x.Status == http.StatusUnauthorized:
		return probe.OK, "401"
	case x.Status >= 200 && x.Status < 300:
		return probe.Fail, fmt.Sprintf("%d: accepted", x.Status)
	case x.Status >= 500:
		return probe.Fail, fmt.Sprintf("%d: a server error instead of a refusal", x.Status)
	}
	return probe.Warn, fmt.Sprintf("%d: refused, but the contract says 401", x.Status)
}
