package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds of what a run reads and quotes.
const (
	maxBody   = 1 << 20 // bytes read of any answer
	maxQuoted = 200     // bytes of a body quoted in a Detail
)

// request is one call to the target.
type request struct {
	method string
	path   string // sent, relative to the target, query included
	route  string // shown in details instead of path ("/api/tasks/{id}"); default path
	as     string // shown after the route ("as B", "without token")
	token  string // sent as "Authorization: Bearer <token>" when set
	body   any    // sent as JSON when not nil
}

// call is how details name the request: "GET /api/tasks/{id} as B".
func (q request) call() string {
	route := q.route
	if route == "" {
		route = q.path
	}
	s := q.method + " " + route
	if q.as != "" {
		s += " " + q.as
	}
	return s
}

// reply is the target's answer to one request.
type reply struct {
	call   string
	status int
	header http.Header
	cookie []*http.Cookie
	body   []byte
}

// rateLimitError is a 429: the run stops there, skipping the rest.
type rateLimitError struct {
	call  string
	body  string
	retry string
}

func (e *rateLimitError) Error() string {
	return fmt.Sprintf("%s: got 429 %s: the target's rate limit stopped the smoke, retry after %s s or raise RATE_LIMIT_AUTH / RATE_LIMIT_API",
		e.call, e.body, e.retry)
}

// do sends q with ctx and reads the answer. A transport failure or a 429
// is an error naming the call; any other status is the caller's to judge.
func (r *runner) do(ctx context.Context, q request) (*reply, error) {
	var body io.Reader
	if q.body != nil {
		b, err := json.Marshal(q.body)
		if err != nil {
			return nil, fmt.Errorf("%s: encode body: %w", q.call(), err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, q.method, r.base+q.path, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q.call(), err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "taskready-contract-smoke")
	if q.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if q.token != "" {
		req.Header.Set("Authorization", "Bearer "+q.token)
	}
	res, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the target's, already in the report
		}
		return nil, fmt.Errorf("%s: request failed: %v", q.call(), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s: got %d, then reading the body failed: %v", q.call(), res.StatusCode, err)
	}
	p := &reply{call: q.call(), status: res.StatusCode, header: res.Header, cookie: res.Cookies(), body: b}
	if p.status == http.StatusTooManyRequests {
		retry := res.Header.Get("Retry-After")
		if retry == "" {
			retry = res.Header.Get("RateLimit-Reset")
		}
		if retry == "" {
			retry = "?"
		}
		return nil, &rateLimitError{call: p.call, body: p.quote(), retry: retry}
	}
	return p, nil
}

// quote returns the body as details show it: on one line, secrets
// redacted, at most maxQuoted bytes.
func (p *reply) quote() string {
	if len(bytes.TrimSpace(p.body)) == 0 {
		return "(empty body)"
	}
	return clip(redact(oneLine(string(p.body))), maxQuoted)
}

// mismatch is the error for an answer that is not what the contract says:
// "GET /api/tasks/{id}: got 200 {...}; want 404 \"Task not found\"".
func (p *reply) mismatch(format string, args ...any) error {
	return fmt.Errorf("%s: got %d %s; want %s", p.call, p.status, p.quote(), fmt.Sprintf(format, args...))
}

// expect checks the status and, when message is not empty, the body's
// message; it returns the mismatch or nil.
func (p *reply) expect(status int, message string) error {
	want := strconv.Itoa(status)
	if message != "" {
		want += " " + strconv.Quote(message)
	}
	if p.status != status {
		return p.mismatch("%s", want)
	}
	if message != "" {
		var m struct {
			Message *string `json:"message"`
		}
		if json.Unmarshal(p.body, &m) != nil || m.Message == nil || *m.Message != message {
			return p.mismatch("%s", want)
		}
	}
	return nil
}

// decode checks the status, then decodes the JSON body into v.
func (p *reply) decode(status int, message string, v any) error {
	if err := p.expect(status, message); err != nil {
		return err
	}
	if err := json.Unmarshal(p.body, v); err != nil {
		return p.mismatch("a JSON body (%v)", err)
	}
	return nil
}

var (
	secretField = regexp.MustCompile(`(?i)"([a-z_]*(?:token|password|secret)[a-z_]*)"\s*:\s*"(?:[^"\\]|\\.)*"`)
	jwtLike     = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)
	bearerValue = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
)

// redact hides tokens and passwords, so that a report is safe to paste.
func redact(s string) string {
	s = secretField.ReplaceAllString(s, `"$1":"[redacted]"`)
	s = jwtLike.ReplaceAllString(s, "[redacted]")
	return bearerValue.ReplaceAllString(s, "Bearer [redacted]")
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// oneLine folds line breaks and tabs into spaces, so a Detail is one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}
