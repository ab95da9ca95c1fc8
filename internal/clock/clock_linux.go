//go:build linux

package clock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/taskready/taskready/internal/rawio"
)

// wakeGrain is the least time between two wakes of the precise clock: a
// future moment due sooner after the last wake is waited for until then,
// and the moments due by then leave together. At high rates (above 20,000/s)
// that bounds what waking costs, one timer and one poll per wake, for at
// most that much lateness; below them it changes nothing.
const wakeGrain = 50 * time.Microsecond

// timerfdClock waits on a timerfd: the kernel wakes the runtime's network
// poller when the timer expires, to the nanosecond (an hrtimer, with no
// slack), so neither the poller's millisecond timeout nor a thread of our
// own is involved, and a waiting goroutine parks as on a socket.
type timerfdClock struct {
	f  *os.File
	rc syscall.RawConn
	// ctx is the context whose end cuts a wait short (by moving the
	// file's deadline to the past), stop unregisters that: one
	// registration for every Wait of one scheduling loop.
	ctx  context.Context
	stop func() bool
	last time.Time // when a wait last ended

	// The state of one Wait, for step: bound once, so that a wait
	// allocates nothing.
	spec  unix.ItimerSpec // the expiry, from when the timer is armed; here, not on a stack, for the raw call
	armed bool
	err   error
	buf   [8]byte // the expiration count a read returns
	step  func(fd uintptr) bool
}

// aLongTimeAgo is a deadline that makes a blocked wait return at once.
var aLongTimeAgo = time.Unix(1, 0)

func newPreciseClock() (Clock, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("clock: timerfd_create: %w", err)
	}
	// A non-blocking descriptor is registered with the poller, so a wait
	// parks the goroutine rather than blocking a thread.
	f := os.NewFile(uintptr(fd), "clock")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("clock: timerfd: %w", err)
	}
	c := &timerfdClock{f: f, rc: rc}
	c.step = c.stepFD
	return c, nil
}

// Wait arms the timer to expire at t, or at wakeGrain after the last
// wake if that is later, and waits for it to expire.
func (c *timerfdClock) Wait(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	if !t.After(now) {
		return nil // behind: no wait, so a late loop catches up at once
	}
	if next := c.last.Add(wakeGrain); t.Before(next) {
		t = next
	}
	// A relative expiry, positive as both ends come from one reading, and
	// armed after it: the timer lands at t or a little after, never
	// before. (An absolute one needed clock_gettime(2), which is a real
	// system call here, not the vDSO's.)
	c.spec.Value = unix.NsecToTimespec(int64(t.Sub(now)))
	c.armed, c.err = false, nil
	c.watch(ctx)
	for {
		err := c.rc.Read(c.step)
		if err == nil && c.err == nil {
			c.last = time.Now()
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err == nil {
			return fmt.Errorf("clock: timerfd: %w", c.err)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// An earlier context's cancellation landing late: not ours.
			if err := c.f.SetReadDeadline(time.Time{}); err != nil {
				return fmt.Errorf("clock: clock: %w", err)
			}
			continue
		}
		return fmt.Errorf("clock: timerfd: %w", err)
	}
}

// stepFD is the poller's callback: it arms the timer on its first call,
// after the poller forgot any readiness from an earlier wait (so the
// expiry cannot be missed), and reads the expiration once the descriptor
// is readable. Arming first rather than reading saves the read that
// would find nothing. It reports whether the wait is over.
func (c *timerfdClock) stepFD(fd uintptr) bool {
	if !c.armed {
		c.armed = true
		if err := rawSettime(fd, &c.spec); err != nil {
			c.err = fmt.Errorf("timerfd_settime: %w", err)
			return true
		}
		return false
	}
	for {
		_, err := rawio.Read(int(fd), c.buf[:])
		switch err {
		case nil:
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN: // readiness left over from an earlier expiry
			return false
		}
		c.err = fmt.Errorf("read: %w", err)
		return true
	}
}

// watch makes ctx's end cut a wait short, unless it does already.
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

// rawSettime is timerfd_settime(2) without telling the Go scheduler, as
// package rawio reads the timerfd: it never waits, and a call the
// scheduler knows of may hand the processor to another thread, waking it.
func rawSettime(fd uintptr, spec *unix.ItimerSpec) error {
	_, _, errno := syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(spec)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// Close closes the timerfd.
func (c *timerfdClock) Close() error {
	if c.stop != nil {
		c.stop()
	}
	return c.f.Close()
}
