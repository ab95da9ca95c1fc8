package jwt_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// flaws switch on one deliberate mistake each in the fake API.
type flaws struct {
	noAuth          bool // a request without a usable token is served as the first user
	algNone         bool // alg "none" in any case is accepted unsigned
	noVerify        bool // the payload is trusted without checking the signature
	otherAlgs       bool // HS384/HS512 tokens are trusted without verification
	weakSecret      bool // tokens are signed with the repository's development secret
	noExp           bool // tokens carry no exp (and tokens without exp are accepted)
	longTTL         bool // tokens live a year
	ignoreExp       bool // exp is never checked
	limitEverything bool // every request gets 429
}

// devSecret is config.DevelopmentSecret, spelled out so the fake does not
// depend on the service.
const devSecret = "development-only-secret-do-not-use-in-production"

// fakeAPI implements just enough of the contract for the JWT checks.
type fakeAPI struct {
	f      flaws
	secret []byte

	mu       sync.Mutex
	users    map[string]map[string]string // id -> name, email
	order    []string
	tasks    map[string]map[string]any // id -> task
	requests map[string]int            // "POST /api/auth/register" -> count
}

func newFake(f flaws) *fakeAPI {
	a := &fakeAPI{f: f, users: map[string]map[string]string{}, tasks: map[string]map[string]any{}, requests: map[string]int{}}
	a.secret = []byte(randomHex(32))
	if f.weakSecret {
		a.secret = []byte(devSecret)
	}
	return a
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *fakeAPI) note(r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests[r.Method+" "+r.URL.Path]++
}

// count is how many requests "METHOD /path" the fake answered.
func (a *fakeAPI) count(call string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[call]
}

func (a *fakeAPI) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, c := range a.requests {
		n += c
	}
	return n
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func msg(s string) map[string]string { return map[string]string{"message": s} }

func (a *fakeAPI) issue(id string) string {
	now := time.Now()
	claims := gojwt.MapClaims{"userId": id, "iat": now.Unix()}
	switch {
	case a.f.noExp:
	case a.f.longTTL:
		claims["exp"] = now.Add(365 * 24 * time.Hour).Unix()
	default:
		claims["exp"] = now.Add(30 * 24 * time.Hour).Unix()
	}
	s, err := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claims).SignedString(a.secret)
	if err != nil {
		panic(err)
	}
	return s
}

// verify returns the user id a token names, applying the flaws.
func (a *fakeAPI) verify(raw string) (string, bool) {
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
		trusted = a.f.algNone
	case a.f.noVerify:
		trusted = true
	case (hdr.Alg == "HS384" || hdr.Alg == "HS512") && a.f.otherAlgs:
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
	case !hasExp && !a.f.noExp:
		return "", false
	case hasExp && time.Unix(int64(exp), 0).Before(time.Now()) && !a.f.ignoreExp:
		return "", false
	}
	id, _ := claims["userId"].(string)
	return id, id != ""
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.note(r)
	if a.f.limitEverything {
		w.Header().Set("Retry-After", "60")
		answer(w, http.StatusTooManyRequests, msg("Too many requests"))
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/api/auth/register" {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		id := randomHex(12)
		a.mu.Lock()
		a.users[id] = map[string]string{"id": id, "name": in["name"], "email": in["email"]}
		a.order = append(a.order, id)
		a.mu.Unlock()
		answer(w, http.StatusCreated, map[string]any{"message": "User registered successfully", "token": a.issue(id), "user": a.users[id]})
		return
	}
	uid, ok := "", false
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		uid, ok = a.verify(strings.TrimSpace(h[7:]))
	}
	a.mu.Lock()
	_, exists := a.users[uid]
	if !ok && a.f.noAuth && len(a.order) > 0 {
		uid, ok, exists = a.order[0], true, true
	}
	a.mu.Unlock()
	if !ok || !exists {
		answer(w, http.StatusUnauthorized, msg("Not authorized, invalid token"))
		return
	}
	a.serveAuthed(w, r, uid)
}

func (a *fakeAPI) serveAuthed(w http.ResponseWriter, r *http.Request, uid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	path := r.URL.Path
	switch {
	case path == "/api/auth/profile" && r.Method == http.MethodGet:
		answer(w, http.StatusOK, map[string]any{"user": a.users[uid]})
	case path == "/api/tasks" && r.Method == http.MethodGet:
		list := []map[string]any{}
		for _, t := range a.tasks {
			if t["user"] == uid {
				list = append(list, t)
			}
		}
		answer(w, http.StatusOK, map[string]any{"count": len(list), "tasks": list})
	case path == "/api/tasks" && r.Method == http.MethodPost:
		var in map[string]any
		_ = json.NewDecoder(r.Body).Decode(&in)
		id := randomHex(12)
		t := map[string]any{"_id": id, "title": in["title"], "description": "", "status": "pending", "user": uid}
		a.tasks[id] = t
		answer(w, http.StatusCreated, map[string]any{"message": "Task created successfully", "task": t})
	case strings.HasPrefix(path, "/api/tasks/"):
		id := strings.TrimPrefix(path, "/api/tasks/")
		t, found := a.tasks[id]
		if !found || t["user"] != uid {
			answer(w, http.StatusNotFound, msg("Task not found"))
			return
		}
		switch r.Method {
		case http.MethodGet:
			answer(w, http.StatusOK, map[string]any{"task": t})
		case http.MethodPut:
			answer(w, http.StatusOK, map[string]any{"message": "Task updated successfully", "task": t})
		case http.MethodDelete:
			delete(a.tasks, id)
			answer(w, http.StatusOK, msg("Task deleted successfully"))
		}
	default:
		answer(w, http.StatusNotFound, msg("Route not found"))
	}
}
