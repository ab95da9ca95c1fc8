package pace

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Stage moves a Ramping pacer's rate linearly from the previous target
// (or Start, for the first stage) to Target over Duration.
type Stage struct {
	Duration time.Duration
	Target   float64 // iterations per TimeUnit at the end of the stage
}

// Ramping is k6's ramping-arrival-rate executor as a vegeta Pacer: the
// rate starts at Start and moves linearly to each stage's Target over the
// stage's Duration, so the rate is a piecewise-linear function of time.
// The attack stops at the end of the last stage.
//
//	rate
//	  50 -|         ,------------------------.
//	      |       ,'                          \
//	      |     ,'                             \
//	      |   ,'                                \         ,'
//	   5 -| ,'                                   \      ,'
//	   0 -+------------------------------------------------------> t
//	      |<- stage 1 ->|<------ stage 2 ------>|<-3->|<-- 4 -->|
//	          5→50            50 for 3m0s       50→0  0 →...
//
// Within stage i, which begins at a_i with rate r_i and lasts d_i, ending
// at rate r_{i+1}, the rate at t = a_i + x (0 ≤ x ≤ d_i) is
//
//	R(t) = r_i + 2k_i·x        where k_i = (r_{i+1} - r_i) / 2d_i
//
// and the number of hits due by t is the area under the rate curve:
//
//	H(t) = C_i + r_i·x + k_i·x²
//
// where C_i = Σ_{j<i} (r_j + r_{j+1})·d_j/2 is the area of the earlier
// stages (trapezoids). Given n hits already sent, Pace solves H(t) = n+1
// for the next hit's time t: it finds the first stage with C_{i+1} ≥ n+1
// and, with h = n+1 - C_i, the root of k_i·x² + r_i·x - h = 0 in [0, d_i]:
//
//	x = h / r_i                                 when k_i = 0
//	x = 2h / (r_i + √(r_i² + 4k_i·h))           otherwise
//
// The second form is the usual quadratic root rearranged so that it holds
// for falling rates (k_i < 0) and for a stage that starts at rate 0
// (x = √(h/k_i)) without cancellation. Stages whose area is 0 (a rate of
// 0 held for a while) are never chosen, so a gap at rate 0 makes Pace
// wait until the rate becomes positive again. When n+1 exceeds the whole
// area (the run ends, or ends at rate 0) Pace reports stop, so the hits
// over a run are ⌊H(end)⌋: the area under the curve, rounded down. Past
// the end Pace stops even if an attacker that fell behind still owes hits:
// those are dropped iterations, not late ones.
//
// Rates are iterations per TimeUnit (time.Second when zero). A negative
// or non-finite rate, a negative duration or a negative TimeUnit is an
// invalid configuration: Pace stops at once, as vegeta's pacers do.
type Ramping struct {
	Start    float64       // iterations per TimeUnit at the start
	TimeUnit time.Duration // the unit of Start and targets; zero means time.Second
	Stages   []Stage
}

// Ramping satisfies the Pacer interface.
var _ vegeta.Pacer = Ramping{}

