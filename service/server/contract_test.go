package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The rows of docs/API.md, driven over HTTP against real stores.

func TestAuthContract(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	_, email := c.register("Ada")

	tests := []struct {
		name    string
		path    string
		body    any
		status  int
		message string
	}{
		{"register missing fields", "/api/auth/register", map[string]string{"email": "x@example.com"}, 400, "Please provide name, email, and password"},
		{"register blank name", "/api/auth/register", map[string]string{"name": "  ", "email": "x@example.com", "password": "secret1"}, 400, "Please provide name, email, and password"},
		{"register duplicate", "/api/auth/register", map[string]string{"name": "B", "email": email, "password": "secret1"}, 400, "User already exists with this email"},
		{"register duplicate other case", "/api/auth/register", map[string]string{"name": "B", "email": "  " + strings.ToUpper(email) + " ", "password": "secret1"}, 400, "User already exists with this email"},
		{"register invalid email", "/api/auth/register", map[string]string{"name": "B", "email": "not-an-email", "password": "secret1"}, 400, "Please provide a valid email"},
		{"register short password", "/api/auth/register", map[string]string{"name": "B", "email": "b@example.com", "password": "12345"}, 400, "Password must be at least 6 characters"},
		{"register long password", "/api/auth/register", map[string]string{"name": "B", "email": "b@example.com", "password": strings.Repeat("p", 73)}, 400, "Password must be at most 72 bytes"},
		{"register long name", "/api/auth/register", map[string]string{"name": strings.Repeat("n", 101), "email": "b@example.com", "password": "secret1"}, 400, "Name must be at most 100 characters"},
		{"login missing password", "/api/auth/login", map[string]string{"email": email}, 400, "Please provide email and password"},
		{"login wrong password", "/api/auth/login", map[string]string{"email": email, "password": "wrong-password"}, 401, "Invalid email or password"},
		{"login unknown email", "/api/auth/login", map[string]string{"email": "nobody@example.com", "password": "secret123"}, 401, "Invalid email or password"},
		{"login ok, email normalised", "/api/auth/login", map[string]string{"email": " " + strings.ToUpper(email), "password": "secret123"}, 200, "Login successful"},
	}
	anon := in.client(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anon.tb = t
			anon.do("POST", tt.path, tt.body).expect(t, tt.status, tt.message)
		})
	}
}

func TestRegisterAndLoginAnswers(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	email := "  Grace@Example.COM "
	r := c.do("POST", "/api/auth/register", map[string]string{"name": "  Grace Hopper ", "email": email, "password": "secret123"}).
		expect(t, 201, "User registered successfully")
	u := r.obj("user")
	if u["name"] != "Grace Hopper" || u["email"] != "grace@example.com" || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(u["id"].(string)) {
		t.Errorf("user = %v; want trimmed name, normalised email, ObjectId", u)
	}
	if len(u) != 3 {
		t.Errorf("user has %d fields (%v); want exactly id, name, email", len(u), u)
	}
	assertTokenCookie(t, r, false)

	r = c.do("POST", "/api/auth/login", map[string]string{"email": "grace@example.com", "password": "secret123"}).expect(t, 200, "Login successful")
	if r.str("token") == "" || r.obj("user")["email"] != "grace@example.com" {
		t.Errorf("login answer %s lacks token or user", r.raw)
	}
	assertTokenCookie(t, r, false)

	c.token = r.str("token")
	p := c.do("GET", "/api/auth/profile", nil).expect(t, 200, "").obj("user")
	if p["email"] != "grace@example.com" || p["name"] != "Grace Hopper" || !isJSTime(p["createdAt"]) {
		t.Errorf("profile = %v", p)
	}
	for _, leak := range []string{"password", "hash", "$2a$", "$2b$"} {
		if strings.Contains(string(r.raw), leak) {
			t.Errorf("login answer contains %q: %s", leak, r.raw)
		}
	}

	out := c.do("POST", "/api/auth/logout", nil).expect(t, 200, "Logged out")
	if sc := out.header.Get("Set-Cookie"); !strings.Contains(sc, "token=;") || !strings.Contains(strings.ToLower(sc), "max-age=0") && !strings.Contains(sc, "expires=Thu, 01 Jan 1970") {
		t.Errorf("logout Set-Cookie = %q; want the token cookie cleared", sc)
	}
}

