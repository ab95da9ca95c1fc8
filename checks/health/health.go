// Package health checks the task API's operational endpoints the way a
// Kubernetes kubelet and a Prometheus server use them: liveness that
// never depends on a store, a readiness report in the health-check
// draft's format (application/health+json) that covers each store,
// Prometheus metrics with the series dashboards and alerts need, and a
// request id on every answer.
//
// Two checks are disruptive: with a managed environment (Target.Env) they
// stop MongoDB (every component named mongo*: one surviving replica-set
// member may rightly keep readiness at 200), then Redis (redis-primary),
// and watch readiness turn 503 (MongoDB) or warn while the API keeps
// serving (Redis), and both recover once the store is back. They are check.Disruptive, so that a runner runs them alone,
// after the others, and they always start what they stopped.
//
// Severities: liveness and readiness under a MongoDB outage are high
// (a wrong probe either restarts healthy pods in a loop or keeps broken
// ones in service); the readiness format, the metrics and the Redis
// degradation are medium; request ids are low.
package health

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// Bounds of the checks' waits, from the README's promises with room for a
// slow machine: readiness reports a MongoDB outage within 2 s and Redis's
// breaker cools down within a second.
const (
	// FaultDeadline bounds how long readiness may take to reflect a
	// stopped store.
	FaultDeadline = 10 * time.Second
	// RecoveryDeadline bounds how long readiness may take to recover once
	// the store runs again (drivers reconnect with backoff).
	RecoveryDeadline = 30 * time.Second
	// LivenessBudget is the slowest acceptable liveness answer: kubelet's
	// default probe timeout is one second.
	LivenessBudget = time.Second
	// pollEvery spaces the polls of a bounded wait.
	pollEvery = 100 * time.Millisecond
)

// Checks returns the health checks, the disruptive ones last.
func Checks() []check.Check {
	return []check.Check{liveness, readinessReport, metrics, metricsNotPublic, requestID, mongoOutage, redisOutage}
}

var liveness = check.Func{
	M: check.Meta{
		ID: "health.liveness", Title: "/healthz answers 200 quickly without asking the stores", Category: check.Health, Severity: check.High,
		Remediation: "Serve liveness from the process alone (no database or cache call) and answer within the probe's timeout; a liveness probe that follows a store restarts every pod when the store blips.",
		References:  []string{"Kubernetes liveness probes", "draft-inadarei-api-health-check-06", "Google SRE book: Monitoring Distributed Systems"},
	},
	F: runLiveness,
}

func runLiveness(ctx context.Context, t *check.Target) check.Result {
	const n = 5
	base, single := oneInstance(t)
	before, beforeErr := mongoCommands(ctx, t)
	var evs []check.Evidence
	var slowest time.Duration
	for i := range n {
		x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/healthz", Base: base})
		if x.Status == 0 {
			return check.Errorf("GET /healthz: " + probe.ErrString(x.Err))
		}
		expected := fmt.Sprintf("200 within %s", LivenessBudget)
		if x.Status != http.StatusOK {
			return check.Failf(fmt.Sprintf("/healthz answered %s (request %d of %d)", probe.StatusLine(x.Status), i+1, n),
				x.Evidence(expected, probe.StatusLine(x.Status), "Content-Type", "Cache-Control"))
		}
		if x.Took > LivenessBudget {
			return check.Failf(fmt.Sprintf("/healthz took %s, over %s", x.Took.Round(time.Millisecond), LivenessBudget),
				x.Evidence(expected, "took "+x.Took.Round(time.Millisecond).String(), "Content-Type"))
		}
		slowest = max(slowest, x.Took)
		if i == 0 {
			evs = append(evs, x.Evidence(expected, fmt.Sprintf("200 in %s", x.Took.Round(time.Microsecond)), "Content-Type", "Cache-Control"))
		}
	}
	msg := fmt.Sprintf("%d × /healthz answered 200, the slowest in %s", n, slowest.Round(time.Microsecond))
	// Whether liveness asks the stores shows in the API's own MongoDB
	// command counter, but only where nothing else uses the store: a
	// managed environment's single instance. Elsewhere the outage check
	// (health.mongo-outage) is the proof.
	if !single || beforeErr != nil {
		return check.Passf(msg, evs...)
	}
	after, err := mongoCommands(ctx, t)
	if err != nil {
		return check.Passf(msg, evs...)
	}
	if delta := after - before; delta >= n {
		ev := check.Evidence{
			Request:  fmt.Sprintf("GET %s before and after %d × GET /healthz on %s", t.MetricsURL, n, base),
			Response: fmt.Sprintf("taskapi_mongo_commands_total: %.0f → %.0f", before, after),
			Expected: "no MongoDB command caused by liveness", Observed: fmt.Sprintf("%.0f MongoDB commands during %d liveness probes", delta, n),
			Note: "other traffic to this instance could also explain it",
		}
		return check.Warnf(msg+fmt.Sprintf(", but MongoDB saw %.0f commands meanwhile: liveness may be asking the store", delta), append(evs, ev)...)
	}
	evs = append(evs, check.Evidence{
		Request: fmt.Sprintf("GET %s before and after the probes on %s", t.MetricsURL, base), Response: fmt.Sprintf("taskapi_mongo_commands_total: %.0f → %.0f", before, after),
		Expected: "no MongoDB command caused by liveness", Observed: fmt.Sprintf("%.0f", after-before),
	})
	return check.Passf(msg+", with no MongoDB command meanwhile", evs...)
}

