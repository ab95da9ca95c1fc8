package limits

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Generations of rate-limit headers, best first (the anchors' RATE-03:
// accept several, grade the current draft highest).
const (
	genCurrent = "RateLimit + RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers -08 and later)"
	genOlder   = "RateLimit-Limit/-Remaining/-Reset (draft -07 and earlier)"
	genLegacy  = "X-RateLimit-* (legacy, not in any draft)"
)

// rateHeaders are the headers quoted in evidence.
var rateHeaders = []string{
	"RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
}

// advertised is what one answer says about its rate limit.
type advertised struct {
	generation string
	// limit is the quota per window; remaining what is left of it; reset
	// the seconds until the window ends; window the window's length in
	// seconds. Each is -1 when not advertised.
	limit, remaining, reset, window int
}

// present reports whether the answer advertised a limit at all.
func (a advertised) present() bool { return a.generation != "" }

func (a advertised) String() string {
	if !a.present() {
		return "no rate-limit headers"
	}
	s := fmt.Sprintf("limit %s, remaining %s", num(a.limit), num(a.remaining))
	if a.window >= 0 {
		s += fmt.Sprintf(" per %d s window", a.window)
	}
	if a.reset >= 0 {
		s += fmt.Sprintf(", reset in %d s", a.reset)
	}
	return s + " [" + a.generation + "]"
}

func num(n int) string {
	if n < 0 {
		return "?"
	}
	return strconv.Itoa(n)
}

// parseAdvertised reads the rate-limit headers of any generation; the
// current draft's win when several are present.
func parseAdvertised(h http.Header) advertised {
	a := advertised{limit: -1, remaining: -1, reset: -1, window: -1}
	if v := h.Get("RateLimit"); v != "" {
		// RateLimit: "default";r=50;t=30 — the item with the lowest r is
		// the one that binds.
		name := ""
		for _, item := range splitList(v) {
			bare, params := parseItem(item)
			r, ok := intParam(params, "r")
			if !ok {
				continue
			}
			if a.remaining < 0 || r < a.remaining {
				a.remaining, name = r, bare
				a.reset = -1
				if t, ok := intParam(params, "t"); ok {
					a.reset = t
				}
			}
		}
		if a.remaining >= 0 {
			a.generation = genCurrent
			for _, item := range splitList(h.Get("RateLimit-Policy")) {
				bare, params := parseItem(item)
				if bare != name && name != "" {
					continue
				}
				if q, ok := intParam(params, "q"); ok {
					a.limit = q
				}
				if w, ok := intParam(params, "w"); ok {
					a.window = w
				}
				break
			}
			return a
		}
	}
	if v := h.Get("RateLimit-Limit"); v != "" || h.Get("RateLimit-Remaining") != "" {
		a.generation = genOlder
		a.limit = leadingInt(v)
		a.remaining = leadingInt(h.Get("RateLimit-Remaining"))
		a.reset = leadingInt(h.Get("RateLimit-Reset"))
		// RateLimit-Policy: 100;w=900 (drafts -05/-06), or the window as
		// a parameter of RateLimit-Limit (-03/-04).
		for _, src := range []string{h.Get("RateLimit-Policy"), v} {
			for _, item := range splitList(src) {
				if _, params := parseItem(item); a.window < 0 {
					if w, ok := intParam(params, "w"); ok {
						a.window = w
					}
				}
			}
		}
		return a
	}
	if v := h.Get("X-RateLimit-Limit"); v != "" || h.Get("X-RateLimit-Remaining") != "" {
		a.generation = genLegacy
		a.limit = leadingInt(v)
		a.remaining = leadingInt(h.Get("X-RateLimit-Remaining"))
		a.reset = leadingInt(h.Get("X-RateLimit-Reset"))
		if a.reset > 1_000_000_000 { // an epoch, as GitHub sends it
			a.reset = max(0, int(time.Until(time.Unix(int64(a.reset), 0)).Seconds()))
		}
	}
	return a
}

// splitList splits a structured-field list on commas outside quotes.
func splitList(v string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, strings.TrimSpace(v[start:i]))
				start = i + 1
			}
		}
	}
	if rest := strings.TrimSpace(v[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// parseItem splits `"name";k=v;k2=v2` into the bare item (unquoted) and
// its parameters.
func parseItem(item string) (string, map[string]string) {
	parts := strings.Split(item, ";")
	params := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return strings.Trim(strings.TrimSpace(parts[0]), `"`), params
}

func intParam(params map[string]string, k string) (int, bool) {
	v, ok := params[k]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// leadingInt is the integer a header starts with, -1 when none.
func leadingInt(v string) int {
	v = strings.TrimSpace(v)
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return -1
	}
	return n
}

// retryAfter parses Retry-After: delta-seconds or an HTTP-date (RFC 9110
// §10.2.3); ok is false when absent or malformed.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t)), true
	}
	return 0, false
}

// rate is the quota per second when the window is known, for comparing
// limits with different windows.
func (a advertised) rate() (float64, bool) {
	if a.limit < 0 || a.window <= 0 {
		return 0, false
	}
	return float64(a.limit) / float64(a.window), true
}
