package resilience

import (
	"context"
	"fmt"
	"net/http"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// The checks of this file send ordinary requests that a framework often
// answers before the API's own code runs (an unknown method, bytes that
// are not UTF-8) or that the API must remember (a logout): where its
// defaults leak through, the contract breaks.

var errorShape = check.Func{
	M: check.Meta{
		ID: IDErrorShape, Title: "Unknown and wrong methods are answered with the contract's JSON error", Category: check.Resilience, Severity: check.Low,
		Remediation: "Route every error, the framework's own (405, 501, 404) included, through the API's error handler, so that each answers application/json {\"message\": ...}.",
		References:  []string{"RFC 9110 §15.5.6", "RFC 9110 §15.6.2", "ASVS 5.0 V4.1.4", "ASVS 5.0 V16.5.1", "CWE-209"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		const expected = "any status, with Content-Type application/json and a body {\"message\": \"...\"}"
		tl := probe.Tally{Headers: answerHeaders}
		for _, r := range []probe.Request{
			{Method: "BREW", Path: "/api/health", Label: "a method no server knows"},
			{Method: http.MethodPatch, Path: "/api/health", Label: "a known method the route does not serve"},
			{Method: http.MethodDelete, Path: "/api/auth/login", Label: "a known method the route does not serve"},
		} {
			if err := ctx.Err(); err != nil {
				return probe.ErrorResult("stopped", err, nil)
			}
			tl.Record(probe.Send(ctx, t, r), expected, func(x probe.Exchange) (probe.Verdict, string) {
				if isJSONMessage(x) {
					return probe.OK, probe.StatusLine(x.Status) + " with a JSON message"
				}
				return probe.Fail, fmt.Sprintf("%s with Content-Type %q: not the contract's {message} JSON", probe.StatusLine(x.Status), x.Header.Get("Content-Type"))
			})
		}
		return tl.Result("method errors are not the contract's JSON", "unknown and unserved methods are answered with a JSON {message}")
	},
}

var nonUTF8 = check.Func{
	M: check.Meta{
		ID: IDNonUTF8, Title: "Invalid UTF-8 in the query or the path is a 4xx with a JSON message, never a 5xx", Category: check.Resilience, Severity: check.Medium,
		Remediation: "Validate that decoded query values and path segments are UTF-8 before they reach the store (the driver refuses invalid strings) and answer 400 {\"message\"}.",
		References:  []string{"RFC 3629", "RFC 3986 §2.1", "ASVS 5.0 V16.5.3", "CWE-20", "CWE-176"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		u, err := probe.Pair(ctx, t)
		if err != nil {
			return probe.ErrorResult("could not register the fixture users", err, nil)
		}
		tl := probe.Tally{Headers: answerHeaders}
		for _, p := range []struct {
			r        probe.Request
			expected string
		}{
			{probe.Request{Method: http.MethodGet, Path: "/api/tasks?search=%ff%fe", Label: "search is the bytes ff fe, not UTF-8"}, "400 with a JSON {message}"},
			{probe.Request{Method: http.MethodGet, Path: "/api/tasks?status=%c3%28", Label: "status is a broken two-byte sequence"}, "400 with a JSON {message}"},
			{probe.Request{Method: http.MethodGet, Path: "/api/tasks/%ff%fe", Label: "the id is the bytes ff fe"}, "400 or 404 with a JSON {message}"},
		} {
			if err := ctx.Err(); err != nil {
				return probe.ErrorResult("stopped", err, nil)
			}
			p.r.Header = probe.Bearer(u.A.Token)
			tl.Record(probe.Send(ctx, t, p.r), p.expected, func(x probe.Exchange) (probe.Verdict, string) {
				switch {
				case x.Status >= 500:
					return probe.Fail, probe.StatusLine(x.Status) + ": a server error for bad input"
				case x.Status >= 400 && !isJSONMessage(x):
					return probe.Fail, probe.StatusLine(x.Status) + " without the contract's JSON {message}"
				case x.Status >= 400:
					return probe.OK, probe.StatusLine(x.Status)
				}
				return probe.Warn, probe.StatusLine(x.Status) + ": invalid UTF-8 was accepted as a value"
			})
		}
		return tl.Result("invalid UTF-8 requests answered wrongly", "invalid UTF-8 in the query and the path gets a 4xx with a JSON message")
	},
}

var logoutRevokes = check.Func{
	M: check.Meta{
		ID: IDLogoutRevokes, Title: "A token no longer works after logout", Category: check.Resilience, Severity: check.Medium,
		Remediation: "On logout, deny the token until its exp (a denylist of its jti or a per-user token version in the shared store) and check it in the authentication middleware; clearing the cookie alone leaves a stolen Bearer token valid for its whole lifetime.",
		References:  []string{"OWASP API2:2023", "OWASP REST Security Cheat Sheet", "ASVS 5.0 V7.4.1", "CWE-613"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		// A user of its own: logging out the run's pair could end the
		// sessions other checks are using.
		u, res := ownUser(ctx, t)
		if res != nil {
			return *res
		}
		profile := probe.Request{Method: http.MethodGet, Path: "/api/auth/profile", Header: probe.Bearer(u.Token)}
		before := probe.Send(ctx, t, withLabel(profile, "before logout"))
		if err := before.Problem(); err != nil {
			return probe.ErrorResult("GET /api/auth/profile before logout", err, &before, answerHeaders...)
		}
		if before.Status != http.StatusOK {
			return probe.ErrorResult(fmt.Sprintf("the fresh token was refused before logout (%s), so logout cannot be judged", probe.StatusLine(before.Status)), nil, &before, answerHeaders...)
		}
		logout := probe.Send(ctx, t, probe.Request{Method: http.MethodPost, Path: "/api/auth/logout", Header: probe.Bearer(u.Token)})
		if err := logout.Problem(); err != nil {
			return probe.ErrorResult("POST /api/auth/logout", err, &logout, answerHeaders...)
		}
		if logout.Status/100 != 2 {
			return check.Failf("POST /api/auth/logout answered "+probe.StatusLine(logout.Status),
				logout.Evidence("200 {message: \"Logged out\"}", probe.StatusLine(logout.Status), answerHeaders...))
		}
		after := probe.Send(ctx, t, withLabel(profile, "the same token, after logout"))
		if err := after.Problem(); err != nil {
			return probe.ErrorResult("GET /api/auth/profile after logout", err, &after, answerHeaders...)
		}
		evs := []check.Evidence{
			logout.Evidence("2xx", probe.StatusLine(logout.Status), answerHeaders...),
			after.Evidence("401: the token was revoked", probe.StatusLine(after.Status), answerHeaders...),
		}
		if after.Status != http.StatusUnauthorized {
			return check.Failf(fmt.Sprintf("the token still works after logout: GET /api/auth/profile answered %s", probe.StatusLine(after.Status)), evs...)
		}
		return check.Passf("after POST /api/auth/logout the same Bearer token gets 401", evs...)
	},
}

func withLabel(r probe.Request, label string) probe.Request {
	r.Label = label
	return r
}
