package contract_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/contract"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/internal/syncio"
	"github.com/taskready/taskready/internal/testserver"
)

// TestMain removes the API binary the tests built; flags (-update) are
// parsed by m.Run.
func TestMain(m *testing.M) { checktest.Main(m) }

// startAPI runs the real API on embedded stores with its default limits
// (plus env) and returns its base URL once /readyz answers 200.
func startAPI(t *testing.T, env ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the real API with embedded stores; skipped in -short mode")
	}
	bin := checktest.Binary(t)
	port := testserver.FreePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"PORT=" + strconv.Itoa(port),
		"DATA_DIR=" + t.TempDir(),
		"BCRYPT_COST=4",
		// A port of its own: instances of other tests may run meanwhile.
		"METRICS_ADDR=127.0.0.1:0",
	}, env...)
	out := &syncio.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("taskapi exit after SIGTERM: %v", err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("taskapi did not stop within 20s of SIGTERM; killed")
		}
		if t.Failed() {
			t.Logf("taskapi output:\n%s", out.String())
		}
	})

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("taskapi exited before it was ready: %v\n%s", err, out.String())
		default:
		}
		if res, err := client.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("taskapi not ready within 60s\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// recorder is a transport that notes every request and checks it carries
// a context with a deadline.
type recorder struct {
	mu    sync.Mutex
	calls []string // "POST /api/auth/register"
	seen  []string // "DELETE /api/tasks/<id> 200"
	// before, when set, may refuse a request before it is sent.
	before func(req *http.Request) error

	noDeadline []string
}

func (rt *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	call := req.Method + " " + req.URL.Path
	rt.mu.Lock()
	rt.calls = append(rt.calls, call)
	if _, ok := req.Context().Deadline(); !ok {
		rt.noDeadline = append(rt.noDeadline, call)
	}
	before := rt.before
	rt.mu.Unlock()
	if before != nil {
		if err := before(req); err != nil {
			return nil, err
		}
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		rt.mu.Lock()
		rt.seen = append(rt.seen, call+" "+strconv.Itoa(res.StatusCode))
		rt.mu.Unlock()
	}
	return res, err
}

// authCalls counts the requests to the auth-limited routes.
func (rt *recorder) authCalls() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	n := 0
	for _, c := range rt.calls {
		if strings.HasSuffix(c, "/api/auth/register") || strings.HasSuffix(c, "/api/auth/login") {
			n++
		}
	}
	return n
}

func (rt *recorder) client() *http.Client {
	return &http.Client{Transport: rt, Timeout: 10 * time.Second}
}

func runContract(t *testing.T, target string, opts ...contract.Option) contract.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := contract.Run(ctx, target, opts...)
	if err != nil {
		t.Fatalf("Run(%q) error = %v; want a report", target, err)
	}
	return rep
}

