package transport

import (
	"context"
	"sync"
)

// watch cuts short the request a connection carries when the request's
// context ends.
//
// A context.AfterFunc per request cost an allocation, a lock of the
// parent context's and an insert and delete in its map of children, all
// on the one context every virtual user of a run shares: about 4% of the
// engine's CPU against a fast target. A connection instead keeps its
// registration for the context it last carried a request of, and the
// callback cuts only a request of that context still in flight; a
// request of another context registers anew. Callers with a context per
// request (RoundTrip's usual ones) pay what they paid before, and their
// context's end, after the answer, finds nothing to cut.
type watch struct {
	// ctx and stop are the registration; only the request holding the
	// connection, or whoever closes it, touches them.
	ctx  context.Context
	stop func() bool

	mu     sync.Mutex
	flight context.Context // the context of the request in flight, nil between requests
	cut    bool            // the request in flight was cut short
}

// begin marks a request of ctx in flight on c: if ctx ends before end is
// called, c's I/O is made to fail at once. It returns ctx's error when
// ctx has already ended, and the request must then not be sent.
func (c *conn) begin(ctx context.Context) error {
	if ctx.Done() == nil {
		return nil // never ends
	}
	w := &c.watch
	if w.ctx != ctx {
		c.unwatch()
		w.ctx, w.stop = ctx, context.AfterFunc(ctx, func() { c.cutShort(ctx) })
	}
	w.mu.Lock()
	w.flight = ctx
	w.mu.Unlock()
	// A context that ended before flight was set ran its callback (or
	// will) without finding this request; its error is already set.
	return ctx.Err()
}

// end marks the request in flight done and reports whether it was cut
// short: the connection's deadline is then in the past, and it must not
// be pooled.
func (c *conn) end() (cut bool) {
	w := &c.watch
	w.mu.Lock()
	cut = w.cut
	w.flight, w.cut = nil, false
	w.mu.Unlock()
	return cut
}

// cutShort is the callback of ctx's end: it fails the I/O of a request of
// ctx in flight on c, and leaves any other request alone.
func (c *conn) cutShort(ctx context.Context) {
	w := &c.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.flight == ctx {
		w.cut = true
		_ = c.Conn.SetDeadline(aLongTimeAgo)
	}
}

// unwatch drops the registration, so a closed connection is not kept
// alive by a context that outlives it.
func (c *conn) unwatch() {
	if c.watch.stop != nil {
		c.watch.stop()
		c.watch.ctx, c.watch.stop = nil, nil
	}
}
