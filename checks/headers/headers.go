// Package headers checks the HTTP response headers of the task API against
// the MDN HTTP Observatory tests, the OWASP REST cheat sheet and ASVS 5.0
// V3: transport security, content sniffing, framing, CSP, referrer, version
// disclosure, caching of private data, the auth cookie's flags,
// compression and request ids.
//
// Every check judges the same representative answers, fetched once per run
// and target: the public health route, an error (404), a login and an
// authenticated task list. A header that only the happy path carries
// (middleware skipped on errors) therefore fails. The login spends one of
// the client's auth requests and the registration before it another: with
// the API's default budget (5 per 15 minutes per client) run these checks
// before limits.auth-burst, which spends the rest (it is disruptive, so
// a runner does).
//
// Severities follow the anchors' table: HSTS and the session cookie are
// high (a downgrade or a stolen session exposes every account); nosniff,
// framing, version disclosure and cacheable private data are medium
// (exploitable in combination, each a cheap fix); CSP and Referrer-Policy
// on a JSON API, X-Powered-By, compression and request ids are low.
package headers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// Checks returns the header checks in report order.
func Checks() []check.Check {
	return []check.Check{
		hsts, nosniff, framing, csp, referrer, poweredBy, serverVersion,
		cacheControl, cookieFlags, compression, requestID,
	}
}

var hsts = check.Func{
	M: check.Meta{
		ID: "headers.hsts", Title: "Strict-Transport-Security on every response", Category: check.Transport, Severity: check.High,
		Remediation: "Send one Strict-Transport-Security header with max-age of at least a year (31536000) and includeSubDomains on every HTTPS response.",
		References:  []string{"RFC 6797", "MDN Observatory strict-transport-security", "ASVS 5.0 V3.4.1", "OWASP API8:2023", "CWE-319"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		if !strings.HasPrefix(strings.ToLower(t.BaseURL), "https://") {
			why := "the target " + t.BaseURL + " is not HTTPS: browsers ignore HSTS received over plain HTTP (RFC 6797 §8.1), so only an HTTPS target can be judged"
			// Worth a word, not a verdict: behind a TLS-terminating proxy
			// the API cannot tell which transport the client used.
			if x := probe.Send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/health"}); x.Header.Get("Strict-Transport-Security") != "" {
				why += "; note that it sends the header over plain HTTP, which RFC 6797 §7.2 says a host must not (harmless in browsers)"
			}
			return check.NotApplicablef(why)
		}
		minAge := int64(t.Policy.WithDefaults().HSTSMinAge.Seconds())
		expected := fmt.Sprintf("one Strict-Transport-Security header with max-age >= %d", minAge)
		return judgeEach(ctx, t, all, expected, []string{"Strict-Transport-Security"}, func(x probe.Exchange) judgement {
			vals := x.Header.Values("Strict-Transport-Security")
			switch {
			case len(vals) == 0:
				return judgement{observed: "no Strict-Transport-Security header"}
			case len(vals) > 1 || strings.Contains(vals[0], ","):
				return judgement{observed: "Strict-Transport-Security given more than once (invalid: " + strings.Join(vals, " | ") + ")"}
			}
			age, sub, err := parseHSTS(vals[0])
			switch {
			case err != nil:
				return judgement{observed: "invalid Strict-Transport-Security " + strconv.Quote(vals[0]) + ": " + err.Error()}
			case age < minAge:
				return judgement{observed: fmt.Sprintf("max-age=%d, below %d", age, minAge)}
			}
			obs := fmt.Sprintf("max-age=%d", age)
			if sub {
				obs += "; includeSubDomains"
			} else {
				obs += " without includeSubDomains (ASVS 5.0 V3.4.1 asks for it at L2)"
			}
			return judgement{ok: true, observed: obs}
		}, "every sampled HTTPS response carries HSTS with max-age at or above the policy")
	},
}

// parseHSTS returns the max-age and whether includeSubDomains is set.
func parseHSTS(v string) (age int64, sub bool, err error) {
	seen := false
	for d := range strings.SplitSeq(v, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "max-age":
			age, err = strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
			if err != nil || age < 0 {
				return 0, false, fmt.Errorf("max-age %q is not a number of seconds", val)
			}
			seen = true
		case "includesubdomains":
			sub = true
		}
	}
	if !seen {
		return 0, false, fmt.Errorf("no max-age directive")
	}
	return age, sub, nil
}

