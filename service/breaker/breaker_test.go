package breaker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// synchronous runs a background probe before Allow returns, so tests see
// its effect without waiting.
func synchronous(f func()) { f() }

func TestBreaker(t *testing.T) {
	errDown := errors.New("down")
	tests := []struct {
		name     string
		probeErr error
		steps    func(b *Breaker, clk *clock) error // returns the last Allow's error
		want     error                              // nil or ErrOpen
		closed   bool
		probes   int32
	}{
		{"closed lets calls through", nil, func(b *Breaker, _ *clock) error { return b.Allow() }, nil, true, 0},
		{"tripped refuses at once without probing", nil, func(b *Breaker, clk *clock) error {
			b.Trip()
			clk.Add(500 * time.Millisecond)
			return b.Allow()
		}, ErrOpen, false, 0},
		{"after the cooldown the caller still fails fast, and a good probe closes it", nil, func(b *Breaker, clk *clock) error {
			b.Trip()
			clk.Add(time.Second)
			if err := b.Allow(); !errors.Is(err, ErrOpen) {
				return err
			}
			return b.Allow()
		}, nil, true, 1},
		{"a bad probe trips it for another cooldown", errDown, func(b *Breaker, clk *clock) error {
			b.Trip()
			clk.Add(time.Second)
			_ = b.Allow()                   // probes, fails, trips again
			clk.Add(999 * time.Millisecond) // within the new cooldown: no probe
			return b.Allow()
		}, ErrOpen, false, 1},
		{"reset closes without a probe", nil, func(b *Breaker, _ *clock) error {
			b.Trip()
			b.Reset()
			return b.Allow()
		}, nil, true, 0},
		{"Probe trips on failure", errDown, func(b *Breaker, _ *clock) error {
			_ = b.Probe(context.Background())
			return b.Allow()
		}, ErrOpen, false, 1},
		{"Probe closes on success", nil, func(b *Breaker, _ *clock) error {
			b.Trip()
			_ = b.Probe(context.Background())
			return b.Allow()
		}, nil, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: time.Unix(1000, 0)}
			var probes atomic.Int32
			b := New("store", time.Second, func(context.Context) error { probes.Add(1); return tt.probeErr },
				Clock(clk.Now), Spawn(synchronous))
			err := tt.steps(b, clk)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Allow = %v, want %v", err, tt.want)
			}
			if b.Closed() != tt.closed {
				t.Errorf("Closed = %v, want %v", b.Closed(), tt.closed)
			}
			if probes.Load() != tt.probes {
				t.Errorf("probes = %d, want %d", probes.Load(), tt.probes)
			}
		})
	}
}

func TestOpenErrorSaysWhenToRetry(t *testing.T) {
	clk := &clock{now: time.Unix(1000, 0)}
	b := New("mongodb", 2*time.Second, func(context.Context) error { return nil }, Clock(clk.Now))
	b.Trip()
	clk.Add(500 * time.Millisecond)
	var oe *OpenError
	if err := b.Allow(); !errors.As(err, &oe) {
		t.Fatalf("Allow = %v, want *OpenError", err)
	}
	if oe.Name != "mongodb" || oe.RetryAfter != 1500*time.Millisecond {
		t.Errorf("OpenError = %+v, want mongodb retrying in 1.5s", oe)
	}
}

// While a probe runs (here: blocked on a store that does not answer),
// every caller fails fast and no second probe starts.
func TestCallersNeverWaitOnTheProbe(t *testing.T) {
	clk := &clock{now: time.Unix(1000, 0)}
	release := make(chan struct{})
	var probes atomic.Int32
	done := make(chan struct{})
	b := New("redis", time.Second, func(context.Context) error {
		probes.Add(1)
		<-release
		return nil
	}, Clock(clk.Now), Spawn(func(f func()) { go func() { f(); close(done) }() }))
	b.Trip()
	clk.Add(time.Second)
	for range 3 {
		if err := b.Allow(); !errors.Is(err, ErrOpen) {
			t.Fatalf("Allow during the probe = %v, want ErrOpen at once", err)
		}
	}
	close(release)
	<-done
	if n := probes.Load(); n != 1 {
		t.Errorf("probes = %d, want 1", n)
	}
	if !b.Closed() {
		t.Error("breaker still open after a good probe")
	}
}

func TestOnChange(t *testing.T) {
	var changes []bool
	b := New("x", time.Second, func(context.Context) error { return nil }, OnChange(func(closed bool) { changes = append(changes, closed) }))
	b.Trip()
	b.Trip() // already open: no second notice
	b.Reset()
	b.Reset()
	if len(changes) != 2 || changes[0] || !changes[1] {
		t.Errorf("changes = %v, want [false true]", changes)
	}
}