// oneInstance returns the base URL of one API instance, and whether the
// checks can be sure it is one (a managed environment names them).
func oneInstance(t *check.Target) (string, bool) {
	if t.Env != nil {
		if apis := t.Env.APITargets(); len(apis) > 0 {
			return apis[0], true
		}
	}
	return t.BaseURL, false
}

// healthMedia is the draft's media type of a health report.
const healthMedia = "application/health+json"

// knownStatus maps the draft's statuses and their aliases to pass, warn
// and fail.
var knownStatus = map[string]string{
	"pass": "pass", "ok": "pass", "up": "pass",
	"warn": "warn",
	"fail": "fail", "error": "fail", "down": "fail",
}

// report is the part of a health report the checks read.
type report struct {
	Status string                      `json:"status"`
	Checks map[string][]map[string]any `json:"checks"`
}

// readReport fetches and decodes /readyz from base; problems lists what
// breaks the draft's format.
func readReport(ctx context.Context, t *check.Target, base string) (x probe.Exchange, r report, problems []string) {
	x = probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/readyz", Base: base, Header: http.Header{"Accept": {healthMedia}}})
	if x.Status == 0 {
		return x, r, []string{"no answer: " + probe.ErrString(x.Err)}
	}
	if mt, _, err := mime.ParseMediaType(x.Header.Get("Content-Type")); err != nil || mt != healthMedia {
		problems = append(problems, "Content-Type "+orAbsent(x.Header.Get("Content-Type"))+", not "+healthMedia)
	}
	if err := json.Unmarshal(x.Body, &r); err != nil {
		return x, r, append(problems, "the body is not a JSON health report: "+err.Error())
	}
	status, ok := knownStatus[strings.ToLower(r.Status)]
	switch {
	case r.Status == "":
		problems = append(problems, "no status field")
	case !ok:
		problems = append(problems, fmt.Sprintf("status %q is none of pass, warn, fail (or their aliases)", r.Status))
	case status == "fail" && x.Status < 400:
		problems = append(problems, fmt.Sprintf("status fail with HTTP %d: a probe reads only the code, and would keep the instance in service", x.Status))
	case status != "fail" && x.Status >= 400:
		problems = append(problems, fmt.Sprintf("status %s with HTTP %d: a pass or warn must be 2xx or 3xx", r.Status, x.Status))
	}
	r.Status = status
	return x, r, problems
}

func orAbsent(v string) string {
	if v == "" {
		return "absent"
	}
	return v
}

// storeEntry returns the readiness checks whose key names the store.
func (r report) storeEntry(store string) (string, []map[string]any) {
	keys := make([]string, 0, len(r.Checks))
	for k := range r.Checks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(strings.ToLower(k), store) {
			return k, r.Checks[k]
		}
	}
	return "", nil
}

