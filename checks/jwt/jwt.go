// Package jwt checks how the task API authenticates requests with its
// HS256 JSON Web Tokens (OWASP API2:2023, RFC 8725, WSTG-SESS-10):
// that every protected route refuses a missing or garbage token; that
// forged tokens (alg:none in every spelling, a tampered payload, another
// HMAC algorithm with a guessed key) are refused; that the signing secret
// is not a published or common one (cracked offline against one real
// token, no traffic); that tokens expire within policy; and that an
// expired token is refused.
//
// # Data and cleanup
//
// The checks register their users and tasks through checks/fixture, with
// the target's prefix. Each check deletes the tasks it created through the
// API before it returns; the users stay (the API cannot delete them) and
// are the caller's to remove, with one fixture.Cleanup after all checks.
//
// # Load on the target
//
// The checks of a run (one Target.Shared) share two fixture users,
// registered by the first check that needs them: two auth requests in
// all. Each check then sends at most a few dozen requests, most of them
// refused; the cracking of auth.weak-secret and auth.expired sends none.
// A 429 from the target's rate limit is reported as an error (no
// verdict), never as a pass or a failure.
//
// # Severity
//
// Critical: anything that lets a request through without a genuine token
// (no token, alg:none, tampered payload, another algorithm with a guessed
// key, a crackable secret) is an authentication bypass. High: token
// lifetime and expiry, which widen the window of a stolen token without
// letting anyone forge one.
package jwt

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// The check ids, stable across versions: policies and baselines use them.
const (
	IDNoToken       = "auth.no-token"       // protected routes refuse a missing or garbage token
	IDAlgNone       = "auth.alg-none"       // alg:none tokens, in any spelling, are refused
	IDTampered      = "auth.tampered"       // a changed payload or a missing signature is refused
	IDAlgOther      = "auth.alg-other"      // HS384/HS512 with a guessed key is refused
	IDWeakSecret    = "auth.weak-secret"    // the HMAC secret is not in the dictionary (offline)
	IDTokenLifetime = "auth.token-lifetime" // exp is present and exp-iat within policy
	IDExpired       = "auth.expired"        // an expired token is refused
)

// Options tune the JWT checks; the zero value is a black-box run.
type Options struct {
	// Secret, when set, is the target's signing secret, as a staging or
	// white-box run knows it: auth.expired forges its expired token with
	// it, auth.alg-other checks that the algorithm is pinned, and
	// auth.weak-secret also checks its length. It is never sent to the
	// target nor shown in evidence.
	Secret string
	// Wordlist adds candidate secrets (an environment template's default,
	// the application's name) to the embedded dictionary.
	Wordlist []string
}

// Checks returns the JWT checks of a black-box run, in report order.
func Checks() []check.Check { return New(Options{}) }

// New returns the JWT checks with o, in report order.
func New(o Options) []check.Check {
	c := &checker{opts: o, words: dictionary(o.Wordlist)}
	return []check.Check{
		check.Func{M: metaNoToken, F: c.noToken},
		check.Func{M: metaAlgNone, F: c.algNone},
		check.Func{M: metaTampered, F: c.tampered},
		check.Func{M: metaAlgOther, F: c.algOther},
		check.Func{M: metaWeakSecret, F: c.weakSecret},
		check.Func{M: metaTokenLifetime, F: c.tokenLifetime},
		check.Func{M: metaExpired, F: c.expired},
	}
}

// Wordlist returns the embedded dictionary of auth.weak-secret: common and
// published HMAC secrets, this repository's development secret among them.
func Wordlist() []string { return dictionary(nil) }

//go:embed wordlist.txt
var wordlist string

// dictionary is the embedded list plus extra, without duplicates, with
// the empty key first (some stacks sign with an unset variable).
func dictionary(extra []string) []string {
	seen := map[string]bool{"": true}
	out := []string{""}
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(wordlist))
	for sc.Scan() {
		if w := strings.TrimRight(sc.Text(), "\r"); w != "" {
			add(w)
		}
	}
	for _, w := range extra {
		add(w)
	}
	return out
}

