package health

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

var mongoOutage = check.Disruptive(check.Func{
	M: check.Meta{
		ID: "health.mongo-outage", Title: "Readiness turns 503 while MongoDB is down, liveness stays 200, both recover", Category: check.Health, Severity: check.High,
		Remediation: "Ping MongoDB (with a short timeout) in /readyz and answer 503 when it fails; keep /healthz free of store calls so that a database outage takes pods out of service instead of restarting them.",
		References:  []string{"Kubernetes readiness probes", "Kubernetes liveness probes", "draft-inadarei-api-health-check-06", "ASVS 5.0 V16.5.3"},
	},
	F: runMongoOutage,
})

var redisOutage = check.Disruptive(check.Func{
	M: check.Meta{
		ID: "health.redis-outage", Title: "Without Redis the API still serves and readiness says warn", Category: check.Redis, Severity: check.Medium,
		Remediation: "Treat the cache and the rate-limit store as optional: on a Redis failure read through to MongoDB, limit per instance, and report warn (200) in /readyz, not fail, so that a cache outage does not take the API out of service.",
		References:  []string{"ASVS 5.0 V16.5.2", "draft-inadarei-api-health-check-06", "Kubernetes readiness probes"},
	},
	F: runRedisOutage,
})

// waitFor polls every base until cond holds for each, or the deadline
// passes; each poll also runs during (a liveness probe, say), whose
// error ends the wait. It returns how long each base took and the last
// exchange seen on each.
func waitFor(ctx context.Context, t *check.Target, bases []string, deadline time.Duration,
	poll func(base string) (bool, probe.Exchange), during func(base string) error) (took map[string]time.Duration, last map[string]probe.Exchange, err error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	took, last = map[string]time.Duration{}, map[string]probe.Exchange{}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		for _, b := range bases {
			if _, done := took[b]; done {
				continue
			}
			ok, x := poll(b)
			last[b] = x
			if ok {
				took[b] = time.Since(start)
			}
			if during != nil {
				if err := during(b); err != nil {
					return took, last, err
				}
			}
		}
		if len(took) == len(bases) {
			return took, last, nil
		}
		select {
		case <-ctx.Done():
			return took, last, fmt.Errorf("not within %s", deadline)
		case <-tick.C:
		}
	}
}

// errLiveness is a liveness failure seen during a wait.
type errLiveness struct{ x probe.Exchange }

func (e *errLiveness) Error() string { return "/healthz answered " + e.x.Answer() }

// livenessHolds is a wait's during: /healthz must stay 200.
func livenessHolds(ctx context.Context, t *check.Target, probes *int) func(string) error {
	return func(base string) error {
		*probes++
		x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/healthz", Base: base})
		if x.Status != http.StatusOK {
			return &errLiveness{x}
		}
		return nil
	}
}

// readyWith is a poll that holds when /readyz answers code with status.
func readyWith(ctx context.Context, t *check.Target, code int, statuses ...string) func(string) (bool, probe.Exchange) {
	return func(base string) (bool, probe.Exchange) {
		x, r, _ := readReport(ctx, t, base)
		if x.Status != code {
			return false, x
		}
		for _, s := range statuses {
			if r.Status == s {
				return true, x
			}
		}
		return len(statuses) == 0, x
	}
}

