package limits_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/limits"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// knobs configure the fake API; the zero value of a flaw is "well
// behaved".
type knobs struct {
	authLimit       int  // per window; 0 = no auth limit at all
	apiLimit        int  // per user and window; 0 = none
	current         bool // current draft's RateLimit + RateLimit-Policy instead of RateLimit-*
	noRetryAfter    bool
	noAuthHeaders   bool
	noAPIHeaders    bool
	frozenRemaining bool // Remaining never goes down
	maxPage         int  // 0 = honours any ?limit=
	unpagedUncapped bool // a list without page/limit returns everything
	noPaging        bool // no pagination object
	hugePage500     bool // an absurd page crashes the list
}

func good() knobs { return knobs{authLimit: 5, apiLimit: 1000, maxPage: 100} }

// state is what instances of the fake share when their budget is shared.
type state struct {
	mu       sync.Mutex
	authUsed int
	apiUsed  map[string]int
	tasks    map[string][]string // by token
	next     int
}

func newState() *state { return &state{apiUsed: map[string]int{}, tasks: map[string][]string{}} }

func fakeAPI(k knobs, s *state) http.Handler {
	const window = 900
	advertise := func(h http.Header, limit, remaining int) {
		if k.current {
			h.Set("RateLimit-Policy", fmt.Sprintf(`"default";q=%d;w=%d`, limit, window))
			h.Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, remaining, window))
			return
		}
		h.Set("RateLimit-Limit", strconv.Itoa(limit))
		h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(window))
		h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", limit, window))
	}
	// spend counts one request against a budget and writes the headers;
	// false means refused (the 429 is written).
	spend := func(w http.ResponseWriter, used *int, limit int, headers bool) bool {
		if limit == 0 {
			return true
		}
		*used++
		remaining := max(0, limit-*used)
		if k.frozenRemaining {
			remaining = limit - 1
		}
		if headers {
			advertise(w.Header(), limit, remaining)
		}
		if *used > limit {
			if !k.noRetryAfter {
				w.Header().Set("Retry-After", strconv.Itoa(window))
			}
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Too many requests"}`))
			return false
		}
		return true
	}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/auth/register":
			if !spend(w, &s.authUsed, k.authLimit, !k.noAuthHeaders) {
				return
			}
			s.next++
			reply(w, 201, map[string]any{"token": fmt.Sprintf("tok-%d", s.next), "user": map[string]string{"id": fmt.Sprintf("%024x", s.next)}})
			return
		case r.Method == http.MethodPost && r.URL.Path == "/api/auth/login":
			if !spend(w, &s.authUsed, k.authLimit, !k.noAuthHeaders) {
				return
			}
			reply(w, 401, map[string]string{"message": "Invalid email or password"})
			return
		case !strings.HasPrefix(r.URL.Path, "/api/tasks"):
			reply(w, 404, map[string]string{"message": "Route not found"})
			return
		case !strings.HasPrefix(token, "tok-"):
			reply(w, 401, map[string]string{"message": "Not authorized"})
			return
		}
		used := s.apiUsed[token]
		ok := spend(w, &used, k.apiLimit, !k.noAPIHeaders)
		s.apiUsed[token] = used
		if !ok {
			return
		}
		switch {
		case r.Method == http.MethodPost:
			s.next++
			id := fmt.Sprintf("%024x", s.next)
			s.tasks[token] = append(s.tasks[token], id)
			reply(w, 201, map[string]any{"task": map[string]string{"_id": id}})
		case r.Method == http.MethodDelete:
			id := strings.TrimPrefix(r.URL.Path, "/api/tasks/")
			kept := s.tasks[token][:0]
			for _, t := range s.tasks[token] {
				if t != id {
					kept = append(kept, t)
				}
			}
			s.tasks[token] = kept
			reply(w, 200, map[string]string{"message": "Task deleted successfully"})
		default:
			q := r.URL.Query()
			paged := q.Has("page") || q.Has("limit")
			limit, page := 10, 1
			if q.Has("limit") {
				n, err := strconv.Atoi(q.Get("limit"))
				if err != nil || n < 1 {
					reply(w, 400, map[string]string{"message": "limit must be a whole number"})
					return
				}
				limit = n
			}
			if q.Has("page") {
				page, _ = strconv.Atoi(q.Get("page"))
				if page > 1_000_000 && k.hugePage500 {
					reply(w, 500, map[string]string{"message": "skip overflow"})
					return
				}
			}
			all := s.tasks[token]
			switch {
			case !paged && k.unpagedUncapped:
				limit = len(all)
			case !paged:
				limit = k.maxPage
			case k.maxPage > 0:
				limit = min(limit, k.maxPage)
			}
			from := min(len(all), (max(page, 1)-1)*limit)
			to := min(len(all), from+limit)
			tasks := []map[string]string{}
			for _, id := range all[from:to] {
				tasks = append(tasks, map[string]string{"_id": id, "title": "t"})
			}
			out := map[string]any{"count": len(tasks), "tasks": tasks}
			if paged && !k.noPaging {
				out["pagination"] = map[string]int{"page": page, "limit": limit, "total": len(all)}
			}
			reply(w, 200, out)
		}
	})
}

