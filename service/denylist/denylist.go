// Package denylist records the tokens that logout revoked, so that a
// token stops working when its user logs out instead of when it expires.
//
// A revoked token's id (its jti, or a hash of its signature for a token
// issued before tokens carried one) is kept in two places:
//
//   - in Redis, as taskapi:revoked:<id> expiring with the token, shared by
//     every instance: logout on one instance holds on all of them;
//   - in this instance's memory, bounded (DefaultMaxLocal entries; when
//     full, the soonest-expiring is dropped) and swept as tokens expire.
//
// Every check looks at the local list first and then asks Redis (one PTTL
// per authenticated request). While Redis is unavailable, revocations are
// still recorded and checked locally: a logout holds on the instance that
// served it, but another instance accepts the token until Redis is back
// (revocations recorded during the outage are then written to Redis by the
// next check or logout that reaches it) or the token expires. A Redis that
// loses its data (a restart without persistence, a failover to a replica
// that had not caught up) forgets the revocations it held in the same way,
// except those still in some instance's local list.
//
// httpapi takes a List through its Denylist interface; logout calls
// Revoke and every authenticated request calls Revoked.
package denylist

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/taskready/taskready/service/redis"
)

// keyPrefix namespaces the deny-list's keys in a shared Redis.
const keyPrefix = "taskapi:revoked:"

// DefaultMaxLocal bounds the local list: about 15 MB at 100k entries.
const DefaultMaxLocal = 100_000

// flushBatch bounds how many locally recorded revocations one request
// writes to Redis after an outage, so that the request that finds Redis
// back pays one pipelined round trip of bounded size.
const flushBatch = 500

// List is the deny-list: Redis shared by every instance, with a bounded
// per-instance copy for when Redis is away.
type List struct {
	rc       *redis.Client
	local    *local
	now      func() time.Time
	flushing sync.Mutex // one writer of pending entries at a time

	revocations prometheus.Counter
	fallbacks   *prometheus.CounterVec
	size        prometheus.GaugeFunc
}

// Option sets an optional property of a List.
type Option func(*List)

// MaxLocal sets how many revocations the local list keeps.
func MaxLocal(n int) Option { return func(l *List) { l.local.max = max(1, n) } }

// Clock sets the time source, for tests of expiry without waiting.
func Clock(now func() time.Time) Option { return func(l *List) { l.now = now } }

// New returns a deny-list keeping its shared entries in rc.
func New(rc *redis.Client, opts ...Option) *List {
	l := &List{
		rc:    rc,
		local: newLocal(DefaultMaxLocal),
		now:   time.Now,
		revocations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "taskapi_denylist_revocations_total", Help: "Tokens revoked by logout.",
		}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_denylist_fallback_total",
			Help: "Deny-list operations (revoke, check) that only this instance's local list answered because Redis was unavailable.",
		}, []string{"op"}),
	}
	l.size = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "taskapi_denylist_local_entries", Help: "Revoked tokens held in this instance's local deny-list.",
	}, func() float64 { return float64(l.local.len()) })
	// Both series exist from the start, so a fallback rate is defined
	// before the first outage.
	l.fallbacks.WithLabelValues("revoke")
	l.fallbacks.WithLabelValues("check")
	for _, o := range opts {
		o(l)
	}
	return l
}

// Collectors returns the deny-list's metrics for registration.
func (l *List) Collectors() []prometheus.Collector {
	return []prometheus.Collector{l.revocations, l.fallbacks, l.size}
}

// Revoke denies token id until exp, the token's own expiry (after which
// the token is refused anyway). It always records the revocation locally;
// the error says only that Redis could not be told, so other instances
// will learn of it once Redis is back.
func (l *List) Revoke(ctx context.Context, id string, exp time.Time) error {
	now := l.now()
	if !exp.After(now) {
		return nil
	}
	l.revocations.Inc()
	l.local.add(id, exp, true, now)
	err := l.rc.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error {
		return rdb.SetArgs(ctx, keyPrefix+id, 1, goredis.SetArgs{ExpireAt: exp}).Err()
	})
	if err != nil {
		l.fallbacks.WithLabelValues("revoke").Inc()
		return fmt.Errorf("revoke token in redis (recorded on this instance only): %w", err)
	}
	l.local.shared([]string{id})
	l.flush(ctx)
	return nil
}

