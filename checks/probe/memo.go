package probe

import (
	"context"
	"sync"

	"github.com/taskready/taskready/checks/check"
)

// Memo keeps one value per run (the target's Shared), target and prefix,
// so that the checks of a run share what they need instead of each making
// its own. It matters for users: the API's default auth budget is 5
// requests per 15 minutes per client, which one registration per check
// would exhaust. The value lives as long as the run's Shared: a later run
// starts afresh, and a target without a Shared shares nothing. A Memo
// holds no value itself, only names one; declare it as a package variable
// and use it by pointer.
type Memo[V any] struct {
	// A byte, so that every Memo has an address of its own (zero-size
	// variables may share one): the address keys its values.
	_ byte
}

// memoValues are one Memo's values in one run.
type memoValues[V any] struct {
	mu      sync.Mutex
	entries map[string]*memoEntry[V]
}

type memoEntry[V any] struct {
	done chan struct{}
	// Set before done is closed, read after.
	v         V
	err       error
	forgotten bool // the make was cut short or panicked: nothing to share
}

// Get returns the value for t, making it with mk on first use in t's run.
// Concurrent callers wait for the first. A make cut short by its caller's
// context (or that panics) is forgotten: the next caller tries again, and
// so does a caller that was waiting for it, since another caller's
// cancellation says nothing about its own request.
func (m *Memo[V]) Get(ctx context.Context, t *check.Target, mk func(context.Context) (V, error)) (V, error) {
	vs := t.Shared.Value(m, func() any { return &memoValues[V]{} }).(*memoValues[V])
	return vs.get(ctx, t.BaseURL+"\x00"+t.Prefix, mk)
}

func (vs *memoValues[V]) get(ctx context.Context, key string, mk func(context.Context) (V, error)) (V, error) {
	for {
		vs.mu.Lock()
		if vs.entries == nil {
			vs.entries = map[string]*memoEntry[V]{}
		}
		e, ok := vs.entries[key]
		if !ok {
			e = &memoEntry[V]{done: make(chan struct{})}
			vs.entries[key] = e
			vs.mu.Unlock()
			return vs.make(ctx, key, e, mk)
		}
		vs.mu.Unlock()
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
func (vs *memoValues[V]) make(ctx context.Context, key string, e *memoEntry[V], mk func(context.Context) (V, error)) (V, error) {
	finished := false
	defer func() {
		if !finished { // mk panicked: let the next caller try
			vs.forget(key, e)
			close(e.done)
		}
	}()
	e.v, e.err = mk(ctx)
	finished = true
	if e.err != nil && ctx.Err() != nil {
		vs.forget(key, e)
	}
	close(e.done)
	return e.v, e.err
}

// forget removes e, unless a newer entry has taken its place.
func (vs *memoValues[V]) forget(key string, e *memoEntry[V]) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	e.forgotten = true
	if vs.entries[key] == e {
		delete(vs.entries, key)
	}
}
