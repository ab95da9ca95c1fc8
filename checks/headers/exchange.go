package headers

// This file is the same in checks/headers, checks/cors, checks/limits and
// checks/health (only the package clause differs): each package may only
// depend on checks/check and checks/fixture, so the few lines that send a
// request and turn it into redacted evidence are kept beside each of them.

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/check"
)

// Bounds of what a check reads and quotes.
const (
	maxBody    = 1 << 20 // bytes read of any answer
	maxExcerpt = 300     // bytes of a body quoted in evidence
)

// request is one call to the target.
type request struct {
	method string
	path   string // relative to base, query included
	base   string // an instance's base URL; t.BaseURL when empty
	header http.Header
	body   []byte
}

// exchange is a request and what came back, kept for evidence.
type exchange struct {
	method, path string
	reqHeader    http.Header
	status       int
	header       http.Header
	body         []byte
	took         time.Duration
	err          error
}

// send sends r and reads the answer. Unless r says otherwise it asks for
// an uncompressed answer, so that the body can be quoted and the headers
// are the server's own (Go's transport would otherwise decompress gzip
// and drop Content-Encoding).
func send(ctx context.Context, t *check.Target, r request) exchange {
	base := r.base
	if base == "" {
		base = t.BaseURL
	}
	x := exchange{method: r.method, path: r.path, reqHeader: r.header.Clone()}
	if x.reqHeader == nil {
		x.reqHeader = http.Header{}
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
		if x.reqHeader.Get("Content-Type") == "" {
			x.reqHeader.Set("Content-Type", "application/json")
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, strings.TrimRight(base, "/")+r.path, body)
	if err != nil {
		x.err = err
		return x
	}
	req.Header = x.reqHeader.Clone()
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	start := time.Now()
	res, err := client(t).Do(req)
	if err != nil {
		x.err = err
		return x
	}
	defer res.Body.Close()
	x.body, x.err = io.ReadAll(io.LimitReader(res.Body, maxBody))
	x.took = time.Since(start)
	x.status, x.header = res.StatusCode, res.Header
	return x
}

// defaultClient does not follow redirects: a check judges the answer of
// the URL it asked for, not of wherever it was sent.
var defaultClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func client(t *check.Target) *http.Client {
	if t.Client != nil {
		return t.Client
	}
	return defaultClient
}

// bearer returns the Authorization header for token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// call is how evidence names the request: the method, the path and the
// headers sent, tokens and cookie values redacted.
func (x exchange) call() string {
	var b strings.Builder
	b.WriteString(x.method + " " + x.path)
	for _, k := range slices.Sorted(maps.Keys(x.reqHeader)) {
		for _, v := range x.reqHeader[k] {
			b.WriteString("\n" + k + ": " + redactHeader(k, v))
		}
	}
	return b.String()
}

// answer is the status line, the named headers (those present) and a
// body excerpt, redacted; or why there was no answer.
func (x exchange) answer(names ...string) string {
	if x.status == 0 {
		return "no answer: " + errString(x.err)
	}
	var b strings.Builder
	b.WriteString(statusLine(x.status))
	for _, n := range names {
		for _, v := range x.header.Values(n) {
			b.WriteString("\n" + http.CanonicalHeaderKey(n) + ": " + redactHeader(n, v))
		}
	}
	if ex := x.excerpt(); ex != "" {
		b.WriteString("\n\n" + ex)
	}
	return b.String()
}

// excerpt is the start of the body, redacted, at most maxExcerpt bytes.
func (x exchange) excerpt() string {
	if len(x.body) == 0 {
		return ""
	}
	if ce := x.header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return "(" + strconv.Itoa(len(x.body)) + " bytes, Content-Encoding: " + ce + ")"
	}
	return clip(redact(string(x.body)), maxExcerpt)
}

// evidence is the exchange as check evidence.
func (x exchange) evidence(expected, observed string, headers ...string) check.Evidence {
	return check.Evidence{Request: x.call(), Response: x.answer(headers...), Expected: expected, Observed: observed}
}

func statusLine(status int) string {
	s := strconv.Itoa(status)
	if text := http.StatusText(status); text != "" {
		s += " " + text
	}
	return s
}

var (
	jwtPattern    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	secretPattern = regexp.MustCompile(`("(?i:token|password|accessToken|refreshToken)"\s*:\s*")[^"]*(")`)
	cookieValue   = regexp.MustCompile(`^([^=;]+=)[^;]*`)
)

// redact removes tokens and passwords from quoted text: evidence ends up
// in reports that more people read than may hold a session.
func redact(s string) string {
	s = secretPattern.ReplaceAllString(s, "${1}<redacted>${2}")
	return jwtPattern.ReplaceAllString(s, "<redacted jwt>")
}

func redactHeader(name, v string) string {
	switch strings.ToLower(name) {
	case "authorization":
		if scheme, _, ok := strings.Cut(v, " "); ok {
			return scheme + " <redacted>"
		}
		return "<redacted>"
	case "set-cookie", "cookie":
		if strings.Contains(v, "=;") || strings.HasSuffix(v, "=") {
			return v // an emptied cookie has nothing to hide
		}
		return cookieValue.ReplaceAllString(v, "${1}<redacted>")
	}
	return redact(v)
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
