package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/engine"
)

// BenchmarkSoakMemory runs the engine at a steady rate for SOAK_DURATION
// (default 5m30s; make bench-soak sets SOAK=1, without which it skips) against a loopback server and compares
// the process's peak RSS in the last minute with the first minute's: the
// recorder's histograms are fixed per key and the time series grows by a
// few KB per second, so memory must stay flat however long the run.
// The goal is a ratio of at most 1.10.
func BenchmarkSoakMemory(b *testing.B) {
	if os.Getenv("SOAK") != "1" {
		b.Skip("a 5-minute soak: run it with make bench-soak (SOAK=1)")
	}
	length := 5*time.Minute + 30*time.Second
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 2*time.Minute {
			b.Fatalf("SOAK_DURATION=%q: want a duration of at least 2m", v)
		}
		length = d
	}
	rate := 500
	if v := os.Getenv("SOAK_RATE"); v != "" {
		rate, _ = strconv.Atoi(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"ok":true}`)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := parse(b, fmt.Sprintf(`
name: soak-memory
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: %d
    duration: %s
    preAllocatedVUs: 50
    maxVUs: 200
    phase: steady
    journeys: [ping]
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
      check: {status: 200}
`, rate, length))

	type reading struct {
		at  time.Duration
		rss int64
	}
	var (
		mu       sync.Mutex
		readings []reading
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				mu.Lock()
				readings = append(readings, reading{now.Sub(start), rssBytes()})
				mu.Unlock()
			}
		}
	}()
	b.ResetTimer()
	res, err := engine.Run(context.Background(), f, srv.URL, engine.WithProgress(os.Stderr, time.Second))
	if err != nil {
		b.Fatal(err)
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	var first, last int64
	for _, r := range readings {
		if r.at <= time.Minute {
			first = max(first, r.rss)
		}
		if r.at >= length-time.Minute {
			last = max(last, r.rss)
		}
	}
	sum := res.Summary(engine.Meta{})
	fp := res.Recorder.Footprint()
	b.ReportMetric(float64(first)/(1<<20), "rss-first-min-MB")
	b.ReportMetric(float64(last)/(1<<20), "rss-last-min-MB")
	b.ReportMetric(float64(last)/float64(first), "rss-ratio")
	b.ReportMetric(float64(sum.Metrics["http_reqs"].Values["count"]), "requests")
	b.Logf("%s at %d/s: peak RSS first minute %.1f MB, last minute %.1f MB (ratio %.3f, goal <= 1.10); recorder %d keys %d KB, %d intervals %d KB; valid=%v",
		length, rate, float64(first)/(1<<20), float64(last)/(1<<20), float64(last)/float64(first),
		fp.Keys, fp.KeyBytes>>10, fp.Intervals, fp.IntervalBytes>>10, sum.Run.Validity.Valid)
	if first == 0 || last == 0 {
		b.Fatal("no RSS readings: /proc/self/status unreadable?")
	}
	if float64(last) > 1.10*float64(first) {
		b.Errorf("peak RSS grew from %d to %d bytes (ratio %.3f > 1.10)", first, last, float64(last)/float64(first))
	}
}

// rssBytes reads the process's resident set size.
func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
