//go:build unix

package executor_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
)

// BenchmarkEngineVsWrk compares the executor's closed-model throughput
// with wrk's against the same loopback /ping server, and then checks how
// close the open model comes to its target rate at half that throughput.
// It is the quick look while changing the executor: seconds, one peer, a
// server of our own. The figures to quote come from `make bench-engine`
// (package bench): nginx as the target, bombardier, vegeta and k6 beside
// wrk, medians, quiet and crowded.
//
// The server runs in a child process (this test binary re-executed), so
// wrk and the engine face the same server under the same conditions: an
// in-process server would share the engine's Go scheduler and GC but not
// wrk's. wrk (one thread) and the engine take turns, never at once, with
// the same connection count (VUs) and duration, for a few rounds: a
// shared or virtual machine's speed drifts over seconds, and alternating
// lets both sides see the same drift. The ratio is of the mean rates.
//
// ENGINE_BENCH_VUS (default 50), ENGINE_BENCH_DURATION (per turn, default
// 2s) and ENGINE_BENCH_ROUNDS (default 3) change the load; the open model
// runs for rounds × duration. REQUIRE_WRK=1 turns a missing wrk into a
// failure.
func BenchmarkEngineVsWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		const hint = "wrk not found: apt-get install wrk (or make bench-engine)"
		if os.Getenv("REQUIRE_WRK") == "1" {
			b.Fatal(hint)
		}
		b.Skip(hint)
	}
	vus := envInt(b, "ENGINE_BENCH_VUS", 50)
	d := envDuration(b, "ENGINE_BENCH_DURATION", 2*time.Second)
	rounds := envInt(b, "ENGINE_BENCH_ROUNDS", 3)
	srv := startPingServer(b)
	target := srv.url

	for _, v := range benchVariants(vus) {
		b.Run(v.name, func(b *testing.B) {
			// One measurement, however large b.N: ns/op would only time
			// the fixed durations, so it is hidden.
			b.ReportMetric(0, "ns/op")
			cfg := executor.Config{Target: target, File: pingFile(b, vus, d, 0), Client: v.client, FastHTTP: v.fast}
			var wrkRPS, engineRPS, wrkReqs, engineReqs float64
			var wrkCPU, engineCPU, srvWrk, srvEngine time.Duration
			for range rounds {
				srv0 := srv.cpu(b)
				w := runWrk(b, wrk, target, vus, d)
				srv1 := srv.cpu(b)
				closed := runEngine(b, cfg, "closed")
				srv2 := srv.cpu(b)
				checkClean(b, "closed", closed)
				n := float64(closed.snap.Total.Count)
				wrkRPS += w.rps / float64(rounds)
				engineRPS += n / closed.elapsed.Seconds() / float64(rounds)
				wrkReqs, engineReqs = wrkReqs+w.requests, engineReqs+n
				wrkCPU, engineCPU = wrkCPU+w.cpu, engineCPU+closed.cpu
				srvWrk, srvEngine = srvWrk+srv1-srv0, srvEngine+srv2-srv1
			}

			rate := int(math.Round(engineRPS / 2))
			cfg.File = pingFile(b, vus, time.Duration(rounds)*d, rate)
			open := runEngine(b, cfg, "open")
			checkClean(b, "open", open)
			// Stats.RPS times the requests' actual starts, so an engine
			// that fell behind its schedule shows a lower rate; the count
			// check catches what the start times alone would not:
			// iterations dropped or failed.
			achieved := open.snap.Total.RPS
			rateErr := math.Abs(achieved-float64(rate)) / float64(rate) * 100
			ok := open.snap.Total.Count - open.snap.Total.Failures
			want := scheduled(b, cfg.File.Scenarios[0])
			countErr := math.Abs(float64(ok-want)) / float64(want) * 100

			b.ReportMetric(wrkRPS, "wrk_rps")
			b.ReportMetric(engineRPS, "engine_rps")
			b.ReportMetric(engineRPS/wrkRPS, "ratio")
			b.ReportMetric(float64(rate), "open_target_rps")
			b.ReportMetric(achieved, "open_achieved_rps")
			b.ReportMetric(rateErr, "rate_err_%")
			b.ReportMetric(countErr, "count_err_%")
			b.ReportMetric(float64(open.c.Dropped), "dropped")
			// CPU per request says how efficient each side was, which the
			// throughputs alone hide when something else loads the machine.
			us := func(d time.Duration, reqs float64) float64 { return float64(d) / float64(time.Microsecond) / reqs }
			b.ReportMetric(us(wrkCPU, wrkReqs), "wrk_cpu_us/req")
			b.ReportMetric(us(engineCPU, engineReqs), "engine_cpu_us/req")
			b.ReportMetric(us(srvWrk, wrkReqs), "srv_cpu_us/wrk_req")
			b.ReportMetric(us(srvEngine, engineReqs), "srv_cpu_us/engine_req")
			b.Logf("%s: engine %.0f req/s, wrk %.0f req/s: ratio %.2f (goal >= 0.80); open model at %d/s: achieved %.0f/s, error %.2f%% (goal <= 1%%), %d dropped",
				v.name, engineRPS, wrkRPS, engineRPS/wrkRPS, rate, achieved, rateErr, open.c.Dropped)
		})
	}
}

