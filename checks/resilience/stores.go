package resilience

import (
	"context"
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

// Bounds of the store checks, variables so that the package's tests can
// scale them down.
var (
	// FailFastBound is the slowest acceptable 503 while MongoDB is down:
	// the service aims at 100 ms; the check allows for a slow machine.
	FailFastBound = 500 * time.Millisecond
	// storeDeadline bounds how long readiness may take to recover, and a
	// Sentinel failover to complete.
	storeDeadline = 30 * time.Second
	// faultDeadline bounds how long readiness may take to reflect a
	// stopped store (the README promises 2 s).
	faultDeadline = 10 * time.Second
	// storePoll spaces the polls of a wait.
	storePoll = 250 * time.Millisecond
	// failoverRound spaces the rounds of the Redis drill.
	failoverRound = time.Second
	// settleRounds is how many rounds the drill watches after the old
	// primary returns as a replica.
	settleRounds = 5
	// readinessGrace is how long after a change readiness may still say
	// what it said before: its probes run on a period of their own.
	readinessGrace = 3 * time.Second
)

// readiness is one /readyz answer: its code and its report's status.
type readiness struct {
	x      probe.Exchange
	status string
}

func readyz(ctx context.Context, t *check.Target, base string) readiness {
	x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/readyz", Base: base})
	var r struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(x.Body, &r)
	return readiness{x: x, status: strings.ToLower(r.Status)}
}

// waitReady polls /readyz on every base until each answers code, or
// deadline passes; it returns the last answer that did not.
func waitReady(ctx context.Context, t *check.Target, bases []string, code int, deadline time.Duration) (time.Duration, *readiness) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	for {
		var bad *readiness
		for _, b := range bases {
			r := readyz(ctx, t, b)
			if r.x.Status != code {
				bad = &r
				break
			}
		}
		if bad == nil {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), bad
		case <-time.After(storePoll):
		}
	}
}

var mongoFailFast = check.Disruptive(check.Func{
	M: check.Meta{
		ID: IDMongoFailFast, Title: "With MongoDB down, requests that need it answer 503 with Retry-After at once", Category: check.Resilience, Severity: check.High,
		Remediation: "Give store calls short deadlines and a breaker that opens on an unreachable server, and map its errors to 503 with Retry-After; a request that waits out the driver's 30 s server selection holds a connection and a goroutine, and an outage becomes a pile-up.",
		References:  []string{"ASVS 5.0 V16.5.2", "RFC 9110 §15.6.4", "RFC 9110 §10.2.3", "CWE-400", "Google SRE book: Addressing Cascading Failures"},
	},
	F: runMongoFailFast,
})

