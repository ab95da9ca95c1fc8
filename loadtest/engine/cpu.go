package engine

import (
	"runtime"
	"syscall"
	"time"
)

// cpuClock measures the process's CPU time over a span of wall time.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{start: processCPU()} }

// share is the CPU used since start as a share of all cores over wall.
func (c cpuClock) share(wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(processCPU()-c.start) / float64(wall) / float64(runtime.NumCPU())
}

// processCPU is the user and system time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
