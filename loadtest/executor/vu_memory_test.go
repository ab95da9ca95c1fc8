//go:build linux

package executor_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
)

// holdServerEnv, set in a child process, makes TestHoldServer serve
// /hold instead of skipping.
const holdServerEnv = "EXECUTOR_VU_MEMORY_HOLD_SERVER"

// BenchmarkVUMemory measures what one VU costs this process at its peak:
// N VUs each in the middle of a request, on a connection of its own, to a
// server in a child process (this test binary re-executed, so none of the
// server's memory is counted) that holds every request until all N are in
// flight. It reports the growth of the Go heap and stacks in use (after a
// GC), of what the runtime got from the OS, and of the resident set, per
// VU, for the closed model (constant-vus) and the open model
// (constant-arrival-rate with N pre-allocated VUs, all made busy), and for
// the open model's idle pre-allocated VUs. executor.BytesPerVU comes from
// these numbers.
//
// VU_MEMORY_VUS (default 2000) sets N.
func BenchmarkVUMemory(b *testing.B) {
	n := 2000
	if s := os.Getenv("VU_MEMORY_VUS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("VU_MEMORY_VUS=%q: want a positive whole number", s)
		}
	}
	for _, tc := range []struct {
		name string
		sc   string
		busy bool
	}{
		{"closed-busy", fmt.Sprintf("{executor: constant-vus, vus: %d, duration: 5m, journeys: [hold]}", n), true},
		{"open-busy", fmt.Sprintf("{executor: constant-arrival-rate, rate: %d, timeUnit: 1s, duration: 5m, preAllocatedVUs: %d, maxVUs: %d, journeys: [hold]}", n, n, n), true},
		// One iteration a second: all but a few of the pre-allocated VUs
		// wait for work when the first is in flight.
		{"open-idle", fmt.Sprintf("{executor: constant-arrival-rate, rate: 1, timeUnit: 1s, duration: 5m, preAllocatedVUs: %d, journeys: [hold]}", n), false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportMetric(0, "ns/op") // one measurement, whatever b.N
			srv := startHoldServer(b)
			f, err := scenario.Parse("vu-memory.yaml", []byte(`name: vu-memory
defaults: {timeout: 2m}
scenarios:
  hold: `+tc.sc+`
journeys:
  hold:
    - name: hold
      request: {method: GET, path: /hold}
`))
			if err != nil {
				b.Fatal(err)
			}
			before := memNow()
			ctx, cancel := context.WithCancel(context.Background())
			out := make(chan []record.Sample, 2048)
			var wg sync.WaitGroup
			wg.Go(func() {
				for range out {
				}
			})
			ran := make(chan error, 1)
			go func() {
				_, err := executor.Run(ctx, executor.Config{Target: srv.url, File: f, FastHTTP: true}, f.Scenarios[0], out)
				ran <- err
			}()
			want := int64(n)
			if !tc.busy {
				want = 1
			}
			// The open model makes its pre-allocated VUs before the first
			// iteration leaves: one in flight proves the idle ones exist.
			srv.waitInFlight(b, want)
			after := memNow()
			srv.release(b)
			cancel()
			<-ran
			close(out)
			wg.Wait()

			per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
			heap, stack := per(after.heap, before.heap), per(after.stack, before.stack)
			b.ReportMetric(heap, "heap_B/VU")
			b.ReportMetric(stack, "stack_B/VU")
			b.ReportMetric(heap+stack, "go_B/VU")
			b.ReportMetric(per(after.sys, before.sys), "sys_B/VU")
			b.ReportMetric(per(after.rss, before.rss), "rss_B/VU")
			b.Logf("%s, %d VUs: heap %.0f B + stacks %.0f B = %.0f B per VU; from the OS %.0f B, resident %.0f B per VU (executor.BytesPerVU = %d)",
				tc.name, n, heap, stack, heap+stack, per(after.sys, before.sys), per(after.rss, before.rss), executor.BytesPerVU)
		})
	}
}

// mem is this process's memory at one moment, in bytes.
type mem struct{ heap, stack, sys, rss uint64 }

// memNow collects garbage first, so that the heap counts what is live.
func memNow() mem {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := mem{heap: ms.HeapInuse, stack: ms.StackInuse, sys: ms.Sys - ms.HeapReleased}
	if data, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			m.rss = pages * uint64(os.Getpagesize())
		}
	}
	return m
}

// holdServer is the child process holding requests.
type holdServer struct {
	url   string
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startHoldServer starts TestHoldServer in a child process; the child
// ends with the benchmark.
func startHoldServer(b *testing.B) *holdServer {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldServer$")
	cmd.Env = append(os.Environ(), holdServerEnv+"=1")
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
	for {
		line, err := out.ReadString('\n')
		if err != nil {
			b.Fatalf("hold server: %v", err)
		}
		if addr, ok := strings.CutPrefix(strings.TrimSpace(line), "addr "); ok {
			return &holdServer{url: "http://" + addr, stdin: stdin, out: out}
		}
	}
}

// waitInFlight returns once the server holds n requests, asking it every
// 100 ms, for at most five minutes.
func (h *holdServer) waitInFlight(b *testing.B, n int64) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if _, err := io.WriteString(h.stdin, "count\n"); err != nil {
			b.Fatalf("hold server: %v", err)
		}
		line, err := h.out.ReadString('\n')
		if err != nil {
			b.Fatalf("hold server: %v", err)
		}
		got, _ := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("hold server: %d of %d requests in flight after five minutes", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *holdServer) release(b *testing.B) {
	b.Helper()
	if _, err := io.WriteString(h.stdin, "release\n"); err != nil {
		b.Fatalf("hold server: %v", err)
	}
}

// TestHoldServer is BenchmarkVUMemory's server when the benchmark runs
// this binary as its child (holdServerEnv set); otherwise it skips. It
// prints "addr HOST:PORT", holds every GET /hold until a line "release"
// on stdin (or stdin's end), and answers a line "count" with how many
// requests it holds.
func TestHoldServer(t *testing.T) {
	if os.Getenv(holdServerEnv) != "1" {
		t.Skip("the VU memory benchmark's server, run only as its child process")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held atomic.Int64
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = w.Write([]byte("ok"))
	}), ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println("addr", ln.Addr())
	sc := bufio.NewScanner(os.Stdin)
	released := false
	for sc.Scan() {
		switch sc.Text() {
		case "count":
			fmt.Println(held.Load())
		case "release":
			if !released {
				close(release)
				released = true
			}
		}
	}
	if !released {
		close(release)
	}
	_ = srv.Close()
}
