package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// runQueueWait is how long the process's live threads have waited on a
// run queue, summed: the second field of each thread's schedstat
// ("time spent waiting on a runqueue", in ns). It is 0 when the kernel
// keeps no schedstat.
func runQueueWait() time.Duration {
	paths, _ := filepath.Glob("/proc/self/task/*/schedstat")
	var total time.Duration
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		fields := bytes.Fields(b)
		if len(fields) < 2 {
			continue
		}
		if ns, err := strconv.ParseInt(string(fields[1]), 10, 64); err == nil {
			total += time.Duration(ns)
		}
	}
	return total
}