var (
	refsAuthn = []string{"OWASP API2:2023", "WSTG-SESS-10"}

	metaNoToken = check.Meta{
		ID: IDNoToken, Title: "Protected routes refuse requests without a valid token",
		Category: check.Auth, Severity: check.Critical,
		Remediation: "Put the authentication middleware in front of every task and profile route, and answer 401 when the Authorization header is missing, is not a Bearer token, or does not verify.",
		References:  []string{"OWASP API2:2023", "ASVS 5.0 V8.2.1", "CWE-306", "CWE-287"},
	}
	metaAlgNone = check.Meta{
		ID: IDAlgNone, Title: "Unsigned tokens (alg: none, any spelling) are refused",
		Category: check.Auth, Severity: check.Critical,
		Remediation: "Verify tokens with an explicit algorithm allowlist (HS256 only) instead of the algorithm the token names; never accept 'none' in any case.",
		References:  append([]string{"ASVS 5.0 V9.1.2", "RFC 8725 §3.1", "RFC 8725 §3.2", "CWE-347"}, refsAuthn...),
	}
	metaTampered = check.Meta{
		ID: IDTampered, Title: "Tokens with a changed payload or a missing signature are refused",
		Category: check.Auth, Severity: check.Critical,
		Remediation: "Verify the signature of every token before reading any claim (jwt.verify, not jwt.decode); a token whose signature does not match its header and payload is 401.",
		References:  append([]string{"ASVS 5.0 V9.1.1", "RFC 8725 §3.3", "CWE-347"}, refsAuthn...),
	}
	metaAlgOther = check.Meta{
		ID: IDAlgOther, Title: "Tokens signed with another HMAC algorithm and a guessed key are refused",
		Category: check.Auth, Severity: check.Critical,
		Remediation: "Pin the verification algorithm to the one the API issues (HS256) and verify with the configured secret only; refuse HS384/HS512 and any other alg the token claims.",
		References:  append([]string{"ASVS 5.0 V9.1.2", "RFC 8725 §3.1", "CWE-347", "CWE-757"}, refsAuthn...),
	}
	metaWeakSecret = check.Meta{
		ID: IDWeakSecret, Title: "The token signing secret is not a published or common one",
		Category: check.Auth, Severity: check.Critical,
		Remediation: "Set JWT_SECRET to at least 32 random bytes (openssl rand -base64 48), never a tutorial value or the development default, and rotate it: anyone who knows it can sign tokens for any user.",
		References:  append([]string{"RFC 8725 §3.5", "RFC 7518 §3.2", "CWE-798", "CWE-1391"}, refsAuthn...),
	}
	metaTokenLifetime = check.Meta{
		ID: IDTokenLifetime, Title: "Tokens carry exp, with a lifetime within policy",
		Category: check.Auth, Severity: check.High,
		Remediation: "Issue every token with iat and exp, and keep exp-iat within the policy's max_token_lifetime (JWT_TTL); use short-lived tokens with refresh where sessions must be long.",
		References:  append([]string{"ASVS 5.0 V9.2.1", "RFC 7519 §4.1.4", "CWE-613"}, refsAuthn...),
	}
	metaExpired = check.Meta{
		ID: IDExpired, Title: "Expired tokens are refused",
		Category: check.Auth, Severity: check.High,
		Remediation: "Verify exp on every request (and require it), allowing at most a small clock-skew leeway; an expired token is 401.",
		References:  append([]string{"ASVS 5.0 V9.2.1", "RFC 7519 §4.1.4", "CWE-613"}, refsAuthn...),
	}
)

// checker holds what every check of one New shares: its options and the
// dictionary, built once.
type checker struct {
	opts  Options
	words []string
}

// users are the run's fixture users (probe.Pair; registering one per
// check would spend the auth budget): A, whose genuine token the checks
// take apart, and B, whose id a tampered token claims.
type users struct {
	a, b   *fixture.User
	tk     *token    // A's token, parsed
	issued time.Time // when A's token was issued, about
}

// pair returns the run's users, registering them on first use.
func pair(ctx context.Context, t *check.Target) (*users, *check.Result) {
	p, res := probe.NeedPair(ctx, t)
	if res != nil {
		return nil, res
	}
	tk, err := parseToken(p.A.Token)
	if err != nil {
		r := probe.ErrorResult("could not register the fixture users", fmt.Errorf("the token issued at registration: %w", err), nil)
		return nil, &r
	}
	return &users{a: p.A, b: p.B, tk: tk, issued: p.At}, nil
}

