package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
)

// fixtures are the reports every format is rendered from.
var fixtures = []struct {
	name string
	make func(t *testing.T) *readiness.Report
}{
	{"full", fullReport},
	{"clean", cleanReport},
	{"notrun", notRunReport},
}

var start = time.Date(2026, 11, 28, 15, 2, 18, 0, time.UTC)

const fixturePolicy = `min_score: 60
thresholds:
  hsts_min_age: 180d
overrides:
  - id: headers.csp
    action: ignore
    reason: JSON-only API; the CDN in front of the web app sets CSP.
    owner: platform-team
    expires: 2027-06-30
  - id: limits.auth-burst
    action: warn
    reason: staging shares one egress IP, so the auth limit trips early.
    owner: alice@example.com
    expires: 2026-12-05
  - id: backup.retention
    action: downgrade
    severity: low
    reason: retention is enforced by the managed backup service (OPS-112).
    owner: ops
    expires: 2027-06-30
  - id: headers.server-banner
    action: ignore
    reason: the proxy's banner is removed in the next image (OPS-98).
    owner: bob@example.com
    expires: 2026-11-15
`

type raw struct {
	id, title  string
	cat        check.Category
	sev        check.Severity
	status     check.Status
	msg        string
	ev         []check.Evidence
	fix        string
	refs       []string
	took       time.Duration
	disruptive bool
}

func (r raw) result() readiness.Result {
	return readiness.Result{ID: r.id, Title: r.title, Category: r.cat, Severity: r.sev, Status: r.status, Message: r.msg,
		Evidence: r.ev, Remediation: r.fix, References: r.refs, Took: r.took, Disruptive: r.disruptive}
}

// longBody is a response body far beyond the evidence limit, which the
// report must truncate.
var longBody = `{"tasks":[` + strings.Repeat(`{"id":"665f1c2ab8e4d9a1c3f0b7e2","title":"readiness-4f2a9c bulk item","status":"open"},`, 120) + `{"id":"last"}]}`

