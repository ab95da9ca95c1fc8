// Package input checks how the task API handles hostile input
// (OWASP API1, API2 and API4:2023, CWE-20): operator objects in the login
// body and the list query, regular-expression metacharacters in search,
// values of the wrong JSON type, ids that are not ObjectIds, a body over
// the size limit, deeply nested JSON; that no error body leaks a stack
// trace, a file path or a driver error; and that the API is still healthy
// after all of it.
//
// # Data and cleanup
//
// The checks of a run (one Target.Shared) share two fixture users,
// A and B, registered through checks/fixture by the first check that needs
// them (probe.Pair). A probes, and owns tasks; B owns a task that no probe
// of A's may ever see, and sends the probes of input.invalid-id and
// input.no-leak, so that neither user comes near the API's per-user
// budget (100 requests per 15 minutes by default). Each check creates the tasks it needs through checks/fixture and
// deletes them, and any task a flawed target created from a probe it
// should have refused, before it returns. One probe registers a user with
// a mistyped password under a fixture.Email address, so that a target
// that accepts it leaves a user fixture.Cleanup removes. Users stay (the
// API cannot delete them): the caller removes them with one
// fixture.Cleanup after all checks.
//
// # Order
//
// input.oversized-body, input.deep-nesting and input.still-healthy are
// disruptive (check.Disruptive): the first two may take a fragile target down, so
// they run alone after the other checks, and input.still-healthy, last in
// Checks, runs after them to see whether the target survived.
//
// # Load on the target
//
// Ten auth requests (two registrations, one more with a mistyped
// password, five login attempts in input.operator-injection-login and two
// in input.no-leak) and about two hundred other requests; the largest
// body is 1 MiB, sent paced (a pause of at most a second after its head,
// see probe.Request.Paced) so that the target's 413 can be read. A 429 is reported
// as an error (no verdict).
//
// # Severity
//
// High: operator injection (an authentication bypass or another user's
// data when it works), leaks in error bodies, and a target that no
// longer answers after bad input (a one-request denial of service).
// Medium: wrong types, invalid ids, size and nesting limits, which are
// robustness findings unless another check shows more.
package input

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// The check ids, stable across versions: policies and baselines use them.
const (
	IDLoginInjection = "input.operator-injection-login" // operator objects in the login body are refused
	IDQueryInjection = "input.operator-injection-query" // operators and regex metacharacters in the list query are inert
	IDWrongTypes     = "input.wrong-types"              // values of the wrong JSON type get a 4xx
	IDInvalidID      = "input.invalid-id"               // ids that are not ObjectIds get 404 or 400
	IDOversizedBody  = "input.oversized-body"           // a body over the limit gets 413
	IDDeepNesting    = "input.deep-nesting"             // deeply nested JSON gets a 4xx quickly
	IDNoLeak         = "input.no-leak"                  // error bodies carry no stack trace or driver error
	IDStillHealthy   = "input.still-healthy"            // the API still answers its health check afterwards
)

// Checks returns the input checks, in order: input.still-healthy last.
func Checks() []check.Check {
	return []check.Check{
		check.Func{M: metaLogin, F: loginInjection},
		check.Func{M: metaQuery, F: queryInjection},
		check.Func{M: metaWrongTypes, F: wrongTypes},
		check.Func{M: metaInvalidID, F: invalidID},
		check.Func{M: metaNoLeak, F: noLeak},
		check.Disruptive(check.Func{M: metaOversized, F: oversizedBody}),
		check.Disruptive(check.Func{M: metaDeep, F: deepNesting}),
		check.Disruptive(check.Func{M: metaHealthy, F: stillHealthy}),
	}
}