func assertTokenCookie(t *testing.T, r response, secure bool) {
	t.Helper()
	sc := r.header.Get("Set-Cookie")
	for _, want := range []string{"token=" + r.str("token"), "httponly", "samesite=strict", "path=/", "max-age="} {
		if !strings.Contains(strings.ToLower(sc), strings.ToLower(want)) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	if got := strings.Contains(strings.ToLower(sc), "; secure"); got != secure {
		t.Errorf("Set-Cookie %q: Secure = %v; want %v", sc, got, secure)
	}
}

var jsTimePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func isJSTime(v any) bool {
	s, ok := v.(string)
	return ok && jsTimePattern.MatchString(s)
}

func TestCookieAuthAndProductionCookie(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, "APP_ENV=production", "BCRYPT_COST=10")
	c := in.client(t)
	r := c.do("POST", "/api/auth/register", map[string]string{"name": "P", "email": "p@example.com", "password": "secret123"}).expect(t, 201, "")
	assertTokenCookie(t, r, true)

	// The cookie alone authenticates, as a browser sends it.
	anon := in.client(t)
	anon.do("GET", "/api/auth/profile", nil, "Cookie", "token="+r.str("token")).expect(t, 200, "")
}

func TestProfileErrors(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	c.do("GET", "/api/auth/profile", nil).expect(t, 401, "Not authorized, no token provided")
	c.do("GET", "/api/auth/profile", nil, "Authorization", "Basic abc").expect(t, 401, "Not authorized, no token provided")
	c.do("GET", "/api/auth/profile", nil, "Authorization", "Bearer not.a.jwt").expect(t, 401, "Not authorized, invalid token")
}

func TestTaskContract(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	uid, _ := c.register("Tess")

	created := c.createTask(map[string]any{"title": "  Write tests ", "description": "all rows"})
	if created["title"] != "Write tests" || created["status"] != "pending" || created["user"] != uid ||
		!isJSTime(created["createdAt"]) || !isJSTime(created["updatedAt"]) || created["description"] != "all rows" {
		t.Errorf("created task = %v", created)
	}
	id := created["_id"].(string)

	c.do("POST", "/api/tasks", map[string]any{"description": "no title"}).expect(t, 400, "Title is required")
	c.do("POST", "/api/tasks", map[string]any{"title": "   "}).expect(t, 400, "Title is required")
	c.do("POST", "/api/tasks", map[string]any{"title": "x", "status": "done"}).expect(t, 400, "Invalid status. Must be: pending, in-progress, or completed")
	c.do("POST", "/api/tasks", map[string]any{"title": strings.Repeat("t", 201)}).expect(t, 400, "Title must be at most 200 characters")
	c.do("POST", "/api/tasks", map[string]any{"title": "x", "description": strings.Repeat("d", 2001)}).expect(t, 400, "Description must be at most 2000 characters")

	got := c.do("GET", "/api/tasks/"+id, nil).expect(t, 200, "").obj("task")
	if got["_id"] != id || got["title"] != "Write tests" {
		t.Errorf("GET task = %v", got)
	}
	c.do("GET", "/api/tasks/0123456789abcdef01234567", nil).expect(t, 404, "Task not found")
	c.do("GET", "/api/tasks/not-an-object-id", nil).expect(t, 404, "Task not found")

	time.Sleep(2 * time.Millisecond) // updatedAt has millisecond resolution
	up := c.do("PUT", "/api/tasks/"+id, map[string]any{"status": "in-progress"}).expect(t, 200, "Task updated successfully").obj("task")
	if up["status"] != "in-progress" || up["title"] != "Write tests" || up["createdAt"] != created["createdAt"] || up["updatedAt"] == created["updatedAt"] {
		t.Errorf("updated task = %v (created %v)", up, created)
	}
	c.do("PUT", "/api/tasks/"+id, map[string]any{"status": "done"}).expect(t, 400, "Invalid status. Must be: pending, in-progress, or completed")
	c.do("PUT", "/api/tasks/"+id, map[string]any{"title": ""}).expect(t, 400, "Title is required")
	c.do("PUT", "/api/tasks/0123456789abcdef01234567", map[string]any{"title": "x"}).expect(t, 404, "Task not found")
	c.do("PUT", "/api/tasks/zzz", map[string]any{"title": "x"}).expect(t, 404, "Task not found")

	c.do("DELETE", "/api/tasks/"+id, nil).expect(t, 200, "Task deleted successfully")
	c.do("DELETE", "/api/tasks/"+id, nil).expect(t, 404, "Task not found")
	c.do("GET", "/api/tasks/"+id, nil).expect(t, 404, "Task not found")

	anon := in.client(t)
	for _, rt := range [][2]string{{"GET", "/api/tasks"}, {"POST", "/api/tasks"}, {"GET", "/api/tasks/" + id}, {"PUT", "/api/tasks/" + id}, {"DELETE", "/api/tasks/" + id}} {
		anon.do(rt[0], rt[1], nil).expect(t, 401, "Not authorized, no token provided")
	}
}

