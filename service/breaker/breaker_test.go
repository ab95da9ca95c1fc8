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
		{"closed lets calls through", nil, func(b *Breaker, _ *clock) error { return b.Allow(context.Background()) }, nil, true, 0},
		{"tripped refuses at once without probing", nil, func(b *Breaker, clk *clock) error {
			b.Trip()
			clk.Add(500 * time.Millisecond)
			return b.Allow(context.Background())
		}, ErrOpen, false, 0},
		{"after the cooldown a good probe closes it", nil, func(b *Breaker, clk *clock) error {
			b.Trip()
			clk.Add(time.Second)
			return b.Allow(context.Background())
		}, nil, true, 1},
		{"after the cooldown a bad probe trips it again", errDown, func(b *Breaker, clk *clock) error {
			b.Trip()
			clk.Add(time.Second)
			if err := b.Allow(context.Background()); !errors.Is(err, ErrOpen) {
				return err
			}
			clk.Add(999 * time.Millisecond) // a new cooldown started at the failed probe
			return b.Allow(context.Background())
		}, ErrOpen, false, 1},
		{"reset closes without a probe", nil, func(b *Breaker, _ *clock) error {
			b.Trip()
			b.Reset()
			return b.Allow(context.Background())
		}, nil, true, 0},
		{"Probe trips on failure", errDown, func(b *Breaker, _ *clock) error {
			_ = b.Probe(context.Background())
			return b.Allow(context.Background())
		}, ErrOpen, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: time.Unix(1000, 0)}
			var probes atomic.Int32
			b := New("store", time.Second, func(context.Context) error { probes.Add(1); return tt.probeErr }, Clock(clk.Now))
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
	if err := b.Allow(context.Background()); !errors.As(err, &oe) {
		t.Fatalf("Allow = %v, want *OpenError", err)
	}
	if oe.Name != "mongodb" || oe.RetryAfter != 1500*time.Millisecond {
		t.Errorf("OpenError = %+v, want mongodb retrying in 1.5s", oe)
	}
}

// While one caller probes, the others fail fast instead of piling onto a
// store that may still be down.
func TestOneProbeAtATime(t *testing.T) {
	clk := &clock{now: time.Unix(1000, 0)}
	release := make(chan struct{})
	entered := make(chan struct{})
	b := New("redis", time.Second, func(context.Context) error {
		close(entered)
		<-release
		return nil
	}, Clock(clk.Now))
	b.Trip()
	clk.Add(time.Second)
	done := make(chan error, 1)
	go func() { done <- b.Allow(context.Background()) }()
	<-entered
	if err := b.Allow(context.Background()); !errors.Is(err, ErrOpen) {
		t.Errorf("a second caller during the probe got %v, want ErrOpen", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the probing caller got %v, want nil", err)
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