// variant is one way of sending the engine's requests.
type variant struct {
	name   string
	client *http.Client
	fast   bool // Config.FastHTTP
}

// benchVariants are the fasthttp transport (through Config.FastHTTP, as a
// run would ask for it), net/http tuned for the VU count, and
// executor.Config's nil Client: http.DefaultClient, which keeps two idle
// connections per host, so the other VUs open one per request. That one
// runs last: the tens of thousands of sockets it leaves in TIME_WAIT
// slow every later connect() for a minute.
func benchVariants(vus int) []variant {
	tuned := http.DefaultTransport.(*http.Transport).Clone()
	tuned.MaxIdleConnsPerHost = openMaxVUs * vus // keep every VU's connection, open model included
	tuned.DisableCompression = true
	return []variant{
		{name: "fasthttp", fast: true},
		{name: "net-http-tuned", client: &http.Client{Transport: tuned}},
		{name: "net-http-default"},
	}
}

// openMaxVUs is how many times vus the open model may grow to. A
// constant-arrival-rate scenario sized with no headroom drops the
// iterations due while a GC pause or a late wake-up holds every VU, which
// says more about the sizing than about the executor keeping its
// schedule; k6 advises headroom the same way. Dropped iterations are
// still reported, and count in the error.
const openMaxVUs = 4

// pingFile is a scenario file with one scenario of one single-step journey
// (GET /ping, no think time): constant-vus for rate 0, else
// constant-arrival-rate at rate per second with vus pre-allocated VUs.
func pingFile(b *testing.B, vus int, d time.Duration, rate int) *scenario.File {
	b.Helper()
	sc := fmt.Sprintf("{executor: constant-vus, vus: %d, duration: %s, phase: steady, journeys: [ping]}", vus, d)
	if rate > 0 {
		sc = fmt.Sprintf("{executor: constant-arrival-rate, rate: %d, timeUnit: 1s, duration: %s, preAllocatedVUs: %d, maxVUs: %d, phase: steady, journeys: [ping]}",
			rate, d, vus, openMaxVUs*vus)
	}
	src := `name: engine-bench
users: {prefix: bench, count: 100, password: pw}
defaults: {timeout: 10s, think: 0s}
scenarios:
  ping: ` + sc + `
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
      check: {status: 200}
`
	f, err := scenario.Parse("engine-bench.yaml", []byte(src))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

type engineRun struct {
	snap    record.Snapshot
	c       executor.Counters
	elapsed time.Duration // Run's wall time, in-flight iterations included
	cpu     time.Duration // this process's CPU time over Run
}

// runEngine runs cfg's only scenario with one goroutine draining the
// samples into a Recorder, as loadtest/engine does (same channel buffer,
// a cancellable run context).
func runEngine(b *testing.B, cfg executor.Config, what string) engineRun {
	b.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	out := make(chan []record.Sample, 2048)
	start := time.Now()
	rec := record.MustNew(start)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := range out {
			for _, s := range batch {
				rec.Add(s)
			}
		}
	}()
	cpu0 := cpuTime(syscall.RUSAGE_SELF)
	c, err := executor.Run(ctx, cfg, cfg.File.Scenarios[0], out)
	elapsed := time.Since(start)
	close(out)
	<-done
	cpu := cpuTime(syscall.RUSAGE_SELF) - cpu0
	if err != nil {
		b.Fatalf("%s: %v", what, err)
	}
	return engineRun{snap: rec.Snapshot(), c: c, elapsed: elapsed, cpu: cpu}
}

