package clock_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/clock"
)

// clocks are the clocks under test: what New gives on this platform
// and the portable one.
func clocks() []struct {
	name string
	new  func() clock.Clock
} {
	return []struct {
		name string
		new  func() clock.Clock
	}{
		{"New", clock.New},
		{"Timer", func() clock.Clock { return clock.NewTimer() }},
	}
}

func newClock(t *testing.T, mk func() clock.Clock) clock.Clock {
	t.Helper()
	c := mk()
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// Timing is asserted only where it is a guarantee: a clock never returns
// before its moment. How late it returns depends on the machine and
// belongs to BenchmarkClockLateness.
func TestClockNeverEarly(t *testing.T) {
	for _, tc := range clocks() {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t, tc.new)
			ctx := context.Background()
			start := time.Now()
			for i := 1; i <= 50; i++ {
				at := start.Add(time.Duration(i) * 200 * time.Microsecond)
				if err := c.Wait(ctx, at); err != nil {
					t.Fatalf("Wait %d: %v", i, err)
				}
				if now := time.Now(); now.Before(at) {
					t.Fatalf("Wait %d returned %s early", i, at.Sub(now))
				}
			}
		})
	}
}

func TestClockPastMomentReturnsAtOnce(t *testing.T) {
	for _, tc := range clocks() {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t, tc.new)
			if err := c.Wait(context.Background(), time.Now().Add(-time.Hour)); err != nil {
				t.Fatalf("Wait in the past: %v", err)
			}
		})
	}
}

func TestClockStopsWithContext(t *testing.T) {
	for _, tc := range clocks() {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t, tc.new)

			done, cancel := context.WithCancel(context.Background())
			cancel()
			if err := c.Wait(done, time.Now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait on a done context = %v, want context.Canceled", err)
			}

			// Cancelled while waiting: Wait returns the context's error
			// rather than waiting out the hour.
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- c.Wait(ctx, time.Now().Add(time.Hour)) }()
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Wait = %v, want context.Canceled", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("Wait did not return after its context was cancelled")
			}

			// A later context is not cut short by the earlier one's end.
			at := time.Now().Add(2 * time.Millisecond)
			if err := c.Wait(context.Background(), at); err != nil {
				t.Fatalf("Wait after a cancelled one: %v", err)
			}
			if time.Now().Before(at) {
				t.Fatal("Wait after a cancelled one returned early")
			}
		})
	}
}

func TestClockDeadline(t *testing.T) {
	for _, tc := range clocks() {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t, tc.new)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			defer cancel()
			if err := c.Wait(ctx, time.Now().Add(time.Hour)); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait = %v, want context.DeadlineExceeded", err)
			}
		})
	}
}

// BenchmarkClockLateness waits for a schedule of one moment every
// BENCH interval and reports how late each clock returned (p50, p99) and
// the process CPU per wait: the evidence for clock.Clock. On an idle Linux
// process the timer's median is most of a millisecond late at sub-
// millisecond intervals; New's is tens of microseconds.
func BenchmarkClockLateness(b *testing.B) {
	for _, every := range []time.Duration{time.Millisecond, 200 * time.Microsecond} {
		for _, tc := range clocks() {
			b.Run(fmt.Sprintf("%s/every=%s", tc.name, every), func(b *testing.B) {
				c := tc.new()
				defer c.Close()
				late := make([]time.Duration, 0, b.N)
				ctx := context.Background()
				cpu0 := cpuTime()
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					at := start.Add(time.Duration(i+1) * every)
					if err := c.Wait(ctx, at); err != nil {
						b.Fatal(err)
					}
					late = append(late, time.Since(at))
				}
				b.StopTimer()
				cpu := cpuTime() - cpu0
				slices.Sort(late)
				q := func(p float64) float64 {
					return float64(late[int(p*float64(len(late)-1))]) / float64(time.Microsecond)
				}
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(q(0.50), "p50_late_µs")
				b.ReportMetric(q(0.99), "p99_late_µs")
				b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu_µs/wait")
			})
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
