package executor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
)

// rampingVUs is k6's ramping-vus: the VU count moves linearly from
// startVUs through each stage's target, each stage in its own phase (the
// closed model, closed.go).
type rampingVUs struct {
	fields
	staged
}

func init() {
	register(scenario.RampingVUs, func(s scenario.Scenario) Schedule { return rampingVUs{fields{s}, staged(s.Stages)} })
}

// PeakVUs is the highest of startVUs and the stage targets.
func (rv rampingVUs) PeakVUs() (int, string) {
	n := rv.s.StartVUs
	for _, st := range rv.s.Stages {
		n = max(n, st.Target)
	}
	if rv.s.StartVUs >= n {
		return n, "startVUs"
	}
	return n, "stages"
}

// Share splits startVUs and every stage's target: the segments' count is
// the whole's at every stage boundary, and in between each truncates its
// own ramp, so their sum may lag the whole's by a few VUs.
func (rv rampingVUs) Share(seg segment.Segment) scenario.Scenario {
	sc := rv.s
	sc.Stages = slices.Clone(sc.Stages) // written below; the scenario's are its file's
	sc.StartVUs = seg.Share(sc.StartVUs)
	for i := range sc.Stages {
		sc.Stages[i].Target = seg.Share(sc.Stages[i].Target)
	}
	return sc
}

// Describe is the peak VUs and the stages.
func (rv rampingVUs) Describe() string {
	return rv.staged.describe(rv.s.StartVUs, "looping VUs")
}

func (rv rampingVUs) validate() error {
	if len(rv.s.Stages) == 0 || rv.s.StartVUs < 0 {
		return fmt.Errorf("scenario %q: %s needs stages", rv.s.Name, rv.s.Executor)
	}
	return checkStages(rv.s)
}

// change is a point of a ramping-vus schedule: from at on, vus VUs run.
type change struct {
	at  time.Duration
	vus int
}

// vuChanges lists when the VU count of a ramping-vus scenario changes.
// Within a stage from a to b VUs over d the count moves linearly and is
// truncated towards a: VU a+i (going up) starts at i·d/(b-a), and going
// down one VU stops at each i·d/(a-b). The list ends with 0 at the end.
func vuChanges(s scenario.Scenario) []change {
	out := []change{{0, s.StartVUs}}
	from := s.StartVUs
	var at time.Duration
	for _, st := range s.Stages {
		a, b := from, st.Target
		if st.Duration == 0 {
			out = append(out, change{at, b})
		} else if a != b {
			steps := b - a
			if steps < 0 {
				steps = -steps
			}
			for i := 1; i <= steps; i++ {
				x := time.Duration(int64(st.Duration) * int64(i) / int64(steps))
				n := a + i
				if b < a {
					n = a - i
				}
				out = append(out, change{at + x, n})
			}
		}
		at += st.Duration
		from = b
	}
	return append(out, change{at, 0})
}

// slot is one ramping VU: stopped by cancel, done closes when its
// goroutine ended.
type slot struct {
	v      *vu
	cancel context.CancelFunc
	done   chan struct{}
}

func (rv rampingVUs) run(ctx context.Context, r *runner) error {
	changes := vuChanges(rv.s)
	r.start = time.Now()
	var slots []*slot // index i is VU i+1
	running := 0
	var wg sync.WaitGroup
	defer func() {
		for _, sl := range slots {
			if sl.cancel != nil {
				sl.cancel()
			}
		}
		wg.Wait()
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for _, ch := range changes {
		if d := time.Until(r.start.Add(ch.at)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		for running < ch.vus {
			if running == len(slots) {
				slots = append(slots, &slot{v: &vu{id: running + 1}})
			}
			sl := slots[running]
			prev := sl.done
			stop, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			sl.cancel, sl.done = cancel, done
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(done)
				if prev != nil {
					<-prev // the slot's last goroutine finishes its iteration first
				}
				r.loop(ctx, stop, sl.v, 0)
			}()
			running++
			if int64(running) > r.c.vusMax.Load() {
				r.c.vusMax.Store(int64(running))
			}
		}
		for running > ch.vus {
			running--
			slots[running].cancel()
		}
	}
	return nil
}