// Revoked reports whether token id was revoked. It never fails: when Redis
// cannot answer, the local list alone does.
func (l *List) Revoked(ctx context.Context, id string) bool {
	now := l.now()
	if l.local.has(id, now) {
		return true
	}
	var ttl time.Duration
	err := l.rc.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error {
		var err error
		ttl, err = rdb.PTTL(ctx, keyPrefix+id).Result()
		return err
	})
	if err != nil {
		l.fallbacks.WithLabelValues("check").Inc()
		return false
	}
	l.flush(ctx)
	// PTTL rather than EXISTS, at the same cost: knowing when the entry
	// expires lets this instance keep it, so that the token is refused
	// without a round trip next time and through a Redis outage. -2 is
	// "no such key"; -1 (no expiry) is not something Revoke writes, but a
	// key that exists is a revocation all the same.
	switch {
	case ttl == -2:
		return false
	case ttl > 0:
		l.local.add(id, now.Add(ttl), false, now)
	}
	return true
}

// flush writes revocations that were recorded only locally (Redis was
// down at the time) to Redis, now that a call to it succeeded. One caller
// flushes at a time; the others go on without waiting.
func (l *List) flush(ctx context.Context) {
	if !l.local.hasPending() || !l.flushing.TryLock() {
		return
	}
	defer l.flushing.Unlock()
	batch := l.local.pending(flushBatch)
	if len(batch) == 0 {
		return
	}
	err := l.rc.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error {
		_, err := rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, e := range batch {
				p.SetArgs(ctx, keyPrefix+e.id, 1, goredis.SetArgs{ExpireAt: e.exp})
			}
			return nil
		})
		return err
	})
	if err != nil {
		return // still pending: the next successful call tries again
	}
	ids := make([]string, len(batch))
	for i, e := range batch {
		ids[i] = e.id
	}
	l.local.shared(ids)
}

// local is the per-instance list: a map for lookups and a min-heap by
// expiry, whose top is both the next entry to sweep and the one to drop
// when the list is full.
type local struct {
	mu       sync.Mutex
	max      int
	byID     map[string]*entry
	byExp    expiryHeap
	unshared int // entries not yet written to Redis
}

type entry struct {
	id      string
	exp     time.Time
	pending bool // recorded while Redis was unavailable
	index   int  // in byExp
}

func newLocal(max int) *local {
	return &local{max: max, byID: make(map[string]*entry)}
}

// add records id until exp; pending marks it as not yet in Redis.
func (l *local) add(id string, exp time.Time, pending bool, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	if e, ok := l.byID[id]; ok {
		if exp.After(e.exp) {
			e.exp = exp
			heap.Fix(&l.byExp, e.index)
		}
		l.setPending(e, pending)
		return
	}
	e := &entry{id: id, exp: exp}
	l.setPending(e, pending)
	l.byID[id] = e
	heap.Push(&l.byExp, e)
	// Full: drop the entry that would have expired first, which may be the
	// new one. It has the least time left to be abused, and Redis (when
	// up) still holds it.
	for len(l.byExp) > l.max {
		l.remove(heap.Pop(&l.byExp).(*entry))
	}
}

// has reports whether id is revoked at now.
func (l *local) has(id string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	_, ok := l.byID[id]
	return ok
}

// sweep drops the entries whose token has expired: the heap's top is the
// oldest, so a sweep with nothing to drop costs one comparison.
func (l *local) sweep(now time.Time) {
	for len(l.byExp) > 0 && !l.byExp[0].exp.After(now) {
		l.remove(heap.Pop(&l.byExp).(*entry))
	}
}

func (l *local) remove(e *entry) {
	l.setPending(e, false)
	delete(l.byID, e.id)
}

func (l *local) setPending(e *entry, pending bool) {
	switch {
	case pending && !e.pending:
		l.unshared++
	case !pending && e.pending:
		l.unshared--
	}
	e.pending = pending
}

func (l *local) hasPending() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unshared > 0
}

// pending returns up to n entries not yet written to Redis, as copies.
func (l *local) pending(n int) []entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]entry, 0, min(n, l.unshared))
	for _, e := range l.byID {
		if len(out) == n {
			break
		}
		if e.pending {
			out = append(out, *e)
		}
	}
	return out
}

// shared marks ids as written to Redis.
func (l *local) shared(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if e, ok := l.byID[id]; ok {
			l.setPending(e, false)
		}
	}
}

func (l *local) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID)
}

// expiryHeap orders entries by expiry, soonest first (container/heap).
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
