package bench

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkArgs are wrk's arguments for conns connections for d (whole seconds:
// wrk counts in them) against url.
func wrkArgs(threads, conns int, d time.Duration, url string) []string {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	return []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(secs) + "s", "--latency", url}
}

var (
	wrkRequests  = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+\w+),`)
	wrkRPS       = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkSocket    = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx    = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkLatencyAt = regexp.MustCompile(`(?m)^\s*(50|99)%\s+([0-9.]+[a-z]+)`)
)

// parseWrk reads wrk's text report (with --latency). Socket errors and
// non-2xx responses count as errors; wrk's requests include the non-2xx.
func parseWrk(out string) (turn, error) {
	m := wrkRequests.FindStringSubmatch(out)
	r := wrkRPS.FindStringSubmatch(out)
	if m == nil || r == nil {
		return turn{}, fmt.Errorf("wrk: no request count or Requests/sec in its output: %q", clip(out))
	}
	var t turn
	var err error
	t.requests, err = strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return turn{}, fmt.Errorf("wrk: request count %q: %w", m[1], err)
	}
	if t.rps, err = strconv.ParseFloat(r[1], 64); err != nil {
		return turn{}, fmt.Errorf("wrk: Requests/sec %q: %w", r[1], err)
	}
	if s := wrkSocket.FindStringSubmatch(out); s != nil {
		for _, n := range s[1:] {
			v, _ := strconv.ParseInt(n, 10, 64) // \d+: only overflow fails
			t.errors += v
		}
	}
	if s := wrkNon2xx.FindStringSubmatch(out); s != nil {
		v, _ := strconv.ParseInt(s[1], 10, 64)
		t.errors += v
	}
	for _, l := range wrkLatencyAt.FindAllStringSubmatch(out, -1) {
		d, err := parseWrkDuration(l[2])
		if err != nil {
			return turn{}, fmt.Errorf("wrk: latency %s%%: %w", l[1], err)
		}
		if l[1] == "50" {
			t.p50 = d
		} else {
			t.p99 = d
		}
	}
	return t, nil
}

// parseWrkDuration reads a duration as wrk prints one: "837.00us",
// "2.67ms", "1.02s", "1.50m", "1.00h".
func parseWrkDuration(s string) (time.Duration, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("duration %q: want a number and a unit", s)
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	unit, ok := wrkUnits[s[i:]]
	if !ok {
		return 0, fmt.Errorf("duration %q: unknown unit %q", s, s[i:])
	}
	return time.Duration(v * float64(unit)), nil
}

var wrkUnits = map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}

// clip shortens a tool's output for an error message.
func clip(s string) string {
	const n = 400
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
