package pace

import (
	"math"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// run is what simulate saw of one attack.
type run struct {
	hits  uint64
	times []time.Duration // when each hit was sent
}

// simulate drives p as vegeta's attacker does, without real time: ask
// Pace, advance elapsed by the wait (plus lag, an attacker oversleeping),
// send a hit, until Pace says stop. It fails on a negative wait and gives
// up after limit hits.
func simulate(t testing.TB, p vegeta.Pacer, lag time.Duration, limit uint64) run {
	t.Helper()
	var r run
	var elapsed time.Duration
	for {
		wait, stop := p.Pace(elapsed, r.hits)
		if stop {
			return r
		}
		if wait < 0 {
			t.Fatalf("%v: Pace(%s, %d) waits %s", p, elapsed, r.hits, wait)
		}
		elapsed += wait + lag
		r.hits++
		r.times = append(r.times, elapsed)
		if r.hits > limit {
			t.Fatalf("%v: more than %d hits, no stop (elapsed %s)", p, limit, elapsed)
		}
	}
}

// area is the area under rp's rate curve, computed apart from the pacer:
// trapezoids, in iterations.
func area(rp Ramping) float64 {
	unit := rp.TimeUnit
	if unit == 0 {
		unit = time.Second
	}
	var a float64
	from := rp.Start
	for _, st := range rp.Stages {
		a += (from + st.Target) / 2 * (float64(st.Duration) / float64(unit))
		from = st.Target
	}
	return a
}

func stages(ss ...any) []Stage {
	var out []Stage
	for i := 0; i < len(ss); i += 2 {
		out = append(out, Stage{ss[i].(time.Duration), float64(ss[i+1].(int))})
	}
	return out
}

const s, m = time.Second, time.Minute

var shapes = []struct {
	name      string
	rp        Ramping
	want      uint64 // hits over the run
	lastAtEnd bool   // the last hit is due exactly at the end
}{
	{"ramp up", Ramping{Start: 5, Stages: stages(30*s, 50)}, 825, true},
	{"hold", Ramping{Start: 50, Stages: stages(3*m, 50)}, 9000, true},
	{"ramp down to 0", Ramping{Start: 50, Stages: stages(30*s, 0)}, 750, true},
	{"load", Ramping{Start: 5, Stages: stages(30*s, 50, 3*m, 50, 30*s, 0)}, 10575, true},
	{"0-rate gap", Ramping{Start: 10, Stages: stages(10*s, 0, 20*s, 0, 10*s, 10)}, 100, true},
	{"gap at rate 0 from the start", Ramping{Stages: stages(5*s, 0, 10*s, 20)}, 100, true},
	{"single stage", Ramping{Start: 3, Stages: stages(7*s, 8)}, 38, false},
	{"start rate 0", Ramping{Start: 0, Stages: stages(10*s, 300)}, 1500, true},
	{"ends at 0", Ramping{Stages: stages(10*s, 300, 50*s, 300, 10*s, 0, 110*s, 0)}, 18000, false},
	{"5000/s", Ramping{Start: 5000, Stages: stages(60*s, 5000)}, 300000, true},
	{"0→5000/s", Ramping{Stages: stages(20*s, 5000, 10*s, 1000)}, 80000, true},
	{"per minute", Ramping{TimeUnit: m, Stages: stages(2*m, 60)}, 60, true},
	{"slow", Ramping{Start: 1, Stages: stages(9*s, 0)}, 4, false},
	{"zero-duration stage jumps", Ramping{Start: 10, Stages: stages(10*s, 10, 0*s, 100, 1*s, 100)}, 200, true},
	{"no stages", Ramping{Start: 10}, 0, false},
}

func TestRampingHitsEqualArea(t *testing.T) {
	for _, tc := range shapes {
		t.Run(tc.name, func(t *testing.T) {
			a := area(tc.rp)
			if got := uint64(math.Floor(a + 1e-9)); got != tc.want {
				t.Fatalf("area %g: the table's want %d is wrong", a, tc.want)
			}
			r := simulate(t, tc.rp, 0, tc.want+10)
			if r.hits != tc.want {
				t.Errorf("%v: %d hits, want %d (area %g)", tc.rp, r.hits, tc.want, a)
			}
			end := tc.rp.Duration()
			for i, at := range r.times {
				n := float64(i + 1)
				// hit n is sent when n hits are due, to the nanosecond.
				if h := tc.rp.Hits(at); h < n-1e-6 {
					t.Fatalf("hit %d at %s: only %g due", i+1, at, h)
				}
				if h := tc.rp.Hits(at - time.Microsecond); h > n {
					t.Fatalf("hit %d at %s: %g were due a microsecond earlier", i+1, at, h)
				}
				if at > end {
					t.Fatalf("hit %d at %s, after the end %s", i+1, at, end)
				}
			}
			if tc.lastAtEnd && len(r.times) > 0 {
				if last := r.times[len(r.times)-1]; end-last > time.Microsecond {
					t.Errorf("last hit at %s, want the end %s", last, end)
				}
			}
			// Stop at the end: nothing more is due at the end, and
			// nothing is sent after it even by an attacker behind.
			if _, stop := tc.rp.Pace(end, r.hits); !stop {
				t.Errorf("Pace(end %s, %d) does not stop", end, r.hits)
			}
			if _, stop := tc.rp.Pace(end+1, 0); !stop {
				t.Errorf("Pace(end+1ns, 0) does not stop")
			}
		})
	}
}

// An attacker that oversleeps gets hits at once until it has caught up,
// and still sends no more than the area, none after the end.
func TestRampingCatchUp(t *testing.T) {
	rp := Ramping{Start: 5, Stages: stages(30*s, 50, 3*m, 50, 30*s, 0)}
	r := simulate(t, rp, 3*time.Millisecond, 20000)
	if r.hits > 10575 || r.hits < 10575-100 {
		t.Errorf("%d hits with a lagging attacker, want at most 10575 and close to it", r.hits)
	}
	for i, at := range r.times {
		if at > rp.Duration()+3*time.Millisecond {
			t.Fatalf("hit %d at %s after the end", i+1, at)
		}
	}
	if wait, stop := rp.Pace(time.Minute, 0); wait != 0 || stop {
		t.Errorf("Pace behind = %s, %v; want 0, false", wait, stop)
	}
}

func TestRampingRate(t *testing.T) {
	load := Ramping{Start: 5, Stages: stages(30*s, 50, 3*m, 50, 30*s, 0)}
	gap := Ramping{Start: 10, Stages: stages(10*s, 0, 20*s, 0, 10*s, 10)}
	perMin := Ramping{TimeUnit: m, Stages: stages(2*m, 60)}
	for _, tc := range []struct {
		rp      Ramping
		elapsed time.Duration
		want    float64 // hits per second
	}{
		{load, -s, 5}, {load, 0, 5}, {load, 15 * s, 27.5}, {load, 30 * s, 50}, {load, 3 * s, 9.5},
		{load, m, 50}, {load, 3*m + 30*s, 50}, {load, 3*m + 45*s, 25}, {load, 4*m - s, 50.0 / 30},
		{load, 4 * m, 0}, {load, 4*m + 1, 0}, {load, time.Hour, 0},
		{gap, 5 * s, 5}, {gap, 10 * s, 0}, {gap, 20 * s, 0}, {gap, 30 * s, 0}, {gap, 35 * s, 5}, {gap, 40 * s, 10},
		{perMin, m, 0.5}, {perMin, 2 * m, 1},
		{Ramping{Start: -1, Stages: stages(s, 1)}, 0, 0},
	} {
		if got := tc.rp.Rate(tc.elapsed); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%v.Rate(%s) = %g, want %g", tc.rp, tc.elapsed, got, tc.want)
		}
	}
}