var nosniff = check.Func{
	M: check.Meta{
		ID: "headers.nosniff", Title: "X-Content-Type-Options: nosniff on every response", Category: check.Transport, Severity: check.Medium,
		Remediation: "Send X-Content-Type-Options: nosniff on every response, errors included, so that browsers never sniff JSON into HTML or script.",
		References:  []string{"MDN Observatory x-content-type-options", "ASVS 5.0 V3.4.4", "OWASP API8:2023", "CWE-693"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judgeEach(ctx, t, all, "X-Content-Type-Options: nosniff", []string{"X-Content-Type-Options", "Content-Type"}, func(x probe.Exchange) judgement {
			v := x.Header.Values("X-Content-Type-Options")
			if len(v) == 1 && strings.EqualFold(strings.TrimSpace(v[0]), "nosniff") {
				return judgement{ok: true, observed: "nosniff"}
			}
			if len(v) == 0 {
				return judgement{observed: "no X-Content-Type-Options header"}
			}
			return judgement{observed: "X-Content-Type-Options: " + strings.Join(v, " | ")}
		}, "every sampled response carries X-Content-Type-Options: nosniff")
	},
}

var framing = check.Func{
	M: check.Meta{
		ID: "headers.framing", Title: "Framing denied (X-Frame-Options or CSP frame-ancestors)", Category: check.Transport, Severity: check.Medium,
		Remediation: "Send Content-Security-Policy: frame-ancestors 'none' and X-Frame-Options: DENY on every response (the OWASP REST cheat sheet asks for both).",
		References:  []string{"MDN Observatory x-frame-options", "ASVS 5.0 V3.4.6", "OWASP REST Security Cheat Sheet", "CWE-1021"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judgeEach(ctx, t, all, "X-Frame-Options DENY or SAMEORIGIN, or CSP frame-ancestors without wildcards",
			[]string{"X-Frame-Options", "Content-Security-Policy"}, func(x probe.Exchange) judgement {
				fa, hasFA := cspDirective(x.Header, "frame-ancestors")
				xfo := x.Header.Values("X-Frame-Options")
				var obs []string
				ok := false
				if hasFA {
					obs = append(obs, "CSP frame-ancestors "+fa)
					ok = !strings.Contains(fa, "*") && !schemeOnly(fa)
				}
				if len(xfo) == 1 {
					v := strings.ToUpper(strings.TrimSpace(xfo[0]))
					obs = append(obs, "X-Frame-Options: "+xfo[0])
					ok = ok || v == "DENY" || v == "SAMEORIGIN"
				} else if len(xfo) > 1 {
					obs = append(obs, "X-Frame-Options given more than once: "+strings.Join(xfo, " | "))
				}
				if len(obs) == 0 {
					return judgement{observed: "neither X-Frame-Options nor CSP frame-ancestors"}
				}
				return judgement{ok: ok, observed: strings.Join(obs, "; ")}
			}, "every sampled response denies framing")
	},
}

// schemeOnly reports whether a source list allows whole schemes
// ("https:"), which lets any site of that scheme frame the page.
func schemeOnly(sources string) bool {
	for s := range strings.FieldsSeq(sources) {
		if strings.HasSuffix(s, ":") {
			return true
		}
	}
	return false
}

// cspDirective returns the value of a directive of the enforced CSP
// (every Content-Security-Policy header; report-only ones do not count).
func cspDirective(h http.Header, name string) (string, bool) {
	for _, policy := range h.Values("Content-Security-Policy") {
		for d := range strings.SplitSeq(policy, ";") {
			fields := strings.Fields(d)
			if len(fields) > 0 && strings.EqualFold(fields[0], name) {
				return strings.Join(fields[1:], " "), true
			}
		}
	}
	return "", false
}

var csp = check.Func{
	M: check.Meta{
		ID: "headers.csp", Title: "Content-Security-Policy fit for a JSON API", Category: check.Transport, Severity: check.Low,
		Remediation: "Send Content-Security-Policy: default-src 'none'; frame-ancestors 'none' on every response: a JSON API loads nothing, so its policy can allow nothing.",
		References:  []string{"MDN Observatory content-security-policy", "ASVS 5.0 V3.4.3", "OWASP REST Security Cheat Sheet", "CWE-693"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judgeEach(ctx, t, all, "Content-Security-Policy with default-src 'none' and frame-ancestors", []string{"Content-Security-Policy"}, func(x probe.Exchange) judgement {
			if len(x.Header.Values("Content-Security-Policy")) == 0 {
				if ro := x.Header.Get("Content-Security-Policy-Report-Only"); ro != "" {
					return judgement{observed: "only Content-Security-Policy-Report-Only (not enforced): " + ro}
				}
				return judgement{observed: "no Content-Security-Policy header"}
			}
			ds, hasDS := cspDirective(x.Header, "default-src")
			_, hasFA := cspDirective(x.Header, "frame-ancestors")
			var missing []string
			if !hasDS || ds != "'none'" {
				missing = append(missing, "default-src is "+orNone(ds, hasDS)+", not 'none'")
			}
			if !hasFA {
				missing = append(missing, "no frame-ancestors (default-src does not cover it)")
			}
			if len(missing) > 0 {
				return judgement{observed: strings.Join(missing, "; ")}
			}
			return judgement{ok: true, observed: strings.Join(x.Header.Values("Content-Security-Policy"), " | ")}
		}, "every sampled response carries a CSP with default-src 'none' and frame-ancestors")
	},
}

func orNone(v string, ok bool) string {
	if !ok {
		return "absent"
	}
	return strconv.Quote(v)
}

// privateReferrer are the Referrer-Policy values that never send a path
// to another origin (the Observatory's +5).
var privateReferrer = map[string]bool{
	"no-referrer": true, "same-origin": true, "strict-origin": true, "strict-origin-when-cross-origin": true,
}

// knownReferrer are every value browsers recognise.
var knownReferrer = map[string]bool{
	"no-referrer": true, "same-origin": true, "strict-origin": true, "strict-origin-when-cross-origin": true,
	"origin": true, "origin-when-cross-origin": true, "unsafe-url": true, "no-referrer-when-downgrade": true,
}

var referrer = check.Func{
	M: check.Meta{
		ID: "headers.referrer-policy", Title: "Referrer-Policy keeps URLs private", Category: check.Transport, Severity: check.Low,
		Remediation: "Send Referrer-Policy: no-referrer (or same-origin, strict-origin, strict-origin-when-cross-origin) on every response.",
		References:  []string{"MDN Observatory referrer-policy", "ASVS 5.0 V3.4.5", "CWE-200"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judgeEach(ctx, t, all, "Referrer-Policy: no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin",
			[]string{"Referrer-Policy"}, func(x probe.Exchange) judgement {
				vals := x.Header.Values("Referrer-Policy")
				if len(vals) == 0 {
					return judgement{observed: "no Referrer-Policy header"}
				}
				// Browsers apply the last value they recognise.
				effective := ""
				for _, v := range vals {
					for p := range strings.SplitSeq(v, ",") {
						if p = strings.ToLower(strings.TrimSpace(p)); knownReferrer[p] {
							effective = p
						}
					}
				}
				if !privateReferrer[effective] {
					return judgement{observed: "Referrer-Policy: " + strings.Join(vals, ", ") + " (effective " + orNone(effective, effective != "") + ")"}
				}
				return judgement{ok: true, observed: "Referrer-Policy: " + effective}
			}, "every sampled response carries a private Referrer-Policy")
	},
}

var poweredBy = check.Func{
	M: check.Meta{
		ID: "headers.x-powered-by", Title: "No X-Powered-By header", Category: check.Transport, Severity: check.Low,
		Remediation: "Remove X-Powered-By (Express: app.disable('x-powered-by'); helmet does it): it names the framework, and often its version, for free.",
		References:  []string{"ASVS 5.0 V13.4.6", "OWASP API8:2023", "ZAP 10037", "CWE-200"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judgeEach(ctx, t, all, "no X-Powered-By header", []string{"X-Powered-By"}, func(x probe.Exchange) judgement {
			if v := x.Header.Values("X-Powered-By"); len(v) > 0 {
				return judgement{observed: "X-Powered-By: " + strings.Join(v, ", ")}
			}
			return judgement{ok: true, observed: "no X-Powered-By"}
		}, "no sampled response carries X-Powered-By")
	},
}

// versioned matches a product version in a Server header: "nginx/1.18.0",
// "Apache/2.4.41 (Ubuntu)", "Kestrel 8.0".
var versioned = regexp.MustCompile(`(/|\s|^)v?\d+(\.\d+)*`)

var serverVersion = check.Func{
	M: check.Meta{
		ID: "headers.server-version", Title: "Server header names no version", Category: check.Transport, Severity: check.Medium,
		Remediation: "Drop the Server header or reduce it to a product name (nginx: server_tokens off; Apache: ServerTokens Prod): a version lets scanners match known CVEs.",
		References:  []string{"ASVS 5.0 V13.4.6", "OWASP API8:2023", "ZAP 10036", "CWE-200"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judgeEach(ctx, t, all, "no Server header, or one without a version", []string{"Server"}, func(x probe.Exchange) judgement {
			vals := x.Header.Values("Server")
			for _, v := range vals {
				if versioned.MatchString(v) {
					return judgement{observed: "Server: " + v}
				}
			}
			if len(vals) == 0 {
				return judgement{ok: true, observed: "no Server header"}
			}
			return judgement{ok: true, observed: "Server: " + strings.Join(vals, ", ") + " (no version)"}
		}, "no sampled response discloses a server version")
	},
}

var cacheControl = check.Func{
	M: check.Meta{
		ID: "headers.cache-control", Title: "Cache-Control: no-store on private answers", Category: check.Transport, Severity: check.Medium,
		Remediation: "Send Cache-Control: no-store on every auth and authenticated answer, so that neither the browser nor a shared cache keeps tokens or a user's tasks.",
		References:  []string{"OWASP API8:2023", "OWASP REST Security Cheat Sheet", "RFC 9111 §5.2.2.5", "CWE-525"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		return judgeEach(ctx, t, private, "Cache-Control with no-store", []string{"Cache-Control", "Pragma"}, func(x probe.Exchange) judgement {
			vals := x.Header.Values("Cache-Control")
			for _, v := range vals {
				for d := range strings.SplitSeq(v, ",") {
					if strings.EqualFold(strings.TrimSpace(d), "no-store") {
						return judgement{ok: true, observed: "Cache-Control: " + strings.Join(vals, ", ")}
					}
				}
			}
			if len(vals) == 0 {
				return judgement{observed: "no Cache-Control header"}
			}
			return judgement{observed: "Cache-Control: " + strings.Join(vals, ", ") + " (no no-store)"}
		}, "the login and the authenticated task list are marked no-store")
	},
}

var cookieFlags = check.Func{
	M: check.Meta{
		ID: "headers.cookie-flags", Title: "Auth cookie is HttpOnly, SameSite and (over HTTPS) Secure", Category: check.Auth, Severity: check.High,
		Remediation: "Set the session cookie with HttpOnly, SameSite=Strict (or Lax) and Secure; prefer the __Host- prefix. A script-readable or cross-site cookie hands the session to XSS or CSRF.",
		References:  []string{"MDN Observatory cookies", "ASVS 5.0 V3.3.1", "OWASP API2:2023", "CWE-1004", "CWE-614", "CWE-1275"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		s, err := getSample(ctx, t)
		if err != nil {
			return check.Errorf("could not sample the target: " + err.Error())
		}
		logins := s.pick(sampleLogin)
		if len(logins) == 0 || logins[0].x.Status == 0 {
			why := probe.ErrString(s.fixtureErr)
			if len(logins) > 0 {
				why = probe.ErrString(logins[0].x.Err)
			}
			return check.Errorf("no login answer to judge: " + why)
		}
		x := logins[0].x
		if x.Status != http.StatusOK {
			return check.Errorf("the login was refused, so its cookie cannot be judged", x.Evidence("200 with the session cookie", probe.StatusLine(x.Status), "Set-Cookie"))
		}
		expected := "HttpOnly; SameSite=Strict or Lax"
		if s.https {
			expected += "; Secure"
		}
		var bad []string
		var cookies int
		for _, line := range x.Header.Values("Set-Cookie") {
			c, err := http.ParseSetCookie(line)
			if err != nil {
				bad = append(bad, "unparsable Set-Cookie: "+err.Error())
				continue
			}
			if c.MaxAge < 0 || c.Value == "" {
				continue // a cookie being cleared carries no session
			}
			cookies++
			var problems []string
			if !c.HttpOnly {
				problems = append(problems, "no HttpOnly")
			}
			switch c.SameSite {
			case http.SameSiteStrictMode, http.SameSiteLaxMode:
			case http.SameSiteNoneMode:
				problems = append(problems, "SameSite=None")
			default:
				problems = append(problems, "no valid SameSite")
			}
			if s.https && !c.Secure {
				problems = append(problems, "no Secure over HTTPS")
			}
			if len(problems) > 0 {
				bad = append(bad, c.Name+": "+strings.Join(problems, ", "))
			}
		}
		if cookies == 0 && len(bad) == 0 {
			return check.NotApplicablef("the login sets no cookie: the session travels only as a bearer token, which the Observatory scores as the expected case")
		}
		if len(bad) > 0 {
			observed := strings.Join(bad, "; ")
			return check.Failf("the login's cookie: "+observed, x.Evidence(expected, observed, "Set-Cookie"))
		}
		ev := x.Evidence(expected, fmt.Sprintf("%d session cookie(s), all flagged", cookies), "Set-Cookie")
		msg := "the login's session cookie is HttpOnly, SameSite and Secure"
		if !s.https {
			msg = "the login's session cookie is HttpOnly and SameSite"
			ev.Note = "HTTP target: Secure is not required here; it must be set wherever the API is served over HTTPS"
		}
		return check.Passf(msg, ev)
	},
}

// compressible are the encodings that count as compression.
var compressible = map[string]bool{"gzip": true, "br": true, "zstd": true, "deflate": true}

var compression = check.Func{
	M: check.Meta{
		ID: "headers.compression", Title: "Lists are compressed when the client accepts it", Category: check.Limits, Severity: check.Low,
		Remediation: "Compress JSON answers (gzip or brotli) when Accept-Encoding allows it, with Vary: Accept-Encoding, so that lists cost less bandwidth and time.",
		References:  []string{"RFC 9110 §8.4", "RFC 9110 §12.5.3", "OWASP REST Security Cheat Sheet"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		s, err := getSample(ctx, t)
		if err != nil {
			return check.Errorf("could not sample the target: " + err.Error())
		}
		x := s.compressed
		if x.Status == 0 {
			return check.Errorf("no task list to judge: " + probe.ErrString(firstErr(x.Err, s.fixtureErr)))
		}
		const expected = "Content-Encoding gzip or br, and Vary: Accept-Encoding"
		shown := []string{"Content-Encoding", "Vary", "Content-Length"}
		if x.Status != http.StatusOK {
			return check.Errorf("the task list was refused", x.Evidence(expected, probe.StatusLine(x.Status), shown...))
		}
		if s.plainListSize < 1024 {
			return check.Errorf(fmt.Sprintf("the task list is only %d bytes, under the size servers commonly skip compression for: %s", s.plainListSize, probe.ErrString(s.fixtureErr)),
				x.Evidence(expected, "too small to judge", shown...))
		}
		enc := strings.ToLower(strings.TrimSpace(x.Header.Get("Content-Encoding")))
		if !compressible[enc] {
			observed := fmt.Sprintf("a %d-byte list sent uncompressed (Content-Encoding %s)", len(x.Body), orNone(enc, enc != ""))
			return check.Failf(observed, x.Evidence(expected, observed, shown...))
		}
		if enc == "gzip" {
			if err := validGzipJSON(x.Body); err != nil {
				observed := "Content-Encoding: gzip but the body does not decode: " + err.Error()
				return check.Failf(observed, x.Evidence(expected, observed, shown...))
			}
		}
		observed := fmt.Sprintf("%s: %d bytes instead of %d", enc, len(x.Body), s.plainListSize)
		if !varyHas(x.Header, "Accept-Encoding") {
			observed += ", but no Vary: Accept-Encoding (a shared cache may serve the compressed body to a client that cannot read it)"
			return check.Warnf(observed, x.Evidence(expected, observed, shown...))
		}
		return check.Passf("the task list is compressed ("+observed+")", x.Evidence(expected, observed, shown...))
	},
}

func validGzipJSON(b []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return err
	}
	plain, err := io.ReadAll(io.LimitReader(zr, probe.MaxBody))
	if err != nil {
		return err
	}
	if !json.Valid(plain) {
		return fmt.Errorf("the decompressed body is not JSON")
	}
	return nil
}

func varyHas(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); strings.EqualFold(f, name) || f == "*" {
				return true
			}
		}
	}
	return false
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

var requestID = check.Func{
	M: check.Meta{
		ID: "headers.request-id", Title: "Every response carries its own X-Request-ID", Category: check.Transport, Severity: check.Low,
		Remediation: "Give every request an id, log it and return it as X-Request-ID on every answer, errors included, so that a user's report can be matched to the logs.",
		References:  []string{"OWASP Logging Cheat Sheet", "Google SRE book: Monitoring Distributed Systems"},
	},
	F: func(ctx context.Context, t *check.Target) check.Result {
		seen := map[string]string{}
		return judgeEach(ctx, t, all, "a non-empty X-Request-ID, different on every response", []string{"X-Request-ID"}, func(x probe.Exchange) judgement {
			id := strings.TrimSpace(x.Header.Get("X-Request-ID"))
			if id == "" {
				return judgement{observed: "no X-Request-ID header"}
			}
			if other, dup := seen[id]; dup {
				return judgement{observed: "X-Request-ID " + id + " repeats the one of " + other}
			}
			seen[id] = x.Req.Method + " " + x.Req.Path
			return judgement{ok: true, observed: "X-Request-ID: " + id}
		}, "every sampled response carries its own X-Request-ID")
	},
}
