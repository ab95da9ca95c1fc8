//go:build !linux

package engine

import "time"

// runQueueWait is 0 where the kernel does not say how long threads
// waited for a CPU.
func runQueueWait() time.Duration { return 0 }
