package resilience_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// flaws switch on one old behaviour each in the fake API.
type flaws struct {
	plainErrors   bool          // unknown and unserved methods get text/plain 501/405
	utf8Crash     bool          // invalid UTF-8 in the query or path is a 500
	keepTokens    bool          // logout clears nothing: the token stays valid
	signupRace    bool          // register reads, waits, then writes: no unique index
	overload500   bool          // past capacity: 500
	overloadBare  bool          // past capacity: 503 without Retry-After
	stuckAfter    time.Duration // after shedding, every request 503 for this long
	slowWhenDown  time.Duration // with MongoDB down, requests hang this long, then 500
	floodHang     time.Duration // with many connections open, health answers this late
	floodExit     bool          // with many connections open, the listener closes for good
	apiLimit      int           // the API budget per user; 0 for a large one
	registerSheds bool          // concurrent registrations past 3 get 503 without Retry-After
}

// capacity is the fake's concurrency: more requests at once are past it.
// It equals the calibration's closed loop (8 workers), which therefore
// never goes past it; a burst at 2.5 times the measured rate keeps about
// 20 × serverTime/(serverTime+c) requests in the fake, c being the
// client's own time per request, so it goes past it as long as c stays
// under 1.5 × serverTime: a long serverTime keeps a slow, loaded test
// machine (-race) from hiding the overload.
const capacity = 8

// serverTime is the store's work per authenticated read.
const serverTime = 300 * time.Millisecond

// floodAt is how many open connections make the flood flaws bite.
const floodAt = 100

type fakeAPI struct {
	f         flaws
	mu        sync.Mutex
	users     map[string]string // email → id
	tokens    map[string]string // token → user id
	counts    map[string]int    // user id → requests counted
	inFlight  atomic.Int64
	registers atomic.Int64
	conns     atomic.Int64
	stuckTill atomic.Int64 // unix nanos
	mongoDown atomic.Bool
	srv       *httptest.Server
}

func newFake(t *testing.T, f flaws) *fakeAPI {
	t.Helper()
	a := &fakeAPI{f: f, users: map[string]string{}, tokens: map[string]string{}, counts: map[string]int{}}
	a.srv = httptest.NewUnstartedServer(a)
	a.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			if a.conns.Add(1) > floodAt && a.f.floodExit {
				// The old API's exit 1, as far as clients see: no
				// listener, no connections.
				go func() {
					a.srv.Listener.Close()
					a.srv.CloseClientConnections()
				}()
			}
		case http.StateClosed, http.StateHijacked:
			a.conns.Add(-1)
		}
	}
	a.srv.Start()
	t.Cleanup(a.srv.Close)
	return a
}

func token() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "tok-" + hex.EncodeToString(b)
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func msg(w http.ResponseWriter, status int, m string) {
	answer(w, status, map[string]string{"message": m})
}

