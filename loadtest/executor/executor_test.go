package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/seed"
)

// api is a tiny JSON API: POST /login answers a token, GET /tasks a list,
// GET /slow the list after a delay (cut short by the request's context).
type api struct {
	*httptest.Server
	requests atomic.Int64
	slow     time.Duration
	arrived  chan struct{} // one value per /slow request, if not full

	mu     sync.Mutex
	emails map[string]int
}

func newAPI(t *testing.T, slow time.Duration) *api {
	a := &api{slow: slow, arrived: make(chan struct{}, 100), emails: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		var body struct{ Email, Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Password != "pw" {
			http.Error(w, `{"error":"bad login"}`, http.StatusUnauthorized)
			return
		}
		a.mu.Lock()
		a.emails[body.Email]++
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token":"t0k"}`))
	})
	mux.HandleFunc("GET /tasks", func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer t0k" {
			http.Error(w, `{"error":"no token"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tasks":[]}`))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		select {
		case a.arrived <- struct{}{}:
		default:
		}
		t := time.NewTimer(a.slow)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tasks":[]}`))
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

// stepTimeout bounds the steps the test API answers at once: a request
// that ran into it would fail its sample, so it is far beyond what a
// busy machine under -race takes to answer one.
const stepTimeout = 30 * time.Second

// slowTimeout bounds the slow step: far beyond how long any test waits
// for it, so that a request cut short by a cancelled context is told
// from one that ran into its timeout however busy the machine is.
const slowTimeout = time.Minute

// file has journeys "browse" (login, then list with the token: 2 steps),
// "peek" (login only) and "slow" (one slow request), and 7 seeded users.
func file() *scenario.File {
	login := scenario.Step{
		Name: "login", Endpoint: "login", Method: "POST", Path: "/login",
		Body:    map[string]any{"email": "{{user.email}}", "password": "{{user.password}}"},
		Check:   scenario.Check{Status: 200},
		Extract: map[string]string{"token": "token"},
		Timeout: stepTimeout,
	}
	list := scenario.Step{
		Name: "list", Endpoint: "list", Method: "GET", Path: "/tasks",
		Headers: map[string]string{"Authorization": "Bearer {{token}}"},
		Check:   scenario.Check{Status: 200}, Timeout: stepTimeout,
	}
	slow := scenario.Step{Name: "slow", Method: "GET", Path: "/slow", Timeout: slowTimeout}
	return &scenario.File{
		Users: scenario.Users{Prefix: "lt", Count: 7, Password: "pw"},
		Journeys: map[string]*scenario.Journey{
			"browse": {Name: "browse", Steps: []scenario.Step{login, list}},
			"peek":   {Name: "peek", Steps: []scenario.Step{login}},
			"slow":   {Name: "slow", Steps: []scenario.Step{slow}},
		},
	}
}

// run runs s against a and returns the counters and every request's
// sample.
func run(t *testing.T, ctx context.Context, a *api, s scenario.Scenario) (executor.Counters, []record.Sample, error) {
	t.Helper()
	c, samples, _, err := runIterations(t, ctx, a, s)
	return c, samples, err
}

// runIterations is run that also returns the iterations' own samples
// (record.Sample.Iteration), apart from the requests'.
func runIterations(t *testing.T, ctx context.Context, a *api, s scenario.Scenario) (c executor.Counters, samples, iterations []record.Sample, err error) {
	t.Helper()
	out := make(chan []record.Sample)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := range out {
			for _, smp := range batch {
				if smp.Iteration {
					iterations = append(iterations, smp)
				} else {
					samples = append(samples, smp)
				}
			}
		}
	}()
	cfg := executor.Config{Target: a.URL, File: file(), Client: a.Client()}
	if fastHTTP {
		cfg.Client, cfg.FastHTTP = nil, true
	}
	c, err = executor.Run(ctx, cfg, s, out)
	close(out)
	<-done
	noLeftovers(t)
	return c, samples, iterations, err
}

// fastHTTP has run use Config.FastHTTP rather than the test server's
// net/http client (TestFastHTTP).
var fastHTTP bool