var (
	refsNoSQL = []string{"WSTG-INPV-05.6", "ZAP 40033", "CWE-943"}

	metaLogin = check.Meta{
		ID: IDLoginInjection, Title: "Operator objects in the login body are refused",
		Category: check.Input, Severity: check.High,
		Remediation: "Accept only strings for email and password (validate types before any query), so that {\"$gt\": \"\"} can never reach the user lookup or the password comparison.",
		References:  append([]string{"OWASP API2:2023", "ASVS 5.0 V16.5.3"}, refsNoSQL...),
	}
	metaQuery = check.Meta{
		ID: IDQueryInjection, Title: "Operator keys and regular-expression metacharacters in the list query never widen the result",
		Category: check.Input, Severity: check.High,
		Remediation: "Parse the query as plain strings (refuse bracketed keys such as status[$ne]), and escape search before it is used in a regular expression, or match it as plain text.",
		References:  append([]string{"OWASP API1:2023", "ASVS 5.0 V16.5.1"}, refsNoSQL...),
	}
	metaWrongTypes = check.Meta{
		ID: IDWrongTypes, Title: "Values of the wrong JSON type are refused with 4xx",
		Category: check.Input, Severity: check.Medium,
		Remediation: "Validate the type of every body field (strings for title, description, status, name, email, password) and answer 400 naming the field; refuse non-object bodies and non-JSON content types.",
		References:  []string{"OWASP REST Security Cheat Sheet: input validation", "ASVS 5.0 V16.5.3", "CWE-20", "CWE-1287"},
	}
	metaInvalidID = check.Meta{
		ID: IDInvalidID, Title: "Ids that are not ObjectIds get 404 or 400, never a server error",
		Category: check.Input, Severity: check.Medium,
		Remediation: "Validate the id before it reaches the store (24 hex digits) and answer 404, as for a missing task; never let a cast error become a 500.",
		References:  []string{"WSTG-INPV-05.6", "ASVS 5.0 V16.5.1", "CWE-20", "CWE-754"},
	}
	metaOversized = check.Meta{
		ID: IDOversizedBody, Title: "A body over the size limit is refused with 413",
		Category: check.Input, Severity: check.Medium,
		Remediation: "Set a body limit (BODY_LIMIT, 100kb) that applies before the body is parsed, to chunked bodies as well, and answer 413.",
		References:  []string{"OWASP API4:2023", "OWASP REST Security Cheat Sheet", "CWE-770"},
	}
	metaDeep = check.Meta{
		ID: IDDeepNesting, Title: "Deeply nested JSON is refused quickly with 4xx",
		Category: check.Input, Severity: check.Medium,
		Remediation: "Use a JSON parser with a nesting limit (or refuse non-scalar fields before recursing), so that a small body cannot cost deep recursion; answer 400.",
		References:  []string{"OWASP API4:2023", "CWE-674", "CWE-400"},
	}
	metaNoLeak = check.Meta{
		ID: IDNoLeak, Title: "Error bodies carry no stack trace, file path or driver error",
		Category: check.Input, Severity: check.High,
		Remediation: "Answer every error with a generic {message}; log the cause server-side with the request id, and never serialise the error, its stack or the driver's text into the response.",
		References:  []string{"OWASP API8:2023", "ASVS 5.0 V16.5.1", "CWE-209", "WSTG-ERRH-01"},
	}
	metaHealthy = check.Meta{
		ID: IDStillHealthy, Title: "The API is still healthy after the hostile input",
		Category: check.Input, Severity: check.High,
		Remediation: "Recover from panics per request, bound parsing (size, depth) and keep bad input from crashing or wedging the process; the other input checks' evidence shows which request did it.",
		References:  []string{"OWASP API4:2023", "ASVS 5.0 V16.5.2", "CWE-248", "CWE-400"},
	}
)

// refused4xx judges an answer that must be a 4xx refusal.
func refused4xx(p probe.Exchange) (probe.Verdict, string) {
	switch {
	case p.Status >= 400 && p.Status < 500:
		return probe.OK, fmt.Sprint(p.Status)
	case p.Status >= 200 && p.Status < 300:
		return probe.Fail, fmt.Sprintf("%d: accepted", p.Status)
	case p.Status >= 500:
		return probe.Fail, fmt.Sprintf("%d: a server error", p.Status)
	}
	return probe.Warn, fmt.Sprintf("%d: neither accepted nor refused", p.Status)
}

