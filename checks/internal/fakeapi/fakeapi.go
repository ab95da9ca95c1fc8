// Package fakeapi is the task API the check packages' tests run their
// checks against when the real one cannot show what they need: a target
// with one deliberate flaw. It serves just enough of the contract
// (register, login, profile, the task routes and /api/health, with
// HS256 tokens, a 100 kB body limit and the contract's validation) over a
// real loopback socket for every access, input and JWT check to pass, and
// each field of Flaws switches on one mistake a check must catch.
//
// It is internal to checks/: only the check packages' tests use it.
package fakeapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// Flaws switch on one deliberate mistake each; the zero value is a
// target that passes every check.
type Flaws struct {
	// Authentication (checks/jwt).
	NoAuth     bool // a request without a usable token is served as the first user
	AlgNone    bool // alg "none" in any case is accepted unsigned
	NoVerify   bool // the payload is trusted without checking the signature
	OtherAlgs  bool // HS384/HS512 tokens are trusted without verification
	WeakSecret bool // tokens are signed with DevelopmentSecret
	NoExp      bool // tokens carry no exp (and tokens without exp are accepted)
	LongTTL    bool // tokens live a year
	IgnoreExp  bool // exp is never checked

	// Authorization (checks/access).
	IDORRead, IDORUpdate, IDORDelete bool // the method ignores the owner
	SilentUpdate, SilentDelete       bool // another user's attempt answers 404 but is applied
	ListAll                          bool // the list ignores the owner
	SharedCache                      bool // lists are cached by query only, refreshed with the writer's list
	OwnerFilter                      bool // ?user= picks whose tasks are listed
	MassRegister                     bool // register stores every field of the body
	MassCreate, MassUpdate           bool // the task takes its owner from the body
	LeakHash                         bool // user answers carry the password hash
	PopulateOwner                    bool // task answers carry the owner, hash included

	// Input handling (checks/input).
	LoginOperators bool          // login matches operator objects as a query would
	QueryOperators bool          // key[$op]=v in the list query is applied
	SearchRegex    bool          // search is compiled as a regular expression
	CoerceTypes    bool          // non-string fields are turned into strings
	TypeCrash      bool          // a non-string field is a 500
	InvalidID500   bool          // an id that is not 24 hex digits is a 500 with the cast error
	NoBodyLimit    bool          // any body size is read
	ChunkedNoLimit bool          // the limit checks Content-Length only
	Deep500        bool          // a deeply nested body is a 500
	DeepSlow       time.Duration // a deeply nested body is refused after this long
	LeakStack      bool          // error bodies carry a stack trace
	CrashAfterDeep bool          // after a deeply nested body the health check answers 503

	LimitEverything bool // every request gets 429
}

// DevelopmentSecret is the repository's development JWT secret
// (config.DevelopmentSecret), spelled out so that the fake does not
// depend on the service; WeakSecret signs with it.
const DevelopmentSecret = "development-only-secret-do-not-use-in-production"

// bodyLimit is the contract's body limit (BODY_LIMIT, 100kb).
const bodyLimit = 100 << 10

// bcryptLike is what a stored hash looks like (of nothing in particular).
const bcryptLike = "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"

type user struct {
	fields   map[string]any // as stored: id, name, email, createdAt, and with MassRegister anything
	password string
}

func (u *user) id() string { s, _ := u.fields["id"].(string); return s }

// API is a fake task API serving on a loopback listener.
type API struct {
	// URL is the base URL it serves on.
	URL string

	f      Flaws
	secret []byte

	mu       sync.Mutex
	users    map[string]*user // by id
	order    []string         // user ids, oldest first
	tasks    map[string]map[string]any
	taskIDs  []string // oldest first
	cache    map[string][]byte
	crashed  bool
	requests map[string]int // "POST /api/auth/register" -> count
}

