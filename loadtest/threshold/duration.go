package threshold

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseDuration reads a Go duration, optionally preceded by k6's days
// ("1d", "1d12h"). Unlike k6 it refuses a bare number, which k6 reads as
// milliseconds and people usually mean as seconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	orig := s
	if s == "" {
		return 0, fmt.Errorf("empty duration; write one such as \"10s\"")
	}
	if end, badExp := scanNumber(s, 0); end == len(s) && !badExp {
		return 0, fmt.Errorf("%q has no unit; write \"%ss\" for seconds (k6 would read it as milliseconds)", s, s)
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || n > math.MaxInt64/uint64(24*time.Hour) {
			return 0, fmt.Errorf("%q is not a duration such as \"10s\", \"1m30s\" or \"1d\"", orig)
		}
		days = time.Duration(n) * 24 * time.Hour
		if s = s[i+1:]; s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"10s\", \"1m30s\" or \"1d\"", orig)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", orig)
	}
	if d > math.MaxInt64-days {
		return 0, fmt.Errorf("duration is out of range")
	}
	return days + d, nil
}