func (a *fakeAPI) shed(w http.ResponseWriter) {
	switch {
	case a.f.overload500:
		msg(w, http.StatusInternalServerError, "Internal Server Error")
	case a.f.overloadBare:
		msg(w, http.StatusServiceUnavailable, "Service Unavailable")
	default:
		w.Header().Set("Retry-After", "1")
		msg(w, http.StatusServiceUnavailable, "Server busy, retry later")
	}
	if a.f.stuckAfter > 0 {
		a.stuckTill.Store(time.Now().Add(a.f.stuckAfter).UnixNano())
	}
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if time.Now().UnixNano() < a.stuckTill.Load() {
		w.Header().Set("Retry-After", "1")
		msg(w, http.StatusServiceUnavailable, "Server busy, retry later")
		return
	}
	if !utf8.ValidString(r.URL.Path) || !validQuery(r) {
		if a.f.utf8Crash {
			msg(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		msg(w, http.StatusBadRequest, "Malformed request: invalid UTF-8")
		return
	}
	switch {
	case r.URL.Path == "/api/health" && r.Method == http.MethodGet:
		if a.conns.Load() > floodAt && a.f.floodHang > 0 {
			time.Sleep(a.f.floodHang)
		}
		answer(w, http.StatusOK, map[string]string{"status": "OK", "message": "Server is running"})
	case r.URL.Path == "/readyz":
		if a.mongoDown.Load() {
			msg(w, http.StatusServiceUnavailable, "fail")
			return
		}
		answer(w, http.StatusOK, map[string]string{"status": "pass"})
	case r.URL.Path == "/api/auth/register" && r.Method == http.MethodPost:
		a.register(w, r)
	case r.URL.Path == "/api/auth/login" && r.Method == http.MethodPost:
		if a.storeDown(w) {
			return
		}
		msg(w, http.StatusUnauthorized, "Invalid email or password")
	case r.URL.Path == "/api/auth/logout" && r.Method == http.MethodPost:
		if !a.f.keepTokens {
			a.mu.Lock()
			delete(a.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			a.mu.Unlock()
		}
		msg(w, http.StatusOK, "Logged out")
	case strings.HasPrefix(r.URL.Path, "/api/tasks") || r.URL.Path == "/api/auth/profile":
		if r.Method != http.MethodGet {
			a.methodNotAllowed(w)
			return
		}
		a.read(w, r)
	case r.URL.Path == "/api/health" || r.URL.Path == "/api/auth/login":
		a.methodNotAllowed(w)
	default:
		msg(w, http.StatusNotFound, "Route not found")
	}
}

func validQuery(r *http.Request) bool {
	for _, vs := range r.URL.Query() {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

func (a *fakeAPI) methodNotAllowed(w http.ResponseWriter) {
	if a.f.plainErrors {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotImplemented)
		_, _ = w.Write([]byte("Not Implemented"))
		return
	}
	msg(w, http.StatusMethodNotAllowed, "Method not allowed")
}

// storeDown answers a request that needs MongoDB while it is down.
func (a *fakeAPI) storeDown(w http.ResponseWriter) bool {
	if !a.mongoDown.Load() {
		return false
	}
	if a.f.slowWhenDown > 0 {
		time.Sleep(a.f.slowWhenDown)
		msg(w, http.StatusInternalServerError, "server selection error: context deadline exceeded")
		return true
	}
	w.Header().Set("Retry-After", "5")
	msg(w, http.StatusServiceUnavailable, "Service temporarily unavailable")
	return true
}

func (a *fakeAPI) register(w http.ResponseWriter, r *http.Request) {
	n := a.registers.Add(1)
	defer a.registers.Add(-1)
	if a.f.registerSheds {
		// A bcrypt's worth of time, so that the racers overlap.
		time.Sleep(200 * time.Millisecond)
	}
	if a.f.registerSheds && n > 3 {
		msg(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	var in struct{ Email string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	if a.f.signupRace {
		// The flaw: look, wait (a hash, a round trip), then write.
		a.mu.Lock()
		_, taken := a.users[in.Email]
		a.mu.Unlock()
		if taken {
			msg(w, http.StatusBadRequest, "User already exists with this email")
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, taken := a.users[in.Email]; taken && !a.f.signupRace {
		msg(w, http.StatusBadRequest, "User already exists with this email")
		return
	}
	id := token()
	a.users[in.Email] = id
	tok := token()
	a.tokens[tok] = id
	answer(w, http.StatusCreated, map[string]any{"message": "User registered successfully", "token": tok, "user": map[string]string{"id": id, "email": in.Email}})
}

// read serves an authenticated read, counting it against the user's
// budget, and shedding past capacity.
func (a *fakeAPI) read(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	id, ok := a.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	limit := a.f.apiLimit
	if limit == 0 {
		limit = 1 << 30
	}
	if ok {
		a.counts[id]++
	}
	used := a.counts[id]
	a.mu.Unlock()
	if !ok {
		msg(w, http.StatusUnauthorized, "Not authorized, invalid token")
		return
	}
	if a.storeDown(w) {
		return
	}
	w.Header().Set("RateLimit-Limit", itoa(limit))
	w.Header().Set("RateLimit-Remaining", itoa(max(0, limit-used)))
	if used > limit {
		w.Header().Set("Retry-After", "900")
		msg(w, http.StatusTooManyRequests, "Too many requests")
		return
	}
	if a.inFlight.Add(1) > capacity {
		a.inFlight.Add(-1)
		a.shed(w)
		return
	}
	defer a.inFlight.Add(-1)
	time.Sleep(serverTime) // capacity/serverTime is this fake's throughput
	answer(w, http.StatusOK, map[string]any{"count": 0, "tasks": []any{}})
}

func itoa(n int) string { return strconv.Itoa(n) }