func TestListSearchFilterAndPagination(t *testing.T) {
	in := newEnv(t).start(t, "MAX_PAGE_SIZE=20")
	c := in.client(t)
	c.register("Lister")
	titles := []string{"Buy milk", "buy BREAD", "Call mom", "a.b (c)", "x+y*", "Pay rent"}
	statuses := []string{"pending", "completed", "in-progress", "pending", "completed", "pending"}
	for i, title := range titles {
		c.createTask(map[string]any{"title": title, "status": statuses[i]})
		time.Sleep(2 * time.Millisecond) // distinct createdAt, so "newest first" is testable
	}

	all := c.do("GET", "/api/tasks", nil).expect(t, 200, "")
	if _, paged := all.body["pagination"]; paged || all.body["count"] != float64(6) {
		t.Fatalf("unpaged list = %s; want count 6 and no pagination", all.raw)
	}
	if first := all.body["tasks"].([]any)[0].(map[string]any)["title"]; first != "Pay rent" {
		t.Errorf("first task = %v; want the newest, Pay rent", first)
	}

	tests := []struct {
		query string
		want  []string
	}{
		{"?search=buy", []string{"buy BREAD", "Buy milk"}},
		{"?search=MILK", []string{"Buy milk"}},
		{"?search=a.b%20(c)", []string{"a.b (c)"}},
		{"?search=.*", nil}, // a regular expression is plain text here
		{"?search=x%2By*", []string{"x+y*"}},
		{"?search=%5E", nil},
		{"?status=pending", []string{"Pay rent", "a.b (c)", "Buy milk"}},
		{"?status=completed&search=buy", []string{"buy BREAD"}},
		{"?status=", titlesNewestFirst(titles)},
		{"?unknown=1&_=123", titlesNewestFirst(titles)},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			c.tb = t
			r := c.do("GET", "/api/tasks"+tt.query, nil).expect(t, 200, "")
			if got := taskTitles(r); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("titles = %q; want %q", got, tt.want)
			}
		})
	}
	c.tb = t

	p := c.do("GET", "/api/tasks?page=2&limit=4", nil).expect(t, 200, "")
	if pg := p.obj("pagination"); pg["page"] != float64(2) || pg["limit"] != float64(4) || pg["total"] != float64(6) || pg["pages"] != float64(2) || p.body["count"] != float64(2) {
		t.Errorf("page 2 of 4 = %s", p.raw)
	}
	if pg := c.do("GET", "/api/tasks?page=1", nil).obj("pagination"); pg["limit"] != float64(10) {
		t.Errorf("default limit = %v; want 10", pg["limit"])
	}
	if pg := c.do("GET", "/api/tasks?limit=1000", nil).obj("pagination"); pg["limit"] != float64(20) {
		t.Errorf("limit=1000 gave %v; want the cap 20", pg["limit"])
	}
	for i := 0; i < 20; i++ {
		c.createTask(map[string]any{"title": "bulk"})
	}
	if n := c.do("GET", "/api/tasks", nil).body["count"]; n != float64(20) {
		t.Errorf("unpaged count with 26 tasks = %v; want the cap 20", n)
	}

	for _, q := range []string{"?page=0", "?page=-1", "?page=abc", "?limit=0", "?limit=1.5", "?status=done", "?status%5B%24ne%5D=x", "?search[$regex]=.*", "?status=pending&status=completed", "?search=" + strings.Repeat("s", 201), "?search=%zz"} {
		if r := c.do("GET", "/api/tasks"+q, nil); r.status != 400 || r.str("message") == "" {
			t.Errorf("GET /api/tasks%s = %d %s; want 400 with a message", q, r.status, r.raw)
		}
	}
}