// control sends the user's genuine token to a protected route: when the
// target refuses it, a refusal of a forged token proves nothing.
func control(ctx context.Context, t *check.Target, u *fixture.User) *check.Result {
	x := send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/auth/profile"}, "Bearer "+u.Token, "")
	err := x.Problem()
	if err == nil && x.Status == http.StatusOK {
		return nil
	}
	r := probe.ErrorResult("the target does not accept its own fresh token, so refusing a forged one proves nothing", err, &x, answerHeaders...)
	if err == nil {
		r.Message += fmt.Sprintf(" (got %d, want 200)", x.Status)
	}
	return &r
}

// tokenRoutes are the read-only protected routes forged tokens are sent
// to: the profile (which names the user the token was taken for) and the
// task list.
var tokenRoutes = []string{"/api/auth/profile", "/api/tasks"}

// auth.no-token
func (c *checker) noToken(ctx context.Context, t *check.Target) check.Result {
	us, res := pair(ctx, t)
	if res != nil {
		return *res
	}
	u := us.a
	task, err := fixture.NewTask(ctx, t, u, probe.Title(t, "no-token probe"))
	if err != nil {
		return probe.ErrorResult("could not create a fixture task", err, nil)
	}
	defer probe.DeleteTask(ctx, t, task.ID, u)
	if r := control(ctx, t, u); r != nil {
		return *r
	}
	id := "/api/tasks/" + task.ID
	routes := []probe.Request{
		{Method: http.MethodGet, Path: "/api/tasks"},
		{Method: http.MethodPost, Path: "/api/tasks", Body: probe.MustJSON(map[string]string{"title": probe.Title(t, "created without a token")})},
		{Method: http.MethodGet, Path: id},
		{Method: http.MethodPut, Path: id, Body: probe.MustJSON(map[string]string{"title": probe.Title(t, "changed without a token")})},
		{Method: http.MethodDelete, Path: id},
		{Method: http.MethodGet, Path: "/api/auth/profile"},
	}
	creds := []struct{ auth, shown string }{
		{"", ""},
		{"Bearer", "Bearer (no token)"},
		{"Bearer not-a-jwt", "Bearer not-a-jwt"},
		{"Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl (JWT-shaped garbage)"},
		{"Basic cmVhZGluZXNzOnJlYWRpbmVzcw==", "Basic cmVhZGluZXNzOnJlYWRpbmVzcw== (not a Bearer token)"},
	}
	tl := newTally()
	for _, route := range routes {
		for _, cr := range creds {
			if ctx.Err() != nil {
				return probe.ErrorResult("stopped", ctx.Err(), nil)
			}
			x := send(ctx, t, route, cr.auth, cr.shown)
			tl.Record(x, "401", refused)
			if x.Problem() == nil && route.Method == http.MethodPost {
				// Created without a token: removed as the fixture user,
				// else without a token, so that it does not outlive the
				// run unowned.
				probe.DeleteCreated(ctx, t, x, u, &fixture.User{})
			}
		}
	}
	return tl.Result("requests without a valid token were not refused with 401",
		fmt.Sprintf("all %d requests without a valid token (none, empty Bearer, garbage, JWT-shaped garbage, Basic) to the %d protected routes got 401", tl.Sent, len(routes)))
}

// sendForged sends one forged token to every token route.
func sendForged(ctx context.Context, t *check.Target, tl *probe.Tally, forged, shown string) error {
	for _, path := range tokenRoutes {
		if err := ctx.Err(); err != nil {
			return err
		}
		tl.Record(send(ctx, t, probe.Request{Method: http.MethodGet, Path: path}, "Bearer "+forged, shown), "401", refused)
	}
	return nil
}

