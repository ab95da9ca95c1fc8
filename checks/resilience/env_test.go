package resilience_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeEnv is a managed environment of fakes: stopping mongo-0 takes the
// fake API's store away; stopping redis-primary starts a failover (see
// redisFake).
type fakeEnv struct {
	names   []string
	apis    []string
	api     *fakeAPI
	redis   *redisFake
	mu      sync.Mutex
	actions []string
}

func (e *fakeEnv) Apply(_ context.Context, component, action string) error {
	e.mu.Lock()
	e.actions = append(e.actions, component+" "+action)
	e.mu.Unlock()
	switch {
	case strings.HasPrefix(component, "mongo") && e.api != nil:
		e.api.mongoDown.Store(action == "stop")
	case component == "redis-primary" && e.redis != nil:
		e.redis.apply(action)
	default:
		return fmt.Errorf("no component %s", component)
	}
	return nil
}

func (e *fakeEnv) Components() []string { return e.names }
func (e *fakeEnv) APITargets() []string { return e.apis }

// restored says whether every component stopped was started again.
func (e *fakeEnv) restored() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	down := map[string]bool{}
	for _, a := range e.actions {
		c, act, _ := strings.Cut(a, " ")
		down[c] = act == "stop"
	}
	for _, d := range down {
		if d {
			return false
		}
	}
	return len(e.actions) > 0
}

// redisFake is Redis with Sentinels behind two API instances, as the
// instances see it. Stopped, the primary is replaced after failoverIn;
// started again it returns as a replica. An instance that follows the
// Sentinels writes to the new primary; one with a fixed address (the
// flaw) writes to the old one, and fails READONLY once it is a replica,
// while PING still answers.
type redisFake struct {
	fixedAddress bool
	mu           sync.Mutex
	primaryUp    bool
	promoted     bool // a replica took over
	stoppedAt    time.Time
	shared       map[string]int
}

const failoverIn = 400 * time.Millisecond

func (r *redisFake) apply(action string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch action {
	case "stop":
		r.primaryUp, r.stoppedAt = false, time.Now()
	case "start":
		r.primaryUp = true
	}
}

// writable says whether an instance's writes succeed now.
func (r *redisFake) writable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.primaryUp && !r.promoted && !r.stoppedAt.IsZero() && time.Since(r.stoppedAt) > failoverIn {
		r.promoted = true
	}
	if r.fixedAddress {
		// Its primary is the old one: down, or back as a replica.
		return r.primaryUp && !r.promoted
	}
	return r.primaryUp || r.promoted
}

// pingable says whether the address an instance knows answers PING.
func (r *redisFake) pingable() bool {
	ok := r.writable()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fixedAddress {
		return r.primaryUp // a replica answers PING too
	}
	return ok
}

// instance serves readiness and a counted read: shared counts when
// writes succeed, its own counts (the fallback) when they fail.
func (r *redisFake) instance(t *testing.T) string {
	local := map[string]int{}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/readyz":
			status := "pass"
			if !r.pingable() {
				status = "warn"
			}
			answer(w, http.StatusOK, map[string]string{"status": status})
		case "/api/auth/register":
			answer(w, http.StatusCreated, map[string]any{"token": "tok-redis", "user": map[string]string{"id": "u1"}})
		case "/api/tasks":
			key := req.Header.Get("Authorization")
			var used int
			if r.writable() {
				r.mu.Lock()
				r.shared[key]++
				used = r.shared[key]
				r.mu.Unlock()
			} else {
				mu.Lock()
				local[key]++
				used = local[key]
				mu.Unlock()
			}
			w.Header().Set("RateLimit-Limit", "100000")
			w.Header().Set("RateLimit-Remaining", strconv.Itoa(100000-used))
			answer(w, http.StatusOK, map[string]any{"count": 0, "tasks": []any{}})
		default:
			msg(w, http.StatusNotFound, "Route not found")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