func titlesNewestFirst(titles []string) []string {
	out := make([]string, len(titles))
	for i, s := range titles {
		out[len(titles)-1-i] = s
	}
	return out
}

func taskTitles(r response) []string {
	var out []string
	for _, v := range r.body["tasks"].([]any) {
		out = append(out, v.(map[string]any)["title"].(string))
	}
	return out
}

func TestHealthEndpoints(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	r := c.do("GET", "/api/health", nil).expect(t, 200, "Server is running")
	if r.str("status") != "OK" {
		t.Errorf("/api/health = %s", r.raw)
	}
	c.do("GET", "/healthz", nil).expect(t, 200, "")
	ready := c.do("GET", "/readyz", nil).expect(t, 200, "")
	if ct := ready.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/health+json") {
		t.Errorf("/readyz Content-Type = %q", ct)
	}
	checks := ready.obj("checks")
	for _, dep := range []string{"mongodb:responseTime", "redis:responseTime"} {
		entry, ok := checks[dep].([]any)
		if !ok || entry[0].(map[string]any)["status"] != "pass" {
			t.Errorf("/readyz %s = %v; want pass", dep, checks[dep])
		}
	}
	c.do("GET", "/nope", nil).expect(t, 404, "Route not found")
	c.do("PATCH", "/api/health", nil).expect(t, 405, "Method not allowed")
}

func TestHeadersCORSCompression(t *testing.T) {
	in := newEnv(t).start(t, "FRONTEND_URL=http://localhost:3000,https://app.example.com")
	c := in.client(t)
	c.register("Hedy")

	r := c.do("GET", "/api/tasks", nil)
	want := map[string]string{
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Referrer-Policy":           "no-referrer",
		"Strict-Transport-Security": "", // plain HTTP: see TestHSTSOnlyOverHTTPS
		"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
		"Cache-Control":             "no-store",
		"X-Powered-By":              "",
		"Server":                    "",
	}
	for h, v := range want {
		if got := r.header.Get(h); got != v {
			t.Errorf("%s = %q; want %q", h, got, v)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(r.header.Get("X-Request-ID")) {
		t.Errorf("X-Request-ID = %q", r.header.Get("X-Request-ID"))
	}
	if got := c.do("GET", "/api/health", nil, "X-Request-ID", "trace-42").header.Get("X-Request-ID"); got != "trace-42" {
		t.Errorf("a plain incoming request id should be kept; got %q", got)
	}
	if got := c.do("GET", "/api/health", nil, "X-Request-ID", "bad id; drop table").header.Get("X-Request-ID"); got == "bad id; drop table" {
		t.Errorf("an unsafe request id was echoed")
	}

	for _, tt := range []struct {
		origin  string
		allowed bool
	}{{"http://localhost:3000", true}, {"https://app.example.com", true}, {"https://evil.example.com", false}, {"null", false}} {
		pre := c.do("OPTIONS", "/api/tasks", nil, "Origin", tt.origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
		got := pre.header.Get("Access-Control-Allow-Origin")
		if tt.allowed && (got != tt.origin || pre.header.Get("Access-Control-Allow-Credentials") != "true") {
			t.Errorf("preflight from %s: allow-origin %q, credentials %q", tt.origin, got, pre.header.Get("Access-Control-Allow-Credentials"))
		}
		if !tt.allowed && got != "" {
			t.Errorf("preflight from %s reflected as %q", tt.origin, got)
		}
		simple := c.do("GET", "/api/health", nil, "Origin", tt.origin)
		if !tt.allowed && simple.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET from %s got Access-Control-Allow-Origin %q", tt.origin, simple.header.Get("Access-Control-Allow-Origin"))
		}
	}

	for i := 0; i < 30; i++ {
		c.createTask(map[string]any{"title": "compressible task title", "description": strings.Repeat("lorem ipsum ", 20)})
	}
	req, _ := http.NewRequest("GET", in.base+"/api/tasks", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Content-Encoding = %q; want gzip for a client that accepts it", res.Header.Get("Content-Encoding"))
	}
}
