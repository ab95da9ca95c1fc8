package engine

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBusyMachineNote(t *testing.T) {
	for _, tt := range []struct {
		name         string
		used, waited float64
		want         string
	}{
		{"quiet", 0.8, 0.02, ""},
		{"busy but running more than waiting", 1.0, 0.3, ""},
		{"starved", 0.24, 1.1, "the harness waited 11.0s for a CPU and ran 2.4s: other work on this machine held it back"},
		{"too short a wait to matter", 0.01, 0.05, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := busyMachine(tt.used, tt.waited, 10*time.Second)
			if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
				t.Errorf("busyMachine(%v, %v) = %q; want %q", tt.used, tt.waited, got, tt.want)
			}
		})
	}
}

// TestRunQueueWaitSeesContention runs two more spinning threads than the
// machine has cores for 300ms: some thread is always waiting, so the
// process must have waited well over 300ms in all (ideally 600ms),
// however busy the machine is otherwise.
func TestRunQueueWaitSeesContention(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("run-queue wait is read from Linux's schedstat")
	}
	if _, err := os.Stat("/proc/self/schedstat"); err != nil {
		t.Skip("this kernel keeps no schedstat")
	}
	threads := runtime.NumCPU() + 2
	prev := runtime.GOMAXPROCS(threads)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	c := startCPU()
	begin := time.Now()
	var wg sync.WaitGroup
	for range threads {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for time.Since(begin) < 300*time.Millisecond {
			}
		})
	}
	wg.Wait()
	wall := time.Since(begin)
	if w := c.waited(wall) * wall.Seconds(); w < 0.3 {
		t.Errorf("waited %.3fs with %d threads spinning on %d cores for %s; want at least 0.3s", w, threads, runtime.NumCPU(), wall)
	}
}
