package resilience

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// SignupRacers is how many registrations race in each half of
// concurrent-signup: enough to collide on any store, few enough that a
// deployment's auth budget (raised for checks) covers both halves.
const SignupRacers = 10

// signupDeadline is the slowest answer a racing registration may take: a
// store that serialises them behind a lock answers, but too late.
const signupDeadline = 5 * time.Second

var concurrentSignup = check.Func{
	M: check.Meta{
		ID: IDConcurrentSignup, Title: "Racing registrations: distinct emails all succeed, one email succeeds exactly once", Category: check.Resilience, Severity: check.Medium,
		Remediation: "Let a unique index on the normalised email decide (insert, and map a duplicate-key error to 400 \"User already exists with this email\"), not a read before the write; size the pool so that simultaneous registrations are served, not shed.",
		References:  []string{"CWE-362", "CWE-367", "OWASP API6:2023", "ASVS 5.0 V16.5.3", "MongoDB unique indexes"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		distinct := make([]string, SignupRacers)
		for i := range distinct {
			distinct[i] = fixture.Email(t)
		}
		same := fixture.Email(t)
		shared := make([]string, SignupRacers)
		for i := range shared {
			shared[i] = same
		}
		var evs []check.Evidence
		var fails []string
		for _, half := range []struct {
			what   string
			emails []string
			judge  func(counts map[int]int) string
		}{
			{fmt.Sprintf("%d registrations of distinct emails at once", SignupRacers), distinct, func(c map[int]int) string {
				if c[http.StatusCreated] != SignupRacers {
					return fmt.Sprintf("%d of %d created", c[http.StatusCreated], SignupRacers)
				}
				return ""
			}},
			{fmt.Sprintf("%d registrations of one email at once", SignupRacers), shared, func(c map[int]int) string {
				if c[http.StatusCreated] != 1 || c[http.StatusBadRequest] != SignupRacers-1 {
					return fmt.Sprintf("%d created and %d refused with 400, want exactly 1 and %d", c[http.StatusCreated], c[http.StatusBadRequest], SignupRacers-1)
				}
				return ""
			}},
		} {
			xs := race(ctx, t, half.emails)
			counts := map[int]int{}
			var worst *probe.Exchange
			var slowest time.Duration
			for i := range xs {
				x := &xs[i]
				if err := x.Problem(); err != nil {
					return probe.ErrorResult(half.what+": a registration reached no verdict (the race needs "+fmt.Sprint(2*SignupRacers)+" auth requests: raise RATE_LIMIT_AUTH)", err, x, answerHeaders...)
				}
				counts[x.Status]++
				slowest = max(slowest, x.Took)
				if worst == nil || badness(x) > badness(worst) {
					worst = x
				}
			}
			var problems []string
			if p := half.judge(counts); p != "" {
				problems = append(problems, p)
			}
			if n := counts[http.StatusServiceUnavailable]; n > 0 {
				note := "with Retry-After"
				if !retryAfter(worst.Header) {
					note = "without Retry-After"
				}
				problems = append(problems, fmt.Sprintf("%d shed with 503 (%s): the API cannot take %d simultaneous registrations", n, note, SignupRacers))
			}
			for code, n := range counts {
				if code >= 500 && code != http.StatusServiceUnavailable {
					problems = append(problems, fmt.Sprintf("%d answered %s", n, probe.StatusLine(code)))
				}
			}
			if slowest > signupDeadline {
				problems = append(problems, fmt.Sprintf("the slowest answer took %s, over %s", ms(slowest), signupDeadline))
			}
			observed := fmt.Sprintf("%s; slowest %s", countsString(counts), ms(slowest))
			if len(problems) > 0 {
				observed += ": " + strings.Join(problems, "; ")
				fails = append(fails, half.what+": "+strings.Join(problems, "; "))
			}
			ev := worst.Evidence(expectedOf(half.emails), observed, answerHeaders...)
			ev.Note = half.what + "; the answer shown is the worst of them"
			evs = append(evs, ev)
		}
		if len(fails) > 0 {
			return check.Failf(strings.Join(fails, "; "), evs...)
		}
		return check.Passf(fmt.Sprintf("%d racing registrations of distinct emails all got 201; of %d for one email exactly one got 201 and the rest 400", SignupRacers, SignupRacers), evs...)
	},
}

func expectedOf(emails []string) string {
	if len(emails) > 1 && emails[0] == emails[1] {
		return fmt.Sprintf("exactly one 201 and %d × 400 \"User already exists with this email\", each within %s", len(emails)-1, signupDeadline)
	}
	return fmt.Sprintf("%d × 201, each within %s", len(emails), signupDeadline)
}

// badness orders answers for evidence: a server error first, then an
// unexpected success, then anything slow.
func badness(x *probe.Exchange) int {
	switch {
	case x.Status >= 500:
		return 3
	case x.Status == http.StatusCreated:
		return 1
	}
	return 0
}

// race registers each email at once: every request is built first and
// all are released together, so that they reach the API as close in time
// as the client can make them.
func race(ctx context.Context, t *check.Target, emails []string) []probe.Exchange {
	xs := make([]probe.Exchange, len(emails))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, email := range emails {
		body, _ := json.Marshal(map[string]string{"name": "Readiness Race", "email": email, "password": fixture.Password})
		r := probe.Request{Method: http.MethodPost, Path: "/api/auth/register", Body: body, Label: fmt.Sprintf("racer %d", i+1)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			xs[i] = probe.Send(ctx, t, r)
		}()
	}
	close(start)
	wg.Wait()
	return xs
}

// countsString is counts by status, in code order: "201 × 9, 500 × 1".
func countsString(counts map[int]int) string {
	var parts []string
	for code := 100; code < 600; code++ {
		if n := counts[code]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d × %d", code, n))
		}
	}
	if n := counts[0]; n > 0 {
		parts = append(parts, fmt.Sprintf("no answer × %d", n))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}
