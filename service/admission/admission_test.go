package admission

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/taskready/taskready/service/failure"
)

func reason(err error) string {
	var shed *ShedError
	if !errors.As(err, &shed) {
		return ""
	}
	return shed.Reason
}

func TestAcquire(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		held    int           // slots taken before the call
		waiting int           // requests already queued
		timeout time.Duration // the request's deadline; 0: none
		want    string        // "" admitted, else the refusal reason
	}{
		{"a free slot admits at once", nil, 0, 0, time.Hour, ""},
		{"no deadline waits as long as it takes", nil, 0, 0, 0, ""},
		{"a full queue refuses at once", []Option{MaxQueue(2)}, 1, 2, time.Hour, ReasonQueueFull},
		// One slot, held for an hour on average: a request with half an
		// hour left cannot be served in time.
		{"a turn after the deadline refuses at once", []Option{Estimate(time.Hour)}, 1, 0, 30 * time.Minute, ReasonTooLate},
		{"work that cannot finish in time is refused even with a free slot", []Option{Estimate(time.Hour)}, 0, 0, 30 * time.Minute, ReasonTooLate},
		{"the queue ahead counts", []Option{Estimate(time.Minute), MaxQueue(100)}, 1, 30, 30 * time.Minute, ReasonTooLate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New("test", 1, NewMetrics(), tt.opts...)
			l.inUse = tt.held
			l.queue = make([]chan struct{}, tt.waiting)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			release, err := l.Acquire(ctx)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Acquire took %s; want an answer at once", took)
			}
			if got := reason(err); got != tt.want {
				t.Fatalf("Acquire = %v (reason %q); want reason %q", err, got, tt.want)
			}
			if err == nil {
				release()
				return
			}
			if failure.KindOf(err) != failure.Unavailable || failure.RetryAfterOf(err) != time.Second {
				t.Errorf("refusal = %v; want Unavailable with a 1s Retry-After", err)
			}
			if n := testutil.ToFloat64(l.metrics.rejected.WithLabelValues("test", tt.want)); n != 1 {
				t.Errorf("rejected{%s} = %v; want 1", tt.want, n)
			}
		})
	}
}

// A waiting request gets the slot its predecessor gives back.
func TestWaiterIsAdmittedWhenASlotFrees(t *testing.T) {
	l := New("test", 1, NewMetrics())
	first, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		release, err := l.Acquire(context.Background())
		if err == nil {
			release()
		}
		got <- err
	}()
	waitFor(t, func() bool { return l.Saturation(time.Minute).Waiting == 1 })
	first()
	if err := <-got; err != nil {
		t.Fatalf("waiter = %v; want admitted", err)
	}
	if s := l.Saturation(time.Minute); s.InUse != 0 || s.Waiting != 0 || s.ShedLast {
		t.Errorf("Saturation = %+v; want idle", s)
	}
}

// A request whose client is gone (or whose deadline passed) while it
// waits leaves the queue at once, so no backlog outlives the burst.
func TestWaiterLeavesWhenCancelled(t *testing.T) {
	l := New("test", 1, NewMetrics())
	held, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx)
		got <- err
	}()
	waitFor(t, func() bool { return l.Saturation(time.Minute).Waiting == 1 })
	cancel()
	if err := <-got; reason(err) != ReasonGone {
		t.Fatalf("cancelled waiter = %v; want %q", err, ReasonGone)
	}
	if s := l.Saturation(time.Minute); s.Waiting != 0 || !s.ShedLast {
		t.Errorf("Saturation = %+v; want nobody waiting and a recent refusal", s)
	}
}

