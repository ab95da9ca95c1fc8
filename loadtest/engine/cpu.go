package engine

import (
	"runtime"
	"syscall"
	"time"
)

// cpuClock measures the process's CPU time over a span of wall time, and
// how long its threads waited for a CPU.
type cpuClock struct{ start, wait time.Duration }

func startCPU() cpuClock { return cpuClock{start: processCPU(), wait: runQueueWait()} }

// share is the CPU used since start as a share of all cores over wall.
func (c cpuClock) share(wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(processCPU()-c.start) / float64(wall) / float64(runtime.NumCPU())
}

// waited is how long the process's threads were runnable but not running
// since start, summed over threads, as a fraction of wall. A thread that
// ended meanwhile takes its wait with it, so this errs low.
func (c cpuClock) waited(wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(max(runQueueWait()-c.wait, 0)) / float64(wall)
}

// processCPU is the user and system time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
