// Package clock waits until a moment more precisely than a time.Timer on
// an idle process: the open model's pacing and the links' sub-millisecond
// latency both need a wait of a few hundred microseconds to last that
// long, not the millisecond the runtime's poller rounds it up to.
package clock

import (
	"context"
	"time"
)

// A Clock waits for given moments: the seam between a schedule (an
// open model's, a link's delayed chunks) and real time.
//
// It exists because a time.Timer is not precise enough for it. While a Go
// process is idle its scheduler sleeps in the network poller, whose
// timeout has millisecond resolution (runtime/netpoll_epoll.go rounds a
// sub-millisecond wait up to 1 ms), so a timer due in 300 µs fires about
// 1 ms later. At 1,000 iterations/s against a sub-millisecond target,
// that put each iteration about 0.5 ms after its scheduled start, and the
// corrected latency (timed from the schedule) reported that delay as the
// server's. New returns a clock without that rounding where the
// platform has one.
type Clock interface {
	// Wait returns at t or after it, never before, as soon after as the
	// clock can; or earlier with ctx's error once ctx is done. A t in the
	// past returns at once.
	Wait(ctx context.Context, t time.Time) error
	// Close releases what the clock holds; Wait must not be called after.
	Close() error
}

// Timer is the portable Clock, over a time.Timer: precise to the
// runtime's timers, so up to about a millisecond late on an idle process
// (see Clock). The zero value is not usable; see NewTimer.
type Timer struct {
	t *time.Timer
}

// NewTimer returns a Clock over one reused time.Timer. It is not
// safe for concurrent use.
func NewTimer() *Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Timer{t: t}
}

// Wait waits on the timer until t, or until ctx is done.
func (c *Timer) Wait(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	c.t.Reset(d)
	select {
	case <-c.t.C:
		return nil
	case <-ctx.Done():
		c.t.Stop()
		return ctx.Err()
	}
}

// Close stops the timer.
func (c *Timer) Close() error {
	c.t.Stop()
	return nil
}

// New returns the most precise Clock the platform offers without
// spinning a core: on Linux a timerfd that the runtime's network poller
// waits on (the poller wakes on the descriptor at its nanosecond expiry,
// whatever its own timeout's rounding), elsewhere a Timer. It falls
// back to a Timer if the precise one cannot be made. The clock is
// not safe for concurrent use: each scheduling loop makes its own.
func New() Clock {
	if c, err := newPreciseClock(); err == nil {
		return c
	}
	return NewTimer()
}