// input.operator-injection-login
func loginInjection(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	a := us.A
	bodies := []struct {
		what string
		body map[string]any
	}{
		{"$gt in both fields", map[string]any{"email": map[string]any{"$gt": ""}, "password": map[string]any{"$gt": ""}}},
		{"a real email, $ne password", map[string]any{"email": a.Email, "password": map[string]any{"$ne": ""}}},
		{"a real email, $gt password", map[string]any{"email": a.Email, "password": map[string]any{"$gt": ""}}},
		{"$regex email, the real password", map[string]any{"email": map[string]any{"$regex": ".*"}, "password": a.Password}},
		{"$ne email, the real password", map[string]any{"email": map[string]any{"$ne": nil}, "password": a.Password}},
	}
	const expected = "4xx (400 or 401), no token"
	tl := newTally()
	for _, b := range bodies {
		if err := ctx.Err(); err != nil {
			return probe.ErrorResult("stopped", err, nil)
		}
		q := probe.Request{Method: http.MethodPost, Path: "/api/auth/login", Label: b.what, Header: header("", ""), Body: probe.MustJSON(b.body)}
		tl.Record(probe.Send(ctx, t, q), expected, func(p probe.Exchange) (probe.Verdict, string) {
			if v, s := refused4xx(p); v != probe.OK {
				if p.Status/100 == 2 {
					s += ": logged in"
				}
				return v, s
			}
			if strings.Contains(string(p.Body), `"token"`) || probe.JWT.Match(p.Body) {
				return probe.Fail, fmt.Sprintf("%d, but the answer carries a token", p.Status)
			}
			return probe.OK, ""
		})
	}
	return tl.Result("login bodies with operator objects were not refused",
		fmt.Sprintf("all %d login bodies with operator objects ($gt, $ne, $regex) got a 4xx without a token", tl.Sent))
}

// queryProbe is one list query; strict means any task in a 200 answer
// is a finding (the operator or the pattern was applied, or the key was
// ignored), otherwise only another user's task is.
type queryProbe struct {
	query  string // already encoded
	what   string
	search string // the search term, when the probe is one, for literal matches
	strict bool
}

// input.operator-injection-query
func queryInjection(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	a, b := us.A, us.B
	mine, err := fixture.NewTask(ctx, t, a, probe.Title(t, "injection probe"))
	if err != nil {
		return probe.ErrorResult("could not create A's task", err, nil)
	}
	defer probe.DeleteTask(ctx, t, mine.ID, a)
	theirs, err := fixture.NewTask(ctx, t, b, probe.Title(t, "injection probe of B"))
	if err != nil {
		return probe.ErrorResult("could not create B's task", err, nil)
	}
	defer probe.DeleteTask(ctx, t, theirs.ID, b)

	probes := []queryProbe{
		{query: "status%5B%24ne%5D=x", what: "status[$ne]=x", strict: true},
		{query: "status%5B%24exists%5D=true", what: "status[$exists]=true", strict: true},
		{query: "search%5B%24regex%5D=.%2A", what: "search[$regex]=.*", strict: true},
		{query: "search%5B%24ne%5D=x", what: "search[$ne]=x", strict: true},
		{query: "user%5B%24ne%5D=" + url.QueryEscape(a.ID), what: "user[$ne]=<A's id>"},
		{query: "title%5B%24regex%5D=.%2A", what: "title[$regex]=.*"},
		{query: "%24where=1", what: "$where=1"},
	}
	for _, s := range []string{".*", "^", ".+", "[\\s\\S]*", "(", "[", "\\", "*", "a|", "(?i)"} {
		probes = append(probes, queryProbe{query: "search=" + url.QueryEscape(s), what: "search=" + s, search: s, strict: true})
	}
	const expected = "4xx, or 200 with no task the query did not match as plain text; never another user's task, never 5xx"
	tl := newTally()
	for _, pr := range probes {
		if err := ctx.Err(); err != nil {
			return probe.ErrorResult("stopped", err, nil)
		}
		q := probe.Request{Method: http.MethodGet, Path: "/api/tasks?" + pr.query, Label: pr.what, Header: header(a.Token, "")}
		tl.Record(probe.Send(ctx, t, q), expected, func(p probe.Exchange) (probe.Verdict, string) {
			return judgeList(p, pr, a.ID, theirs.ID)
		})
	}
	return tl.Result("list queries with operators or metacharacters were not handled as plain text",
		fmt.Sprintf("all %d list queries with operator keys or regular-expression metacharacters got a 4xx or an empty list; none showed B's task", tl.Sent))
}