// fakeEnv names API instances; it has no components to act on.
type fakeEnv struct{ apis []string }

func (fakeEnv) Apply(context.Context, string, string) error { return fmt.Errorf("fake environment") }
func (fakeEnv) Components() []string                        { return nil }
func (e fakeEnv) APITargets() []string                      { return e.apis }

// serve starts instances of the fake, sharing one budget when shared is
// set, and returns a target whose environment names them.
func serve(t *testing.T, k knobs, instances int, shared bool) *check.Target {
	t.Helper()
	s := newState()
	var urls []string
	for i := range instances {
		st := s
		if !shared && i > 0 {
			st = newState() // tokens are accepted by every instance
		}
		srv := httptest.NewServer(fakeAPI(k, st))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	target := &check.Target{BaseURL: urls[0], Prefix: "readiness-" + strings.ToLower(strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())), Shared: &check.Shared{}}
	if instances > 1 {
		target.Env = fakeEnv{apis: urls}
	}
	return target
}

func byID(t *testing.T, id string) check.Check {
	t.Helper()
	return checktest.ByID(t, limits.Checks(), id)
}

func run(t *testing.T, c check.Check, target *check.Target) check.Result {
	t.Helper()
	return checktest.Run(t, c, target, 60*time.Second)
}

func TestAWellBehavedAPIPasses(t *testing.T) {
	for _, current := range []bool{false, true} {
		t.Run(fmt.Sprintf("current draft %v", current), func(t *testing.T) {
			k := good()
			k.current = current
			target := serve(t, k, 2, true)
			for _, c := range limits.Checks() {
				r := run(t, c, target)
				if r.Status != check.Pass {
					t.Errorf("%s = %s (%s); want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
				}
			}
		})
	}
}

func TestEachFlawFailsItsCheck(t *testing.T) {
	with := func(f func(*knobs)) knobs {
		k := good()
		f(&k)
		return k
	}
	for _, tt := range []struct {
		name      string
		k         knobs
		perInst   bool // each instance counts its own budget
		check     string
		want      string // in the message
		requestOf string // in some evidence's request
	}{
		{"no rate limit on logins", with(func(k *knobs) { k.authLimit = 0 }), false, "limits.auth-burst", "none refused", "POST /api/auth/login"},
		{"429 without Retry-After", with(func(k *knobs) { k.noRetryAfter = true }), false, "limits.auth-burst", "no Retry-After", "POST /api/auth/login"},
		{"429 without RateLimit headers", with(func(k *knobs) { k.noAuthHeaders = true }), false, "limits.auth-burst", "no RateLimit headers", "POST /api/auth/login"},
		{"auth limit as loose as the API's", with(func(k *knobs) { k.authLimit = 1000 }), false, "limits.auth-stricter-than-api", "not stricter", "POST /api/auth/login"},
		{"API limit not advertised", with(func(k *knobs) { k.noAPIHeaders = true }), false, "limits.api-rate-limit", "no remaining budget", "GET /api/tasks"},
		{"Remaining never decreases", with(func(k *knobs) { k.frozenRemaining = true }), false, "limits.api-rate-limit", "did not decrease", "GET /api/tasks"},
		{"unbounded page size", with(func(k *knobs) { k.maxPage = 0 }), false, "limits.page-size-cap", "above the cap", "limit=100000"},
		{"no pagination object", with(func(k *knobs) { k.noPaging = true }), false, "limits.page-size-cap", "no pagination object", "limit=100000"},
		{"an absurd page is a 500", with(func(k *knobs) { k.hugePage500 = true }), false, "limits.page-size-cap", "500", "page=1000000000"},
		{"unpaged list uncapped", with(func(k *knobs) { k.unpagedUncapped = true }), false, "limits.unpaged-list-cap", "above the cap", "GET /api/tasks"},
		{"budget per instance", good(), true, "limits.shared-across-instances", "each instance counts its own", "GET /api/tasks"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			target := serve(t, tt.k, 2, !tt.perInst)
			r := run(t, byID(t, tt.check), target)
			if r.Status != check.Fail {
				t.Fatalf("%s = %s (%s); want fail", tt.check, r.Status, r.Message)
			}
			if !strings.Contains(r.Message, tt.want) {
				t.Errorf("message %q; want it to say %q", r.Message, tt.want)
			}
			var shown bool
			for _, ev := range r.Evidence {
				if strings.Contains(ev.Request, tt.requestOf) && ev.Response != "" && ev.Expected != "" && ev.Observed != "" {
					shown = true
				}
				if strings.Contains(ev.Request+ev.Response, "tok-") {
					t.Errorf("evidence quotes a token: %+v", ev)
				}
			}
			if !shown {
				t.Errorf("no evidence shows %q with its answer and the comparison: %+v", tt.requestOf, r.Evidence)
			}
			last := r.Evidence[len(r.Evidence)-1]
			t.Logf("%s: %s\nrequest:\n%s\nresponse:\n%s\nexpected: %s\nobserved: %s\nnote: %s", tt.check, r.Message, last.Request, last.Response, last.Expected, last.Observed, last.Note)
		})
	}
}

