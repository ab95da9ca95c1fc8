package probe

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/fixture"
)

// JWT matches a compact JWT (or anything shaped like one): what Redact
// hides, and what a check looks for in an answer that must carry no token.
var JWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

var (
	// secretField is a JSON string field whose name says it holds a
	// secret: token, accessToken, password, clientSecret, passwordHash…
	secretField = regexp.MustCompile(`(?i)"([a-z_]*(?:token|password|secret|hash)[a-z_]*)"\s*:\s*"(?:[^"\\]|\\.)*"`)
	// hashLike is a modular-crypt password hash: bcrypt, argon2, scrypt,
	// pbkdf2.
	hashLike = regexp.MustCompile(`\$(?:2[abxy]?|argon2(?:id|i|d)|scrypt|pbkdf2[-\w]*)\$[^"\s]{10,}`)
	// bearerValue is a Bearer credential quoted in text.
	bearerValue = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
)

// Redact hides tokens, passwords and password hashes in quoted text
// (secret JSON fields, JWTs, Bearer credentials, modular-crypt hashes and
// the fixture users' password): evidence ends up in reports that more
// people read than may hold a session.
func Redact(s string) string {
	return bearerValue.ReplaceAllString(redact(s), "Bearer <redacted>")
}

// redact is Redact but for Bearer credentials, for text where "Bearer" is
// a scheme's name rather than a credential's start.
func redact(s string) string {
	s = secretField.ReplaceAllString(s, `"$1":"<redacted>"`)
	s = JWT.ReplaceAllString(s, "<redacted token>")
	s = hashLike.ReplaceAllString(s, "<redacted hash>")
	return strings.ReplaceAll(s, fixture.Password, "<redacted password>")
}

// RedactHeader is a header value as evidence may show it: credentials
// keep only their scheme, cookies only their names (an emptied cookie,
// which hides nothing, is shown whole), challenges keep the scheme they
// name, and any other value goes through Redact.
func RedactHeader(name, v string) string {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization":
		if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
			return scheme + " <redacted>"
		}
		return "<redacted>"
	case "set-cookie":
		// The first pair is the cookie; the rest are its attributes.
		pair, attrs, ok := strings.Cut(v, ";")
		if ok {
			return redactCookie(pair) + ";" + redact(attrs)
		}
		return redactCookie(pair)
	case "cookie":
		pairs := strings.Split(v, ";")
		for i, p := range pairs {
			pairs[i] = redactCookie(p)
		}
		return strings.Join(pairs, ";")
	case "www-authenticate", "proxy-authenticate":
		return redact(v)
	}
	return Redact(v)
}

// redactCookie hides the value of one name=value pair, keeping an empty
// one: a cookie being cleared has nothing to hide, and seeing it cleared
// is the point of some evidence.
func redactCookie(pair string) string {
	name, value, ok := strings.Cut(pair, "=")
	if !ok {
		return "<redacted>"
	}
	if strings.TrimSpace(value) == "" {
		return pair
	}
	return name + "=<redacted>"
}

// Clip cuts s to at most n bytes on a rune boundary, the "…" that marks
// the cut included, so that a clipped excerpt is still valid UTF-8 and
// within its bound.
func Clip(s string, n int) string {
	const mark = "…"
	if len(s) <= n {
		return s
	}
	n = max(0, n-len(mark))
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}

// OneLine folds line breaks and tabs into spaces, for a message or an
// observation that must stay on one line.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}