// judgeList judges one answer of queryInjection.
func judgeList(p probe.Exchange, pr queryProbe, aID, theirs string) (probe.Verdict, string) {
	switch {
	case p.Status >= 500:
		return probe.Fail, fmt.Sprintf("%d: a server error", p.Status)
	case p.Status >= 400:
		return probe.OK, ""
	case p.Status != http.StatusOK:
		return probe.Warn, fmt.Sprintf("%d: neither a list nor a refusal", p.Status)
	}
	var v struct {
		Tasks []struct {
			ID    string `json:"_id"`
			Title string `json:"title"`
			User  any    `json:"user"`
		} `json:"tasks"`
	}
	if !p.Decode(&v) {
		return probe.Warn, "200 but not a task list"
	}
	var others, data []string
	for _, tk := range v.Tasks {
		if tk.ID == theirs || (aID != "" && owner(tk.User) != aID) {
			others = append(others, tk.ID)
			continue
		}
		if pr.search != "" && strings.Contains(strings.ToLower(tk.Title), strings.ToLower(pr.search)) {
			continue // a plain-text match: what search is for
		}
		data = append(data, tk.ID)
	}
	switch {
	case len(others) > 0:
		return probe.Fail, fmt.Sprintf("200 with %d task(s) of another user (%s): the query was applied as an operator", len(others), strings.Join(others, ", "))
	case pr.strict && len(data) > 0:
		return probe.Fail, fmt.Sprintf("200 with %d task(s) that do not match it as plain text: the operator or pattern was applied, or the key ignored", len(data))
	}
	return probe.OK, ""
}

// owner is a task's user id, whether the answer names it or, populated,
// holds the user object.
func owner(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		for _, k := range []string{"_id", "id"} {
			if s, ok := v[k].(string); ok {
				return s
			}
		}
	}
	return ""
}

// input.wrong-types
func wrongTypes(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	a := us.A
	own, err := fixture.NewTask(ctx, t, a, probe.Title(t, "wrong types"))
	if err != nil {
		return probe.ErrorResult("could not create A's task", err, nil)
	}
	defer probe.DeleteTask(ctx, t, own.ID, a)
	ttl := probe.Title(t, "wrong types probe")
	create := func(what, body string) probe.Request {
		return probe.Request{Method: http.MethodPost, Path: "/api/tasks", Label: what, Header: header(a.Token, ""), Body: []byte(body)}
	}
	update := func(what, body string) probe.Request {
		return probe.Request{Method: http.MethodPut, Path: "/api/tasks/" + own.ID, Label: what, Header: header(a.Token, ""), Body: []byte(body)}
	}
	qt := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	probes := []probe.Request{
		create("title is a number", `{"title":123}`),
		create("title is a boolean", `{"title":true}`),
		create("title is an array", `{"title":["a","b"]}`),
		create("title is an operator object", `{"title":{"$gt":""}}`),
		create("description is an object", `{"title":`+qt(ttl)+`,"description":{"a":1}}`),
		create("status is a number", `{"title":`+qt(ttl)+`,"status":5}`),
		create("status is an array", `{"title":`+qt(ttl)+`,"status":["pending"]}`),
		create("status is an operator object", `{"title":`+qt(ttl)+`,"status":{"$ne":"x"}}`),
		create("the body is an array", `[{"title":`+qt(ttl)+`}]`),
		create("the body is a string", qt(ttl)),
		create("the body is a number", `42`),
		create("malformed JSON", `{"title":`),
		{Method: http.MethodPost, Path: "/api/tasks", Label: "JSON sent as text/plain", Header: header(a.Token, "text/plain"), Body: []byte(`{"title":` + qt(ttl) + `}`)},
		update("title is a number", `{"title":123}`),
		update("status is an operator object", `{"status":{"$ne":"x"}}`),
		update("description is an array", `{"description":["x"]}`),
		// A target that accepts it leaves a user with a fixture.Email
		// address, which fixture.Cleanup removes.
		{Method: http.MethodPost, Path: "/api/auth/register", Label: "password is an array", Header: header("", ""),
			Body: probe.MustJSON(map[string]any{"name": "Readiness Check", "email": fixture.Email(t), "password": []string{fixture.Password}})},
	}
	tl := newTally()
	for _, q := range probes {
		if err := ctx.Err(); err != nil {
			return probe.ErrorResult("stopped", err, nil)
		}
		x := probe.Send(ctx, t, q)
		tl.Record(x, "4xx naming the problem", refused4xx)
		if q.Method == http.MethodPost && q.Path == "/api/tasks" {
			probe.DeleteCreated(ctx, t, x, a)
		}
	}
	return tl.Result("bodies with values of the wrong type were not refused with 4xx",
		fmt.Sprintf("all %d bodies with values of the wrong type (numbers, booleans, arrays, objects, operator objects, non-object bodies, malformed JSON, text/plain) got a 4xx", tl.Sent))
}