func TestRampingInvalidStops(t *testing.T) {
	for _, rp := range []Ramping{
		{Start: -1, Stages: stages(s, 1)},
		{Start: math.NaN(), Stages: stages(s, 1)},
		{Start: math.Inf(1), Stages: stages(s, 1)},
		{Stages: stages(s, -5)},
		{Stages: stages(-s, 5)},
		{TimeUnit: -s, Stages: stages(s, 5)},
	} {
		if wait, stop := rp.Pace(0, 0); !stop || wait != 0 {
			t.Errorf("%v.Pace = %s, %v; want 0, true", rp, wait, stop)
		}
		if h := rp.Hits(s); h != 0 {
			t.Errorf("%v.Hits = %g, want 0", rp, h)
		}
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		p    vegeta.Pacer
		want string
	}{
		{Ramping{Start: 5, Stages: stages(30*s, 50, 3*m, 50, 30*s, 0)}, "Ramping{5→50 over 30s, 50 for 3m0s, 50→0 over 30s}"},
		{Ramping{Start: 0.5, TimeUnit: m, Stages: []Stage{{m, 2.25}}}, "Ramping{0.5→2.25 over 1m0s per 1m0s}"},
		{Ramping{}, "Ramping{}"},
		{Constant(30, s, 4*m), "Constant{30 hits/1s for 4m0s}"},
		{Constant(30, s, 0), "Constant{30 hits/1s}"},
	} {
		if got := tc.p.(interface{ String() string }).String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestConstant(t *testing.T) {
	for _, tc := range []struct {
		rate     int
		unit, du time.Duration
		want     uint64
		lastAt   time.Duration
	}{
		// vegeta's ConstantPacer truncates the interval to whole
		// nanoseconds (1s/30 = 33333333ns), so hits come a little early.
		{30, s, 4 * m, 7200, 7200 * 33333333},
		{3, s, 10 * s, 30, 30 * 333333333},
		{1, m, 150 * s, 2, 2 * m},
		{5000, s, m, 300000, m},
		{1, s, 500 * time.Millisecond, 0, 0},
	} {
		p := Constant(tc.rate, tc.unit, tc.du)
		r := simulate(t, p, 0, tc.want+10)
		if r.hits != tc.want {
			t.Errorf("%v: %d hits, want %d", p, r.hits, tc.want)
		}
		if n := len(r.times); n > 0 && r.times[n-1] != tc.lastAt {
			t.Errorf("%v: last hit at %s, want %s", p, r.times[n-1], tc.lastAt)
		}
		if _, stop := p.Pace(tc.du+1, 0); !stop {
			t.Errorf("%v: Pace after the end does not stop", p)
		}
		if got := p.Rate(tc.du / 2); math.Abs(got-float64(tc.rate)*float64(s)/float64(tc.unit)) > 1e-9 {
			t.Errorf("%v: Rate = %g", p, got)
		}
		if got := p.Rate(tc.du + 1); got != 0 {
			t.Errorf("%v: Rate after the end = %g, want 0", p, got)
		}
	}
	if _, stop := Constant(-1, s, m).Pace(0, 0); !stop {
		t.Error("a negative rate does not stop")
	}
}
