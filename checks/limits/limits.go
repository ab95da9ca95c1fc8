// Package limits checks that the task API bounds what one client can
// consume (OWASP API4:2023): logins are rate limited, more strictly than
// the rest of the API, with Retry-After and the IETF RateLimit headers;
// authenticated routes advertise a limit that counts down; lists are
// capped with or without page and limit; and, where the harness runs
// several instances, one budget is shared by all of them.
//
// # Budgets
//
// The checks spend little: one registration for a user the package's
// checks share, one login for the comparison, and a login burst for one
// bogus email that stops at the first 429 and never exceeds
// MaxAuthAttempts. The API limit is never exhausted, only watched
// counting down. The burst spends the rest of this client's auth budget
// (the API's default is 5 per 15 minutes per client, keyed by address as
// well as email), so limits.auth-burst is check.Disruptive: a runner
// runs it alone, after every check that registers or logs in.
//
// # Severities
//
// A login without a rate limit is high (API2/API4: password guessing at
// network speed), as are an unlimited API and an uncapped list (one
// request can hold the database); an auth limit no stricter than the API's
// and a budget each instance counts on its own are medium (the limit
// exists but is weaker than it looks).
package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// MaxAuthAttempts bounds the login burst: a limit that has not refused
// this many attempts for one email from one client is too loose to stop
// password guessing (the anchors' AUTH-02 sends 20 to 50).
const MaxAuthAttempts = 30

// Checks returns the limit checks, limits.auth-burst last: it spends the
// client's auth budget, and says so by being disruptive.
func Checks() []check.Check {
	return []check.Check{apiRateLimit, pageSizeCap, unpagedListCap, sharedAcrossInstances, authStricter, authRateLimit}
}

// authRateLimit spends the client's auth budget, so that registrations
// and logins of any check after it are refused until the window ends:
// hence disruptive.
var authRateLimit = check.Disruptive(check.Func{
	M: check.Meta{
		ID: "limits.auth-burst", Title: "Logins are rate limited, with Retry-After and RateLimit headers", Category: check.Limits, Severity: check.High,
		Remediation: "Limit login and registration per client and per account (a few attempts per 15 minutes), answer 429 with Retry-After, and advertise the budget with the RateLimit headers.",
		References: []string{"OWASP API2:2023", "OWASP API4:2023", "ASVS 5.0 V2.4.1", "RFC 6585 §4", "RFC 9110 §10.2.3",
			"draft-ietf-httpapi-ratelimit-headers", "CWE-307"},
	},
	F: runAuthRateLimit,
})

func runAuthRateLimit(ctx context.Context, t *check.Target) check.Result {
	email, body := bogusLogin(t, "ratelimit")
	note := "body: {email: " + email + ", password: <wrong>}"
	var first, last, refused probe.Exchange
	var advertisedBy advertised
	attempts := 0
	for attempts < MaxAuthAttempts {
		attempts++
		x := probe.Send(ctx, t, probe.Request{Method: http.MethodPost, Path: "/api/auth/login", Body: body})
		switch {
		case x.Status == 0:
			return check.Errorf(fmt.Sprintf("login attempt %d: %s", attempts, probe.ErrString(x.Err)))
		case x.Status == http.StatusOK:
			return check.Errorf("a login for a never-registered email succeeded", x.Evidence("401 or 429", probe.StatusLine(x.Status)))
		case x.Status >= 500:
			ev := x.Evidence("401 or 429", probe.StatusLine(x.Status), rateHeaders...)
			ev.Note = note
			return check.Errorf(fmt.Sprintf("login attempt %d answered %d", attempts, x.Status), ev)
		}
		if attempts == 1 {
			first = x
		}
		last = x
		if a := parseAdvertised(x.Header); a.present() {
			advertisedBy = a
		}
		if x.Status == http.StatusTooManyRequests {
			refused = x
			break
		}
	}
	const expected = "429 within the burst, with Retry-After and RateLimit headers"
	if refused.Status == 0 {
		observed := fmt.Sprintf("%d logins for one email from one client, none refused (last: %s; %s)", attempts, probe.StatusLine(last.Status), advertisedBy)
		evs := []check.Evidence{first.Evidence(expected, observed, rateHeaders...)}
		if attempts > 1 {
			evs = append(evs, last.Evidence(expected, observed, rateHeaders...))
		}
		for i := range evs {
			evs[i].Note = note
		}
		return check.Failf(observed, evs...)
	}
	evs := []check.Evidence{}
	if first.Status != http.StatusTooManyRequests {
		ev := first.Evidence("401 while under the limit, with RateLimit headers", probe.StatusLine(first.Status)+"; "+parseAdvertised(first.Header).String(), rateHeaders...)
		ev.Note = note + "; attempt 1"
		evs = append(evs, ev)
	}
	wait, okRetry := retryAfter(refused.Header)
	onRefusal := parseAdvertised(refused.Header)
	var problems []string
	if !okRetry {
		if v := refused.Header.Get("Retry-After"); v != "" {
			problems = append(problems, "Retry-After "+strconv.Quote(v)+" is neither seconds nor an HTTP date")
		} else {
			problems = append(problems, "no Retry-After on the 429")
		}
	}
	if !advertisedBy.present() {
		problems = append(problems, "no RateLimit headers on any answer")
	}
	observed := fmt.Sprintf("429 at attempt %d; Retry-After %s; %s", attempts, orAbsent(refused.Header.Get("Retry-After")), onRefusal)
	ev := refused.Evidence(expected, observed, rateHeaders...)
	ev.Note = fmt.Sprintf("%s; attempt %d", note, attempts)
	evs = append(evs, ev)
	if len(problems) > 0 {
		return check.Failf("login refused at attempt "+strconv.Itoa(attempts)+", but "+strings.Join(problems, "; "), evs...)
	}
	var caveats []string
	if advertisedBy.limit >= 0 && attempts > advertisedBy.limit+1 {
		caveats = append(caveats, fmt.Sprintf("the advertised limit is %d but the refusal came only at attempt %d", advertisedBy.limit, attempts))
	}
	if advertisedBy.generation == genLegacy {
		caveats = append(caveats, "only the legacy X-RateLimit-* headers, which clients of the IETF draft do not read")
	}
	if onRefusal.reset >= 0 {
		if d := wait - time.Duration(onRefusal.reset)*time.Second; d > 2*time.Second || d < -2*time.Second {
			caveats = append(caveats, fmt.Sprintf("Retry-After (%s) and the RateLimit reset (%d s) name different instants", wait.Round(time.Second), onRefusal.reset))
		}
	}
	if len(caveats) > 0 {
		return check.Warnf("login refused at attempt "+strconv.Itoa(attempts)+", but "+strings.Join(caveats, "; "), evs...)
	}
	return check.Passf(fmt.Sprintf("login refused with 429 at attempt %d of at most %d (%s), retry after %s", attempts, MaxAuthAttempts, advertisedBy, wait.Round(time.Second)), evs...)
}