func runMongoFailFast(ctx context.Context, t *check.Target) (res check.Result) {
	if t.Env == nil {
		return check.NotApplicablef("needs a managed environment (Target.Env) to stop MongoDB in")
	}
	mongos := probe.Components(t.Env, "mongo")
	if len(mongos) == 0 {
		return check.NotApplicablef("the environment has no MongoDB component (named mongo*): " + strings.Join(t.Env.Components(), ", "))
	}
	bases := probe.Instances(t)
	if _, bad := waitReady(ctx, t, bases, http.StatusOK, storeDeadline); bad != nil {
		return probe.ErrorResult("not ready before MongoDB was stopped, so an outage cannot be told from it", nil, &bad.x, "Content-Type")
	}
	// The run's pair, made before the fault (and by the time disruptive
	// checks run, usually long before: limits.auth-burst may have spent
	// the auth budget since). A store outage does not end its sessions.
	us, err := probe.Pair(ctx, t)
	if err != nil {
		return probe.ErrorResult("could not register the fixture users", err, nil)
	}
	u := us.A
	restore, err := probe.Stop(ctx, t.Env, mongos)
	defer func() {
		if rerr := restore(); rerr != nil {
			res = check.Errorf("could not start MongoDB again, the environment is left degraded: "+rerr.Error(), res.Evidence...)
		}
	}()
	if err != nil {
		return check.Errorf("could not stop MongoDB: " + err.Error())
	}
	// Readiness first: what is judged is the API during an outage it
	// knows of, not the instant the store went away.
	downIn, notDown := waitReady(ctx, t, bases, http.StatusServiceUnavailable, faultDeadline)

	// A timeout of a few bounds: a slower answer fails the check anyway,
	// and the check must end within a runner's minute.
	client := probeClient(t, 4*FailFastBound)
	pt := *t
	pt.Client = client
	login, _ := json.Marshal(map[string]string{"email": u.Email, "password": fixture.Password})
	expected := fmt.Sprintf("503 with Retry-After within %s", FailFastBound)
	var evs []check.Evidence
	var fails, limited []string
	for _, b := range bases {
		for _, r := range []probe.Request{
			{Method: http.MethodPost, Path: "/api/auth/login", Body: login, Label: "fixture user A"},
			{Method: http.MethodGet, Path: "/api/tasks", Header: probe.Bearer(u.Token)},
			{Method: http.MethodGet, Path: "/api/tasks?limit=1", Header: probe.Bearer(u.Token)},
		} {
			r.Base = b
			sent := time.Now()
			x := probe.Send(ctx, &pt, r)
			if x.Status == 0 {
				x.Took = time.Since(sent) // Send times answers only
			}
			var problems []string
			switch {
			case x.Status == 0:
				problems = append(problems, "no answer within "+ms(x.Took)+" ("+probe.ErrString(x.Err)+")")
			case x.Status == http.StatusTooManyRequests:
				// The limit answered before the store was asked: no
				// verdict, neither way.
				limited = append(limited, r.Method+" "+r.Path+" on "+b)
				continue
			case x.Status != http.StatusServiceUnavailable:
				problems = append(problems, probe.StatusLine(x.Status)+", not 503")
			case !retryAfter(x.Header):
				problems = append(problems, "503 without Retry-After")
			}
			if x.Status != 0 && x.Took > FailFastBound {
				problems = append(problems, "took "+ms(x.Took)+", over "+FailFastBound.String())
			}
			observed := probe.StatusLine(x.Status) + " in " + ms(x.Took)
			if x.Status == 0 {
				observed = strings.Join(problems, "; ")
			} else if len(problems) > 0 {
				observed += ": " + strings.Join(problems, "; ")
			}
			if len(problems) > 0 {
				fails = append(fails, r.Method+" "+r.Path+" on "+b+": "+strings.Join(problems, "; "))
			}
			ev := x.Evidence(expected, observed, answerHeaders...)
			ev.Note = "instance " + b
			evs = append(evs, ev)
		}
	}
	if notDown != nil {
		ev := notDown.x.Evidence("503 from /readyz with MongoDB stopped", probe.StatusLine(notDown.x.Status), "Content-Type")
		ev.Note = "readiness never turned 503 within " + faultDeadline.String() + "; the probes were sent anyway"
		evs = append(evs, ev)
	}
	if err := restore(); err != nil {
		return check.Errorf("could not start MongoDB again, the environment is left degraded: "+err.Error(), evs...)
	}
	upIn, notUp := waitReady(ctx, t, bases, http.StatusOK, storeDeadline)
	if notUp != nil {
		evs = append(evs, notUp.x.Evidence("200 from /readyz within "+storeDeadline.String()+" of starting MongoDB", probe.StatusLine(notUp.x.Status), "Content-Type"))
		fails = append(fails, "/readyz did not return to 200 within "+storeDeadline.String()+" of MongoDB starting again")
	}
	if len(fails) > 0 {
		return check.Failf(fmt.Sprintf("%d problem(s) with %s stopped: %s", len(fails), strings.Join(mongos, ", "), strings.Join(fails, "; ")), probe.Capped(evs)...)
	}
	if len(evs) == 0 || len(limited) == 3*len(bases) {
		return check.Errorf("every probe was refused by the rate limit (429) before reaching the store: " + probe.ErrRateLimited.Error())
	}
	if len(limited) > 0 {
		evs = append(evs, check.Evidence{Note: "refused by the rate limit (429), no verdict: " + strings.Join(limited, ", ")})
	}
	return check.Passf(fmt.Sprintf("with %s stopped (readiness 503 after %s), login and authenticated reads answered 503 with Retry-After within %s on %d instance(s); ready again %s after restart",
		strings.Join(mongos, ", "), ms(downIn), FailFastBound, len(bases), ms(upIn)), probe.Capped(evs)...)
}

