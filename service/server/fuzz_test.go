package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzAPI sends arbitrary bodies, ids and query strings to every route
// that reads client input, against real stores, and fails on any 5xx or
// on an error answer that is not {"message": ...}.
func FuzzAPI(f *testing.F) {
	in := newEnv(f).start(f, "RATE_LIMIT_AUTH=1000000/1m", "RATE_LIMIT_API=1000000/1m", "BODY_LIMIT=4kb")
	c := in.client(f)
	c.register("Fuzz")
	task := c.createTask(map[string]any{"title": "seed"})
	token, taskID := c.token, task["_id"].(string)
	app := in.App()

	seeds := []struct {
		route   uint8
		id      string
		query   string
		body    string
		ctype   uint8
		authed  bool
		comment string
	}{
		{0, "", "search=milk&status=pending&page=2&limit=5", "", 0, true, "list"},
		{0, "", "status[$ne]=x", "", 0, true, "operator in query"},
		{1, "", "", `{"title":"t","description":"d","status":"completed"}`, 0, true, "create"},
		{1, "", "", `{"title":{"$gt":""}}`, 0, true, "operator in body"},
		{2, taskID, "", "", 0, true, "get"},
		{3, taskID, "", `{"status":"in-progress","user":"x"}`, 0, true, "update"},
		{4, "not-an-id", "", "", 0, true, "delete"},
		{5, "", "", `{"name":"n","email":"e@x.io","password":"secret1"}`, 0, false, "register"},
		{6, "", "", `{"email":{"$gt":""},"password":{"$gt":""}}`, 0, false, "login injection"},
		{1, "", "", `[[[[[[[[[[]]]]]]]]]]`, 1, true, "nested, wrong type"},
		{1, "", "", "\xff\xfe", 2, true, "bad utf-8"},
		{0, "", "search=%ff%fe", "", 0, true, "bad utf-8 in the query: was a 500"},
		{0, "", "search=\xff\xfe&status=pending", "", 0, true, "raw bad utf-8 in the query"},
		{0, "", "%C0%AF=1", "", 0, true, "bad utf-8 in a key"},
		{2, "\xff\xfe", "", "", 0, true, "bad utf-8 in the id"},
		{7, "", "_=%ed%a0%80", "", 0, true, "bad utf-8 in an ignored parameter"},
	}
	for _, s := range seeds {
		f.Add(s.route, s.id, s.query, []byte(s.body), s.ctype, s.authed)
	}
	routes := []struct{ method, path string }{
		{"GET", "/api/tasks"}, {"POST", "/api/tasks"}, {"GET", "/api/tasks/"}, {"PUT", "/api/tasks/"},
		{"DELETE", "/api/tasks/"}, {"POST", "/api/auth/register"}, {"POST", "/api/auth/login"}, {"GET", "/api/auth/profile"},
	}
	ctypes := []string{"application/json", "application/json; charset=utf-8", "text/plain", "application/vnd.api+json", ""}

	f.Fuzz(func(t *testing.T, route uint8, id, query string, body []byte, ctype uint8, authed bool) {
		r := routes[int(route)%len(routes)]
		target := r.path
		if target[len(target)-1] == '/' {
			target += url.PathEscape(id)
		}
		if query != "" {
			target += "?" + requestTargetSafe(query)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, r.method, "http://api"+target, bytes.NewReader(body))
		if err != nil {
			t.Skip("not a valid request target") // net/http refuses it before our server could see it
		}
		if ct := ctypes[int(ctype)%len(ctypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if authed {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := app.Test(req, fiberTestConfig)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, target, err)
		}
		defer res.Body.Close()
		var answer map[string]any
		decodeErr := json.NewDecoder(res.Body).Decode(&answer)
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s body %q: status %d %v", r.method, target, body, res.StatusCode, answer)
		}
		if res.StatusCode >= 400 {
			if msg, _ := answer["message"].(string); decodeErr != nil || msg == "" {
				t.Fatalf("%s %s: %d answer without a message (%v)", r.method, target, res.StatusCode, decodeErr)
			}
		}
		// Whatever the route, a request line that is not UTF-8 once
		// decoded is refused before any handler.
		// (The id is sent percent-escaped, so only its raw bytes count.)
		hasID := strings.HasSuffix(r.path, "/")
		if badUTF8(query) || hasID && !utf8.ValidString(id) {
			if msg, _ := answer["message"].(string); res.StatusCode != 400 || !strings.Contains(msg, "UTF-8") {
				t.Fatalf("%s %s: %d %v; want 400 naming UTF-8", r.method, target, res.StatusCode, answer)
			}
		}
	})
}

// badUTF8 reports whether s, raw or percent-decoded, is not valid UTF-8.
func badUTF8(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return !utf8.Valid(b)
}

// requestTargetSafe percent-encodes the bytes no HTTP client puts on a
// request line (spaces, controls, non-ASCII) and keeps everything else,
// brackets, dollars and stray percents included, as an attacker sends it.
func requestTargetSafe(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