func TestTheBurstIsBoundedAndStopsAtTheFirstRefusal(t *testing.T) {
	var logins int
	var mu sync.Mutex
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/auth/login" {
				mu.Lock()
				logins++
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	}
	for _, tt := range []struct {
		authLimit, want int
	}{{0, limits.MaxAuthAttempts}, {3, 4}} {
		logins = 0
		k := good()
		k.authLimit = tt.authLimit
		srv := httptest.NewServer(count(fakeAPI(k, newState())))
		run(t, byID(t, "limits.auth-burst"), &check.Target{BaseURL: srv.URL, Prefix: "readiness-bound"})
		srv.Close()
		if logins != tt.want {
			t.Errorf("auth limit %d: the burst sent %d logins; want %d", tt.authLimit, logins, tt.want)
		}
	}
}

func TestSharingNeedsTwoInstances(t *testing.T) {
	for _, instances := range []int{1, 2} {
		target := serve(t, good(), instances, true)
		if instances == 2 {
			target.Env = fakeEnv{apis: target.Env.APITargets()[:1]}
		}
		if r := run(t, byID(t, "limits.shared-across-instances"), target); r.Status != check.NotApplicable {
			t.Errorf("%d instance(s) = %s (%s); want not_applicable", instances, r.Status, r.Message)
		}
	}
}

func TestWithoutSeedingTheUnpagedCapIsNotApplicable(t *testing.T) {
	// A budget of 100 cannot create and delete 101 tasks, and there is no
	// MongoDB connection: the cap cannot be shown.
	k := good()
	k.apiLimit = 100
	target := serve(t, k, 1, true)
	if r := run(t, byID(t, "limits.unpaged-list-cap"), target); r.Status != check.NotApplicable {
		t.Errorf("unpaged cap without seeding = %s (%s); want not_applicable", r.Status, r.Message)
	}
	// The paged cap still passes on what pagination.limit says.
	if r := run(t, byID(t, "limits.page-size-cap"), target); r.Status != check.Pass {
		t.Errorf("page cap without seeding = %s (%s); want pass", r.Status, r.Message)
	}
}

// The auth burst comes last, alone: it spends the client's auth budget.
func TestMeta(t *testing.T) {
	checktest.Meta(t, limits.Checks(), checktest.Want{Category: check.Limits,
		IDs: []string{"limits.api-rate-limit", "limits.page-size-cap", "limits.unpaged-list-cap", "limits.shared-across-instances",
			"limits.auth-stricter-than-api", "limits.auth-burst"},
		Disruptive: []string{"limits.auth-burst"}})
}

// Against two instances of the real API behind the balancer, on embedded
// stores, with the default limits, every check passes; the seeded tasks
// are gone, and only the run's pair of users (probe.Pair) remains.
func TestRealAPI(t *testing.T) {
	checktest.RealAPI{Prefix: "readiness-limits-test", Users: 2}.Passes(t, limits.Checks())
}