// input.invalid-id
func invalidID(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	a := us.B // B's budget: the API limits requests per user
	ids := []struct{ path, what string }{
		{"not-an-id", "not an ObjectId"},
		{"123", "a number"},
		{"%24where", "$where"},
		{"zzzzzzzzzzzzzzzzzzzzzzzz", "24 characters, not hex"},
		{"6b0b22f2643d4f5deb78546b0", "25 hex digits"},
		{"%7B%22%24ne%22%3Anull%7D", `{"$ne":null}`},
		{"000000000000000000000000", "a valid ObjectId of no task"},
	}
	judge := func(p probe.Exchange) (probe.Verdict, string) {
		switch {
		case p.Status == http.StatusNotFound || p.Status == http.StatusBadRequest:
			return probe.OK, ""
		case p.Status/100 == 2:
			return probe.Fail, fmt.Sprintf("%d: the id matched something", p.Status)
		case p.Status >= 500:
			return probe.Fail, fmt.Sprintf("%d: a server error", p.Status)
		}
		return probe.Warn, fmt.Sprintf("%d: refused, but neither 404 nor 400", p.Status)
	}
	tl := newTally()
	for _, id := range ids {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			if err := ctx.Err(); err != nil {
				return probe.ErrorResult("stopped", err, nil)
			}
			q := probe.Request{Method: m, Path: "/api/tasks/" + id.path, Label: "id is " + id.what, Header: header(a.Token, "")}
			if m == http.MethodPut {
				q.Body = []byte(`{"title":"changed by an invalid-id probe"}`)
			}
			tl.Record(probe.Send(ctx, t, q), "404 (or 400)", judge)
		}
	}
	return tl.Result("requests with invalid ids did not get 404 or 400",
		fmt.Sprintf("all %d GET/PUT/DELETE requests with invalid or unknown ids got 404 or 400", tl.Sent))
}

// oversize is the size of the oversized body: ten times the contract's
// 100 kB limit, well over any JSON a task API needs, yet cheap to send.
const oversize = 1 << 20

// bigBody is a task whose padding (a field every API ignores) brings it to
// n bytes: refused only by a size limit, not by field validation.
func bigBody(t *check.Target, n int) []byte {
	head := `{"title":"` + probe.Title(t, "oversized") + `","padding":"`
	return []byte(head + strings.Repeat("a", max(0, n-len(head)-2)) + `"}`)
}

// input.oversized-body
func oversizedBody(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	a := us.A
	body := bigBody(t, oversize)
	shown := fmt.Sprintf(`{"title":"…","padding":"aaaa…"} (%d KiB)`, len(body)>>10)
	judge := func(p probe.Exchange) (probe.Verdict, string) {
		switch {
		case p.Status == http.StatusRequestEntityTooLarge:
			return probe.OK, ""
		case p.Status/100 == 2:
			return probe.Fail, fmt.Sprintf("%d: a %d KiB body was accepted", p.Status, len(body)>>10)
		case p.Status >= 500:
			return probe.Fail, fmt.Sprintf("%d: a server error", p.Status)
		}
		return probe.Warn, fmt.Sprintf("%d: refused, but not with 413", p.Status)
	}
	tl := newTally()
	resets := 0
	for _, chunked := range []bool{false, true} {
		what := "1 MiB with Content-Length"
		if chunked {
			what = "1 MiB chunked, no Content-Length"
		}
		q := probe.Request{Method: http.MethodPost, Path: "/api/tasks", Label: what, Header: header(a.Token, ""), Body: body, BodyShown: shown, Chunked: chunked, Paced: true}
		x := sendBig(ctx, t, q, &resets)
		if x.Status == 0 && ctx.Err() == nil {
			// Every attempt was cut: the body was refused, but the client
			// never learnt why.
			tl.Sent++
			tl.Note(probe.Warn, check.Evidence{Request: x.Call(), Expected: "413",
				Observed: fmt.Sprintf("no answer in %d attempts, the connection closed while the body was sent: %v", bigAttempts, x.Err)})
			continue
		}
		tl.Record(x, "413", judge)
		probe.DeleteCreated(ctx, t, x, a)
	}
	msg := fmt.Sprintf("both %d KiB bodies (with Content-Length and chunked) got 413", len(body)>>10)
	if resets > 0 {
		msg += fmt.Sprintf(" (after %d attempt(s) cut by a connection reset: the target closes without draining the body, so a client may lose the 413; RFC 9112 §9.6)", resets)
	}
	return tl.Result("oversized bodies were not refused with 413", msg)
}