// The limit adapts: work that overran its deadline shrinks it by a
// tenth, work that finished in time grows it by 1/limit, within [1,
// ceiling]; a shrunk limit admits fewer at once.
func TestLimitAdapts(t *testing.T) {
	l := New("test", 8, NewMetrics(), Initial(8))
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	release, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The slot was taken in time, but its work ran past the deadline.
	overrun := func() {
		l.mu.Lock()
		l.inUse++
		l.mu.Unlock()
		l.admitted(expired, l.now())()
	}
	overrun() // another holder's work overran its deadline
	release()
	if s := l.Saturation(time.Minute); s.Limit != 7 {
		t.Fatalf("limit after one overrun = %d; want 7 (8 x 0.9, then +1/7.2)", s.Limit)
	}
	for range 20 {
		overrun()
	}
	if s := l.Saturation(time.Minute); s.Limit != 1 {
		t.Fatalf("limit after many overruns = %d; want the floor, 1", s.Limit)
	}
	// At a limit of one, a second request waits.
	first, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := l.Acquire(context.Background())
		if err == nil {
			r()
		}
		got <- err
	}()
	waitFor(t, func() bool { return l.Saturation(time.Minute).Waiting == 1 })
	first()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	for range 100 {
		r, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		r()
	}
	if s := l.Saturation(time.Minute); s.Limit != 8 {
		t.Errorf("limit after 100 requests in time = %d; want the ceiling, 8", s.Limit)
	}
}

// An estimate learned in a burst goes stale: with a free slot, work is
// admitted again once nothing has been released for a second, so the
// limiter cannot refuse everything forever on an old estimate.
func TestStaleEstimateAdmits(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New("test", 1, NewMetrics(), Estimate(time.Hour), Clock(func() time.Time { return now }))
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(time.Minute))
	defer cancel()
	if _, err := l.Acquire(ctx); reason(err) != ReasonTooLate {
		t.Fatalf("on a fresh one-hour estimate: %v; want %q", err, ReasonTooLate)
	}
	now = now.Add(staleAfter)
	release, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("on a stale estimate with a free slot: %v; want admitted", err)
	}
	now = now.Add(10 * time.Millisecond)
	release() // the fresh sample pulls the estimate down
	if got := time.Duration(l.held.Load()); got >= time.Hour {
		t.Errorf("estimate after a 10ms hold = %s; want it learning down from an hour", got)
	}
}

// The estimate follows the measured hold times.
func TestHoldTimeIsLearned(t *testing.T) {
	now := time.Unix(0, 0)
	l := New("test", 1, NewMetrics(), Estimate(0), Clock(func() time.Time { return now }))
	for range 100 {
		release, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(80 * time.Millisecond)
		release()
	}
	if got := time.Duration(l.held.Load()); got < 79*time.Millisecond || got > 81*time.Millisecond {
		t.Errorf("learned hold = %s; want about 80ms", got)
	}
	// Holds that spread (40 and 120ms, still 80 on average) are predicted
	// by a hold few exceed, not by their mean: the mean admits half the
	// work too late.
	for i := range 100 {
		release, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Duration(40+80*(i%2)) * time.Millisecond)
		release()
	}
	if got := time.Duration(l.held.Load()); got < 150*time.Millisecond {
		t.Errorf("predicted hold with spread = %s; want well above the 80ms mean", got)
	}
}

// waitFor polls cond until it holds, failing after ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// Work cancelled before its deadline (its client went away) teaches the
// limiter nothing: neither the limit nor the hold estimate moves, however
// short or long the cut hold was.
func TestCancelledWorkLeavesTheLimitAndEstimate(t *testing.T) {
	l := New("test", 8, NewMetrics(), Initial(4))
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	before := l.Saturation(time.Minute)
	heldBefore := l.held.Load()
	for range 10 {
		release, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		release()   // normal work, for contrast: the limit grows
		l.mu.Lock() // then a holder whose client went away
		l.inUse++
		l.mu.Unlock()
		l.admitted(gone, l.now().Add(-time.Hour))()
	}
	after := l.Saturation(time.Minute)
	if after.Limit <= before.Limit {
		t.Fatalf("limit %d -> %d over 10 holds in time; want it to grow", before.Limit, after.Limit)
	}
	// Ten cut holds of an hour each would have pushed the estimate far
	// above any in-time hold had they been learned from.
	if held := time.Duration(l.held.Load()); held > time.Minute {
		t.Errorf("hold estimate %s (was %s) after cancelled holds of an hour; want them ignored", held, time.Duration(heldBefore))
	}
	if got := l.inUse; got != 0 {
		t.Errorf("inUse = %d after every release; want 0", got)
	}
}