// TestFastHTTP runs the executor tests that send requests again, with
// Config.FastHTTP: the fasthttp transport must not change what they see,
// cancellation included.
func TestFastHTTP(t *testing.T) {
	fastHTTP = true
	defer func() { fastHTTP = false }()
	for name, test := range map[string]func(*testing.T){
		"ConstantArrivalRate":        TestConstantArrivalRate,
		"Dropped":                    TestDropped,
		"ConstantVUsFollowWeights":   TestConstantVUsFollowWeights,
		"PerVUIterations":            TestPerVUIterations,
		"PerVUIterationsMaxDuration": TestPerVUIterationsMaxDuration,
		"RampingVUs":                 TestRampingVUs,
		"CancelStopsPromptly":        TestCancelStopsPromptly,
	} {
		t.Run(name, test)
	}
}

// noLeftovers fails if a goroutine of package executor outlives Run (the
// tests do not run in parallel, so any is a leftover). A goroutine past
// its WaitGroup.Done may still be unwinding, and on a busy machine its
// thread may not run again for a while: a leftover is one still there
// after 10 seconds, not after some number of yields.
func noLeftovers(t *testing.T) {
	t.Helper()
	var stacks string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "loadtest/executor.") {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("goroutines of package executor left 10s after Run:\n%s", stacks)
}

// scheduled is how many iterations the pacer of s schedules: vegeta's
// loop with no lag, as the executor drives it.
func scheduled(t testing.TB, s scenario.Scenario) int64 {
	t.Helper()
	p, err := pacer(t, s)
	if err != nil {
		t.Fatal(err)
	}
	return simulate(p)
}

func simulate(p vegeta.Pacer) int64 {
	var elapsed time.Duration
	var hits uint64
	for {
		wait, stop := p.Pace(elapsed, hits)
		if stop {
			return int64(hits)
		}
		elapsed += wait
		hits++
	}
}

func weights(ws ...any) []scenario.WeightedJourney {
	var out []scenario.WeightedJourney
	for i := 0; i < len(ws); i += 2 {
		out = append(out, scenario.WeightedJourney{Name: ws[i].(string), Weight: ws[i+1].(int)})
	}
	return out
}

