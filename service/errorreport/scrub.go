package errorreport

import (
	"regexp"
	"sort"
	"strings"

	"github.com/getsentry/sentry-go"
)

// Filtered replaces whatever the scrubber masks, as Sentry's own server
// side scrubbing writes it.
const Filtered = "[Filtered]"

// minSecret is the shortest configured secret masked word for word:
// shorter values would mask unrelated text and protect nothing.
const minSecret = 4

// The shapes of credentials that may reach an error message: a driver
// quoting the URI it dialled, a library quoting a header, a panic quoting
// its argument.
var (
	// A JWT: its header is base64url JSON, so it starts with "eyJ".
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)
	// The user information of a URI (mongodb://user:password@host,
	// redis://:password@host, and a DSN's key).
	uriUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]+@`)
	// An Authorization header's credentials.
	authScheme = regexp.MustCompile(`(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{4,}`)
	// A password, secret, token or cookie given as key=value or key: value
	// (also inside a longer key: jwt_secret, x-api-key), with an
	// Authorization value's scheme.
	keyValue = regexp.MustCompile(`(?i)(password|passwd|pwd|secret|token|api[_-]?key|authorization|cookie)("?\s*[=:]\s*)("[^"]*"|'[^']*'|(?:(?:bearer|basic|token)\s+)?[^\s,;&"']+)`)
)

// scrubber masks credentials in every string an event carries.
type scrubber struct {
	secrets []string // longest first, so that a secret containing another is masked whole
}

func newScrubber(secrets []string) *scrubber {
	var keep []string
	for _, s := range secrets {
		if len(s) >= minSecret {
			keep = append(keep, s)
		}
	}
	sort.Slice(keep, func(i, j int) bool { return len(keep[i]) > len(keep[j]) })
	return &scrubber{secrets: keep}
}

// String returns s with every secret and credential-shaped part masked.
func (s *scrubber) String(v string) string {
	for _, secret := range s.secrets {
		v = strings.ReplaceAll(v, secret, Filtered)
	}
	v = jwtLike.ReplaceAllString(v, Filtered)
	v = uriUserinfo.ReplaceAllString(v, "${1}"+Filtered+"@")
	v = keyValue.ReplaceAllString(v, "${1}${2}"+Filtered)
	return authScheme.ReplaceAllString(v, "${1}${2}"+Filtered)
}

// value masks the strings inside an arbitrary context or extra value.
func (s *scrubber) value(v any) any {
	switch t := v.(type) {
	case string:
		return s.String(t)
	case map[string]any:
		for k, e := range t {
			t[k] = s.value(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = s.value(e)
		}
		return t
	case []string:
		for i, e := range t {
			t[i] = s.String(e)
		}
		return t
	case nil, bool, int, int64, uint64, float64:
		return t
	}
	// A value of a type this does not know may hold anything.
	return Filtered
}

// beforeSend is the last step before an event is queued: whatever put
// them there, the request, the user and breadcrumbs go, and every string
// left is scrubbed.
func (r *Reporter) beforeSend(ev *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	s := r.scrub
	ev.Request = nil
	ev.User = sentry.User{}
	ev.Breadcrumbs = nil
	ev.Modules = nil
	ev.Message = s.String(ev.Message)
	ev.Transaction = s.String(ev.Transaction)
	for i := range ev.Fingerprint {
		ev.Fingerprint[i] = s.String(ev.Fingerprint[i])
	}
	for k, v := range ev.Tags {
		ev.Tags[k] = s.String(v)
	}
	for _, c := range ev.Contexts {
		s.value(c) // a Context is a map: masked in place
	}
	for i := range ev.Exception {
		e := &ev.Exception[i]
		e.Type = s.String(e.Type)
		e.Value = s.String(e.Value)
		if e.Stacktrace != nil {
			for j := range e.Stacktrace.Frames {
				e.Stacktrace.Frames[j].Vars = nil
			}
		}
	}
	for i := range ev.Threads {
		ev.Threads[i].Stacktrace = nil
	}
	return ev
}