// bigAttempts bounds the attempts of one oversized probe.
const bigAttempts = 5

// sendBig sends an oversized body, paced (see probe.Request.Paced), and again when
// the connection is cut all the same: a server that answers 413 and
// closes without draining the rest of the body (no lingering close, RFC
// 9112 §9.6) makes the client's TCP stack reset, which can lose the 413.
// That is a race, so a bounded number of attempts sees the answer when
// there is one; resets counts the cut attempts.
func sendBig(ctx context.Context, t *check.Target, q probe.Request, resets *int) probe.Exchange {
	var x probe.Exchange
	for range bigAttempts {
		if x = probe.Send(ctx, t, q); x.Status != 0 || ctx.Err() != nil || !cut(x.Err) {
			return x
		}
		*resets++
	}
	return x
}

// cut reports whether err is a connection closed under a request.
func cut(err error) bool {
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	s := err.Error()
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe") || strings.Contains(s, "server closed")
}

// depth is how deeply the nested bodies nest: past the 10000 levels at
// which common parsers stop, in at most 72 KB.
const depth = 12000

// nested are the deeply nested bodies: arrays in a field, arrays as the
// whole body, objects as the whole body.
func nested() []struct{ what, body string } {
	arrays := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	return []struct{ what, body string }{
		{fmt.Sprintf("title nested %d arrays deep", depth), `{"title":` + arrays + `}`},
		{fmt.Sprintf("the body nested %d arrays deep", depth), arrays},
		{fmt.Sprintf("the body nested %d objects deep", depth), strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)},
	}
}

// input.deep-nesting
func deepNesting(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	a := us.A
	limit := t.Policy.WithDefaults().MaxErrorLatency
	// Each probe gets a bound of its own: an answer later than the
	// policy's already fails, and a target that never answers must not
	// hold the check until its deadline.
	bound := 5*limit + 2*time.Second
	expected := fmt.Sprintf("4xx within %s (policy max_error_latency)", limit)
	tl := newTally()
	for _, n := range nested() {
		q := probe.Request{Method: http.MethodPost, Path: "/api/tasks", Label: n.what, Header: header(a.Token, ""), Body: []byte(n.body),
			BodyShown: probe.Clip(n.body, 40) + " … " + n.body[len(n.body)-20:]}
		pctx, cancel := context.WithTimeout(ctx, bound)
		x := probe.Send(pctx, t, q)
		cancel()
		err := x.Problem()
		var ne net.Error
		switch {
		case err != nil && ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()):
			tl.Sent++
			tl.Note(probe.Fail, check.Evidence{Request: x.Call(), Expected: expected, Observed: fmt.Sprintf("no answer within %s", bound)})
			continue
		case err != nil && x.Status == 0 && ctx.Err() == nil:
			tl.Sent++
			tl.Note(probe.Warn, check.Evidence{Request: x.Call(), Expected: expected, Observed: "no answer: " + err.Error()})
			continue
		}
		tl.Record(x, expected, func(p probe.Exchange) (probe.Verdict, string) {
			if v, s := refused4xx(p); v != probe.OK {
				return v, s
			}
			if p.Took > limit {
				return probe.Fail, fmt.Sprintf("%d after %s, over the policy's %s", p.Status, p.Took.Round(time.Millisecond), limit)
			}
			return probe.OK, ""
		})
		probe.DeleteCreated(ctx, t, x, a)
	}
	return tl.Result("deeply nested bodies were not refused quickly",
		fmt.Sprintf("all %d bodies nested %d levels deep got a 4xx within %s", tl.Sent, depth, limit))
}

