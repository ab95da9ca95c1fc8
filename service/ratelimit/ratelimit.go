// Package ratelimit counts requests per key in fixed windows, shared by
// every API instance through Redis, with a per-instance fallback.
//
// The window is fixed (as express-rate-limit's default store counts), so the
// RateLimit-Reset header is exact and one INCR per request is all it costs.
// When Redis cannot be reached the limiter keeps enforcing the same budget
// per instance: a Redis outage loosens limits by the number of instances but
// never fails a request.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/taskready/taskready/service/redis"
)

// Result is the state of one key after counting a request.
type Result struct {
	Allowed   bool
	Limit     int
	Remaining int
	Reset     time.Duration // until the window ends
}

// tighter returns whichever result leaves the client less room. When both
// refuse, the later reset wins: a client that waits Retry-After must find
// every key open again.
func tighter(a, b Result) Result {
	switch {
	case a.Allowed != b.Allowed:
		if a.Allowed {
			return b
		}
		return a
	case a.Allowed && a.Remaining != b.Remaining:
		if a.Remaining < b.Remaining {
			return a
		}
		return b
	case a.Reset >= b.Reset:
		return a
	default:
		return b
	}
}

// windowScript counts a request and returns the count and the window's
// remaining milliseconds, atomically, so that instances never race between
// INCR and PEXPIRE.
var windowScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// Limiter allows Limit requests per Window for each key.
type Limiter struct {
	name   string
	limit  int
	window time.Duration
	rc     *redis.Client
	local  *local

	rejected prometheus.Counter
	fallback prometheus.Counter
}

// Metrics are the counters every Limiter of a process shares.
type Metrics struct {
	rejections *prometheus.CounterVec
	fallbacks  *prometheus.CounterVec
}

// NewMetrics returns the rate-limit counters, named taskapi_ratelimit_*.
func NewMetrics() *Metrics {
	return &Metrics{
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_ratelimit_rejections_total", Help: "Requests refused with 429 by limiter.",
		}, []string{"limiter"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_ratelimit_fallback_total", Help: "Requests counted by the per-instance limiter because Redis was unavailable.",
		}, []string{"limiter"}),
	}
}

// Collectors returns the counters for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.rejections, m.fallbacks}
}

// New returns a limiter named name (a metric label and a key prefix)
// allowing limit requests per window through rc.
func New(name string, limit int, window time.Duration, rc *redis.Client, m *Metrics) *Limiter {
	return &Limiter{
		name: name, limit: limit, window: window, rc: rc,
		local:    newLocal(window),
		rejected: m.rejections.WithLabelValues(name),
		fallback: m.fallbacks.WithLabelValues(name),
	}
}

// Allow counts one request against every key and returns the tightest
// result: the request is allowed only if every key still has budget.
// Callers pass at least one key.
func (l *Limiter) Allow(ctx context.Context, keys ...string) Result {
	var out Result
	for i, key := range keys {
		r := l.allow(ctx, key)
		if i == 0 {
			out = r
		} else {
			out = tighter(out, r)
		}
	}
	if !out.Allowed {
		l.rejected.Inc()
	}
	return out
}

func (l *Limiter) allow(ctx context.Context, key string) Result {
	key = "taskapi:rl:" + l.name + ":" + key
	var count, ttl int64
	err := l.rc.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error {
		vals, err := windowScript.Run(ctx, rdb, []string{key}, l.window.Milliseconds()).Int64Slice()
		if err == nil && len(vals) == 2 {
			count, ttl = vals[0], vals[1]
		}
		return err
	})
	if err != nil {
		l.fallback.Inc()
		c, reset := l.local.count(key, time.Now())
		return l.result(int64(c), reset)
	}
	return l.result(count, time.Duration(ttl)*time.Millisecond)
}

func (l *Limiter) result(count int64, reset time.Duration) Result {
	return Result{
		Allowed:   count <= int64(l.limit),
		Limit:     l.limit,
		Remaining: max(0, l.limit-int(count)),
		Reset:     reset,
	}
}

// Window is the limiter's window length.
func (l *Limiter) Window() time.Duration { return l.window }

// local is the per-instance fixed-window counter used while Redis is away.
type local struct {
	mu        sync.Mutex
	window    time.Duration
	counts    map[string]*localWindow
	lastSweep time.Time
}

type localWindow struct {
	n     int
	until time.Time
}

func newLocal(window time.Duration) *local {
	return &local{window: window, counts: make(map[string]*localWindow)}
}

// count adds one to key's window and returns the count and time to reset.
func (l *local) count(key string, now time.Time) (int, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Sweep expired windows at most once a second, so memory stays bounded
	// by the keys seen in one window.
	if now.Sub(l.lastSweep) > time.Second {
		for k, w := range l.counts {
			if !now.Before(w.until) {
				delete(l.counts, k)
			}
		}
		l.lastSweep = now
	}
	w, ok := l.counts[key]
	if !ok || !now.Before(w.until) {
		w = &localWindow{until: now.Add(l.window)}
		l.counts[key] = w
	}
	w.n++
	return w.n, w.until.Sub(now)
}