var readinessReport = check.Func{
	M: check.Meta{
		ID: "health.readiness-report", Title: "/readyz is an application/health+json report covering each store", Category: check.Health, Severity: check.Medium,
		Remediation: "Answer /readyz with the health-check draft's report (application/health+json, status pass/warn/fail, a checks entry per store with its status and latency) and the matching code: 2xx for pass and warn, 503 for fail. Name no hosts or credentials in it.",
		References:  []string{"draft-inadarei-api-health-check-06", "Kubernetes readiness probes", "ASVS 5.0 V13.4.5"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		x, r, problems := readReport(ctx, t, "")
		if x.Status == 0 {
			return check.Errorf("GET /readyz: " + probe.ErrString(x.Err))
		}
		const expected = "application/health+json; status pass|warn|fail matching the code; checks for mongodb and redis, each with a status; no URLs or credentials"
		shown := []string{"Content-Type", "Cache-Control"}
		if len(r.Checks) == 0 && len(problems) == 0 {
			problems = append(problems, "no checks: the report says nothing about the stores")
		}
		var stores []string
		for _, store := range []string{"mongo", "redis"} {
			key, entries := r.storeEntry(store)
			if key == "" {
				if len(r.Checks) > 0 {
					problems = append(problems, "no checks entry for "+store)
				}
				continue
			}
			for _, e := range entries {
				s, _ := e["status"].(string)
				if _, ok := knownStatus[strings.ToLower(s)]; !ok {
					problems = append(problems, fmt.Sprintf("checks entry %s has no valid status", key))
				}
			}
			stores = append(stores, key)
		}
		if strings.Contains(string(x.Body), "://") {
			problems = append(problems, "the report contains a URL (a connection string?)")
		}
		if len(problems) > 0 {
			observed := strings.Join(problems, "; ")
			return check.Failf(observed, x.Evidence(expected, observed, shown...))
		}
		observed := fmt.Sprintf("%s, status %s, checks %s", probe.StatusLine(x.Status), r.Status, strings.Join(stores, ", "))
		ev := x.Evidence(expected, observed, shown...)
		if r.Status != "pass" {
			return check.Warnf("the report is well formed but says "+r.Status+": a store is degraded or down", ev)
		}
		return check.Passf("readiness: "+observed, ev)
	},
}

var requestID = check.Func{
	M: check.Meta{
		ID: "health.request-id", Title: "Operational endpoints carry and propagate X-Request-ID", Category: check.Health, Severity: check.Low,
		Remediation: "Return X-Request-ID on every answer, keep a caller's plain id (so that a proxy's id ties its logs to ours) and replace one that is long or carries other characters, which would otherwise reach the logs verbatim.",
		References:  []string{"OWASP Logging Cheat Sheet", "CWE-117"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		var suffix [8]byte
		_, _ = rand.Read(suffix[:])
		plain := "readiness-" + hex.EncodeToString(suffix[:])
		unsafe := "readiness <script>" + strings.Repeat("x", 80)
		var evs []check.Evidence
		var fails, warns []string
		for _, p := range []struct {
			path, sent, expected string
		}{
			{"/healthz", plain, "X-Request-ID: " + plain + " (kept)"},
			{"/readyz", "", "a generated X-Request-ID"},
			{"/metrics", "", "a generated X-Request-ID"},
			{"/healthz", unsafe, "a generated X-Request-ID instead of the unsafe one"},
		} {
			h := http.Header{}
			if p.sent != "" {
				h.Set("X-Request-ID", p.sent)
			}
			x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: p.path, Header: h})
			if x.Status == 0 {
				return check.Errorf("GET " + p.path + ": " + probe.ErrString(x.Err))
			}
			got := x.Header.Get("X-Request-ID")
			var observed string
			switch {
			case got == "":
				observed = "no X-Request-ID"
				fails = append(fails, p.path+": "+observed)
			case p.sent == plain && got != plain:
				observed = "X-Request-ID " + got + ": the caller's id was replaced"
				fails = append(fails, p.path+": "+observed)
			case p.sent == unsafe && got == unsafe:
				observed = "the unsafe id came back verbatim"
				warns = append(warns, p.path+": "+observed+" (it likely reaches the logs so too)")
			default:
				observed = "X-Request-ID: " + got
			}
			evs = append(evs, x.Evidence(p.expected, observed, "X-Request-ID"))
		}
		switch {
		case len(fails) > 0:
			return check.Failf(strings.Join(fails, "; "), evs...)
		case len(warns) > 0:
			return check.Warnf(strings.Join(warns, "; "), evs...)
		}
		return check.Passf("every operational answer carries X-Request-ID; a plain incoming id is kept, an unsafe one replaced", evs...)
	},
}