func fullResults() []readiness.Result {
	ms := time.Millisecond
	rs := []raw{
		{id: "jwt.alg-none", title: `Tokens signed with alg "none" are refused`, cat: check.Auth, sev: check.Critical, status: check.Fail,
			msg: `A token with alg "none" and no signature was accepted: GET /api/tasks answered 200 with the victim's tasks.`,
			ev: []check.Evidence{{
				Request:  "GET /api/tasks HTTP/1.1\nHost: staging.tasks.example.com\nAuthorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI2NjVm…[redacted]…",
				Response: "HTTP/1.1 200 OK\nContent-Type: application/json; charset=utf-8\nContent-Length: 412\n\n[{\"id\":\"665f1c2ab8e4d9a1c3f0b7e2\",\"title\":\"Quarterly report\",\"owner\":\"665f…\"}]",
				Expected: "401 Unauthorized", Observed: "200 OK",
			}},
			fix:  `Verify tokens with an explicit allow-list of algorithms (HS256) and reject any token whose header names another, "none" included.`,
			refs: []string{"RFC 8725 §3.1", "OWASP API2:2023", "CWE-347"}, took: 182 * ms},
		{id: "backup.recent", title: "A restorable backup is at most 26h old", cat: check.Backup, sev: check.Critical, status: check.Error,
			msg:  "could not list /var/backups/mongo: permission denied",
			ev:   []check.Evidence{{Note: "$ ls -l /var/backups/mongo\nls: cannot open directory '/var/backups/mongo': Permission denied"}},
			fix:  "Give the readiness user read access to the backup directory, or point --backup-dir at a copy it can read.",
			refs: []string{"ASVS 5.0 V14.2.8"}, took: 3 * ms},
		{id: "headers.hsts", title: "HSTS is set with a long max-age", cat: check.Transport, sev: check.High, status: check.Fail,
			msg: "HSTS max-age is 300, below the policy's 15552000 (180d).",
			ev: []check.Evidence{{Request: "GET /api/health HTTP/1.1", Response: "HTTP/1.1 200 OK\nStrict-Transport-Security: max-age=300\nContent-Type: application/health+json",
				Expected: "max-age ≥ 15552000", Observed: "max-age=300"}},
			fix: "Send Strict-Transport-Security: max-age=31536000; includeSubDomains on every HTTPS answer.", refs: []string{"RFC 6797 §6.1", "ASVS 5.0 V3.4.1", "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Strict-Transport-Security"}, took: 41 * ms},
		{id: "input.body-size", title: "Oversized request bodies are refused", cat: check.Input, sev: check.Medium, status: check.Fail,
			msg: "A 2 MiB task body was accepted (201) and echoed back in full; the API should refuse it with 413.",
			ev: []check.Evidence{
				{Request: "POST /api/tasks HTTP/1.1\nContent-Type: application/json\nContent-Length: 2097152\n\n{\"title\":\"AAAA…\"}", Response: "HTTP/1.1 201 Created\nContent-Type: application/json\n\n" + longBody,
					Expected: "413 Content Too Large", Observed: "201 Created"},
				{Request: "GET /api/tasks?limit=1000 HTTP/1.1", Response: "HTTP/1.1 200 OK\n\n" + longBody, Expected: "at most 100 items", Observed: "1000 items"},
				{Note: "the third request (PUT with a 4 MiB body) was not sent: the second already proved the point"},
				{Note: "spare note, beyond what the terminal shows"},
			},
			fix: "Cap request bodies (e.g. 100 KiB) in the server and the proxy, and answer 413 beyond it.", refs: []string{"OWASP API4:2023", "CWE-770"}, took: 1310 * ms},
		{id: "limits.auth-burst", title: "Login is rate limited", cat: check.Limits, sev: check.High, status: check.Fail,
			msg: "20 wrong logins in 10s were all answered 401; none was refused with 429.",
			ev:  []check.Evidence{{Request: "POST /api/auth/login ×20", Observed: "20 × 401, 0 × 429", Expected: "429 after at most 10"}},
			fix: "Limit /api/auth/login per client and per account (5 per 15 minutes) and answer 429 with Retry-After.", refs: []string{"OWASP API4:2023", "draft-ietf-httpapi-ratelimit-headers"}, took: 10400 * ms},
		{id: "limits.ratelimit-headers", title: "Rate limits are announced in headers", cat: check.Limits, sev: check.Low, status: check.Warn,
			msg: "Only X-RateLimit-Limit and X-RateLimit-Remaining are sent; the IETF RateLimit-Policy field is missing.",
			fix: "Send RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-08) besides the X- headers.", refs: []string{"draft-ietf-httpapi-ratelimit-headers"}, took: 35 * ms},
		{id: "input.error-leak", title: "Errors do not leak internals", cat: check.Input, sev: check.Medium, status: check.Warn,
			msg: `The 500 answer quotes the query {"$where": "sleep(100) || 1"} and a frame "at <anonymous>" & more | pipes.`,
			ev:  []check.Evidence{{Request: "GET /api/tasks?search[$where]=sleep(100) HTTP/1.1", Response: "HTTP/1.1 500 Internal Server Error\n\n<pre>MongoServerError: $where is not allowed\n    at <anonymous></pre>"}},
			fix: "Answer 500 with a generic problem+json body and log the detail server-side.", refs: []string{"OWASP API8:2023", "CWE-209"}, took: 64 * ms},
		{id: "backup.retention", title: "Backups are kept 7 daily and 4 weekly", cat: check.Backup, sev: check.Medium, status: check.Fail,
			msg: "3 daily and 0 weekly backups are kept; the policy wants 7 daily and 4 weekly.", fix: "Configure the backup rotation to keep 7 daily and 4 weekly copies.", took: 12 * ms},
		{id: "headers.server-banner", title: "The Server header names no version", cat: check.Transport, sev: check.Info, status: check.Fail,
			msg: "Server: nginx/1.25.3", fix: "Set server_tokens off.", took: 9 * ms},
		{id: "auth.no-token", title: "Requests without a token are refused", cat: check.Auth, sev: check.Critical, status: check.Pass,
			msg: "GET /api/tasks without a token answered 401.", took: 22 * ms},
		{id: "authz.bola", title: "Users cannot read each other's tasks", cat: check.Authz, sev: check.Critical, status: check.Pass,
			msg: "user B got 404 for user A's task on GET, PUT and DELETE.", refs: []string{"OWASP API1:2023", "CWE-639"}, took: 240 * ms},
		{id: "cors.credentials-wildcard", title: "CORS never allows any origin with credentials", cat: check.CORS, sev: check.High, status: check.Pass,
			msg: "an evil origin got no Access-Control-Allow-Origin.", took: 18 * ms},
		{id: "input.nosql-operator", title: "Query operators in input are refused", cat: check.Input, sev: check.High, status: check.Pass,
			msg: `{"$ne": null} as a login email was refused with 400.`, took: 57 * ms},
		{id: "headers.xcto", title: "X-Content-Type-Options is nosniff", cat: check.Transport, sev: check.Medium, status: check.Pass, msg: "nosniff on every answer.", took: 8 * ms},
		{id: "health.readiness", title: "Readiness reflects the stores", cat: check.Health, sev: check.Medium, status: check.Pass, msg: "/api/ready is 200 with both stores up.", took: 15 * ms},
		{id: "health.liveness-deps", title: "Liveness does not depend on the stores", cat: check.Health, sev: check.Low, status: check.Pass, msg: "/api/health answers without touching MongoDB.", took: 4 * ms},
		{id: "mongodb.indexes", title: "Queries use indexes", cat: check.MongoDB, sev: check.Medium, status: check.Pass, msg: "the task list uses {owner: 1, createdAt: -1}.", took: 88 * ms},
		{id: "mongodb.failover", title: "The API survives a primary stepping down", cat: check.MongoDB, sev: check.High, status: check.Pass,
			msg: "writes resumed 4.2s after the primary stopped.", took: 21300 * ms, disruptive: true},
		{id: "mongodb.write-concern", title: "Writes wait for a majority", cat: check.MongoDB, sev: check.High, status: check.NotApplicable,
			msg: "no MongoDB connection was given (--mongo-uri)", took: 0},
		{id: "redis.auth", title: "Redis refuses unauthenticated clients", cat: check.Redis, sev: check.Critical, status: check.NotApplicable,
			msg: "no Redis address was given (--redis-url)", took: 0},
		{id: "headers.csp", title: "A restrictive Content-Security-Policy is set", cat: check.Transport, sev: check.Low, status: check.Fail,
			msg: "no Content-Security-Policy header.", took: 7 * ms},
	}
	out := make([]readiness.Result, len(rs))
	for i, r := range rs {
		out[i] = r.result()
	}
	return out
}

