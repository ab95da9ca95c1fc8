package readiness

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// ParseDuration parses a Go duration ("8760h", "90m") or a number of days
// with a "d" suffix ("30d", "1.5d"), optionally followed by a Go duration
// ("1d12h"): policies speak in days, and Go durations have no day unit.
// Negative durations are refused, since no threshold is negative.
func ParseDuration(s string) (time.Duration, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if strings.HasPrefix(s, "-") {
		return 0, errors.New("negative duration " + strconv.Quote(in))
	}
	i := strings.IndexByte(s, 'd')
	if i < 0 {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("invalid duration " + strconv.Quote(in) + `: want a Go duration ("8760h", "90m") or days ("30d")`)
		}
		return d, nil
	}
	days, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || days < 0 || math.IsNaN(days) || math.IsInf(days, 0) || strings.ContainsAny(s[:i], "eExXpP_") {
		return 0, errors.New("invalid duration " + strconv.Quote(in) + `: want a number of days before "d" ("30d", "1.5d")`)
	}
	if days*float64(day) > math.MaxInt64/2 {
		return 0, errors.New("duration " + strconv.Quote(in) + " is too long")
	}
	d := time.Duration(days * float64(day))
	if rest := s[i+1:]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, errors.New("invalid duration " + strconv.Quote(in) + `: what follows the days must be a Go duration ("1d12h")`)
		}
		d += r
	}
	return d, nil
}

// FormatDuration writes d the way a policy would: whole days as "30d",
// anything else as Go prints it.
func FormatDuration(d time.Duration) string {
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}
