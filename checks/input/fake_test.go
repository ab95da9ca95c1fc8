package input_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// flaws switch on one deliberate mistake each in the fake API.
type flaws struct {
	loginOperators  bool          // login matches operator objects as a query would
	queryOperators  bool          // key[$op]=v in the list query is applied
	searchRegex     bool          // search is compiled as a regular expression
	coerceTypes     bool          // non-string fields are turned into strings
	typeCrash       bool          // a non-string field is a 500
	invalidID500    bool          // an id that is not 24 hex digits is a 500 with the cast error
	noBodyLimit     bool          // any body size is read
	chunkedNoLimit  bool          // the limit checks Content-Length only
	deep500         bool          // a deeply nested body is a 500
	deepSlow        time.Duration // a deeply nested body is refused after this long
	leakStack       bool          // error bodies carry a stack trace
	crashAfterDeep  bool          // after a deeply nested body the health check answers 503
	limitEverything bool          // every request gets 429
}

const bodyLimit = 100 << 10

type fakeUser struct{ id, email, password, token string }

// fakeAPI implements just enough of the contract for the input checks.
type fakeAPI struct {
	f       flaws
	mu      sync.Mutex
	users   []*fakeUser
	tasks   map[string]map[string]any
	order   []string
	crashed bool
}

func newFake(f flaws) *fakeAPI { return &fakeAPI{f: f, tasks: map[string]map[string]any{}} }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// refuse answers an error, with a stack trace when the flaw says so.
func (a *fakeAPI) refuse(w http.ResponseWriter, status int, msg string) {
	body := map[string]string{"message": msg}
	if a.f.leakStack {
		body["stack"] = "goroutine 1 [running]:\nmain.handler(...)\n\t/app/server/handler.go:42 +0x1d"
	}
	answer(w, status, body)
}

// depthOf is the deepest nesting of brackets in b (strings are ignored
// well enough for the fake: the checks' bodies hold no brackets in them).
func depthOf(b []byte) int {
	d, deepest := 0, 0
	for _, c := range b {
		switch c {
		case '[', '{':
			d++
			deepest = max(deepest, d)
		case ']', '}':
			d--
		}
	}
	return deepest
}

// readJSON reads and decodes a body as the contract says, applying the
// flaws; ok false means it answered already.
func (a *fakeAPI) readJSON(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	limited := !a.f.noBodyLimit
	if limited && r.ContentLength > bodyLimit {
		a.refuse(w, http.StatusRequestEntityTooLarge, "Request body too large")
		return nil, false
	}
	var body io.Reader = r.Body
	if limited && !a.f.chunkedNoLimit {
		body = http.MaxBytesReader(w, r.Body, bodyLimit)
	}
	raw, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		a.refuse(w, http.StatusRequestEntityTooLarge, "Request body too large")
		return nil, false
	}
	if len(raw) == 0 {
		return map[string]any{}, true
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		a.refuse(w, http.StatusUnsupportedMediaType, "Request body must be JSON")
		return nil, false
	}
	if depthOf(raw) > 1000 {
		switch {
		case a.f.crashAfterDeep:
			a.crashed = true
		case a.f.deep500:
			a.refuse(w, http.StatusInternalServerError, "Internal Server Error")
			return nil, false
		case a.f.deepSlow > 0:
			time.Sleep(a.f.deepSlow) // the flaw: deterministic, bounded
		}
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			a.refuse(w, http.StatusBadRequest, "Request body must be a JSON object")
		} else {
			a.refuse(w, http.StatusBadRequest, "Malformed JSON in request body")
		}
		return nil, false
	}
	return v, true
}

