// Package cors checks that the task API's CORS policy hands no other site
// a logged-in user's data: a foreign origin and the opaque "null" origin
// are not echoed back with Access-Control-Allow-Credentials: true, the
// wildcard never meets credentials, and preflights refuse the same
// origins. It probes an authenticated route (the task list) with a token
// of a fixture user, since that is the answer an attacking page would
// read with the victim's cookie.
//
// Severities: a foreign or null origin echoed with credentials, in a
// simple request or a preflight, is critical (the Observatory's -50: any
// site reads and changes the user's data); a wildcard with credentials is
// high (browsers refuse it, so it leaks nothing by itself, but it shows an
// allowlist that was never configured).
package cors

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// Origins a check pretends to come from.
const (
	// ForeignOrigin is a site that is certainly not the front end.
	ForeignOrigin = "https://evil.example"
	// NullOrigin is what sandboxed iframes, data: URLs and some redirects
	// send; allowlisting it admits any page that can sandbox itself.
	NullOrigin = "null"
)

// probedPath is the authenticated route every probe asks for.
const probedPath = "/api/tasks"

// shown are the headers quoted in evidence.
var shown = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Vary",
}

// Checks returns the CORS checks in report order.
func Checks() []check.Check {
	return []check.Check{originReflection, nullOrigin, wildcardCredentials, preflight}
}

var refs = []string{"MDN Observatory cross-origin-resource-sharing", "ASVS 5.0 V3.4.2", "ZAP 40040", "OWASP API8:2023", "CWE-942"}

var originReflection = check.Func{
	M: check.Meta{
		ID: "cors.origin-reflection", Title: "A foreign origin is not allowed with credentials", Category: check.CORS, Severity: check.Critical,
		Remediation: "Allow only the front end's own origins (a fixed list), never the request's Origin echoed back; with credentials an echoed origin lets any site act as the user.",
		References:  refs,
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judge(ctx, t, []attempt{{origin: ForeignOrigin}}, reflected, noEcho)
	},
}

var nullOrigin = check.Func{
	M: check.Meta{
		ID: "cors.null-origin", Title: "Origin: null is not allowed with credentials", Category: check.CORS, Severity: check.Critical,
		Remediation: "Remove \"null\" from the allowed origins: any page can send it from a sandboxed iframe.",
		References:  refs,
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judge(ctx, t, []attempt{{origin: NullOrigin}}, reflected, noEcho)
	},
}

var wildcardCredentials = check.Func{
	M: check.Meta{
		ID: "cors.wildcard-credentials", Title: "No Access-Control-Allow-Origin: * with credentials", Category: check.CORS, Severity: check.High,
		Remediation: "Replace the wildcard by the list of front-end origins; a credentialed API must name its origins (browsers refuse * with credentials, and a wildcard on private routes is an unreviewed policy).",
		References:  refs,
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judge(ctx, t, []attempt{{origin: ForeignOrigin}, {origin: ForeignOrigin, preflight: true}}, wildcard,
			"no Access-Control-Allow-Origin: * together with Access-Control-Allow-Credentials: true")
	},
}

var preflight = check.Func{
	M: check.Meta{
		ID: "cors.preflight", Title: "Preflights refuse foreign and null origins", Category: check.CORS, Severity: check.Critical,
		Remediation: "Answer preflights from origins outside the allowlist without Access-Control-Allow-Origin, so that no other site may send credentialed writes (POST, PUT, DELETE with Authorization).",
		References:  refs,
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judge(ctx, t, []attempt{{origin: ForeignOrigin, preflight: true}, {origin: NullOrigin, preflight: true}}, reflected, noEcho)
	},
}

// noEcho is what the reflection checks expect ({origin} is the probe's).
const noEcho = "Access-Control-Allow-Origin absent or not {origin}, or no Access-Control-Allow-Credentials: true"

// attempt is one cross-origin request.
type attempt struct {
	origin    string
	preflight bool
}

// verdict judges one answer: fail (with what was observed), warn, or pass.
type verdict func(origin string, x probe.Exchange) (check.Status, string)

