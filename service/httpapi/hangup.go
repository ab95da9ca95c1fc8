package httpapi

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gofiber/fiber/v3"
)

// errClientGone is the cause of a request context cancelled because the
// client closed its connection.
var errClientGone = errors.New("the client closed the connection")

// statusClientClosed is nginx's 499 "client closed request": what the log
// and the metrics record for work stopped because nobody waits for it. No
// client ever reads it.
const statusClientClosed = 499

// How often a request in progress looks whether its client has gone: soon
// at first, then less often, so that a long wait costs a handful of peeks
// (about a dozen over the default 5 s deadline) and a fast request none.
const (
	firstHangupCheck = 50 * time.Millisecond
	lastHangupCheck  = 500 * time.Millisecond
)

// hangupDetector is what the API's listener connections implement
// (listener.Conn.HungUp).
type hangupDetector interface{ HungUp() bool }

// hangupWatch cancels a request's work when its client hangs up: fasthttp
// gives no notice of it, so without the watch a queued or running request
// whose client gave up would hold its slot until its deadline, and a burst
// of impatient clients would leave a backlog behind it.
type hangupWatch struct {
	conn   hangupDetector
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	timer   *time.Timer
	every   time.Duration
	stopped bool
}

// watchHangup starts watching the connection of c, calling cancel with
// errClientGone once its client has gone; the returned stop ends the
// watch, and no peek happens after it returns.
func watchHangup(c fiber.Ctx, cancel context.CancelCauseFunc) (stop func()) {
	conn, ok := c.RequestCtx().Conn().(hangupDetector)
	if !ok {
		return func() {}
	}
	w := &hangupWatch{conn: conn, cancel: cancel, every: firstHangupCheck}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(w.every, w.check)
	return w.stop
}

func (w *hangupWatch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	if w.conn.HungUp() {
		w.cancel(errClientGone)
		return
	}
	w.every = min(2*w.every, lastHangupCheck)
	w.timer.Reset(w.every)
}

func (w *hangupWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
}

// clientGone reports whether the work of c was cancelled because its
// client hung up.
func clientGone(c fiber.Ctx) bool {
	return errors.Is(context.Cause(c.Context()), errClientGone)
}
