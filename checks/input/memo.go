package input

// This file is the same as checks/headers/memo.go, checks/access/memo.go
// and checks/input/memo.go (only the package clause differs).

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

// memo keeps one value per target and run prefix, so that the checks of
// a package share what they need instead of each making its own. It
// matters for users: the API's default auth budget is 5 requests per 15
// minutes per client, which one registration per check would exhaust.
type memo[V any] struct {
	mu      sync.Mutex
	entries map[string]*memoEntry[V]
}

type memoEntry[V any] struct {
	done chan struct{}
	at   time.Time
	v    V
	err  error
}

// get returns the value for t, making it with mk on first use. Concurrent
// callers wait for the first; a make cut short by its caller's context is
// forgotten, so that the next caller tries again.
func (m *memo[V]) get(ctx context.Context, t *check.Target, mk func(context.Context) (V, error)) (V, error) {
	key := t.BaseURL + "\x00" + t.Prefix
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
		e.v, e.err = mk(ctx)
		e.at = time.Now()
		if e.err != nil && ctx.Err() != nil {
			m.mu.Lock()
			delete(m.entries, key)
			m.mu.Unlock()
		}
		close(e.done)
		return e.v, e.err
	}
	m.mu.Unlock()
	select {
	case <-e.done:
		return e.v, e.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}
