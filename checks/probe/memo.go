package probe

import (
	"context"
	"sync"
	"time"

	"github.com/taskready/taskready/checks/check"
)

// memoTTL bounds how long a memoised value is reused: longer than one run
// of the checks, short enough that a later run of the same target and
// prefix starts afresh (its users may have been cleaned up since).
const memoTTL = 10 * time.Minute

// Memo keeps one value per target and run prefix, so that the checks of
// a package share what they need instead of each making its own. It
// matters for users: the API's default auth budget is 5 requests per 15
// minutes per client, which one registration per check would exhaust.
// The zero Memo is ready to use.
type Memo[V any] struct {
	mu      sync.Mutex
	entries map[string]*memoEntry[V]
}

type memoEntry[V any] struct {
	done chan struct{}
	// Set before done is closed, read after.
	at        time.Time
	v         V
	err       error
	forgotten bool // the make was cut short or panicked: nothing to share
}

// Get returns the value for t, making it with mk on first use. Concurrent
// callers wait for the first. A make cut short by its caller's context
// (or that panics) is forgotten: the next caller tries again, and so does
// a caller that was waiting for it, since another caller's cancellation
// says nothing about its own request.
func (m *Memo[V]) Get(ctx context.Context, t *check.Target, mk func(context.Context) (V, error)) (V, error) {
	key := t.BaseURL + "\x00" + t.Prefix
	for {
		m.mu.Lock()
		if m.entries == nil {
			m.entries = map[string]*memoEntry[V]{}
		}
		for k, e := range m.entries {
			select {
			case <-e.done:
				if time.Since(e.at) > memoTTL {
					delete(m.entries, k)
				}
			default:
			}
		}
		e, ok := m.entries[key]
		if !ok {
			e = &memoEntry[V]{done: make(chan struct{})}
			m.entries[key] = e
			m.mu.Unlock()
			return m.make(ctx, key, e, mk)
		}
		m.mu.Unlock()
		select {
		case <-e.done:
			if e.forgotten && ctx.Err() == nil {
				continue
			}
			return e.v, e.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
}

// make runs mk for e and publishes the outcome to e's waiters.
func (m *Memo[V]) make(ctx context.Context, key string, e *memoEntry[V], mk func(context.Context) (V, error)) (V, error) {
	finished := false
	defer func() {
		if !finished { // mk panicked: let the next caller try
			m.forget(key, e)
			close(e.done)
		}
	}()
	e.v, e.err = mk(ctx)
	finished = true
	e.at = time.Now()
	if e.err != nil && ctx.Err() != nil {
		m.forget(key, e)
	}
	close(e.done)
	return e.v, e.err
}

// forget removes e, unless a newer entry has taken its place.
func (m *Memo[V]) forget(key string, e *memoEntry[V]) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.forgotten = true
	if m.entries[key] == e {
		delete(m.entries, key)
	}
}