// str reads field k as a string, applying the type flaws.
func (a *fakeAPI) str(w http.ResponseWriter, body map[string]any, k string) (string, bool, bool) {
	v, present := body[k]
	if !present || v == nil {
		return "", false, true
	}
	if s, isStr := v.(string); isStr {
		return s, true, true
	}
	switch {
	case a.f.coerceTypes:
		return fmt.Sprint(v), true, true
	case a.f.typeCrash:
		a.refuse(w, http.StatusInternalServerError, "Internal Server Error")
	default:
		a.refuse(w, http.StatusBadRequest, k+" must be a string")
	}
	return "", false, false
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.f.limitEverything {
		a.refuse(w, http.StatusTooManyRequests, "Too many requests")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.URL.Path == "/api/health":
		if a.crashed {
			a.refuse(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		answer(w, http.StatusOK, map[string]string{"status": "OK", "message": "Server is running"})
	case r.Method == http.MethodPost && r.URL.Path == "/api/auth/register":
		a.register(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/api/auth/login":
		a.login(w, r)
	default:
		var me *fakeUser
		for _, u := range a.users {
			if r.Header.Get("Authorization") == "Bearer "+u.token {
				me = u
			}
		}
		if me == nil {
			a.refuse(w, http.StatusUnauthorized, "Not authorized, invalid token")
			return
		}
		a.tasksRoute(w, r, me)
	}
}

func (a *fakeAPI) register(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readJSON(w, r)
	if !ok {
		return
	}
	var f [3]string
	for i, k := range []string{"name", "email", "password"} {
		s, present, ok := a.str(w, body, k)
		if !ok {
			return
		}
		if !present {
			a.refuse(w, http.StatusBadRequest, "Please provide name, email, and password")
			return
		}
		f[i] = s
	}
	u := &fakeUser{id: randomHex(12), email: f[1], password: f[2], token: "tok-" + randomHex(16)}
	a.users = append(a.users, u)
	answer(w, http.StatusCreated, map[string]any{"message": "User registered successfully", "token": u.token, "user": map[string]string{"id": u.id, "email": u.email}})
}

// operatorMatch is the flawed login's idea of a query: an operator
// object matches anything.
func operatorMatch(v any, want string) bool {
	switch v := v.(type) {
	case string:
		return v == want
	case map[string]any:
		return true
	}
	return false
}

func (a *fakeAPI) login(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readJSON(w, r)
	if !ok {
		return
	}
	if a.f.loginOperators {
		for _, u := range a.users {
			if operatorMatch(body["email"], u.email) && operatorMatch(body["password"], u.password) {
				answer(w, http.StatusOK, map[string]any{"message": "Login successful", "token": u.token})
				return
			}
		}
		a.refuse(w, http.StatusUnauthorized, "Invalid email or password")
		return
	}
	email, _, ok := a.str(w, body, "email")
	if !ok {
		return
	}
	password, _, ok := a.str(w, body, "password")
	if !ok {
		return
	}
	for _, u := range a.users {
		if u.email == email && u.password == password {
			answer(w, http.StatusOK, map[string]any{"message": "Login successful", "token": u.token})
			return
		}
	}
	a.refuse(w, http.StatusUnauthorized, "Invalid email or password")
}

var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func (a *fakeAPI) tasksRoute(w http.ResponseWriter, r *http.Request, me *fakeUser) {
	path := r.URL.Path
	switch {
	case path == "/api/tasks" && r.Method == http.MethodGet:
		a.list(w, r, me)
	case path == "/api/tasks" && r.Method == http.MethodPost:
		body, ok := a.readJSON(w, r)
		if !ok {
			return
		}
		t := map[string]any{"_id": randomHex(12), "user": me.id, "status": "pending", "description": ""}
		for _, k := range []string{"title", "description", "status"} {
			s, present, ok := a.str(w, body, k)
			if !ok {
				return
			}
			if present {
				t[k] = s
			}
		}
		if t["title"] == nil {
			a.refuse(w, http.StatusBadRequest, "Title is required")
			return
		}
		if s := t["status"]; s != "pending" && s != "in-progress" && s != "completed" {
			a.refuse(w, http.StatusBadRequest, "Invalid status")
			return
		}
		a.tasks[t["_id"].(string)] = t
		a.order = append(a.order, t["_id"].(string))
		answer(w, http.StatusCreated, map[string]any{"message": "Task created successfully", "task": t})
	case strings.HasPrefix(path, "/api/tasks/"):
		id := strings.TrimPrefix(path, "/api/tasks/")
		if r.Method != http.MethodGet && r.Method != http.MethodPut && r.Method != http.MethodDelete {
			a.refuse(w, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		if !objectID.MatchString(id) {
			if a.f.invalidID500 {
				a.refuse(w, http.StatusInternalServerError, fmt.Sprintf("CastError: Cast to ObjectId failed for value %q at path \"_id\"", id))
				return
			}
			a.refuse(w, http.StatusNotFound, "Task not found")
			return
		}
		t, found := a.tasks[id]
		if !found || t["user"] != me.id {
			a.refuse(w, http.StatusNotFound, "Task not found")
			return
		}
		switch r.Method {
		case http.MethodGet:
			answer(w, http.StatusOK, map[string]any{"task": t})
		case http.MethodPut:
			body, ok := a.readJSON(w, r)
			if !ok {
				return
			}
			for _, k := range []string{"title", "description", "status"} {
				s, present, ok := a.str(w, body, k)
				if !ok {
					return
				}
				if present {
					t[k] = s
				}
			}
			answer(w, http.StatusOK, map[string]any{"message": "Task updated successfully", "task": t})
		case http.MethodDelete:
			delete(a.tasks, id)
			answer(w, http.StatusOK, map[string]string{"message": "Task deleted successfully"})
		}
	default:
		a.refuse(w, http.StatusNotFound, "Route not found")
	}
}

var bracketed = regexp.MustCompile(`^(\w+)\[(\$\w+)\]$`)

func (a *fakeAPI) list(w http.ResponseWriter, r *http.Request, me *fakeUser) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		a.refuse(w, http.StatusBadRequest, "Malformed query string")
		return
	}
	match := func(t map[string]any) bool { return t["user"] == me.id }
	for key, vals := range q {
		m := bracketed.FindStringSubmatch(key)
		switch {
		case strings.ContainsAny(key, "[]$") && !(a.f.queryOperators && m != nil):
			a.refuse(w, http.StatusBadRequest, "Query parameter is not allowed")
			return
		case m != nil:
			// The flaw: {field: {$op: value}}, and an operator on user
			// replaces the owner filter, as spreading req.query would.
			field, op, val, prev := m[1], m[2], vals[0], match
			test := func(t map[string]any) bool {
				got := fmt.Sprint(t[field])
				switch op {
				case "$ne":
					return got != val
				case "$regex":
					ok, _ := regexp.MatchString(val, got)
					return ok
				}
				return true
			}
			if field == "user" {
				match = test
			} else {
				match = func(t map[string]any) bool { return prev(t) && test(t) }
			}
		}
	}
	if s := q.Get("search"); s != "" {
		prev := match
		if a.f.searchRegex {
			re, err := regexp.Compile("(?i)" + s)
			if err != nil {
				a.refuse(w, http.StatusInternalServerError, "MongoServerError: Regular expression is invalid: "+err.Error())
				return
			}
			match = func(t map[string]any) bool { return prev(t) && re.MatchString(fmt.Sprint(t["title"])) }
		} else {
			match = func(t map[string]any) bool {
				return prev(t) && strings.Contains(strings.ToLower(fmt.Sprint(t["title"])), strings.ToLower(s))
			}
		}
	}
	if s := q.Get("status"); s != "" {
		prev := match
		match = func(t map[string]any) bool { return prev(t) && t["status"] == s }
	}
	out := []map[string]any{}
	for i := len(a.order) - 1; i >= 0; i-- {
		if t, ok := a.tasks[a.order[i]]; ok && match(t) {
			out = append(out, t)
		}
	}
	answer(w, http.StatusOK, map[string]any{"count": len(out), "tasks": out})
}