// String returns a description of the schedule:
//
//	Ramping{Start: 5, Stages: []Stage{{30 * time.Second, 50}, {3 * time.Minute, 50}, {30 * time.Second, 0}}}
//	=> Ramping{5→50 over 30s, 50 for 3m0s, 50→0 over 30s}
//
// A TimeUnit other than a second is appended: Ramping{0→60 over 1m0s per 1m0s}.
func (rp Ramping) String() string {
	var b strings.Builder
	b.WriteString("Ramping{")
	from := rp.Start
	for i, st := range rp.Stages {
		if i > 0 {
			b.WriteString(", ")
		}
		if st.Target == from {
			fmt.Fprintf(&b, "%s for %s", num(from), st.Duration)
		} else {
			fmt.Fprintf(&b, "%s→%s over %s", num(from), num(st.Target), st.Duration)
		}
		from = st.Target
	}
	if u := rp.unit(); u != time.Second {
		fmt.Fprintf(&b, " per %s", u)
	}
	b.WriteString("}")
	return b.String()
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Duration is the length of the schedule: the sum of the stages' durations.
func (rp Ramping) Duration() time.Duration {
	var d time.Duration
	for _, st := range rp.Stages {
		d += st.Duration
	}
	return d
}

// Hits returns the number of hits due by elapsed: the area under the rate
// curve from 0 to elapsed (H above). It is fractional; the attack sends
// ⌊Hits(elapsed)⌋ hits by elapsed.
func (rp Ramping) Hits(elapsed time.Duration) float64 {
	if rp.invalid() || elapsed <= 0 {
		return 0
	}
	per := float64(rp.unit())
	var c float64
	from, at := rp.Start/per, time.Duration(0)
	for _, st := range rp.Stages {
		to := st.Target / per
		if elapsed < at+st.Duration {
			x := float64(elapsed - at)
			k := (to - from) / (2 * float64(st.Duration))
			return c + from*x + k*x*x
		}
		c += (from + to) * float64(st.Duration) / 2
		from, at = to, at+st.Duration
	}
	return c
}

// Pace determines the length of time to sleep until the next hit is sent.
func (rp Ramping) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if rp.invalid() || elapsed > rp.Duration() {
		// Hits still due after the end are dropped, not sent late.
		return 0, true
	}
	per := float64(rp.unit())
	want := float64(hits) + 1 // solve H(t) = want
	var c float64
	from, at := rp.Start/per, time.Duration(0)
	for _, st := range rp.Stages {
		to := st.Target / per
		d := float64(st.Duration)
		area := (from + to) * d / 2
		// The tolerance keeps float rounding of an integral area (300.0
		// computed as 299.99999999) from dropping the last hit.
		if c+area >= want-tolerance(want) {
			h := want - c
			var x float64
			switch k := (to - from) / (2 * d); {
			case h <= 0 || d == 0:
				x = 0
			case k == 0:
				x = h / from
			default:
				x = 2 * h / (from + math.Sqrt(math.Max(0, from*from+4*k*h)))
			}
			x = math.Min(math.Max(x, 0), d)
			next := at + time.Duration(math.Ceil(x))
			if next <= elapsed {
				return 0, false // running behind: send now
			}
			return next - elapsed, false
		}
		c += area
		from, at = to, at+st.Duration
	}
	return 0, true // the next hit would come after the end
}

// tolerance is the slack allowed when comparing an expected hit count
// with a computed area: a few ulps of the count.
func tolerance(hits float64) float64 { return 1e-9 * math.Max(1, hits) }

// Rate returns the instantaneous rate, in hits per second, at elapsed:
// the linear interpolation between the targets around it. It is 0 after
// the end of the last stage.
func (rp Ramping) Rate(elapsed time.Duration) float64 {
	if rp.invalid() {
		return 0
	}
	perSec := float64(time.Second) / float64(rp.unit())
	if elapsed <= 0 {
		return rp.Start * perSec
	}
	from, at := rp.Start, time.Duration(0)
	for _, st := range rp.Stages {
		if elapsed <= at+st.Duration {
			frac := float64(elapsed-at) / float64(st.Duration)
			return (from + (st.Target-from)*frac) * perSec
		}
		from, at = st.Target, at+st.Duration
	}
	return 0
}

func (rp Ramping) unit() time.Duration {
	if rp.TimeUnit == 0 {
		return time.Second
	}
	return rp.TimeUnit
}

// invalid reports a configuration Pace refuses to run.
func (rp Ramping) invalid() bool {
	bad := func(r float64) bool { return r < 0 || math.IsNaN(r) || math.IsInf(r, 0) }
	if rp.TimeUnit < 0 || bad(rp.Start) {
		return true
	}
	for _, st := range rp.Stages {
		if st.Duration < 0 || bad(st.Target) {
			return true
		}
	}
	return false
}