// auth.alg-none
func (c *checker) algNone(ctx context.Context, t *check.Target) check.Result {
	us, res := pair(ctx, t)
	if res != nil {
		return *res
	}
	u, tk := us.a, us.tk
	if r := control(ctx, t, u); r != nil {
		return *r
	}
	tl := newTally()
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		h := tk.headerWith(alg)
		input := encodeSeg(h) + "." + tk.payloadSeg
		for _, v := range []struct{ sig, how string }{
			{"", "payload of a real token; no signature (trailing dot)"},
			{tk.sigSeg, "payload of a real token; its original signature kept"},
		} {
			if err := sendForged(ctx, t, &tl, input+"."+v.sig, describe(h, v.how)); err != nil {
				return probe.ErrorResult("stopped", err, nil)
			}
		}
	}
	return tl.Result("unsigned (alg: none) tokens were not refused with 401",
		fmt.Sprintf("all %d alg:none tokens (none, None, NONE, nOnE; with and without a signature) got 401 on %s", tl.Sent, strings.Join(tokenRoutes, " and ")))
}

// auth.tampered
func (c *checker) tampered(ctx context.Context, t *check.Target) check.Result {
	us, res := pair(ctx, t)
	if res != nil {
		return *res
	}
	a, b, tk := us.a, us.b, us.tk
	if r := control(ctx, t, a); r != nil {
		return *r
	}
	// The payload is made to name another real user: a target that skips
	// verification then authenticates the request as that user, where a
	// made-up id would be refused as "user not found" and hide the flaw.
	claims, field := tk.claimsCopy(), ""
	for k, v := range claims {
		if s, ok := v.(string); ok && a.ID != "" && s == a.ID {
			claims[k], field = b.ID, k
		}
	}
	if field == "" {
		claims["userId"], field = b.ID, "userId"
	}
	swapped := encodeSeg(claims)
	flipped := "A" + tk.sigSeg[1:]
	if strings.HasPrefix(tk.sigSeg, "A") {
		flipped = "B" + tk.sigSeg[1:]
	}
	variants := []struct{ token, how string }{
		{tk.headerSeg + "." + swapped + "." + tk.sigSeg, fmt.Sprintf("payload %s changed to another user's id; original signature kept", field)},
		{tk.headerSeg + "." + swapped + ".", fmt.Sprintf("payload %s changed to another user's id; signature removed", field)},
		{tk.headerSeg + "." + tk.payloadSeg + ".", "the real payload; signature removed"},
		{tk.headerSeg + "." + tk.payloadSeg + "." + flipped, "the real payload; first signature character changed"},
	}
	tl := newTally()
	for _, v := range variants {
		if err := sendForged(ctx, t, &tl, v.token, describe(tk.header, v.how)); err != nil {
			return probe.ErrorResult("stopped", err, nil)
		}
	}
	for i := range tl.Fails {
		// The profile names whom the target took the request for.
		if strings.Contains(tl.Fails[i].Response, b.ID) && strings.Contains(tl.Fails[i].Request, "/api/auth/profile") {
			tl.Fails[i].Observed += fmt.Sprintf(" as the other user (the profile answered is %s's, the id the payload names)", b.ID)
		}
	}
	return tl.Result("tampered tokens were not refused with 401",
		fmt.Sprintf("all %d tampered tokens (another user's id under the original signature, signatures removed or altered) got 401", tl.Sent))
}

// guessedKeys sign the tokens of auth.alg-other: the commonest published
// secret and the empty key.
var guessedKeys = []string{"secret", ""}

// auth.alg-other
func (c *checker) algOther(ctx context.Context, t *check.Target) check.Result {
	us, res := pair(ctx, t)
	if res != nil {
		return *res
	}
	u, tk := us.a, us.tk
	if r := control(ctx, t, u); r != nil {
		return *r
	}
	tl := newTally()
	for _, alg := range []string{"HS384", "HS512"} {
		h := tk.headerWith(alg)
		for _, key := range guessedKeys {
			how := fmt.Sprintf("payload of a real token; signed %s with the guessed key %q", alg, key)
			if err := sendForged(ctx, t, &tl, forge(h, tk.claims, []byte(key)), describe(h, how)); err != nil {
				return probe.ErrorResult("stopped", err, nil)
			}
		}
	}
	// With the real secret, accepting another algorithm is no forgery,
	// but it shows the algorithm is not pinned (RFC 8725 §3.1): a warning.
	secret, source, known := c.secret(ctx, tk)
	if known {
		pin := newTally()
		for _, alg := range []string{"HS384", "HS512"} {
			h := tk.headerWith(alg)
			how := fmt.Sprintf("payload of a real token; signed %s with %s (not shown)", alg, source)
			if err := sendForged(ctx, t, &pin, forge(h, tk.claims, []byte(secret)), describe(h, how)); err != nil {
				return probe.ErrorResult("stopped", err, nil)
			}
		}
		tl.Sent += pin.Sent
		tl.Errs = append(tl.Errs, pin.Errs...)
		for _, e := range append(pin.Fails, pin.Warns...) {
			if strings.Contains(e.Observed, "accepted") {
				e.Observed += ": the algorithm is not pinned to HS256 (no forgery: the secret is the target's own)"
			}
			tl.Warns = append(tl.Warns, e)
		}
	}
	pass := fmt.Sprintf("all %d HS384/HS512 tokens signed with guessed keys got 401", tl.Sent)
	if known {
		pass = fmt.Sprintf("all %d HS384/HS512 tokens (guessed keys and the target's own secret) got 401: HS256 is pinned", tl.Sent)
	}
	return tl.Result("tokens with another HMAC algorithm were not refused with 401", pass)
}

