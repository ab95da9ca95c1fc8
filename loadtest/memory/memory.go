// Package memory tells how much memory this process may still take: what
// the kernel reports as available, or what its control group's limit
// leaves when that is less. The harness refuses a scenario whose virtual
// users could not fit before it starts them, rather than running out of
// memory minutes into the run.
package memory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrUnknown is returned by Read where the available memory cannot be
// told (another operating system, or no /proc): callers then check
// nothing rather than guess.
var ErrUnknown = errors.New("memory: available memory unknown on this system")

// Available is how much memory this process may still take.
type Available struct {
	// Bytes is the memory left.
	Bytes uint64
	// Source says where the number came from, for messages: "MemAvailable
	// in /proc/meminfo" or the control group's limit file.
	Source string
}

// String is the amount and its source, as messages quote it.
func (a Available) String() string { return Size(a.Bytes) + " available (" + a.Source + ")" }

// Read returns the memory available to this process: the smaller of the
// kernel's MemAvailable and, under a cgroup memory limit, the limit less
// what the group uses (its reclaimable page cache counted as free).
func Read() (Available, error) { return ReadFS(os.DirFS("/")) }

// ReadFS is Read on a file system rooted where / would be (tests give it
// a copy of /proc and /sys).
func ReadFS(root fs.FS) (Available, error) { return read(root) }

// Size formats n bytes in binary units, three significant digits at most:
// 512 B, 128 KiB, 6.1 TiB.
func Size(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	for v >= unit && i < 6 {
		v /= unit
		i++
	}
	prefix := "KMGTPE"[i-1 : i]
	if v < 10 && v != float64(int64(v)) {
		return fmt.Sprintf("%.1f %siB", v, prefix)
	}
	return fmt.Sprintf("%.0f %siB", v, prefix)
}