var redisFailover = check.Disruptive(check.Func{
	M: check.Meta{
		ID: IDRedisFailover, Title: "After a Redis Sentinel failover the rate limit is shared again and readiness never hid failing writes", Category: check.Resilience, Severity: check.Medium,
		Remediation: "Connect to Redis through the Sentinels (a failover client), so that writes follow the new primary; have /readyz write (not only PING) and report warn while writes fail, READONLY included, so that a stale primary cannot pass as healthy.",
		References:  []string{"Redis Sentinel documentation", "ASVS 5.0 V16.5.2", "OWASP API4:2023", "draft-inadarei-api-health-check-06", "Kubernetes readiness probes"},
	},
	F: runRedisFailover,
})

// round is one observation of the drill: readiness and one counted
// request on each instance.
type round struct {
	at    time.Duration
	phase string
	// inPhase is how long into its phase the round began.
	inPhase time.Duration
	ready   []readiness
	counted []probe.Exchange
	// shared is whether the counted requests drew on one budget: each
	// answer's RateLimit-Remaining below the one before.
	shared bool
}

func runRedisFailover(ctx context.Context, t *check.Target) (res check.Result) {
	if t.Env == nil {
		return check.NotApplicablef("needs a managed environment with Redis Sentinels (harness check -redis-sentinels 3)")
	}
	if len(probe.Components(t.Env, "sentinel")) == 0 || len(probe.Components(t.Env, "redis-primary")) == 0 {
		return check.NotApplicablef("the environment has no Redis Sentinels (sentinel-*) and primary (redis-primary): run with -redis-sentinels 3; components: " + strings.Join(t.Env.Components(), ", "))
	}
	bases := probe.Instances(t)
	u, r := ownUser(ctx, t)
	if r != nil {
		return *r
	}
	counted := probe.Request{Method: http.MethodGet, Path: "/api/tasks?limit=1", Header: probe.Bearer(u.Token)}
	first := probe.Send(ctx, t, counted)
	if first.Status != http.StatusOK {
		return probe.ErrorResult("the counted request failed before the drill", first.Problem(), &first, "RateLimit-Remaining")
	}
	rounds := int(2*storeDeadline/failoverRound) + settleRounds + 2
	if rem, err := strconv.Atoi(first.Header.Get("RateLimit-Remaining")); err != nil {
		return check.Errorf("the API advertises no RateLimit-Remaining, so a shared limit cannot be watched", first.Evidence("RateLimit-Remaining", "absent", "RateLimit-Limit", "RateLimit-Remaining"))
	} else if rem < rounds*len(bases) {
		return check.Errorf(fmt.Sprintf("the API budget left (%d) is below what the drill may spend (%d): raise RATE_LIMIT_API for this check", rem, rounds*len(bases)))
	}
	// Shared is judged within a round, each instance's answer below the
	// one before it: across rounds the counts may rightly jump when a
	// failover brings back the budget the new primary had replicated.
	// With one instance, rounds are all there is to compare.
	prev, _ := strconv.Atoi(first.Header.Get("RateLimit-Remaining"))
	start := time.Now()
	phaseStart := start
	var seen []round
	observe := func(phase string) round {
		rd := round{at: time.Since(start), inPhase: time.Since(phaseStart), phase: phase, shared: true}
		for i, b := range bases {
			rd.ready = append(rd.ready, readyz(ctx, t, b))
			c := counted
			c.Base = b
			x := probe.Send(ctx, t, c)
			rd.counted = append(rd.counted, x)
			rem, err := strconv.Atoi(x.Header.Get("RateLimit-Remaining"))
			if x.Status != http.StatusOK || err != nil || ((i > 0 || len(bases) == 1) && rem >= prev) {
				rd.shared = false
			}
			if err == nil {
				prev = rem
			}
		}
		seen = append(seen, rd)
		return rd
	}
	// hidden is the first of two rounds in a row in which readiness said
	// pass while the limit was not shared: Redis writes failed, and
	// /readyz hid it. One round alone is forgiven: the failover itself
	// can fall between an instance's readiness and its counted request.
	passedUnshared := func(rd round) bool {
		if rd.shared || rd.inPhase < readinessGrace {
			return false
		}
		for _, r := range rd.ready {
			if r.x.Status == http.StatusOK && r.status == "pass" {
				return true
			}
		}
		return false
	}
	hidden := func() *round {
		for i := 0; i+1 < len(seen); i++ {
			if passedUnshared(seen[i]) && passedUnshared(seen[i+1]) {
				return &seen[i]
			}
		}
		return nil
	}

	restore, err := probe.Stop(ctx, t.Env, []string{"redis-primary"})
	defer func() {
		if rerr := restore(); rerr != nil {
			res = check.Errorf("could not start redis-primary again, the environment is left degraded: "+rerr.Error(), res.Evidence...)
		}
	}()
	if err != nil {
		return check.Errorf("could not stop redis-primary: " + err.Error())
	}
	// The failover is complete when a round is shared and ready again.
	failedOver := time.Duration(-1)
	for time.Since(start) < storeDeadline && ctx.Err() == nil {
		rd := observe("primary stopped")
		if rd.shared && allPass(rd.ready) {
			failedOver = rd.at
			break
		}
		sleep(ctx, failoverRound)
	}
	if err := restore(); err != nil {
		return check.Errorf("could not start redis-primary again: " + err.Error())
	}
	back := time.Since(start)
	phaseStart = time.Now()
	for i := 0; i < settleRounds && ctx.Err() == nil; i++ {
		sleep(ctx, failoverRound)
		observe("old primary back (a replica now)")
	}
	evs := roundEvidence(seen)
	switch h := hidden(); {
	case h != nil:
		return check.Failf(fmt.Sprintf("at %s (%s) /readyz said pass while the rate limit was not shared across instances: Redis writes were failing and readiness hid it", ms(h.at), h.phase), evs...)
	case failedOver < 0:
		return check.Failf(fmt.Sprintf("no failover within %s of stopping redis-primary: the shared rate limit never counted across instances with readiness pass again", storeDeadline), evs...)
	}
	last := seen[len(seen)-1]
	if !last.shared {
		return check.Failf(fmt.Sprintf("after redis-primary returned (as a replica, %s into the drill) the rate limit was no longer shared across instances", ms(back)), evs...)
	}
	return check.Passf(fmt.Sprintf("failover in %s; the rate limit counted across %d instances after it and after the old primary returned; /readyz never said pass while it did not (%d rounds)", ms(failedOver), len(bases), len(seen)), evs...)
}