func fixturePolicyParsed(t *testing.T) *readiness.Policy {
	p, err := readiness.ParsePolicy([]byte(fixturePolicy), "ops/readiness-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fullReport is a run of a staging deployment a week after
// previousReport, under a policy with a valid, an expiring and an
// expired waiver.
func fullReport(t *testing.T) *readiness.Report {
	info := readiness.RunInfo{ID: "20261128T150218Z-4f2a9c", Target: "https://staging.tasks.example.com", Start: start,
		Duration: 42300 * time.Millisecond, ToolVersion: "v0.9.0 1a2b3c4d5e6f", ToolRevision: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
		API:         &check.Build{Version: "v1.4.2", Revision: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432", Source: "taskapi_build_info at http://10.0.0.5:9464/metrics"},
		Environment: &readiness.Environment{Provider: "external"},
		Thresholds:  []readiness.Threshold{{Name: "hsts_min_age", Value: "180d"}, {Name: "max_token_lifetime", Value: "30d"}, {Name: "max_page_size", Value: "100"}}}
	rep, err := readiness.Evaluate(info, fullResults(), readiness.WithPolicy(fixturePolicyParsed(t)),
		readiness.WithPrevious("out/readiness-20261121/readiness.json", previousReport(t)))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// previousReport is the run a week before fullReport, without a policy:
// HSTS passed then and BOLA failed, the Server header was not checked,
// and a check since retired passed.
func previousReport(t *testing.T) *readiness.Report {
	var rs []readiness.Result
	for _, r := range fullResults() {
		switch r.ID {
		case "headers.server-banner":
			continue
		case "headers.hsts", "limits.ratelimit-headers":
			r.Status = check.Pass
		case "authz.bola":
			r.Status = check.Fail
		}
		rs = append(rs, r)
	}
	rs = append(rs, raw{id: "headers.x-powered-by", title: "No X-Powered-By header", cat: check.Transport, sev: check.Low, status: check.Pass, msg: "none"}.result())
	rep, err := readiness.Evaluate(readiness.RunInfo{ID: "20261121T150011Z-77aa01", Target: "https://staging.tasks.example.com",
		Start: start.Add(-7 * 24 * time.Hour), ToolVersion: "v0.8.0"}, rs)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func cleanReport(t *testing.T) *readiness.Report {
	ms := time.Millisecond
	rs := []raw{
		{id: "auth.no-token", title: "Requests without a token are refused", cat: check.Auth, sev: check.Critical, status: check.Pass, msg: "401 without a token.", took: 20 * ms},
		{id: "jwt.alg-none", title: `Tokens signed with alg "none" are refused`, cat: check.Auth, sev: check.Critical, status: check.Pass, msg: "401 for alg none.", took: 31 * ms},
		{id: "headers.hsts", title: "HSTS is set with a long max-age", cat: check.Transport, sev: check.High, status: check.Pass, msg: "max-age=31536000; includeSubDomains", took: 12 * ms},
		{id: "health.readiness", title: "Readiness reflects the stores", cat: check.Health, sev: check.Medium, status: check.Pass, msg: "200 with both stores up.", took: 9 * ms},
		{id: "headers.server-banner", title: "The Server header names no version", cat: check.Transport, sev: check.Info, status: check.Pass, msg: "no Server header.", took: 5 * ms},
		{id: "backup.recent", title: "A restorable backup is at most 26h old", cat: check.Backup, sev: check.Critical, status: check.NotApplicable, msg: "no backup directory was given (--backup-dir)"},
	}
	var out []readiness.Result
	for _, r := range rs {
		out = append(out, r.result())
	}
	// The same checks on another port an hour before: nothing changed.
	prev, err := readiness.Evaluate(readiness.RunInfo{ID: "20261128T150000Z-9a8b7c", Target: "http://127.0.0.1:5001", Start: start}, out)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := readiness.Evaluate(readiness.RunInfo{ID: "20261128T160000Z-0b1c2d", Target: "http://127.0.0.1:5000", Start: start.Add(time.Hour),
		Duration: 1840 * time.Millisecond, ToolVersion: "v0.9.0",
		API: &check.Build{Version: "unknown", Revision: "unknown", Source: "no metrics URL (-metrics-url)"},
		Environment: &readiness.Environment{Provider: "embedded",
			Note: "not a production deployment: an embedded environment the harness brought up (FerretDB, redis-server)"}}, out,
		readiness.WithPrevious("out/readiness-earlier", prev))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// notRunReport is a run whose policy names a check that does not exist.
func notRunReport(t *testing.T) *readiness.Report {
	p, err := readiness.ParsePolicy([]byte("overrides:\n  - id: headers.hst\n    action: ignore\n    reason: the CDN sets it\n    owner: ops\n    expires: 2027-01-31\n"), "readiness.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hsts := check.Func{M: check.Meta{ID: "headers.hsts", Title: "HSTS", Category: check.Transport, Severity: check.High},
		F: func(context.Context, *check.Target) check.Result { return check.Passf("ok") }}
	rep := readiness.Run(context.Background(), []check.Check{hsts}, &check.Target{BaseURL: "http://127.0.0.1:5000"},
		readiness.WithPolicy(p), readiness.WithRunID("20261128T170000Z-notrun"), readiness.WithToolVersion("v0.9.0"))
	rep.Run.Start = start.Add(2 * time.Hour) // the clock is the only thing that varies
	return rep
}
