package ratelimit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/service/ratelimit"
	"github.com/taskready/taskready/service/redis"
)

const window = time.Minute

// servers are the Redis implementations every scenario runs against:
// redis-server when installed (else miniredis again), and miniredis.
var servers = []struct {
	name string
	opts []embedded.RedisOption
}{
	{"default", nil},
	{"miniredis", []embedded.RedisOption{embedded.RedisInProcess()}},
}

// forEachServer runs f in a parallel subtest per Redis implementation, each
// with its own server.
func forEachServer(t *testing.T, f func(t *testing.T, r *embedded.Redis)) {
	t.Helper()
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			r, err := embedded.StartRedis(t.Context(), s.opts...)
			if err != nil {
				t.Fatalf("StartRedis: %v", err)
			}
			t.Cleanup(func() { _ = r.Close() })
			t.Logf("redis: %v at %s", r.Kind(), r.URL())
			f(t, r)
		})
	}
}

// client opens a client to r, as one API instance would.
func client(t *testing.T, r *embedded.Redis) *redis.Client {
	t.Helper()
	c, err := redis.Open(r.URL())
	if err != nil {
		t.Fatalf("redis.Open(%q): %v", r.URL(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// metrics returns fresh limiter metrics and a registry holding them.
func metrics(t *testing.T) (*ratelimit.Metrics, *prometheus.Registry) {
	t.Helper()
	m := ratelimit.NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range m.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	return m, reg
}

// counter returns the value of the counter name{limiter=limiter} in reg.
func counter(t *testing.T, reg *prometheus.Registry, name, limiter string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "limiter" && l.GetValue() == limiter {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{limiter=%q} in the registry", name, limiter)
	return 0
}

// expect calls l.Allow(keys) and checks the outcome.
func expect(t *testing.T, l *ratelimit.Limiter, allowed bool, remaining int, keys ...string) ratelimit.Result {
	t.Helper()
	r := l.Allow(context.Background(), keys...)
	if r.Allowed != allowed || r.Remaining != remaining {
		t.Errorf("Allow(%q) = {Allowed:%v Remaining:%d}; want {Allowed:%v Remaining:%d}", keys, r.Allowed, r.Remaining, allowed, remaining)
	}
	if r.Reset <= 0 || r.Reset > l.Window() {
		t.Errorf("Allow(%q).Reset = %v; want in (0, %v]", keys, r.Reset, l.Window())
	}
	return r
}

func TestAllowUpToLimit(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, r *embedded.Redis) {
		m, reg := metrics(t)
		const limit = 3
		l := ratelimit.New("auth", limit, window, client(t, r), m)
		if got, want := l.Window(), window; got != want {
			t.Errorf("Window() = %v; want %v", got, want)
		}
		for i := 1; i <= limit; i++ {
			res := expect(t, l, true, limit-i, "ip:1")
			if got, want := res.Limit, limit; got != want {
				t.Errorf("Allow #%d Limit = %d; want %d", i, got, want)
			}
		}
		for range 2 {
			expect(t, l, false, 0, "ip:1")
		}
		if got, want := counter(t, reg, "taskapi_ratelimit_rejections_total", "auth"), 2.0; got != want {
			t.Errorf("rejections = %v; want %v", got, want)
		}
		if got, want := counter(t, reg, "taskapi_ratelimit_fallback_total", "auth"), 0.0; got != want {
			t.Errorf("fallbacks with Redis up = %v; want %v", got, want)
		}
		// Another key has its own budget.
		expect(t, l, true, limit-1, "ip:2")
	})
}

func TestFirstResetIsTheWindow(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, r *embedded.Redis) {
		m, _ := metrics(t)
		l := ratelimit.New("api", 5, window, client(t, r), m)
		res := l.Allow(context.Background(), "user:1")
		// The window starts at the first request; allow for the round trip.
		if res.Reset <= window-5*time.Second || res.Reset > window {
			t.Errorf("first Allow Reset = %v; want about %v", res.Reset, window)
		}
	})
}

func TestInstancesShareTheCount(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, r *embedded.Redis) {
		m1, _ := metrics(t)
		m2, _ := metrics(t)
		a := ratelimit.New("auth", 4, window, client(t, r), m1)
		b := ratelimit.New("auth", 4, window, client(t, r), m2)
		expect(t, a, true, 3, "ip:9")
		expect(t, b, true, 2, "ip:9")
		expect(t, a, true, 1, "ip:9")
		expect(t, b, true, 0, "ip:9")
		expect(t, a, false, 0, "ip:9")
		expect(t, b, false, 0, "ip:9")

		// Limiters of another name count apart, even for the same key.
		other := ratelimit.New("api", 4, window, client(t, r), m1)
		expect(t, other, true, 3, "ip:9")
	})
}