// leak is a pattern that betrays internals in an error body.
type leak struct {
	what string
	re   *regexp.Regexp
}

// leaks are the patterns input.no-leak looks for: stack traces of the
// common runtimes, source and file paths, database and cache driver
// errors, internal addresses.
var leaks = []leak{
	{"a Go stack trace", regexp.MustCompile(`goroutine|panic:|runtime error:`)},
	{"a Go source position", regexp.MustCompile(`\.go:\d*`)},
	{"a Node.js stack frame", regexp.MustCompile(`\bat \S.*\.(?:js|mjs|cjs|ts):\d+(?::\d+)?\)?`)},
	{"a node_modules path", regexp.MustCompile(`node_modules[/\\]`)},
	{"a Python traceback", regexp.MustCompile(`Traceback \(most recent call last\)|File "[^"]+", line \d+`)},
	{"a Java stack trace", regexp.MustCompile(`Exception in thread|\bat [a-z][\w$]*(?:\.[\w$]+)+\(\w+\.java:\d+\)`)},
	{"a MongoDB error", regexp.MustCompile(`Mongo(?:Server|Network|ServerSelection|Parse)?Error|E11000|mongo:|"codeName"|\berrmsg\b`)},
	{"a Mongoose error", regexp.MustCompile(`CastError|Cast to ObjectId failed|ValidationError:`)},
	{"a BSON error", regexp.MustCompile(`\bbson:|BSON(?:Type)?Error`)},
	{"a Redis error", regexp.MustCompile(`\bredis:|WRONGTYPE|\bNOAUTH\b`)},
	{"an internal address", regexp.MustCompile(`dial tcp|ECONNREFUSED|connection refused|\b(?:127\.0\.0\.1|localhost):\d{2,5}`)},
	{"a file path", regexp.MustCompile(`(?:^|[\s"'(=:])/(?:home|usr|var|opt|app|src|root|srv|tmp|go|build|workspace|Users)/[\w.@/-]+|\b[A-Za-z]:\\\\[\w\\. -]+`)},
	{"a stack field", regexp.MustCompile(`"stack"\s*:`)},
}

// leaked returns what in body betrays internals, with the matched text.
func leaked(body []byte) []string {
	var out []string
	for _, l := range leaks {
		if m := l.re.Find(body); m != nil {
			out = append(out, fmt.Sprintf("%s: %q", l.what, probe.Clip(probe.OneLine(string(m)), 80)))
		}
	}
	return out
}