func checkClean(b *testing.B, what string, r engineRun) {
	b.Helper()
	if t := r.snap.Total; t.Failures > 0 || t.Count == 0 {
		b.Errorf("%s: %d of %d requests failed (statuses %v)", what, t.Failures, t.Count, t.Statuses)
	}
}

var (
	wrkRPSLine      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkRequestsLine = regexp.MustCompile(`(?m)^\s*([0-9]+) requests in `)
)

type wrkRun struct {
	rps, requests float64
	cpu           time.Duration // wrk's CPU time
}

// runWrk runs wrk on one thread with vus connections for d.
func runWrk(b *testing.B, wrk, target string, vus int, d time.Duration) wrkRun {
	b.Helper()
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.Command(wrk, "-t1", "-c"+strconv.Itoa(vus), "-d"+strconv.Itoa(secs)+"s", "--latency", target+"/ping")
	outb, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, outb)
	}
	out := string(outb)
	if strings.Contains(out, "Non-2xx") || strings.Contains(out, "Socket errors") {
		b.Errorf("wrk saw errors:\n%s", out)
	}
	m, n := wrkRPSLine.FindStringSubmatch(out), wrkRequestsLine.FindStringSubmatch(out)
	if m == nil || n == nil {
		b.Fatalf("wrk: no Requests/sec or request count in\n%s", out)
	}
	rps, err1 := strconv.ParseFloat(m[1], 64)
	reqs, err2 := strconv.ParseFloat(n[1], 64)
	if err := errors.Join(err1, err2); err != nil {
		b.Fatalf("wrk: %v", err)
	}
	return wrkRun{rps: rps, requests: reqs, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
}

// pingServerEnv, set in a child process, makes TestMain serve /ping
// instead of running tests.
const pingServerEnv = "ENGINE_BENCH_PING_SERVER"

// TestMain serves /ping when the benchmark re-executes the test binary as
// its server; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if os.Getenv(pingServerEnv) == "1" {
		servePing()
		return
	}
	os.Exit(m.Run())
}

// servePing answers GET /ping on 127.0.0.1, printing the address on
// stdout, until stdin closes (the parent exited or is done with it). A
// line "cpu" on stdin is answered with the process's CPU time so far, in
// nanoseconds, so the parent can tell how busy the server was.
func servePing() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	body := []byte("pong")
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if string(ctx.Path()) != "/ping" || !ctx.IsGet() {
				ctx.Error("not found", fasthttp.StatusNotFound)
				return
			}
			ctx.SetContentType("text/plain")
			ctx.SetBody(body)
		},
		NoDefaultServerHeader: true,
	}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() { // until EOF
		if sc.Text() == "cpu" {
			fmt.Println(int64(cpuTime(syscall.RUSAGE_SELF)))
		}
	}
	_ = srv.Shutdown()
}

// cpuTime is the user and system CPU time of who (RUSAGE_SELF or
// RUSAGE_CHILDREN).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pingServer is the child process serving /ping.
type pingServer struct {
	url   string
	stdin io.Writer
	out   *bufio.Reader
}

// cpu asks the server for its CPU time so far.
func (p *pingServer) cpu(b *testing.B) time.Duration {
	b.Helper()
	if _, err := io.WriteString(p.stdin, "cpu\n"); err != nil {
		b.Fatalf("ping server: %v", err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		b.Fatalf("ping server: %v", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		b.Fatalf("ping server: %q: %v", line, err)
	}
	return time.Duration(ns)
}

// startPingServer starts the /ping server in a child process; the child
// ends with the benchmark.
func startPingServer(b *testing.B) *pingServer {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pingServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	out := bufio.NewReader(stdout)
	addr, err := out.ReadString('\n')
	if err != nil {
		b.Fatalf("ping server: %v", err)
	}
	return &pingServer{url: "http://" + strings.TrimSpace(addr), stdin: stdin, out: out}
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive whole number", name, s)
	}
	return n
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second {
		b.Fatalf("%s=%q: want a duration of at least 1s", name, s)
	}
	return d
}