// checkSamples checks what every sample must satisfy: tags, a passed
// check, and for the open model an Intended time no later than Start.
func checkSamples(t *testing.T, s scenario.Scenario, samples []record.Sample, phases ...string) {
	t.Helper()
	for i, smp := range samples {
		if smp.Scenario != s.Name {
			t.Fatalf("sample %d: scenario %q, want %q", i, smp.Scenario, s.Name)
		}
		if !contains(phases, smp.Phase) {
			t.Fatalf("sample %d: phase %q, want one of %q", i, smp.Phase, phases)
		}
		if smp.Err != "" || smp.CheckPassed == nil || !*smp.CheckPassed {
			t.Fatalf("sample %d: failed: %+v", i, smp)
		}
		if s.Executor.Open() && (smp.Step == "login" || smp.Step == "slow") { // first steps
			if smp.Intended.IsZero() || smp.Start.Before(smp.Intended) {
				t.Fatalf("sample %d: intended %s, start %s", i, smp.Intended, smp.Start)
			}
		}
		if smp.CorrectedLatency() < smp.Latency {
			t.Fatalf("sample %d: corrected latency %s < latency %s", i, smp.CorrectedLatency(), smp.Latency)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestConstantArrivalRate(t *testing.T) {
	a := newAPI(t, 0)
	s := scenario.Scenario{
		Name: "car", Executor: scenario.ConstantArrivalRate, Rate: 50, TimeUnit: time.Second,
		// As many VUs as iterations: none can be dropped, however slowly
		// this machine answers.
		Duration: time.Second, PreAllocatedVUs: 2, MaxVUs: 60, Phase: "steady",
		Journeys: weights("peek", 1),
	}
	want := scheduled(t, s)
	if want < 49 || want > 51 {
		t.Fatalf("the pacer schedules %d hits, want about 50", want)
	}
	began := time.Now()
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil {
		t.Fatal(err)
	}
	// A schedule cannot end early; how late it ends depends on the
	// machine, so only the lower bound is a property of the executor.
	if took := time.Since(began); took < 900*time.Millisecond {
		t.Errorf("run took %s, want at least the schedule's 1s", took)
	}
	if c.Iterations+c.Dropped != want || c.Dropped != 0 {
		t.Errorf("counters %+v, want %d iterations and none dropped", c, want)
	}
	if int64(len(samples)) != c.Iterations || a.requests.Load() != c.Iterations {
		t.Errorf("%d samples, %d requests for %d iterations", len(samples), a.requests.Load(), c.Iterations)
	}
	if c.VUsMax < 2 || c.VUsMax > 60 {
		t.Errorf("VUsMax %d", c.VUsMax)
	}
	checkSamples(t, s, samples, "steady")
	// The iterations start on the schedule: the i-th intended time is the
	// pacer's, 20ms apart.
	var intended []time.Time
	for _, smp := range samples {
		intended = append(intended, smp.Intended)
	}
	first, last := intended[0], intended[0]
	for _, at := range intended {
		if at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	if span := last.Sub(first); span < 950*time.Millisecond || span > time.Second {
		t.Errorf("intended times span %s, want about 1s", span)
	}
}

func TestRampingArrivalRate(t *testing.T) {
	a := newAPI(t, 0)
	s := scenario.Scenario{
		Name: "rar", Executor: scenario.RampingArrivalRate, TimeUnit: time.Second,
		StartRate: 0, PreAllocatedVUs: 1, MaxVUs: 70, // one per iteration: none dropped
		Stages: []scenario.Stage{
			{Duration: 600 * time.Millisecond, Target: 100, Phase: "ramp"},
			{Duration: 400 * time.Millisecond, Target: 100, Phase: "hold"},
		},
		Journeys: weights("browse", 1),
	}
	want := scheduled(t, s)
	if want != 70 {
		t.Fatalf("the pacer schedules %d hits, want 70 (30 ramping, 40 holding)", want)
	}
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil {
		t.Fatal(err)
	}
	if c.Iterations != want || c.Dropped != 0 {
		t.Errorf("counters %+v, want %d iterations and none dropped", c, want)
	}
	if int64(len(samples)) != 2*c.Iterations {
		t.Errorf("%d samples for %d iterations of 2 steps", len(samples), c.Iterations)
	}
	checkSamples(t, s, samples, "ramp", "hold")
	perPhase := map[string]int{}
	for _, smp := range samples {
		if smp.Step == "login" {
			perPhase[smp.Phase]++
		}
	}
	// The phase is the intended start's, so the split is the schedule's:
	// the 30th hit falls on 600ms, which starts the hold.
	if perPhase["ramp"] != 29 || perPhase["hold"] != 41 {
		t.Errorf("iterations per phase %v, want 29 ramping and 41 holding", perPhase)
	}
}

func TestDropped(t *testing.T) {
	a := newAPI(t, 200*time.Millisecond)
	s := scenario.Scenario{
		Name: "drop", Executor: scenario.ConstantArrivalRate, Rate: 20, TimeUnit: time.Second,
		Duration: time.Second, PreAllocatedVUs: 1, MaxVUs: 1, Phase: "steady",
		Journeys: weights("slow", 1),
	}
	want := scheduled(t, s)
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dropped == 0 || c.Iterations+c.Dropped != want || c.VUsMax != 1 {
		t.Errorf("counters %+v, want some dropped of %d and 1 VU", c, want)
	}
	// One VU busy 200ms per iteration at 20/s: at most 1s/200ms+1 iterations.
	if c.Iterations > 6 || int64(len(samples)) != c.Iterations {
		t.Errorf("%d iterations, %d samples", c.Iterations, len(samples))
	}
	checkSamples(t, s, samples, "steady")
	for _, smp := range samples {
		if smp.Latency < 200*time.Millisecond || smp.CorrectedLatency() < smp.Latency {
			t.Errorf("latency %s, corrected %s", smp.Latency, smp.CorrectedLatency())
		}
	}
}

// TestIntendedBeforeStart: every open-model iteration starts at or after
// its intended time, and its corrected latency adds exactly that delay
// (in wall-clock time, as record does).
func TestIntendedBeforeStart(t *testing.T) {
	a := newAPI(t, 0)
	s := scenario.Scenario{
		Name: "late", Executor: scenario.ConstantArrivalRate, Rate: 10, TimeUnit: time.Second,
		Duration: 300 * time.Millisecond, PreAllocatedVUs: 3, Phase: "steady", // one per iteration
		Journeys: weights("peek", 1),
	}
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil || c.Iterations != scheduled(t, s) {
		t.Fatalf("counters %+v, error %v", c, err)
	}
	for _, smp := range samples {
		delay := time.Duration(smp.Start.UnixNano() - smp.Intended.UnixNano())
		if delay < 0 || smp.CorrectedLatency() != smp.Latency+delay {
			t.Errorf("start %s after intended, latency %s, corrected %s", delay, smp.Latency, smp.CorrectedLatency())
		}
	}
}

func TestConstantVUsFollowWeights(t *testing.T) {
	a := newAPI(t, 0)
	s := scenario.Scenario{
		Name: "cvu", Executor: scenario.ConstantVUs, VUs: 3, Duration: 500 * time.Millisecond,
		Phase: "steady", Journeys: weights("browse", 3, "peek", 1),
	}
	began := time.Now()
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 500*time.Millisecond {
		t.Errorf("run took %s, want at least its 500ms", took)
	}
	// How many iterations fit in 500ms is the machine's business; the
	// weights are checked on however many ran, at least a whole cycle.
	if c.VUsMax != 3 || c.Dropped != 0 || c.Iterations < 4 {
		t.Fatalf("counters %+v", c)
	}
	checkSamples(t, s, samples, "steady")
	// Smooth weighted round-robin over 3:1 picks browse, browse, peek,
	// browse, again and again; every picked iteration ran to its end.
	cycle := []string{"browse", "browse", "peek", "browse"}
	want := map[string]int{}
	for i := range c.Iterations {
		want[cycle[i%4]]++
	}
	got := map[string]int{}
	for _, smp := range samples {
		if smp.Step == "login" {
			got[smp.Journey]++
		}
		if smp.Intended != smp.Start {
			t.Fatalf("closed-model sample with intended %s != start %s", smp.Intended, smp.Start)
		}
	}
	if got["browse"] != want["browse"] || got["peek"] != want["peek"] {
		t.Errorf("iterations per journey %v, want %v", got, want)
	}
	if int64(len(samples)) != 2*int64(want["browse"])+int64(want["peek"]) {
		t.Errorf("%d samples for %v", len(samples), got)
	}
	// Every login used a seeded user's email.
	seeded := map[string]bool{}
	for i := 1; i <= 7; i++ {
		seeded[seed.Email("lt", i)] = true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for email, k := range a.emails {
		if !seeded[email] {
			t.Errorf("login as %q, not a seeded user", email)
		}
		n += k
	}
	if int64(n) != c.Iterations {
		t.Errorf("%d logins for %d iterations", n, c.Iterations)
	}
}

func TestPerVUIterations(t *testing.T) {
	a := newAPI(t, 0)
	s := scenario.Scenario{
		Name: "pvi", Executor: scenario.PerVUIterations, VUs: 2, Iterations: 3,
		MaxDuration: 2 * time.Second, Phase: "once", Journeys: weights("browse", 1),
	}
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil {
		t.Fatal(err)
	}
	if c != (executor.Counters{Iterations: 6, VUsMax: 2}) || len(samples) != 12 || a.requests.Load() != 12 {
		t.Errorf("counters %+v, %d samples, %d requests; want 6 iterations of 2 steps", c, len(samples), a.requests.Load())
	}
	checkSamples(t, s, samples, "once")
	// Users: iteration k of VU v logs in as ((v*7919 + k) mod 7) + 1.
	want := map[string]int{}
	for v := 1; v <= 2; v++ {
		for k := range 3 {
			want[seed.Email("lt", (v*7919+k)%7+1)]++
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.emails) != len(want) {
		t.Errorf("logins %v, want %v", a.emails, want)
	}
	for e, n := range want {
		if a.emails[e] != n {
			t.Errorf("logins %v, want %v", a.emails, want)
			break
		}
	}
}

// TestJourneyUsers: a journey with users of its own logs in only as
// them, spread as the whole range is: iteration k of VU v is user
// From + (v*7919 + k) mod (To-From+1).
func TestJourneyUsers(t *testing.T) {
	for _, tc := range []struct {
		journey  string
		from, to int
	}{{"browse", 1, 3}, {"peek", 4, 7}} {
		t.Run(tc.journey, func(t *testing.T) {
			a := newAPI(t, 0)
			f := file()
			f.Users.Journeys = map[string]scenario.UserRange{"browse": {From: 1, To: 3}, "peek": {From: 4, To: 7}}
			s := scenario.Scenario{
				Name: "own", Executor: scenario.PerVUIterations, VUs: 3, Iterations: 4,
				MaxDuration: 10 * time.Second, Phase: "once", Journeys: weights(tc.journey, 1),
			}
			out := make(chan []record.Sample, 100)
			c, err := executor.Run(context.Background(), executor.Config{Target: a.URL, File: f, Client: a.Client()}, s, out)
			if err != nil || c.Iterations != 12 {
				t.Fatalf("counters %+v, error %v", c, err)
			}
			want := map[string]int{}
			for v := 1; v <= 3; v++ {
				for k := range 4 {
					want[seed.Email("lt", tc.from+(v*7919+k)%(tc.to-tc.from+1))]++
				}
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			if !maps.Equal(a.emails, want) {
				t.Errorf("logins %v; want %v, all users %d to %d", a.emails, want, tc.from, tc.to)
			}
		})
	}
	f := file()
	f.Users.Journeys = map[string]scenario.UserRange{"peek": {From: 5, To: 8}} // 7 seeded
	s := scenario.Scenario{Name: "x", Executor: scenario.ConstantVUs, VUs: 1, Duration: time.Second, Journeys: weights("peek", 1)}
	if _, err := executor.Run(context.Background(), executor.Config{File: f}, s, make(chan []record.Sample)); err == nil || !strings.Contains(err.Error(), `journey "peek" logs in as users 5 to 8`) {
		t.Errorf("a range beyond the seeded users: %v; want an error naming it", err)
	}
}

func TestPerVUIterationsMaxDuration(t *testing.T) {
	a := newAPI(t, 100*time.Millisecond)
	s := scenario.Scenario{
		Name: "capped", Executor: scenario.PerVUIterations, VUs: 2, Iterations: 100,
		MaxDuration: time.Second, Journeys: weights("slow", 1),
	}
	began := time.Now()
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil {
		t.Fatal(err)
	}
	// Each VU starts iterations at about 0, 100, ... 900ms, none after 1s.
	if c.Iterations < 2 || c.Iterations > 20 || int64(len(samples)) != c.Iterations {
		t.Errorf("%d iterations, %d samples; want 2 VUs × at most 10 (the cap stops the other 90)", c.Iterations, len(samples))
	}
	// The count above is what shows the cap: each iteration takes at
	// least 100ms. The clock is checked before each iteration and the
	// request may start later on a busy machine, so only a start long
	// after the cap is wrong.
	for _, smp := range samples {
		if smp.Start.Sub(began) > s.MaxDuration+5*time.Second {
			t.Errorf("an iteration started at %s, after maxDuration", smp.Start.Sub(began))
		}
	}
}

func TestRampingVUs(t *testing.T) {
	a := newAPI(t, 0)
	s := scenario.Scenario{
		Name: "rvu", Executor: scenario.RampingVUs, StartVUs: 1,
		Stages: []scenario.Stage{
			{Duration: 300 * time.Millisecond, Target: 4, Phase: "up"},
			{Duration: time.Second, Target: 4, Phase: "steady"},
			{Duration: 300 * time.Millisecond, Target: 0, Phase: "down"},
		},
		Journeys: weights("peek", 1),
	}
	began := time.Now()
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 1600*time.Millisecond {
		t.Errorf("run took %s, want at least the stages' 1.6s", took)
	}
	if c.VUsMax != 4 || c.Iterations < 3 || int64(len(samples)) != c.Iterations {
		t.Errorf("counters %+v, %d samples", c, len(samples))
	}
	checkSamples(t, s, samples, "up", "steady", "down")
	// A closed-model iteration is tagged with the phase it starts in:
	// the first VU starts in "up", and four VUs start some iteration in
	// a second of "steady". Whether one starts in the 300ms of "down",
	// while VUs stop, is up to how fast this machine answers.
	perPhase := map[string]int{}
	for _, smp := range samples {
		perPhase[smp.Phase]++
	}
	for _, p := range []string{"up", "steady"} {
		if perPhase[p] == 0 {
			t.Errorf("no iteration in phase %q: %v", p, perPhase)
		}
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	for _, ex := range []scenario.Executor{scenario.ConstantVUs, scenario.ConstantArrivalRate, scenario.RampingVUs, scenario.PerVUIterations} {
		t.Run(string(ex), func(t *testing.T) {
			a := newAPI(t, time.Minute) // answers only when cut short
			s := scenario.Scenario{
				Name: "cancel", Executor: ex, VUs: 2, Duration: time.Minute, MaxDuration: time.Minute,
				Iterations: 5, Rate: 10, TimeUnit: time.Second, PreAllocatedVUs: 2, MaxVUs: 4,
				Stages:   []scenario.Stage{{Duration: time.Minute, Target: 3}},
				StartVUs: 2, Journeys: weights("slow", 1),
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-a.arrived // a request is in flight
				cancel()
			}()
			began := time.Now()
			c, samples, iterations, err := runIterations(t, ctx, a, s)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
			if took := time.Since(began); took >= slowTimeout/2 {
				t.Errorf("Run returned after %s, not promptly before the step timeout %s", took, slowTimeout)
			}
			if c.Iterations == 0 || int64(len(samples)) > c.Iterations {
				t.Errorf("counters %+v, %d samples", c, len(samples))
			}
			// Every iteration was cut short: none has a duration, as in k6.
			if len(iterations) != 0 {
				t.Errorf("%d iteration samples of interrupted iterations: %+v", len(iterations), iterations[0])
			}
		})
	}
}

func TestStartTimeAndCancelBeforeStart(t *testing.T) {
	a := newAPI(t, 0)
	s := scenario.Scenario{
		Name: "late", Executor: scenario.PerVUIterations, VUs: 1, Iterations: 1,
		StartTime: 150 * time.Millisecond, Journeys: weights("peek", 1), Phase: "p",
	}
	began := time.Now()
	c, samples, err := run(t, context.Background(), a, s)
	if err != nil || c.Iterations != 1 || len(samples) != 1 || samples[0].Phase != "p" {
		t.Fatalf("counters %+v, samples %v, error %v", c, samples, err)
	}
	if samples[0].Start.Sub(began) < 150*time.Millisecond {
		t.Errorf("started %s after Run, before StartTime", samples[0].Start.Sub(began))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	s.StartTime = time.Minute
	c, _, err = run(t, ctx, a, s)
	if !errors.Is(err, context.DeadlineExceeded) || c != (executor.Counters{}) {
		t.Errorf("counters %+v, error %v", c, err)
	}
}

func TestInvalid(t *testing.T) {
	out := make(chan []record.Sample)
	ok := scenario.Scenario{Name: "x", Executor: scenario.ConstantVUs, VUs: 1, Duration: time.Second, Journeys: weights("peek", 1)}
	for name, tc := range map[string]struct {
		cfg executor.Config
		mod func(*scenario.Scenario)
	}{
		"no file":         {executor.Config{}, func(*scenario.Scenario) {}},
		"unknown journey": {executor.Config{File: file()}, func(s *scenario.Scenario) { s.Journeys = weights("nope", 1) }},
		"zero weights":    {executor.Config{File: file()}, func(s *scenario.Scenario) { s.Journeys = weights("peek", 0) }},
		"negative vus":    {executor.Config{File: file()}, func(s *scenario.Scenario) { s.VUs = -1 }},
		"unknown":         {executor.Config{File: file()}, func(s *scenario.Scenario) { s.Executor = "shared-iterations" }},
		"no rate": {executor.Config{File: file()}, func(s *scenario.Scenario) {
			s.Executor, s.PreAllocatedVUs = scenario.ConstantArrivalRate, 1
		}},
		"max below prealloc": {executor.Config{File: file()}, func(s *scenario.Scenario) {
			s.Executor, s.Rate, s.PreAllocatedVUs, s.MaxVUs = scenario.ConstantArrivalRate, 1, 2, 1
		}},
	} {
		s := ok
		tc.mod(&s)
		if _, err := executor.Run(context.Background(), tc.cfg, s, out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestIterationDuration: each finished iteration sends one sample of its
// own after its requests, timed from its scheduled start in the open
// model and from its actual start in the closed one, to the end of its
// last step's think time.
func TestIterationDuration(t *testing.T) {
	const think = 30 * time.Millisecond
	for _, s := range []scenario.Scenario{
		{Name: "open", Executor: scenario.ConstantArrivalRate, Rate: 10, TimeUnit: time.Second, Duration: 300 * time.Millisecond,
			PreAllocatedVUs: 1, MaxVUs: 1, Phase: "steady", Journeys: weights("browse", 1)},
		{Name: "closed", Executor: scenario.PerVUIterations, VUs: 1, Iterations: 3, Phase: "steady", Journeys: weights("browse", 1)},
	} {
		t.Run(s.Name, func(t *testing.T) {
			a := newAPI(t, 0)
			f := file()
			f.Journeys["browse"].Steps[1].Think = think
			cfg := executor.Config{Target: a.URL, File: f, Client: a.Client(), Sleep: func(ctx context.Context, d time.Duration) error {
				tm := time.NewTimer(d)
				defer tm.Stop()
				select {
				case <-tm.C:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}}
			out := make(chan []record.Sample)
			var all []record.Sample
			done := make(chan struct{})
			go func() {
				defer close(done)
				for batch := range out {
					all = append(all, batch...)
				}
			}()
			c, err := executor.Run(context.Background(), cfg, s, out)
			close(out)
			<-done
			if err != nil {
				t.Fatal(err)
			}
			// One VU: its samples arrive in order, login, list, iteration.
			if c.Iterations == 0 || int64(len(all)) != 3*c.Iterations {
				t.Fatalf("%d samples for %+v; want 3 per iteration", len(all), c)
			}
			for i := 0; i < len(all); i += 3 {
				login, list, it := all[i], all[i+1], all[i+2]
				if !it.Iteration || login.Iteration || list.Iteration || it.Scenario != s.Name || it.Journey != "browse" ||
					it.Phase != "steady" || it.Step != "" || it.Endpoint != "" || it.Status != 0 {
					t.Fatalf("iteration %d: samples %+v, %+v, %+v", i/3, login, list, it)
				}
				from := it.Start
				if s.Executor.Open() {
					if it.Intended.IsZero() || !it.Intended.Equal(login.Intended) {
						t.Errorf("iteration %d: intended %s; want the schedule's %s", i/3, it.Intended, login.Intended)
					}
					from = it.Intended
				} else if !it.Intended.IsZero() {
					t.Errorf("iteration %d: a closed-model iteration has a schedule (%s)", i/3, it.Intended)
				}
				end := it.Start.Add(it.Latency)
				if it.Start.After(login.Start) || end.Before(list.Start.Add(list.Latency).Add(think)) {
					t.Errorf("iteration %d: from %s to %s does not cover its requests and think time (%s to %s+%s)",
						i/3, it.Start, end, login.Start, list.Start.Add(list.Latency), think)
				}
				// On the wall clock, as the recorder reads it.
				if got, want := it.CorrectedLatency(), time.Duration(end.UnixNano()-from.UnixNano()); got != want {
					t.Errorf("iteration %d: duration %s; want %s from its start", i/3, got, want)
				}
			}
		})
	}
}