// input.no-leak
func noLeak(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	a := us.B // B's budget: the API limits requests per user
	own, err := fixture.NewTask(ctx, t, a, probe.Title(t, "no leak"))
	if err != nil {
		return probe.ErrorResult("could not create A's task", err, nil)
	}
	defer probe.DeleteTask(ctx, t, own.ID, a)
	tok := a.Token
	post := func(what, ct, body string) probe.Request {
		return probe.Request{Method: http.MethodPost, Path: "/api/tasks", Label: what, Header: header(tok, ct), Body: []byte(body)}
	}
	get := func(what, path, token string) probe.Request {
		return probe.Request{Method: http.MethodGet, Path: path, Label: what, Header: header(token, "")}
	}
	deep := nested()[0]
	big := bigBody(t, oversize)
	probes := []probe.Request{
		post("malformed JSON", "", `{"title":`),
		post("invalid UTF-8", "", "{\"title\":\"\xff\xfe\"}"),
		post("JSON sent as text/plain", "text/plain", `{"title":"x"}`),
		post("title is an operator object", "", `{"title":{"$gt":""}}`),
		post("title is a number out of range", "", `{"title":1e999}`),
		post("the body is an array", "", `[1,2]`),
		post("status is an unknown value", "", `{"title":"x","status":"done"}`),
		{Method: http.MethodPost, Path: "/api/tasks", Label: deep.what, Header: header(tok, ""), Body: []byte(deep.body), BodyShown: probe.Clip(deep.body, 40) + " …"},
		{Method: http.MethodPost, Path: "/api/tasks", Label: "1 MiB body", Header: header(tok, ""), Body: big, BodyShown: fmt.Sprintf("(%d KiB)", len(big)>>10), Paced: true},
		get("id is not an ObjectId", "/api/tasks/not-an-id", tok),
		get("id is $where", "/api/tasks/%24where", tok),
		get("id is 24 characters, not hex", "/api/tasks/zzzzzzzzzzzzzzzzzzzzzzzz", tok),
		{Method: http.MethodPut, Path: "/api/tasks/not-an-id", Label: "update of an invalid id", Header: header(tok, ""), Body: []byte(`{"title":"x"}`)},
		{Method: http.MethodPatch, Path: "/api/tasks/" + own.ID, Label: "an unsupported method", Header: header(tok, ""), Body: []byte(`{"title":"x"}`)},
		get("an unknown route", "/api/does-not-exist", tok),
		get("a path below a task", "/api/tasks/"+own.ID+"/x", tok),
		get("status[$ne]=x", "/api/tasks?status%5B%24ne%5D=x", tok),
		get("search=(", "/api/tasks?search=%28", tok),
		get("a repeated key", "/api/tasks?status=pending&status=completed", tok),
		get("page=-1", "/api/tasks?page=-1", tok),
		get("limit=abc", "/api/tasks?limit=abc", tok),
		get("a garbage token", "/api/auth/profile", "not-a-jwt"),
		get("a token of another signature", "/api/auth/profile", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"),
		{Method: http.MethodPost, Path: "/api/auth/login", Label: "operator objects", Header: header("", ""), Body: []byte(`{"email":{"$gt":""},"password":{"$gt":""}}`)},
		{Method: http.MethodPost, Path: "/api/auth/login", Label: "malformed JSON", Header: header("", ""), Body: []byte(`{"email":`)},
	}
	tl := newTally()
	errBodies, unanswered := 0, 0
	for _, q := range probes {
		if err := ctx.Err(); err != nil {
			return probe.ErrorResult("stopped", err, nil)
		}
		x := probe.Send(ctx, t, q)
		switch {
		case errors.Is(x.Problem(), probe.ErrRateLimited):
			tl.Record(x, "", nil)
			continue
		case x.Status == 0:
			unanswered++ // nothing to read; input.still-healthy says if it hurt
			continue
		}
		probe.DeleteCreated(ctx, t, x, a)
		if x.Status < 400 {
			continue
		}
		errBodies++
		tl.Sent++
		if found := leaked(x.Body); len(found) > 0 {
			tl.Note(probe.Fail, x.Evidence("a generic {message}: no stack trace, file path, driver or internal error text", strings.Join(found, "; "), answerHeaders...))
		}
	}
	msg := fmt.Sprintf("none of the %d error bodies (malformed, mistyped and oversized bodies, invalid ids, unknown routes and methods, injected queries, bad tokens) carries a stack trace, a file path or a driver error", errBodies)
	if unanswered > 0 {
		msg += fmt.Sprintf(" (%d probe(s) got no answer to read)", unanswered)
	}
	return tl.Result("error bodies leak internals", msg)
}

// input.still-healthy
func stillHealthy(ctx context.Context, t *check.Target) check.Result {
	x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/health", Label: "after the other input checks", Header: header("", "")})
	ev := func(observed string) check.Evidence {
		return x.Evidence(`200 {"status":"OK"}`, observed, answerHeaders...)
	}
	err := x.Problem()
	switch {
	case errors.Is(err, probe.ErrRateLimited):
		return probe.ErrorResult("the health check was rate limited", err, nil)
	case err != nil:
		return check.Failf("the API no longer answers its health check: "+err.Error(), ev("no answer: "+err.Error()))
	case x.Status != http.StatusOK:
		return check.Failf(fmt.Sprintf("the health check answers %d after the hostile input", x.Status), ev(fmt.Sprint(x.Status)))
	}
	var v struct {
		Status string `json:"status"`
	}
	if !x.Decode(&v) || !strings.EqualFold(v.Status, "OK") {
		return check.Warnf(`the health check answers 200 but not {"status":"OK"}`, ev("200 with another body"))
	}
	return check.Passf("GET /api/health still answers 200 OK after the other input checks")
}
