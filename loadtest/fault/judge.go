package fault

import (
	"slices"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
)

// BaselineSpan is how much of the run before a fault is its baseline: the
// intervals that show the service unharmed, whose bounds it must be back
// within to count as recovered. Intervals while another fault was active,
// or within AfterOther of its end, are not part of it.
const (
	BaselineSpan = 30 * time.Second
	AfterOther   = 5 * time.Second
)

// Recovery's rules. An interval is within the baseline's bounds when its
// error ratio is no higher than the baseline's worst interval's and its
// p95 no higher than the baseline's worst p95 with a margin (latency
// jitters more than errors do), and it saw requests at all; the service
// has recovered from the first such interval that the next ones confirm.
const (
	p95Margin      = 1.25
	p95Slack       = 2 * time.Millisecond // below this, p95 differences are noise
	steadyInterval = 3                    // intervals in a row within bounds
)

// Judge measures each played window on the run's time series.
func Judge(ws []Window, snap record.Snapshot) []summary.Fault {
	out := make([]summary.Fault, 0, len(ws))
	for i, w := range ws {
		// The other faults' windows, which no baseline may include.
		var others [][2]time.Duration
		for j, o := range ws {
			if j == i || !o.Played {
				continue
			}
			end := snap.Elapsed
			if o.Undone {
				end = o.Ended + AfterOther
			}
			others = append(others, [2]time.Duration{o.Began, end})
		}
		out = append(out, judge(w, snap, others))
	}
	return out
}

func judge(w Window, snap record.Snapshot, others [][2]time.Duration) summary.Fault {
	f := summary.Fault{
		Name: w.Name, Target: w.Target, Action: w.Action, Detail: detail(w.Fault),
		Played: w.Played, Error: w.Err, Line: w.Line,
	}
	if !w.Played {
		return f
	}
	f.Start = w.Began.Seconds()
	width := snap.Interval
	end := snap.Elapsed // a fault never undone lasts to the run's end
	if w.Undone {
		end = w.Ended
		f.End = ptr(w.Ended.Seconds())
	}
	overlaps := func(iv record.IntervalPoint, from, to time.Duration) bool {
		return iv.Offset+width > from && iv.Offset < to
	}

	// The baseline: whole intervals before it began, within BaselineSpan,
	// while no other fault was active or recovering.
	var base []record.IntervalPoint
	for _, iv := range snap.Intervals {
		if iv.Offset+width <= w.Began && iv.Offset >= w.Began-BaselineSpan && iv.Requests > 0 &&
			!slices.ContainsFunc(others, func(o [2]time.Duration) bool { return overlaps(iv, o[0], o[1]) }) {
			base = append(base, iv)
		}
	}
	var worstRatio float64
	var worstP95 time.Duration
	for _, iv := range base {
		worstRatio = max(worstRatio, ratio(iv))
		worstP95 = max(worstP95, iv.Corrected.P95)
	}
	if len(base) > 0 {
		f.P95Before = ms(worstP95)
		f.BaselineSeconds = (time.Duration(len(base)) * width).Seconds()
	}

	var duringP95 time.Duration
	seen := false
	for _, iv := range snap.Intervals {
		if !overlaps(iv, w.Began, end) {
			continue
		}
		f.Requests += iv.Requests
		f.Errors += iv.Failures
		if iv.Requests > 0 {
			duringP95, seen = max(duringP95, iv.Corrected.P95), true
		}
	}
	if seen {
		f.P95During = ms(duringP95)
	}

	// Recovery: from the interval the fault ended in, until the run or
	// the next fault began (what comes after is that fault's).
	horizon := snap.Elapsed
	for _, o := range others {
		if o[0] > w.Began {
			horizon = min(horizon, o[0])
		}
	}
	errorsUntil := horizon
	if w.Undone && len(base) > 0 {
		bound := max(time.Duration(float64(worstP95)*p95Margin), worstP95+p95Slack)
		within := func(iv record.IntervalPoint) bool {
			return iv.Requests > 0 && ratio(iv) <= worstRatio && iv.Corrected.P95 <= bound
		}
		for i, iv := range snap.Intervals {
			if iv.Offset+width <= w.Ended {
				continue
			}
			if iv.Offset >= horizon {
				break
			}
			ok := true
			for j := i; j < min(i+steadyInterval, len(snap.Intervals)) && snap.Intervals[j].Offset < horizon; j++ {
				ok = ok && within(snap.Intervals[j])
			}
			if ok {
				f.RecoveredAfter = ptr(max(iv.Offset-w.Ended, 0).Seconds())
				errorsUntil = max(iv.Offset, w.Ended)
				break
			}
		}
	}
	for _, iv := range snap.Intervals {
		if iv.Failures == 0 || !overlaps(iv, w.Began, errorsUntil) {
			continue
		}
		if f.FirstError == nil {
			f.FirstError = ptr(max(iv.Offset, w.Began).Seconds())
		}
		f.LastError = ptr((iv.Offset + width).Seconds())
	}
	return f
}

// detail is what more a fault on a link says of itself: "200ms ± 50ms",
// "16 KB/s"; "" for a component's and for a link's that needs nothing
// more than its action (down).
func detail(f scenario.Fault) string {
	if !f.OnLink() {
		return ""
	}
	return f.Link.Detail()
}

func ratio(iv record.IntervalPoint) float64 {
	if iv.Requests == 0 {
		return 0
	}
	return float64(iv.Failures) / float64(iv.Requests)
}

func ms(d time.Duration) *float64 { return ptr(float64(d) / float64(time.Millisecond)) }

func ptr(v float64) *float64 { return &v }