// bogusLogin returns an email no one registered, marked with the run's
// prefix, and a login body for it with a wrong password.
func bogusLogin(t *check.Target, what string) (string, []byte) {
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	prefix := t.Prefix
	if prefix == "" {
		prefix = "readiness"
	}
	email := fmt.Sprintf("%s-%s-%s@example.com", prefix, what, hex.EncodeToString(suffix[:]))
	body, _ := json.Marshal(map[string]string{"email": email, "password": "wrong-" + hex.EncodeToString(suffix[:])})
	return email, body
}

func orAbsent(v string) string {
	if v == "" {
		return "absent"
	}
	return v
}

var authStricter = check.Func{
	M: check.Meta{
		ID: "limits.auth-stricter-than-api", Title: "The auth limit is stricter than the API limit", Category: check.Limits, Severity: check.Medium,
		Remediation: "Give login and registration their own, much smaller budget than ordinary API calls (the API's defaults: 5 per 15 minutes against 100).",
		References:  []string{"OWASP API2:2023", "ASVS 5.0 V2.4.1", "draft-ietf-httpapi-ratelimit-headers", "CWE-307"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		u, err := sharedUser(ctx, t)
		if err != nil {
			return check.Errorf("no fixture user to read the API limit with: " + err.Error())
		}
		email, body := bogusLogin(t, "compare")
		ax := probe.Send(ctx, t, probe.Request{Method: http.MethodPost, Path: "/api/auth/login", Body: body})
		px := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks?limit=1", Header: probe.Bearer(u.Token)})
		for _, x := range []probe.Exchange{ax, px} {
			if x.Status == 0 {
				return check.Errorf(x.Req.Method + " " + x.Req.Path + ": " + probe.ErrString(x.Err))
			}
		}
		auth, api := parseAdvertised(ax.Header), parseAdvertised(px.Header)
		const expected = "the auth route's advertised quota per window below the API's"
		aev := ax.Evidence(expected, "auth: "+auth.String(), rateHeaders...)
		aev.Note = "body: {email: " + email + ", password: <wrong>}"
		pev := px.Evidence(expected, "API: "+api.String(), rateHeaders...)
		evs := []check.Evidence{aev, pev}
		if auth.limit < 0 || api.limit < 0 {
			return check.Errorf("cannot compare: the auth route advertises "+auth.String()+" and the task list "+api.String(), evs...)
		}
		ar, aok := auth.rate()
		pr, pok := api.rate()
		stricter := auth.limit < api.limit
		how := fmt.Sprintf("%d against %d per window (windows not both advertised)", auth.limit, api.limit)
		if aok && pok {
			stricter = ar < pr
			how = fmt.Sprintf("%d per %d s against %d per %d s", auth.limit, auth.window, api.limit, api.window)
		}
		if !stricter {
			return check.Failf("the auth limit is not stricter than the API's: "+how, evs...)
		}
		return check.Passf("the auth limit is stricter: "+how, evs...)
	},
}

var apiRateLimit = check.Func{
	M: check.Meta{
		ID: "limits.api-rate-limit", Title: "Authenticated routes advertise a rate limit that counts down", Category: check.Limits, Severity: check.High,
		Remediation: "Rate limit every authenticated route per user and advertise it with the RateLimit headers, so that one client cannot take the whole API and well-behaved clients can pace themselves.",
		References:  []string{"OWASP API4:2023", "draft-ietf-httpapi-ratelimit-headers", "RFC 6585 §4", "CWE-770"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		u, err := sharedUser(ctx, t)
		if err != nil {
			return check.Errorf("no fixture user: " + err.Error())
		}
		const n = 3
		const expected = "RateLimit headers on every answer, Remaining decreasing by one per request"
		var seen []advertised
		var evs []check.Evidence
		for range n {
			x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks?limit=1", Header: probe.Bearer(u.Token)})
			if x.Status == 0 {
				return check.Errorf("GET /api/tasks: "+probe.ErrString(x.Err), evs...)
			}
			a := parseAdvertised(x.Header)
			evs = append(evs, x.Evidence(expected, probe.StatusLine(x.Status)+"; "+a.String(), rateHeaders...))
			if x.Status == http.StatusTooManyRequests {
				if _, ok := retryAfter(x.Header); ok && a.present() {
					return check.Passf("the API limit is small enough that "+strconv.Itoa(len(evs))+" requests reached it: 429 with Retry-After", evs...)
				}
				return check.Failf("429 without Retry-After or RateLimit headers", evs...)
			}
			if x.Status != http.StatusOK {
				return check.Errorf("the task list answered "+probe.StatusLine(x.Status), evs...)
			}
			seen = append(seen, a)
		}
		remaining := make([]string, len(seen))
		for i, a := range seen {
			if !a.present() || a.remaining < 0 {
				return check.Failf(fmt.Sprintf("answer %d of the task list advertises no remaining budget: no limit, or one clients cannot see", i+1), evs...)
			}
			if a.limit >= 0 && a.remaining > a.limit {
				return check.Failf(fmt.Sprintf("Remaining %d exceeds Limit %d", a.remaining, a.limit), evs...)
			}
			remaining[i] = strconv.Itoa(a.remaining)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i].remaining >= seen[i-1].remaining {
				return check.Failf("Remaining did not decrease from one request to the next ("+strings.Join(remaining, " → ")+"): the advertised budget is not the one counted", evs...)
			}
		}
		msg := fmt.Sprintf("the task list advertises %s; Remaining went %s", seen[0], strings.Join(remaining, " → "))
		if seen[0].generation == genLegacy {
			return check.Warnf(msg+", but only with the legacy X-RateLimit-* headers", evs...)
		}
		return check.Passf(msg, evs...)
	},
}

var sharedAcrossInstances = check.Func{
	M: check.Meta{
		ID: "limits.shared-across-instances", Title: "One rate-limit budget across API instances", Category: check.Limits, Severity: check.Medium,
		Remediation: "Keep rate-limit counters in a store every instance shares (Redis, one atomic script per request); per-instance counters multiply every budget by the number of instances.",
		References:  []string{"OWASP API4:2023", "draft-ietf-httpapi-ratelimit-headers", "CWE-770"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		if t.Env == nil {
			return check.NotApplicablef("needs a managed environment that names its API instances (Target.Env)")
		}
		apis := t.Env.APITargets()
		if len(apis) < 2 {
			return check.NotApplicablef(fmt.Sprintf("the environment runs %d API instance(s); a shared budget needs two to show", len(apis)))
		}
		u, err := sharedUser(ctx, t)
		if err != nil {
			return check.Errorf("no fixture user: " + err.Error())
		}
		const n = 4
		const expected = "Remaining decreasing across requests alternated between two instances"
		var evs []check.Evidence
		var trail []string
		prev := -1
		for i := range n {
			base := apis[i%2]
			x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/tasks?limit=1", Base: base, Header: probe.Bearer(u.Token)})
			if x.Status == 0 {
				return check.Errorf(base+": "+probe.ErrString(x.Err), evs...)
			}
			a := parseAdvertised(x.Header)
			ev := x.Evidence(expected, probe.StatusLine(x.Status)+"; "+a.String(), rateHeaders...)
			ev.Note = "instance " + base
			evs = append(evs, ev)
			if x.Status != http.StatusOK {
				return check.Errorf(base+" answered "+probe.StatusLine(x.Status), evs...)
			}
			if a.remaining < 0 {
				return check.Errorf(base+" advertises no remaining budget, so sharing cannot be seen (limits.api-rate-limit judges that)", evs...)
			}
			trail = append(trail, fmt.Sprintf("%s: %d", base, a.remaining))
			if prev >= 0 && a.remaining >= prev {
				return check.Failf("each instance counts its own budget: Remaining went "+strings.Join(trail, ", "), evs...)
			}
			prev = a.remaining
		}
		return check.Passf("one budget across instances: Remaining went "+strings.Join(trail, ", "), evs...)
	},
}

// sharedUser returns the run's first fixture user (probe.Pair).
func sharedUser(ctx context.Context, t *check.Target) (*fixture.User, error) {
	p, err := probe.Pair(ctx, t)
	if err != nil {
		return nil, err
	}
	return p.A, nil
}
