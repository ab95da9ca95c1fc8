package pace

import (
	"math"
	"testing"
	"time"
)

// FuzzRamping checks, on random schedules, that a run sends as many hits
// as the area under the rate curve (± 1), never waits a negative time,
// never sends after the end, and does not panic. Each 3 bytes of stages
// is a stage: a duration of up to 65.5 s in ms, and a target of up to
// 5100/s in steps of 20.
func FuzzRamping(f *testing.F) {
	f.Add(uint16(5), uint8(0), []byte{0x75, 0x30, 3, 0xff, 0xff, 3, 0x75, 0x30, 0})
	f.Add(uint16(0), uint8(0), []byte{0x27, 0x10, 15, 0x27, 0x10, 0, 0x27, 0x10, 0, 0x27, 0x10, 1})
	f.Add(uint16(5000), uint8(1), []byte{0x03, 0xe8, 255})
	f.Add(uint16(1), uint8(2), []byte{0x00, 0x00, 100, 0x00, 0x07, 1})
	f.Fuzz(func(t *testing.T, start uint16, unitSel uint8, data []byte) {
		units := []time.Duration{time.Second, time.Millisecond * 250, time.Minute, 0}
		rp := Ramping{Start: float64(start % 5100), TimeUnit: units[int(unitSel)%len(units)]}
		for i := 0; i+2 < len(data) && len(rp.Stages) < 20; i += 3 {
			d := time.Duration(int(data[i])<<8|int(data[i+1])) * time.Millisecond
			rp.Stages = append(rp.Stages, Stage{Duration: d, Target: float64(data[i+2]) * 20})
		}
		a := area(rp)
		if a > 400_000 {
			t.Skip("too many hits to simulate quickly")
		}
		r := simulate(t, rp, 0, uint64(a)+10)
		if math.Abs(float64(r.hits)-a) > 1 {
			t.Fatalf("%v: %d hits, area %g", rp, r.hits, a)
		}
		end := rp.Duration()
		for i, at := range r.times {
			if at > end {
				t.Fatalf("%v: hit %d at %s after the end %s", rp, i+1, at, end)
			}
		}
		if _, stop := rp.Pace(end, r.hits); !stop {
			t.Fatalf("%v: no stop at the end after %d hits", rp, r.hits)
		}
	})
}