// reflected fails an answer that echoes the probe's origin together with
// credentials, and warns when it echoes it without them.
func reflected(origin string, x probe.Exchange) (check.Status, string) {
	acao, creds := allowed(x)
	switch {
	case acao == "":
		return check.Pass, "no Access-Control-Allow-Origin: the browser keeps the answer from " + origin
	case acao == "*":
		// Browsers refuse * with credentials; cors.wildcard-credentials
		// judges it.
		return check.Pass, "Access-Control-Allow-Origin: * (judged by cors.wildcard-credentials)"
	case !strings.EqualFold(acao, origin):
		return check.Pass, "Access-Control-Allow-Origin: " + acao + " (not the probe's origin)"
	case creds:
		return check.Fail, fmt.Sprintf("Access-Control-Allow-Origin: %s echoed with Access-Control-Allow-Credentials: true", acao)
	default:
		return check.Warn, "Access-Control-Allow-Origin: " + acao + " echoed, without credentials (only public data may be shared this way)"
	}
}

// wildcard fails "*" with credentials and warns on "*" alone, which an
// authenticated route should not send either.
func wildcard(_ string, x probe.Exchange) (check.Status, string) {
	acao, creds := allowed(x)
	switch {
	case acao == "*" && creds:
		return check.Fail, "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true"
	case acao == "*":
		return check.Warn, "Access-Control-Allow-Origin: * on an authenticated route (ASVS 5.0 V3.4.2 asks for an allowlist)"
	case acao == "":
		return check.Pass, "no Access-Control-Allow-Origin"
	}
	return check.Pass, "Access-Control-Allow-Origin: " + acao + " (no wildcard)"
}

// allowed returns the Access-Control-Allow-Origin value ("" when absent;
// several values are joined, which browsers reject anyway) and whether
// credentials are allowed.
func allowed(x probe.Exchange) (acao string, creds bool) {
	acao = strings.TrimSpace(strings.Join(x.Header.Values("Access-Control-Allow-Origin"), ", "))
	creds = strings.EqualFold(strings.TrimSpace(x.Header.Get("Access-Control-Allow-Credentials")), "true")
	return acao, creds
}

// userToken returns the token of the run's first fixture user.
func userToken(ctx context.Context, t *check.Target) (string, error) {
	p, err := probe.Pair(ctx, t)
	if err != nil {
		return "", err
	}
	return p.A.Token, nil
}

// judge sends the probes and combines their verdicts: the worst wins.
// Without a token the probes still run (most servers decide CORS before
// authentication, and a browser honours the headers of a 401 too), but a
// pass becomes a warning, since a server could treat logged-in requests
// differently.
func judge(ctx context.Context, t *check.Target, probes []attempt, v verdict, expected string) check.Result {
	token, tokenErr := userToken(ctx, t)
	if ctx.Err() != nil {
		return check.Errorf("cancelled before probing: " + ctx.Err().Error())
	}
	var evs []check.Evidence
	worst, worstObs := check.Pass, ""
	for _, p := range probes {
		h := http.Header{"Origin": {p.origin}}
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		method := http.MethodGet
		if p.preflight {
			method = http.MethodOptions
			h.Del("Authorization") // browsers send no credentials on a preflight
			h.Set("Access-Control-Request-Method", http.MethodDelete)
			h.Set("Access-Control-Request-Headers", "authorization, content-type")
		}
		x := probe.Send(ctx, t, probe.Request{Method: method, Path: probedPath, Header: h})
		if x.Status == 0 {
			return check.Errorf(method+" "+probedPath+" from "+p.origin+": "+probe.ErrString(x.Err), evs...)
		}
		status, observed := v(p.origin, x)
		evs = append(evs, x.Evidence(strings.ReplaceAll(expected, "{origin}", p.origin), observed, shown...))
		if rank(status) > rank(worst) {
			worst, worstObs = status, observed
		}
	}
	switch worst {
	case check.Fail:
		return check.Failf(worstObs, evs...)
	case check.Warn:
		return check.Warnf(worstObs, evs...)
	}
	if token == "" {
		for i := range evs {
			evs[i].Note = "sent without a token: " + probe.ErrString(tokenErr)
		}
		return check.Warnf("no origin was allowed, but the probes went without a token (a fixture user could not be registered), so a server that treats logged-in requests differently would pass unseen", evs...)
	}
	return check.Passf(fmt.Sprintf("%d cross-origin probe(s) of %s were refused", len(probes), probedPath), evs...)
}

func rank(s check.Status) int {
	switch s {
	case check.Fail:
		return 2
	case check.Warn:
		return 1
	}
	return 0
}