func runMongoOutage(ctx context.Context, t *check.Target) (res check.Result) {
	if t.Env == nil {
		return check.NotApplicablef("needs a managed environment (Target.Env) to stop MongoDB in")
	}
	mongos := probe.Components(t.Env, "mongo")
	if len(mongos) == 0 {
		return check.NotApplicablef("the environment has no MongoDB component (named mongo*): " + strings.Join(t.Env.Components(), ", "))
	}
	bases := probe.Instances(t)
	shown := []string{"Content-Type", "Retry-After"}
	if _, last, err := waitFor(ctx, t, bases, FaultDeadline, readyWith(ctx, t, http.StatusOK), nil); err != nil {
		return check.Errorf("not ready before the fault, so an outage cannot be told from it", readyEvidence(last, "200 before the fault", shown)...)
	}

	// Every member is stopped: with one left, a replica set may still
	// elect a primary and readiness rightly stays 200.
	restore, err := probe.Stop(ctx, t.Env, mongos)
	defer func() {
		if rerr := restore(); rerr != nil {
			res = check.Errorf("could not start MongoDB again, the environment is left degraded: "+rerr.Error(), res.Evidence...)
		}
	}()
	if err != nil {
		return check.Errorf("could not stop MongoDB: " + err.Error())
	}
	probes := 0
	took, last, err := waitFor(ctx, t, bases, FaultDeadline, readyWith(ctx, t, http.StatusServiceUnavailable), livenessHolds(ctx, t, &probes))
	var lv *errLiveness
	switch {
	case errors.As(err, &lv):
		return check.Failf("/healthz failed while MongoDB was down: liveness depends on the store, so an outage would restart every pod",
			lv.x.Evidence("200 from /healthz with MongoDB stopped", probe.StatusLine(lv.x.Status), "Content-Type"))
	case err != nil:
		evs := readyEvidence(last, "503 from /readyz within "+FaultDeadline.String()+" of stopping "+strings.Join(mongos, ", "), shown)
		return check.Failf("/readyz did not turn 503 within "+FaultDeadline.String()+" of stopping MongoDB: the instance would stay in service unable to serve", evs...)
	}
	evs := readyEvidence(last, "503 from /readyz while MongoDB is stopped", shown)
	down := slowest(took)

	if err := restore(); err != nil {
		return check.Errorf("could not start MongoDB again, the environment is left degraded: "+err.Error(), evs...)
	}
	took, last, err = waitFor(ctx, t, bases, RecoveryDeadline, readyWith(ctx, t, http.StatusOK), nil)
	if err != nil {
		evs = append(evs, readyEvidence(last, "200 from /readyz within "+RecoveryDeadline.String()+" of starting MongoDB", shown)...)
		return check.Failf("/readyz did not recover within "+RecoveryDeadline.String()+" of MongoDB starting again", evs...)
	}
	evs = append(evs, readyEvidence(last, "200 from /readyz after MongoDB started", shown)...)
	return check.Passf(fmt.Sprintf("with %s stopped, /readyz turned 503 on %d instance(s) within %s while /healthz stayed 200 (%d probes); recovered within %s",
		strings.Join(mongos, ", "), len(bases), down.Round(time.Millisecond), probes, slowest(took).Round(time.Millisecond)), evs...)
}