// secret is the target's signing secret when it is known: configured in
// Options (and verifying the real token) or cracked from the dictionary.
func (c *checker) secret(ctx context.Context, tk *token) (secret, source string, ok bool) {
	if c.opts.Secret != "" && tk.verifies([]byte(c.opts.Secret)) {
		return c.opts.Secret, "the configured secret", true
	}
	if i, err := crack(ctx, tk, c.words); err == nil && i >= 0 {
		return c.words[i], "the secret cracked from the dictionary", true
	}
	return "", "", false
}

// auth.weak-secret
func (c *checker) weakSecret(ctx context.Context, t *check.Target) check.Result {
	us, res := pair(ctx, t)
	if res != nil {
		return *res
	}
	tk := us.tk
	alg := tk.alg()
	if _, ok := hashes[alg]; !ok {
		return check.NotApplicablef(fmt.Sprintf("the target's tokens are %q, not HMAC: there is no shared secret to crack", alg))
	}
	hdr, _ := json.Marshal(tk.header)
	origin := "offline, no request sent: the signature of the token issued by POST /api/auth/register to a fixture user, tried against each candidate key"
	i, err := crack(ctx, tk, c.words)
	if err != nil {
		return probe.ErrorResult("cracking stopped", err, nil)
	}
	if i >= 0 {
		return check.Failf(fmt.Sprintf("the %s secret is a published or common one (dictionary entry #%d): anyone can sign tokens for any user", alg, i),
			check.Evidence{
				Request:  origin,
				Response: "token header " + string(hdr),
				Expected: fmt.Sprintf("no candidate among the %d in the dictionary verifies the signature", len(c.words)),
				Observed: fmt.Sprintf("dictionary entry #%d verifies it: %s", i, mask(c.words[i])),
			})
	}
	// A configured secret is also measured: RFC 7518 §3.2 wants at least
	// the hash's size, which no black-box test can see.
	if s := c.opts.Secret; s != "" && tk.verifies([]byte(s)) {
		if need := hashes[alg]().Size(); len(s) < need {
			return check.Failf(fmt.Sprintf("the configured %s secret is %d bytes, shorter than the %d RFC 7518 §3.2 requires", alg, len(s), need),
				check.Evidence{Request: origin, Response: "token header " + string(hdr),
					Expected: fmt.Sprintf("a key of at least %d bytes", need), Observed: fmt.Sprintf("%d bytes", len(s))})
		}
	}
	return check.Passf(fmt.Sprintf("the %s secret is none of the %d common and published secrets tried offline", alg, len(c.words)))
}

