//go:build linux

package pace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// timerfdClock waits on a timerfd: the kernel wakes the runtime's network
// poller when the timer expires, to the nanosecond (an hrtimer, with no
// slack), so neither the poller's millisecond timeout nor a thread of our
// own is involved, and a waiting goroutine parks as on a socket.
type timerfdClock struct {
	fd  int
	f   *os.File
	buf [8]byte // the expiration count a read returns
	// ctx is the context whose end cuts a Read short (by moving the
	// file's deadline to the past), stop unregisters that: one
	// registration for every Wait of one scheduling loop.
	ctx  context.Context
	stop func() bool
}

// aLongTimeAgo is a deadline that makes a blocked Read return at once.
var aLongTimeAgo = time.Unix(1, 0)

func newPreciseClock() (Clock, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("pace: timerfd_create: %w", err)
	}
	// A non-blocking descriptor is registered with the poller, so Read
	// parks the goroutine rather than blocking a thread.
	return &timerfdClock{fd: fd, f: os.NewFile(uintptr(fd), "pace-clock")}, nil
}

// Wait arms the timer at t's CLOCK_MONOTONIC time (the clock Go's
// monotonic readings come from) and reads it.
func (c *timerfdClock) Wait(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	// The monotonic clock is read after time.Until's: the expiry lands at
	// t or a little after, never before.
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
		return fmt.Errorf("pace: clock_gettime: %w", err)
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(now.Nano() + int64(d))}
	if err := unix.TimerfdSettime(c.fd, unix.TFD_TIMER_ABSTIME, &spec, nil); err != nil {
		return fmt.Errorf("pace: timerfd_settime: %w", err)
	}
	c.watch(ctx)
	for {
		_, err := c.f.Read(c.buf[:])
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// An earlier context's cancellation landing late: not ours.
			if err := c.f.SetReadDeadline(time.Time{}); err != nil {
				return fmt.Errorf("pace: clock: %w", err)
			}
			continue
		}
		return fmt.Errorf("pace: read timerfd: %w", err)
	}
}

// watch makes ctx's end cut a Read short, unless it does already.
func (c *timerfdClock) watch(ctx context.Context) {
	if ctx == c.ctx {
		return
	}
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	_ = c.f.SetReadDeadline(time.Time{}) // the last context may have set it
	c.ctx = ctx
	if ctx.Done() != nil {
		f := c.f
		c.stop = context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(aLongTimeAgo) })
	}
}

// Close closes the timerfd.
func (c *timerfdClock) Close() error {
	if c.stop != nil {
		c.stop()
	}
	return c.f.Close()
}