func runRedisOutage(ctx context.Context, t *check.Target) (res check.Result) {
	if t.Env == nil {
		return check.NotApplicablef("needs a managed environment (Target.Env) to stop Redis in")
	}
	redis := probe.Components(t.Env, "redis-primary")
	if len(redis) == 0 {
		redis = probe.Components(t.Env, "redis")
	}
	if len(redis) == 0 {
		return check.NotApplicablef("the environment has no Redis component (redis-primary or redis*): " + strings.Join(t.Env.Components(), ", "))
	}
	redis = redis[:1]
	if len(probe.Components(t.Env, "sentinel")) > 0 {
		// The APIs follow the Sentinels: a stopped primary would be
		// replaced by a replica, which is a failover, not an outage (and
		// the auth budget an earlier check spent would stay shared).
		// Every Redis server stops, so that none is left to promote.
		if all := probe.Components(t.Env, "redis-"); len(all) > 0 {
			redis = all
		}
	}
	degraded := []string{"warn"}
	bases := probe.Instances(t)
	shown := []string{"Content-Type"}
	if _, last, err := waitFor(ctx, t, bases, FaultDeadline, readyWith(ctx, t, http.StatusOK, "pass"), nil); err != nil {
		return check.Errorf("not ready (pass) before the fault, so an outage cannot be told from it", readyEvidence(last, "200 pass before the fault", shown)...)
	}
	// The user is registered before the fault when the auth budget
	// allows. When an earlier check spent it (limits.auth-burst does), the
	// registration is tried again during the outage, where the API counts
	// auth requests per instance, afresh.
	u, err := fixture.NewUser(ctx, t)
	var refusedBefore error
	if err != nil {
		if !strings.Contains(err.Error(), "register: 429") {
			return check.Errorf("no fixture user: " + err.Error())
		}
		refusedBefore = err
	}

	restore, err := probe.Stop(ctx, t.Env, redis)
	defer func() {
		if rerr := restore(); rerr != nil {
			res = check.Errorf("could not start Redis again, the environment is left degraded: "+rerr.Error(), res.Evidence...)
		}
	}()
	if err != nil {
		return check.Errorf("could not stop Redis: " + err.Error())
	}
	// Readiness must settle on warn; a 503 (fail) on the way is an error
	// of judgement: the cache is optional.
	var failed *probe.Exchange
	poll := func(base string) (bool, probe.Exchange) {
		x, r, _ := readReport(ctx, t, base)
		if x.Status >= 500 && failed == nil {
			failed = &x
		}
		return x.Status == http.StatusOK && slices.Contains(degraded, r.Status), x
	}
	probes := 0
	took, last, err := waitFor(ctx, t, bases, FaultDeadline, poll, livenessHolds(ctx, t, &probes))
	var lv *errLiveness
	switch {
	case errors.As(err, &lv):
		return check.Failf("/healthz failed while Redis was down", lv.x.Evidence("200 from /healthz with Redis stopped", probe.StatusLine(lv.x.Status), "Content-Type"))
	case failed != nil:
		return check.Failf("/readyz failed (503) for a Redis outage: a cache outage would take every instance out of service",
			failed.Evidence("200 with status warn", probe.StatusLine(failed.Status), shown...))
	case err != nil:
		return check.Failf("/readyz did not say warn within "+FaultDeadline.String()+" of stopping "+strings.Join(redis, ", ")+": readiness does not reflect the cache",
			readyEvidence(last, "200 with status warn", shown)...)
	}
	evs := readyEvidence(last, "200 with status warn while Redis is stopped", shown)
	down := slowest(took)

	if refusedBefore != nil {
		if u, err = fixture.NewUser(ctx, t); err != nil {
			return check.Errorf("no fixture user: refused before the fault ("+refusedBefore.Error()+") and during it ("+err.Error()+")", evs...)
		}
		evs[len(evs)-1].Note += "; the fixture user was registered during the outage (the auth budget was spent before it)"
	}
	// Authenticated requests go on: the profile cache reads through to
	// MongoDB and the rate limit counts per instance.
	for _, b := range bases {
		for _, p := range []string{"/api/auth/profile", "/api/tasks"} {
			x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: p, Base: b, Header: probe.Bearer(u.Token)})
			ev := x.Evidence("200 without Redis", probe.StatusLine(x.Status), "Content-Type", "RateLimit-Remaining")
			ev.Note = "instance " + b
			evs = append(evs, ev)
			if x.Status != http.StatusOK {
				return check.Failf(fmt.Sprintf("GET %s on %s answered %s with Redis down: the API fails instead of degrading", p, b, probe.StatusLine(x.Status)), evs...)
			}
		}
	}

	if err := restore(); err != nil {
		return check.Errorf("could not start Redis again, the environment is left degraded: "+err.Error(), evs...)
	}
	took, last, err = waitFor(ctx, t, bases, RecoveryDeadline, readyWith(ctx, t, http.StatusOK, "pass"), nil)
	if err != nil {
		evs = append(evs, readyEvidence(last, "200 pass within "+RecoveryDeadline.String()+" of starting Redis", shown)...)
		return check.Failf("/readyz did not return to pass within "+RecoveryDeadline.String()+" of Redis starting again", evs...)
	}
	return check.Passf(fmt.Sprintf("with %s stopped, /readyz said warn (200) within %s, /healthz stayed 200 (%d probes) and authenticated requests were served on %d instance(s); pass again within %s",
		strings.Join(redis, ", "), down.Round(time.Millisecond), probes, len(bases), slowest(took).Round(time.Millisecond)), evs...)
}

// readyEvidence is one evidence per instance's last readiness answer.
func readyEvidence(last map[string]probe.Exchange, expected string, shown []string) []check.Evidence {
	var evs []check.Evidence
	for _, base := range slices.Sorted(maps.Keys(last)) {
		x := last[base]
		observed := "no answer"
		if x.Status != 0 {
			observed = probe.StatusLine(x.Status)
		}
		ev := x.Evidence(expected, observed, shown...)
		ev.Note = "instance " + base
		evs = append(evs, ev)
	}
	return evs
}

func slowest(took map[string]time.Duration) time.Duration {
	var m time.Duration
	for _, d := range took {
		m = max(m, d)
	}
	return m
}