func allPass(rs []readiness) bool {
	for _, r := range rs {
		if r.x.Status != http.StatusOK || r.status != "pass" {
			return false
		}
	}
	return true
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// roundEvidence is the drill as evidence: one line per round, the
// readiness and the counted requests' RateLimit-Remaining per instance.
func roundEvidence(seen []round) []check.Evidence {
	var lines []string
	for _, rd := range seen {
		var parts []string
		for i := range rd.ready {
			parts = append(parts, fmt.Sprintf("readyz %d %s, remaining %s", rd.ready[i].x.Status, orNone(rd.ready[i].status), orNone(rd.counted[i].Header.Get("RateLimit-Remaining"))))
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s; shared %t", ms(rd.at), rd.phase, strings.Join(parts, " | "), rd.shared))
	}
	if len(lines) > 40 {
		lines = append(lines[:20], append([]string{fmt.Sprintf("… %d rounds not shown …", len(lines)-40)}, lines[len(lines)-20:]...)...)
	}
	return []check.Evidence{{
		Request:  "each round, on each instance: GET /readyz, then GET /api/tasks?limit=1 as one user",
		Response: strings.Join(lines, "\n"),
		Expected: "RateLimit-Remaining falling across instances once failed over; /readyz never pass while it does not",
		Observed: fmt.Sprintf("%d rounds", len(seen)),
	}}
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
