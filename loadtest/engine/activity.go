package engine

import (
	"sync"
	"time"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
)

// dropLog counts dropped iterations by the second of the run they were
// due in, for the time series: the executors report them from their own
// goroutines (executor.Events), while the recorder belongs to the one
// that drains the samples, so they are kept here and added once the run
// is over. It holds one entry per second that dropped any: bounded by the
// run's length in seconds.
type dropLog struct {
	start time.Time
	next  executor.Events // the live counts, or nil

	mu  sync.Mutex
	per map[int64]int64 // whole seconds since start → dropped
}

func newDropLog(start time.Time, next executor.Events) *dropLog {
	return &dropLog{start: start, next: next, per: map[int64]int64{}}
}

// Started passes the event on (executor.Events).
func (d *dropLog) Started(scenario string) {
	if d.next != nil {
		d.next.Started(scenario)
	}
}

// Dropped counts a dropped iteration now and passes the event on
// (executor.Events).
func (d *dropLog) Dropped(scenario string) {
	sec := int64(max(time.Since(d.start), 0) / time.Second)
	d.mu.Lock()
	d.per[sec]++
	d.mu.Unlock()
	if d.next != nil {
		d.next.Dropped(scenario)
	}
}

// Finished passes the event on (executor.Events).
func (d *dropLog) Finished(scenario string) {
	if d.next != nil {
		d.next.Finished(scenario)
	}
}

// addTo adds the dropped iterations to rec's time series; call it once
// no executor runs any more.
func (d *dropLog) addTo(rec *record.Recorder) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for sec, n := range d.per {
		rec.AddDropped(d.start.Add(time.Duration(sec)*time.Second), n)
	}
}

// targetRates sets each point's Target: the iterations per second the
// open-model scenarios of f called for in the middle of its interval,
// summed; closed-model scenarios have no target.
func targetRates(f *scenario.File, pts []summary.Point, interval time.Duration) {
	type paced struct {
		from, length time.Duration
		rate         func(time.Duration) float64
	}
	var ps []paced
	for _, sched := range schedules(f) {
		p, ok := sched.(executor.Paced)
		if !ok {
			continue
		}
		pacer, err := p.Pacer()
		if err != nil {
			continue
		}
		ps = append(ps, paced{from: sched.Scenario().StartTime, length: sched.Length(), rate: pacer.Rate})
	}
	if len(ps) == 0 {
		return
	}
	for i := range pts {
		mid := time.Duration(pts[i].T*float64(time.Second)) + interval/2
		for _, p := range ps {
			if own := mid - p.from; own >= 0 && own < p.length {
				pts[i].Target += p.rate(own)
			}
		}
	}
}
