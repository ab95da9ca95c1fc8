// Package segment splits a scenario file's load into N execution segments, as k6's execution segments do, so N workers together make exactly the whole load.
//
// Worker I of N (0-based) runs executor.Segment(file, Segment{I, N}): the
// same scenarios, journeys and phases with 1/N of the load each, every
// scenario split by its executor (executor.Schedule.Share) as follows.
//
// Arrival rates are whole numbers of iterations per timeUnit in the
// scenario model, so a segment keeps every rate (rate, startRate and the
// stages' targets) and multiplies the timeUnit by N instead: the rate per
// second is exactly 1/N of the whole's at every instant of the schedule,
// with no rounding. Each worker's schedule also starts i/N of the whole's
// gap between iterations (at its peak rate) later than segment 0's, so the
// workers' iterations interleave as the whole's would instead of all N
// leaving together.
//
// For constant-arrival-rate the total is exact: the whole sends M
// iterations over its duration, and segment i's duration is trimmed or
// stretched (by less than one of its own gaps) so that it sends
// ceil((M-i)/N) of them; the N segments send the whole's M iterations on
// the whole's grid, shifted by at most N-1 gaps. For ramping-arrival-rate
// the pacer sends floor(area/N) iterations per segment, so the N segments
// may together send up to N-1 iterations fewer than the whole when its
// area is not a multiple of N.
//
// Virtual users are split so that the segments' counts sum to the whole's:
// segment i gets floor(v*(i+1)/N) - floor(v*i/N) of v. preAllocatedVUs
// and maxVUs are at least 1 on every segment of an arrival-rate scenario
// with a rate, as in k6, so their sum may exceed the whole's when v < N.
// The VUs of constant-vus and per-vu-iterations scenarios and the
// startVUs and stage targets of ramping-vus split the same way; a segment
// may get 0 VUs, and that scenario then does nothing on that worker (the
// executor runs a scenario of 0 VUs as no iterations; the scenario file
// loader never produces one). A ramping-vus segment's VU count is exact at
// every stage boundary; in between, each segment truncates its own linear
// ramp, so the sum may lag the whole's by a few VUs.
package segment

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxCount is the largest number of segments Parse accepts: more workers
// than this would each get too little load to measure.
const MaxCount = 1000

// ErrSyntax is wrapped by every error Parse returns, so a command line can
// report a usage error.
var ErrSyntax = errors.New("segment: want I/N with 0 <= I < N <= 1000")

// Segment is the share of the load that worker Index (0-based) of Count
// makes.
type Segment struct{ Index, Count int }

// Parse reads "I/N": segment I (0-based) of N.
func Parse(s string) (Segment, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Segment{}, fmt.Errorf("%w: %q has no '/' (e.g. 0/4 for the first of 4 workers)", ErrSyntax, s)
	}
	i, err := whole(is)
	if err != nil {
		return Segment{}, fmt.Errorf("%w: %q: index: %v", ErrSyntax, s, err)
	}
	n, err := whole(ns)
	if err != nil {
		return Segment{}, fmt.Errorf("%w: %q: count: %v", ErrSyntax, s, err)
	}
	seg := Segment{Index: i, Count: n}
	if err := seg.Validate(); err != nil {
		return Segment{}, fmt.Errorf("%q: %w", s, err)
	}
	return seg, nil
}

// whole parses a plain decimal number: no sign, space or base prefix,
// which strconv.Atoi would accept in part, so "+1/4" is refused.
func whole(s string) (int, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	if len(s) > 4 { // MaxCount has 4 digits; longer only overflows later
		return 0, fmt.Errorf("%q is too large", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a whole number", s)
		}
	}
	return strconv.Atoi(s)
}

// Validate reports whether s is a segment of a valid split.
func (s Segment) Validate() error {
	switch {
	case s.Count < 1 || s.Count > MaxCount:
		return fmt.Errorf("%w: count %d is not within 1 to %d", ErrSyntax, s.Count, MaxCount)
	case s.Index < 0 || s.Index >= s.Count:
		return fmt.Errorf("%w: index %d is not within 0 to %d (indexes are 0-based)", ErrSyntax, s.Index, s.Count-1)
	}
	return nil
}

// String returns "I/N", which Parse reads back.
func (s Segment) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Share is this segment's part of v whole units: floor(v*(i+1)/N) -
// floor(v*i/N), so the N segments' shares sum to v and differ by at most
// one.
func (s Segment) Share(v int) int {
	if v <= 0 {
		return v
	}
	return int(int64(v)*int64(s.Index+1)/int64(s.Count) - int64(v)*int64(s.Index)/int64(s.Count))
}

// ShareAtLeastOne is Share(v), but 1 rather than 0 when v is positive:
// an arrival-rate segment with a rate needs a VU to run its iterations on.
func (s Segment) ShareAtLeastOne(v int) int {
	if v <= 0 {
		return v
	}
	return max(s.Share(v), 1)
}
