package pace

import (
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// constant is vegeta's ConstantPacer with an end: k6's
// constant-arrival-rate executor.
type constant struct {
	vegeta.ConstantPacer
	duration time.Duration // zero means no end
}

// constant satisfies the Pacer interface.
var _ vegeta.Pacer = constant{}

// Constant returns a pacer of rate hits per timeUnit that stops after
// duration: hit n is sent at n·(timeUnit/rate) and the attack stops when
// the next hit would come after duration, so a run sends
// ⌊rate·duration/timeUnit⌋ hits. A zero duration means no end. A zero
// rate or timeUnit keeps vegeta's meaning, an unlimited rate; a negative
// one stops the attack.
func Constant(rate int, timeUnit, duration time.Duration) vegeta.Pacer {
	return constant{vegeta.ConstantPacer{Freq: rate, Per: timeUnit}, duration}
}

// String returns a description of the schedule:
//
//	Constant(30, time.Second, 4*time.Minute) => Constant{30 hits/1s for 4m0s}
func (cp constant) String() string {
	if cp.duration == 0 {
		return cp.ConstantPacer.String()
	}
	return fmt.Sprintf("Constant{%d hits/%s for %s}", cp.Freq, cp.Per, cp.duration)
}

// Pace determines the length of time to sleep until the next hit is sent.
func (cp constant) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if cp.duration < 0 {
		return 0, true
	}
	wait, stop := cp.ConstantPacer.Pace(elapsed, hits)
	if stop || cp.duration > 0 && elapsed+wait > cp.duration {
		return 0, true
	}
	return wait, false
}

// Rate returns the rate in hits per second: the constant rate until the
// end, 0 after it.
func (cp constant) Rate(elapsed time.Duration) float64 {
	if cp.duration > 0 && elapsed > cp.duration {
		return 0
	}
	return cp.ConstantPacer.Rate(elapsed)
}