// Serve starts a fake with f and stops it when the test ends.
func Serve(t testing.TB, f Flaws) *API {
	t.Helper()
	a := &API{f: f, secret: []byte(randomHex(32)), users: map[string]*user{}, tasks: map[string]map[string]any{},
		cache: map[string][]byte{}, requests: map[string]int{}}
	if f.WeakSecret {
		a.secret = []byte(DevelopmentSecret)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

// Secret is the key the fake signs its tokens with, as a white-box run
// knows it.
func (a *API) Secret() string { return string(a.secret) }

// Count is how many requests "METHOD /path" the fake answered.
func (a *API) Count(call string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[call]
}

// Total is how many requests the fake answered.
func (a *API) Total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.requests {
		n += c
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// refuse answers an error, with a stack trace when LeakStack says so.
func (a *API) refuse(w http.ResponseWriter, status int, msg string) {
	body := map[string]string{"message": msg}
	if a.f.LeakStack {
		body["stack"] = "goroutine 1 [running]:\nmain.handler(...)\n\t/app/server/handler.go:42 +0x1d"
	}
	answer(w, status, body)
}

// ServeHTTP answers one request, one at a time.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests[r.Method+" "+r.URL.Path]++
	if a.f.LimitEverything {
		w.Header().Set("Retry-After", "60")
		a.refuse(w, http.StatusTooManyRequests, "Too many requests")
		return
	}
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
		me := a.authenticate(r)
		if me == nil {
			a.refuse(w, http.StatusUnauthorized, "Not authorized, invalid token")
			return
		}
		a.serveAuthed(w, r, me)
	}
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
func (a *API) readJSON(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	limited := !a.f.NoBodyLimit
	if limited && r.ContentLength > bodyLimit {
		a.refuse(w, http.StatusRequestEntityTooLarge, "Request body too large")
		return nil, false
	}
	var body io.Reader = r.Body
	if limited && !a.f.ChunkedNoLimit {
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
		case a.f.CrashAfterDeep:
			a.crashed = true
		case a.f.Deep500:
			a.refuse(w, http.StatusInternalServerError, "Internal Server Error")
			return nil, false
		case a.f.DeepSlow > 0:
			time.Sleep(a.f.DeepSlow) // the flaw: deterministic, bounded
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

// str reads field k as a string, applying the type flaws: it says
// whether k was present, and ok false means it answered already.
func (a *API) str(w http.ResponseWriter, body map[string]any, k string) (s string, present, ok bool) {
	v, present := body[k]
	if !present || v == nil {
		return "", false, true
	}
	if s, isStr := v.(string); isStr {
		return s, true, true
	}
	switch {
	case a.f.CoerceTypes:
		return fmt.Sprint(v), true, true
	case a.f.TypeCrash:
		a.refuse(w, http.StatusInternalServerError, "Internal Server Error")
	default:
		a.refuse(w, http.StatusBadRequest, k+" must be a string")
	}
	return "", false, false
}

// issue signs a token for user id, as the contract does unless a flaw
// changes its lifetime.
func (a *API) issue(id string) string {
	now := time.Now()
	claims := gojwt.MapClaims{"userId": id, "iat": now.Unix()}
	switch {
	case a.f.NoExp:
	case a.f.LongTTL:
		claims["exp"] = now.Add(365 * 24 * time.Hour).Unix()
	default:
		claims["exp"] = now.Add(30 * 24 * time.Hour).Unix()
	}
	s, err := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claims).SignedString(a.secret)
	if err != nil {
		panic(err) // an HMAC key of any length signs
	}
	return s
}

// verify returns the user id a token names, applying the flaws.
func (a *API) verify(raw string) (string, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", false
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	var claims map[string]any
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(pb, &claims) != nil {
		return "", false
	}
	trusted := false
	switch {
	case strings.EqualFold(hdr.Alg, "none"):
		trusted = a.f.AlgNone
	case a.f.NoVerify:
		trusted = true
	case (hdr.Alg == "HS384" || hdr.Alg == "HS512") && a.f.OtherAlgs:
		trusted = true
	default:
		_, err := gojwt.Parse(raw, func(*gojwt.Token) (any, error) { return a.secret, nil },
			gojwt.WithValidMethods([]string{"HS256"}), gojwt.WithoutClaimsValidation())
		trusted = err == nil
	}
	if !trusted {
		return "", false
	}
	exp, hasExp := claims["exp"].(float64)
	switch {
	case !hasExp && !a.f.NoExp:
		return "", false
	case hasExp && time.Unix(int64(exp), 0).Before(time.Now()) && !a.f.IgnoreExp:
		return "", false
	}
	id, _ := claims["userId"].(string)
	return id, id != ""
}

// authenticate is the user a request's Bearer token names; with NoAuth,
// the first user when it names none.
func (a *API) authenticate(r *http.Request) *user {
	var me *user
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		if id, ok := a.verify(strings.TrimSpace(h[7:])); ok {
			me = a.users[id]
		}
	}
	if me == nil && a.f.NoAuth && len(a.order) > 0 {
		me = a.users[a.order[0]]
	}
	return me
}

// userView is the user as register, login and profile show it.
func (a *API) userView(u *user) map[string]any {
	v := maps.Clone(u.fields)
	if a.f.LeakHash {
		v["password"] = bcryptLike
	}
	return v
}

// taskView is the task as answers show it.
func (a *API) taskView(t map[string]any) map[string]any {
	v := maps.Clone(t)
	if a.f.PopulateOwner {
		if owner, _ := t["user"].(string); a.users[owner] != nil {
			u := a.users[owner]
			v["user"] = map[string]any{"_id": u.id(), "email": u.fields["email"], "password": bcryptLike}
		}
	}
	return v
}

func (a *API) register(w http.ResponseWriter, r *http.Request) {
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
	u := &user{fields: map[string]any{"id": randomHex(12), "name": f[0], "email": f[1], "createdAt": now()}, password: f[2]}
	if a.f.MassRegister {
		for k, v := range body {
			if k != "password" && k != "_id" {
				u.fields[k] = v
			}
		}
		if u.id() == "" {
			u.fields["id"] = randomHex(12)
		}
	}
	a.users[u.id()] = u
	a.order = append(a.order, u.id())
	answer(w, http.StatusCreated, map[string]any{"message": "User registered successfully", "token": a.issue(u.id()), "user": a.userView(u)})
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

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readJSON(w, r)
	if !ok {
		return
	}
	match := func(u *user) bool {
		return operatorMatch(body["email"], fmt.Sprint(u.fields["email"])) && operatorMatch(body["password"], u.password)
	}
	if !a.f.LoginOperators {
		email, _, ok := a.str(w, body, "email")
		if !ok {
			return
		}
		password, _, ok := a.str(w, body, "password")
		if !ok {
			return
		}
		match = func(u *user) bool { return u.fields["email"] == email && u.password == password }
	}
	for _, id := range a.order {
		if u := a.users[id]; match(u) {
			answer(w, http.StatusOK, map[string]any{"message": "Login successful", "token": a.issue(u.id()), "user": a.userView(u)})
			return
		}
	}
	a.refuse(w, http.StatusUnauthorized, "Invalid email or password")
}

func (a *API) serveAuthed(w http.ResponseWriter, r *http.Request, me *user) {
	path := r.URL.Path
	switch {
	case path == "/api/auth/profile" && r.Method == http.MethodGet:
		answer(w, http.StatusOK, map[string]any{"user": a.userView(me)})
	case path == "/api/tasks" && r.Method == http.MethodGet:
		a.list(w, r, me)
	case path == "/api/tasks" && r.Method == http.MethodPost:
		a.create(w, r, me)
	case strings.HasPrefix(path, "/api/tasks/"):
		a.serveTask(w, r, me, strings.TrimPrefix(path, "/api/tasks/"))
	default:
		a.refuse(w, http.StatusNotFound, "Route not found")
	}
}

// setFields copies title, description and status from body into t,
// applying the type flaws; false means it answered already.
func (a *API) setFields(w http.ResponseWriter, body, t map[string]any) bool {
	for _, k := range []string{"title", "description", "status"} {
		s, present, ok := a.str(w, body, k)
		if !ok {
			return false
		}
		if present {
			t[k] = s
		}
	}
	return true
}

func (a *API) create(w http.ResponseWriter, r *http.Request, me *user) {
	body, ok := a.readJSON(w, r)
	if !ok {
		return
	}
	t := map[string]any{"_id": randomHex(12), "user": me.id(), "status": "pending", "description": "", "createdAt": now(), "updatedAt": now()}
	if !a.setFields(w, body, t) {
		return
	}
	if t["title"] == nil {
		a.refuse(w, http.StatusBadRequest, "Title is required")
		return
	}
	if s := t["status"]; s != "pending" && s != "in-progress" && s != "completed" {
		a.refuse(w, http.StatusBadRequest, "Invalid status")
		return
	}
	if o, ok := body["user"].(string); ok && a.f.MassCreate {
		t["user"] = o
	}
	id := t["_id"].(string)
	a.tasks[id] = t
	a.taskIDs = append(a.taskIDs, id)
	if a.f.SharedCache {
		// The shared cache's write path: the writer's list, stored under
		// the plain key, for everyone.
		mineNow := a.listed(func(t map[string]any) bool { return a.f.ListAll || t["user"] == me.id() })
		a.cache[""], _ = json.Marshal(map[string]any{"count": len(mineNow), "tasks": mineNow})
	}
	answer(w, http.StatusCreated, map[string]any{"message": "Task created successfully", "task": a.taskView(t)})
}

var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func (a *API) serveTask(w http.ResponseWriter, r *http.Request, me *user, id string) {
	if r.Method != http.MethodGet && r.Method != http.MethodPut && r.Method != http.MethodDelete {
		a.refuse(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	if !objectID.MatchString(id) {
		if a.f.InvalidID500 {
			a.refuse(w, http.StatusInternalServerError, fmt.Sprintf("CastError: Cast to ObjectId failed for value %q at path \"_id\"", id))
			return
		}
		a.refuse(w, http.StatusNotFound, "Task not found")
		return
	}
	t, found := a.tasks[id]
	mine := found && t["user"] == me.id()
	switch r.Method {
	case http.MethodGet:
		if mine || (found && a.f.IDORRead) {
			answer(w, http.StatusOK, map[string]any{"task": a.taskView(t)})
			return
		}
	case http.MethodPut:
		if mine || (found && (a.f.IDORUpdate || a.f.SilentUpdate)) {
			body, ok := a.readJSON(w, r)
			if !ok || !a.setFields(w, body, t) {
				return
			}
			if o, ok := body["user"].(string); ok && a.f.MassUpdate {
				t["user"] = o
			}
			t["updatedAt"] = now()
			if mine || a.f.IDORUpdate {
				answer(w, http.StatusOK, map[string]any{"message": "Task updated successfully", "task": a.taskView(t)})
				return
			}
		}
	case http.MethodDelete:
		if mine || (found && (a.f.IDORDelete || a.f.SilentDelete)) {
			delete(a.tasks, id)
			if mine || a.f.IDORDelete {
				answer(w, http.StatusOK, map[string]string{"message": "Task deleted successfully"})
				return
			}
		}
	}
	a.refuse(w, http.StatusNotFound, "Task not found")
}

// listed is the tasks match keeps, newest first, as answers show them.
func (a *API) listed(match func(map[string]any) bool) []map[string]any {
	out := []map[string]any{}
	for i := len(a.taskIDs) - 1; i >= 0; i-- {
		if t, ok := a.tasks[a.taskIDs[i]]; ok && match(t) {
			out = append(out, a.taskView(t))
		}
	}
	return out
}

var bracketed = regexp.MustCompile(`^(\w+)\[(\$\w+)\]$`)

func (a *API) list(w http.ResponseWriter, r *http.Request, me *user) {
	if c, ok := a.cache[r.URL.RawQuery]; ok && a.f.SharedCache {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(c)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		a.refuse(w, http.StatusBadRequest, "Malformed query string")
		return
	}
	owner := me.id()
	if a.f.OwnerFilter && q.Get("user") != "" {
		owner = q.Get("user")
	}
	match := func(t map[string]any) bool { return a.f.ListAll || t["user"] == owner }
	for key, vals := range q {
		m := bracketed.FindStringSubmatch(key)
		switch {
		case strings.ContainsAny(key, "[]$") && !(a.f.QueryOperators && m != nil):
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
		if a.f.SearchRegex {
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
	tasks := a.listed(match)
	b, _ := json.Marshal(map[string]any{"count": len(tasks), "tasks": tasks})
	if a.f.SharedCache {
		a.cache[r.URL.RawQuery] = b
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