// auth.token-lifetime
func (c *checker) tokenLifetime(ctx context.Context, t *check.Target) check.Result {
	us, res := pair(ctx, t)
	if res != nil {
		return *res
	}
	tk, issued := us.tk, us.issued
	limit := t.Policy.WithDefaults().MaxTokenLifetime
	payload, _ := json.Marshal(redactedClaims(tk.claims))
	ev := check.Evidence{
		Request:  "POST /api/auth/register (fixture user); the token's payload decoded",
		Response: "payload " + string(payload),
		Expected: fmt.Sprintf("exp present, exp-iat <= %s (policy max_token_lifetime)", days(limit)),
	}
	exp, ok := tk.numericClaim("exp")
	if !ok {
		ev.Observed = "no numeric exp claim: the token never expires"
		return check.Failf("the token has no exp claim: it never expires", ev)
	}
	iat, hasIat := tk.numericClaim("iat")
	if !hasIat {
		iat = issued // when the fixture registered, within a second or two
	}
	life := exp.Sub(iat)
	ev.Observed = fmt.Sprintf("exp-iat = %s", days(life))
	if !hasIat {
		ev.Observed = fmt.Sprintf("no iat; exp is %s after the token was issued", days(life))
	}
	switch {
	case life <= 0:
		return check.Failf("the token's exp is not after its iat", ev)
	case life > limit:
		return check.Failf(fmt.Sprintf("tokens live %s, longer than the policy's %s", days(life), days(limit)), ev)
	}
	msg := fmt.Sprintf("tokens carry exp; exp-iat is %s, within the policy's %s", days(life), days(limit))
	if !hasIat {
		return check.Warnf(msg+", but they carry no iat", ev)
	}
	return check.Passf(msg)
}

// redactedClaims are the claims with anything long (an id is fine, a
// secret or a hash is not) shortened, for evidence.
func redactedClaims(c map[string]any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		if s, ok := v.(string); ok && len(s) > 40 {
			v = s[:8] + "…"
		}
		out[k] = v
	}
	return out
}

// days formats a lifetime for people: "30d", "1h0m0s".
func days(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// auth.expired
func (c *checker) expired(ctx context.Context, t *check.Target) check.Result {
	us, res := pair(ctx, t)
	if res != nil {
		return *res
	}
	tk := us.tk
	alg := tk.alg()
	if _, ok := hashes[alg]; !ok {
		return check.NotApplicablef(fmt.Sprintf("the target's tokens are %q, not HMAC: an expired token cannot be forged without its private key; %s checks that exp is present", alg, IDTokenLifetime))
	}
	if c.opts.Secret != "" && !tk.verifies([]byte(c.opts.Secret)) {
		return check.Errorf("the configured secret (jwt.Options.Secret) does not verify the target's tokens: it is not the target's secret")
	}
	secret, source, known := c.secret(ctx, tk)
	if !known {
		return check.NotApplicablef(fmt.Sprintf("an expired token can only be made with the signing secret, which is neither configured (jwt.Options.Secret) nor in the dictionary; %s checks that exp is present and within policy", IDTokenLifetime))
	}
	now := time.Now()
	stamp := func(iat, exp time.Time) map[string]any {
		cl := tk.claimsCopy()
		cl["iat"], cl["exp"] = iat.Unix(), exp.Unix()
		if _, ok := cl["nbf"]; ok {
			cl["nbf"] = iat.Unix()
		}
		return cl
	}
	// A fresh token made with the same secret must pass first: it shows the
	// secret is the one the target verifies with, so a refusal of the
	// expired one is about exp.
	fresh := forge(tk.header, stamp(now, now.Add(10*time.Minute)), []byte(secret))
	x := send(ctx, t, probe.Request{Method: http.MethodGet, Path: "/api/auth/profile"}, "Bearer "+fresh,
		describe(tk.header, fmt.Sprintf("a real token's claims with iat=now, exp=now+10m; signed with %s", source)))
	if err := x.Problem(); err != nil || x.Status != http.StatusOK {
		r := probe.ErrorResult(fmt.Sprintf("a fresh token signed with %s is not accepted, so an expired one proves nothing", source), err, &x, answerHeaders...)
		if err == nil {
			r.Message += fmt.Sprintf(" (got %d, want 200)", x.Status)
		}
		return r
	}
	expiredTok := forge(tk.header, stamp(now.Add(-2*time.Hour), now.Add(-time.Hour)), []byte(secret))
	shown := describe(tk.header, fmt.Sprintf("a real token's claims with iat=now-2h, exp=now-1h (expired an hour ago); signed with %s", source))
	tl := newTally()
	if err := sendForged(ctx, t, &tl, expiredTok, shown); err != nil {
		return probe.ErrorResult("stopped", err, nil)
	}
	return tl.Result("tokens that expired an hour ago were not refused with 401",
		fmt.Sprintf("a token that expired an hour ago got 401 on %s (forged with %s; a fresh one made the same way was accepted)", strings.Join(tokenRoutes, " and "), source))
}