func text(t *testing.T, rep contract.Report) string {
	t.Helper()
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// (a) Every step passes against the real API, within the auth budget.
func TestRunPassesAgainstRealAPI(t *testing.T) {
	t.Parallel()
	base := startAPI(t)
	rec := &recorder{}
	rep := runContract(t, base, contract.Client(rec.client()))
	out := text(t, rep)
	t.Logf("\n%s", out)

	n := len(contract.StepNames())
	if len(rep.Results) != n {
		t.Errorf("%d results; want one per step (%d)", len(rep.Results), n)
	}
	for _, res := range rep.Results {
		if res.Status != contract.Pass {
			t.Errorf("step %s = %s: %s", res.Name, res.Status, res.Detail)
		}
	}
	if !rep.Passed() {
		t.Error("Passed() = false; want true")
	}
	want := regexp.MustCompile(`^` + strconv.Itoa(n) + ` passed, 0 failed, 0 skipped in \d+\.\ds$`)
	if got := lastLine(out); !want.MatchString(got) {
		t.Errorf("last line = %q; want %s", got, want)
	}
	if got := rec.authCalls(); got != 5 {
		t.Errorf("%d requests to /api/auth/register|login; want exactly 5 (the default auth limit)", got)
	}
	if len(rec.noDeadline) > 0 {
		t.Errorf("requests without a deadline: %v", rec.noDeadline)
	}
	if rep.Target != base || rep.Started.IsZero() || rep.Elapsed <= 0 {
		t.Errorf("report header = %q, %v, %v; want %q, a start time and a positive elapsed", rep.Target, rep.Started, rep.Elapsed, base)
	}
}

// (b) A second run within the window is stopped by the auth limit: one
// clear failure, the rest skipped.
func TestSecondRunIsStoppedByRateLimit(t *testing.T) {
	t.Parallel()
	base := startAPI(t) // default RATE_LIMIT_AUTH: 5/15m
	if first := runContract(t, base); !first.Passed() {
		t.Fatalf("first run failed; want it to fit the default auth limit:\n%s", text(t, first))
	}
	rep := runContract(t, base)
	out := text(t, rep)
	t.Logf("\n%s", out)
	if rep.Passed() {
		t.Fatal("second run passed; want the auth rate limit to stop it")
	}
	pass, fail, _ := rep.Counts()
	if fail != 1 {
		t.Errorf("%d failed steps; want exactly 1 (the 429), the rest skipped", fail)
	}
	failedAt := -1
	for i, res := range rep.Results {
		switch {
		case res.Status == contract.Fail && failedAt < 0:
			failedAt = i
			if res.Name != "register" {
				t.Errorf("failed step = %s; want register (the first auth request)", res.Name)
			}
			for _, want := range []string{"POST /api/auth/register", "429", "rate limit stopped the smoke", "RATE_LIMIT_AUTH / RATE_LIMIT_API"} {
				if !strings.Contains(res.Detail, want) {
					t.Errorf("Detail = %q; want it to contain %q", res.Detail, want)
				}
			}
			if !regexp.MustCompile(`retry after \d+ s`).MatchString(res.Detail) {
				t.Errorf("Detail = %q; want \"retry after <seconds> s\"", res.Detail)
			}
		case failedAt >= 0 && res.Status != contract.Skip:
			t.Errorf("step %s after the 429 = %s; want skip", res.Name, res.Status)
		case failedAt >= 0 && !strings.Contains(res.Detail, "rate limit"):
			t.Errorf("step %s skipped with %q; want the detail to name the rate limit", res.Name, res.Detail)
		}
	}
	if failedAt < 0 {
		t.Fatal("no failed step")
	}
	want := fmt.Sprintf("%d passed, 1 failed, %d skipped in ", failedAt, len(contract.StepNames())-failedAt-1)
	if pass != failedAt || !strings.HasPrefix(lastLine(out), want) {
		t.Errorf("last line = %q; want prefix %q", lastLine(out), want)
	}
}

// Cleanup deletes the tasks of a run that stopped half-way.
func TestCleanupAfterCancel(t *testing.T) {
	t.Parallel()
	base := startAPI(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{}
	var created bool
	rec.before = func(req *http.Request) error {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, s := range rec.seen {
			created = created || s == "POST /api/tasks 201"
		}
		if created && req.Method == http.MethodGet {
			cancel() // the run is cancelled right after it created its task
			return context.Canceled
		}
		return nil
	}
	rep, err := contract.Run(ctx, base, contract.Client(rec.client()))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text(t, rep))
	if !created {
		t.Fatal("the run created no task")
	}
	var skipped int
	for _, res := range rep.Results {
		if res.Status == contract.Skip && strings.Contains(res.Detail, "run cancelled") {
			skipped++
		}
	}
	if skipped == 0 {
		t.Error("no step skipped as cancelled")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var deleted bool
	for _, s := range rec.seen {
		deleted = deleted || strings.HasPrefix(s, "DELETE /api/tasks/") && strings.HasSuffix(s, " 200")
	}
	if !deleted {
		t.Errorf("cleanup deleted no task; requests answered: %v", rec.seen)
	}
}

// (c) A target that answers 500 everywhere fails, with details naming
// the route and the status, and skips what depends on the failures.
func TestRunAgainstBrokenServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"message":"x"}`)
	}))
	defer srv.Close()

	// Several at once: Run is safe for concurrent use (run with -race).
	reps := make([]contract.Report, 4)
	errs := make([]error, len(reps))
	var wg sync.WaitGroup
	for i := range reps {
		wg.Go(func() { reps[i], errs[i] = contract.Run(context.Background(), srv.URL) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Run error = %v; want reports", err)
	}

	for _, rep := range reps {
		if rep.Passed() {
			t.Fatal("Passed() = true against a server that answers 500")
		}
		if got, want := rep.Results[0].Detail, `GET /api/health: got 500 {"message":"x"}; want 200`; got != want {
			t.Errorf("health Detail = %q; want %q", got, want)
		}
		for _, res := range rep.Results {
			switch res.Status {
			case contract.Fail:
				if !regexp.MustCompile(`^(GET|POST|PUT|DELETE) /\S* ?.*: got 500 `).MatchString(res.Detail) {
					t.Errorf("step %s Detail = %q; want the route and the status", res.Name, res.Detail)
				}
			case contract.Skip:
				if !strings.Contains(res.Detail, "needs ") {
					t.Errorf("step %s skipped with %q; want it to name the step it needs", res.Name, res.Detail)
				}
			}
		}
		if _, fail, skip := rep.Counts(); fail == 0 || skip == 0 {
			t.Errorf("counts: %d failed, %d skipped; want both", fail, skip)
		}
	}
	t.Logf("\n%s", text(t, reps[0]))
}

// Details never quote a token or a password, and quote at most 200 bytes.
func TestDetailRedactsAndClips(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiIxIn0.c2lnbmF0dXJl"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/auth/register": // 200 instead of 201, leaking secrets
			fmt.Fprintf(w, `{"message":"User registered successfully","token":%q,"user":{"password":"hunter2"},"note":"Bearer %s"}`, jwt, jwt)
		default:
			fmt.Fprintf(w, `{"message":"%s"}`, strings.Repeat("é", 300))
		}
	}))
	defer srv.Close()
	rep := runContract(t, srv.URL)
	for _, res := range rep.Results {
		for _, secret := range []string{jwt, "hunter2", "eyJ"} {
			if strings.Contains(res.Detail, secret) {
				t.Errorf("step %s Detail quotes a secret: %q", res.Name, res.Detail)
			}
		}
		if res.Name == "register" && !strings.Contains(res.Detail, "[redacted]") {
			t.Errorf("register Detail = %q; want [redacted]", res.Detail)
		}
		if res.Name == "health" {
			_, body, _ := strings.Cut(res.Detail, "got 200 ")
			body, _, _ = strings.Cut(body, "; want")
			if len(body) > 200+len("…") || !strings.HasSuffix(body, "…") {
				t.Errorf("health quoted %d bytes %q; want at most 200 and a cut mark", len(body), body)
			}
		}
	}
}

// (d) Bad targets and options are errors, before any request.
func TestRunRejectsBadTargetAndOptions(t *testing.T) {
	ctx := context.Background()
	for _, target := range []string{"://x", "", "localhost:5000", "ftp://x", "http://", "http://x/?q=1", "http://u:p@x"} {
		if _, err := contract.Run(ctx, target); err == nil {
			t.Errorf("Run(%q) error = nil; want an error", target)
		}
	}
	for name, opt := range map[string]contract.Option{
		"Client(nil)":            contract.Client(nil),
		`EmailPrefix("")`:        contract.EmailPrefix(""),
		`EmailPrefix("a b")`:     contract.EmailPrefix("a b"),
		`EmailPrefix("x@y")`:     contract.EmailPrefix("x@y"),
		`EmailPrefix("-x")`:      contract.EmailPrefix("-x"),
		`EmailPrefix(33 chars)`:  contract.EmailPrefix(strings.Repeat("a", 33)),
		`EmailPrefix("trail.")`:  contract.EmailPrefix("trail."),
		`EmailPrefix("new\nln")`: contract.EmailPrefix("new\nln"),
	} {
		if _, err := contract.Run(ctx, "http://127.0.0.1:1", opt); err == nil {
			t.Errorf("Run with %s error = nil; want an error", name)
		}
	}
}

// The prefix shows in the registered emails; a target that refuses
// connections fails the steps that need no other, without an error.
func TestEmailPrefixAndUnreachableTarget(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		mu.Lock()
		bodies = append(bodies, b.String())
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	runContract(t, srv.URL+"/", contract.EmailPrefix("CI.Nightly"))
	mu.Lock()
	joined := strings.Join(bodies, "\n")
	mu.Unlock()
	if !regexp.MustCompile(`"email":"ci\.nightly-[0-9a-f]{8}@example\.com"`).MatchString(joined) {
		t.Errorf("request bodies = %s; want an email ci.nightly-<8 hex>@example.com", joined)
	}

	srv2 := httptest.NewServer(http.NotFoundHandler())
	addr := srv2.URL
	srv2.Close() // nothing listens there now
	rep := runContract(t, addr)
	if rep.Passed() {
		t.Fatal("Passed() = true against a closed port")
	}
	if got := rep.Results[0].Detail; !strings.HasPrefix(got, "GET /api/health: request failed: ") {
		t.Errorf("health Detail = %q; want the route and the transport error", got)
	}
}

// (e) WriteText's layout, against testdata/report.golden (-update rewrites it).
func TestWriteTextGolden(t *testing.T) {
	rep := contract.Report{
		Target:  "http://localhost:5000",
		Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Elapsed: 1234 * time.Millisecond,
		Results: []contract.Result{
			{Name: "health", Status: contract.Pass, Elapsed: 12 * time.Millisecond},
			{Name: "register", Status: contract.Pass, Elapsed: 1500 * time.Millisecond},
			{Name: "get-task", Status: contract.Fail, Elapsed: 3 * time.Millisecond,
				Detail: `GET /api/tasks/not-an-id: got 200 {"task":{}}; want 404 "Task not found"`},
			{Name: "logout", Status: contract.Skip, Detail: "skipped: needs register, which did not pass (fail)"},
		},
	}
	got := text(t, rep)
	golden.Assert(t, "report.golden", []byte(got))
	if pass, fail, skip := rep.Counts(); pass != 2 || fail != 1 || skip != 1 || rep.Passed() {
		t.Errorf("Counts() = %d, %d, %d, Passed() = %v; want 2, 1, 1, false", pass, fail, skip, rep.Passed())
	}
	if got := lastLine(got); got != "2 passed, 1 failed, 1 skipped in 1.2s" {
		t.Errorf("last line = %q", got)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[contract.Status]string{contract.Pass: "pass", contract.Fail: "fail", contract.Skip: "skip", contract.Status(9): "Status(9)"} {
		if got := s.String(); got != want {
			t.Errorf("Status(%d).String() = %q; want %q", int(s), got, want)
		}
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTextReturnsWriteError(t *testing.T) {
	if err := (contract.Report{}).WriteText(errWriter{}); err == nil {
		t.Error("WriteText to a failing writer = nil; want the error")
	}
}
