package record

import (
	"cmp"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxReasons bounds the distinct failure reasons one Key keeps: the first
// MaxReasons seen are counted by name, any later one as ReasonOther. A
// target that answers every request with a different error cannot grow a
// recorder's memory with them.
const MaxReasons = 20

// ReasonOther counts the failures whose reason came after MaxReasons
// others.
const ReasonOther = "other"

// maxReasonLen bounds one reason's length in bytes: an error may quote
// what the target sent.
const maxReasonLen = 100

// Reason returns why s failed or failed its check, in words that repeat
// from one request to the next: "status 404 Not Found", a failed check's
// message ("check: status 200, want 201"), a transport error without the
// addresses, ports and ids that would make every occurrence distinct
// ("connection refused", "timeout after 10s", "EOF"), or "no response".
// failed is the verdict of the Failed rule on s; "" when s neither failed
// nor failed a check.
func Reason(s Sample, failed bool) string {
	checkFailed := s.CheckPassed != nil && !*s.CheckPassed
	switch {
	case !failed && !checkFailed:
		return ""
	case s.Err != "":
		return NormalizeError(s.Err)
	case failed && s.Status == 0:
		return "no response"
	case failed:
		return statusReason(s.Status)
	case s.Check != "":
		return clip("check: " + s.Check)
	}
	return "check failed"
}

// statusReason is "status 404 Not Found", or "status 599" for a code
// without a name.
func statusReason(code int) string {
	r := "status " + strconv.Itoa(code)
	if text := http.StatusText(code); text != "" {
		r += " " + text
	}
	return r
}

// knownErrors are the transport errors told apart by a phrase within
// them, in the order they are looked for: the phrase alone names the
// cause, and what surrounds it (the URL, local and remote addresses)
// differs between occurrences.
var knownErrors = []struct{ phrase, reason string }{
	{"connection refused", "connection refused"},
	{"connection reset", "connection reset"},
	{"broken pipe", "broken pipe"},
	{"no such host", "no such host"},
	{"network is unreachable", "network unreachable"},
	{"no route to host", "no route to host"},
	{"i/o timeout", "i/o timeout"},
	{"server closed the connection before answering", "closed before answering"},
	{"closed connection before returning the first response byte", "closed before answering"},
	{"unexpected EOF", "unexpected EOF"},
	{"too many open files", "too many open files"},
	{"TLS handshake", "TLS handshake failed"},
	{"certificate", "TLS certificate error"},
}

var (
	// urlPrefix is net/url's `Get "http://host:port/path": ` before the
	// error proper.
	urlPrefix = regexp.MustCompile(`^[A-Z][A-Za-z]* "[^"]*": `)
	// volatile matches what differs between occurrences of one error:
	// URLs, IP addresses with or without ports, host:port pairs, long
	// numbers and hex ids.
	volatile = regexp.MustCompile(`[a-z][a-z0-9+.-]*://\S+|\[[0-9a-fA-F:.]+\](:\d+)?|\d{1,3}(\.\d{1,3}){3}(:\d+)?|[\w.-]+:\d{2,5}\b|\b[0-9a-fA-F]{8,}\b|\b\d{4,}\b`)
)

// NormalizeError returns a transport error in the words that stay the
// same from one occurrence to the next (see Reason), at most about 100
// bytes.
func NormalizeError(err string) string {
	for _, k := range knownErrors {
		if strings.Contains(err, k.phrase) {
			return k.reason
		}
	}
	if strings.HasSuffix(err, "EOF") {
		return "EOF"
	}
	if strings.HasPrefix(err, "timeout after ") {
		return err // the step's own timeout: its duration is the scenario's
	}
	err = urlPrefix.ReplaceAllString(err, "")
	err = volatile.ReplaceAllStringFunc(err, func(m string) string {
		switch {
		case strings.Contains(m, "://"):
			return "URL"
		case strings.ContainsAny(m, ".:[") || !isDigits(m):
			return "ADDR"
		}
		return "N"
	})
	err = strings.TrimPrefix(err, "transport: ")
	if err == "" {
		return "error"
	}
	return clip(err)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// clip cuts s to at most maxReasonLen bytes, on a rune boundary.
func clip(s string) string {
	if len(s) <= maxReasonLen {
		return s
	}
	cut := maxReasonLen - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// reasonCounts counts failures by reason, up to MaxReasons names; nil
// until the first failure, so a Key without failures holds no map.
type reasonCounts map[string]int64

// add counts n failures of reason r, as ReasonOther when MaxReasons
// others are already counted.
func (c *reasonCounts) add(r string, n int64) {
	if *c == nil {
		*c = make(reasonCounts)
	}
	if _, ok := (*c)[r]; !ok && r != ReasonOther && len(*c)-c.hasOther() >= MaxReasons {
		r = ReasonOther
	}
	(*c)[r] += n
}

func (c reasonCounts) hasOther() int {
	if _, ok := c[ReasonOther]; ok {
		return 1
	}
	return 0
}

// merge adds o's counts, the most frequent first, so that when the bound
// is reached the reasons that matter most keep their names.
func (c *reasonCounts) merge(o reasonCounts) {
	for _, r := range byCount(o) {
		c.add(r, o[r])
	}
}

// byCount returns the reasons of c, most frequent first, then by name.
func byCount(c map[string]int64) []string {
	rs := slices.Collect(maps.Keys(c))
	slices.SortFunc(rs, func(a, b string) int {
		if n := cmp.Compare(c[b], c[a]); n != 0 {
			return n
		}
		return strings.Compare(a, b)
	})
	return rs
}