func TestTightestKeyWins(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, r *embedded.Redis) {
		m, reg := metrics(t)
		l := ratelimit.New("auth", 3, window, client(t, r), m)

		expect(t, l, true, 2, "email:b")         // email:b 1 used
		expect(t, l, true, 1, "ip:2", "email:b") // ip:2 1 used, email:b 2: the second key is tighter
		expect(t, l, true, 0, "email:b", "ip:3") // email:b 3 used, ip:3 1: the first key is tighter
		expect(t, l, true, 1, "ip:2", "ip:3")    // both 2 used

		// email:b is spent: a fresh ip does not get it through, in
		// either position.
		expect(t, l, false, 0, "ip:5", "email:b")
		expect(t, l, false, 0, "email:b", "ip:6")
		// One call with two keys is one rejection, not two.
		if got, want := counter(t, reg, "taskapi_ratelimit_rejections_total", "auth"), 2.0; got != want {
			t.Errorf("rejections = %v; want %v", got, want)
		}
		// Every key was counted even when another refused: ip:5 has 1 used.
		expect(t, l, true, 1, "ip:5")
	})
}

func TestFallbackWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, r *embedded.Redis) {
		ctx := t.Context()
		m, reg := metrics(t)
		const limit = 3
		rc := client(t, r)
		a := ratelimit.New("auth", limit, window, rc, m)
		b := ratelimit.New("auth", limit, window, client(t, r), m)
		expect(t, a, true, limit-1, "ip:1")

		if err := r.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		// Still answering, still enforcing the budget, now per instance.
		for i := 1; i <= limit; i++ {
			expect(t, a, true, limit-i, "ip:1")
		}
		expect(t, a, false, 0, "ip:1")
		expect(t, a, true, limit-1, "ip:2")
		// The other instance has its own budget while Redis is away.
		expect(t, b, true, limit-1, "ip:1")

		if got, want := counter(t, reg, "taskapi_ratelimit_fallback_total", "auth"), float64(limit+3); got != want {
			t.Errorf("fallbacks = %v; want %v", got, want)
		}
		if got, want := counter(t, reg, "taskapi_ratelimit_rejections_total", "auth"), 1.0; got != want {
			t.Errorf("rejections = %v; want %v", got, want)
		}

		// Back again (empty): once the breaker closes, Redis counts again.
		if err := r.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		if err := rc.Ping(ctx); err != nil {
			t.Fatalf("Ping after Start: %v", err)
		}
		expect(t, a, true, limit-1, "ip:1")
		if got, want := counter(t, reg, "taskapi_ratelimit_fallback_total", "auth"), float64(limit+3); got != want {
			t.Errorf("fallbacks after recovery = %v; want %v (no new fallback)", got, want)
		}
	})
}

func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, r *embedded.Redis) {
		m, reg := metrics(t)
		l := ratelimit.New("auth", 1, window, client(t, r), m)
		ratelimit.New("api", 1, window, client(t, r), m)
		for range 3 {
			l.Allow(context.Background(), "ip:1")
		}
		const want = `
# HELP taskapi_ratelimit_fallback_total Requests counted by the per-instance limiter because Redis was unavailable.
# TYPE taskapi_ratelimit_fallback_total counter
taskapi_ratelimit_fallback_total{limiter="api"} 0
taskapi_ratelimit_fallback_total{limiter="auth"} 0
# HELP taskapi_ratelimit_rejections_total Requests refused with 429 by limiter.
# TYPE taskapi_ratelimit_rejections_total counter
taskapi_ratelimit_rejections_total{limiter="api"} 0
taskapi_ratelimit_rejections_total{limiter="auth"} 2
`
		if got := exposition(t, reg); got != strings.TrimPrefix(want, "\n") {
			t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
		}
	})
}

// exposition renders reg's metrics in the text format, as /metrics serves
// them. (prometheus/testutil would do, but needs a module this go.mod does
// not list.)
func exposition(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var b strings.Builder
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			t.Fatalf("MetricFamilyToText: %v", err)
		}
	}
	return b.String()
}
