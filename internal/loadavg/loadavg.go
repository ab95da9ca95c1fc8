// Package loadavg reads the machine's load averages, which every
// measurement here prints beside its numbers: a loaded machine can halve
// a result.
package loadavg

import (
	"os"
	"strconv"
	"strings"
)

// Read returns the 1, 5 and 15 minute load averages as /proc/loadavg
// writes them; ok is false where it does not exist.
func Read() (avg [3]string, ok bool) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return avg, false
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return avg, false
	}
	copy(avg[:], f)
	return avg, true
}

// One is the one-minute load average; ok is false where it is unknown.
func One() (float64, bool) {
	avg, ok := Read()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(avg[0], 64)
	return v, err == nil
}
