package denylist_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/internal/testserver"
	"github.com/taskready/taskready/service/denylist"
	"github.com/taskready/taskready/service/redis"
)

func TestMain(m *testing.M) {
	redis.SetLogger(slog.New(slog.DiscardHandler)) // outages are provoked on purpose
	os.Exit(m.Run())
}

func open(t *testing.T, url string) *redis.Client {
	t.Helper()
	rc, err := redis.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// metric returns the value of l's metric name, whose op label (if any) is
// op, as /metrics would show it.
func metric(t *testing.T, l *denylist.List, name, op string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(l.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() == op {
				if m.Counter != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{op=%q}", name, op)
	return 0
}

func fallbacks(t *testing.T, l *denylist.List, op string) float64 {
	t.Helper()
	return metric(t, l, "taskapi_denylist_fallback_total", op)
}

func TestRevocationIsSharedThroughRedis(t *testing.T) {
	t.Parallel()
	r := testserver.Redis(t)
	a, b := denylist.New(open(t, r.URL())), denylist.New(open(t, r.URL()))
	ctx := ctxFor(t)
	exp := time.Now().Add(2 * time.Minute).Truncate(time.Second)

	if err := a.Revoke(ctx, "token-1", exp); err != nil {
		t.Fatalf("Revoke error = %v", err)
	}
	tests := []struct {
		name string
		list *denylist.List
		id   string
		want bool
	}{
		{"revoking instance", a, "token-1", true},
		{"other instance", b, "token-1", true},
		{"other instance again, from its local copy", b, "token-1", true},
		{"unknown token", a, "token-2", false},
		{"unknown token elsewhere", b, "token-2", false},
	}
	for _, tt := range tests {
		if got := tt.list.Revoked(ctx, tt.id); got != tt.want {
			t.Errorf("%s: Revoked(%q) = %v; want %v", tt.name, tt.id, got, tt.want)
		}
	}

	// The entry expires with the token, in Redis itself: read its TTL
	// rather than wait for it.
	rdb := open(t, r.URL()).Redis()
	at, err := rdb.ExpireTime(ctx, "taskapi:revoked:token-1").Result()
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Unix(int64(at/time.Second), 0); !got.Equal(exp) {
		t.Errorf("EXPIRETIME taskapi:revoked:token-1 = %v; want the token's exp %v", got, exp)
	}
	if f := fallbacks(t, a, "check") + fallbacks(t, b, "check"); f != 0 {
		t.Errorf("fallback checks = %v with Redis up; want 0", f)
	}
}

func TestRevokeAnExpiredTokenIsANoOp(t *testing.T) {
	t.Parallel()
	r := testserver.Redis(t)
	l := denylist.New(open(t, r.URL()))
	ctx := ctxFor(t)
	if err := l.Revoke(ctx, "old", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := open(t, r.URL()).Redis().Exists(ctx, "taskapi:revoked:old").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS for an expired token's revocation = %d, %v; want 0", n, err)
	}
}

func TestRedisDownFallsBackToLocal(t *testing.T) {
	t.Parallel()
	r := testserver.Redis(t)
	rcA, rcB := open(t, r.URL()), open(t, r.URL())
	a, b := denylist.New(rcA), denylist.New(rcB)
	ctx := ctxFor(t)
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	if err := a.Revoke(ctx, "during-outage", exp); err == nil {
		t.Error("Revoke with Redis down error = nil; want one saying only this instance knows")
	}
	if !a.Revoked(ctx, "during-outage") {
		t.Error("Revoked on the revoking instance = false with Redis down; want true from its local list")
	}
	if b.Revoked(ctx, "during-outage") {
		t.Error("Revoked on another instance = true; it cannot know while Redis is down")
	}
	if got := metric(t, a, "taskapi_denylist_revocations_total", ""); got != 1 {
		t.Errorf("revocations = %v; want 1", got)
	}
	if got := fallbacks(t, a, "revoke"); got != 1 {
		t.Errorf("revoke fallbacks = %v; want 1", got)
	}
	if got := fallbacks(t, b, "check"); got != 1 {
		t.Errorf("check fallbacks on the other instance = %v; want 1", got)
	}

	// Redis is back (Ping closes the breakers at once instead of after
	// their cooldown): the next call that reaches it writes the pending
	// revocation, and the other instance learns of it.
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, rc := range []*redis.Client{rcA, rcB} {
		if err := rc.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	if b.Revoked(ctx, "during-outage") {
		t.Fatal("the other instance knows before the revoking one reached Redis")
	}
	if a.Revoked(ctx, "unrelated") {
		t.Fatal("unrelated token revoked")
	}
	if !b.Revoked(ctx, "during-outage") {
		t.Error("after Redis came back and the revoking instance used it, the other instance still accepts the token")
	}
}

func TestLocalListIsBounded(t *testing.T) {
	t.Parallel()
	// A Redis that is never there: only the local list answers.
	r := testserver.Redis(t)
	ctx := ctxFor(t)
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l := denylist.New(open(t, r.URL()), denylist.MaxLocal(3), denylist.Clock(clock))
	size := func() int { return int(metric(t, l, "taskapi_denylist_local_entries", "")) }

	for i, d := range []time.Duration{5, 1, 4, 2, 3} { // minutes to expiry
		_ = l.Revoke(ctx, string(rune('a'+i)), now.Add(d*time.Minute))
		if n := size(); n > 3 {
			t.Fatalf("after %d revocations the local list holds %d; want at most 3", i+1, n)
		}
	}
	// Full at 3: the soonest-expiring (b at 1m, d at 2m) were dropped.
	tests := []struct {
		id   string
		want bool
	}{{"a", true}, {"b", false}, {"c", true}, {"d", false}, {"e", true}}
	for _, tt := range tests {
		if got := l.Revoked(ctx, tt.id); got != tt.want {
			t.Errorf("Revoked(%q) = %v; want %v", tt.id, got, tt.want)
		}
	}
	// Entries go when their token expires.
	now = now.Add(4 * time.Minute)
	if l.Revoked(ctx, "c") || l.Revoked(ctx, "e") || !l.Revoked(ctx, "a") {
		t.Error("after 4 minutes want only a (5m) still revoked")
	}
	if n := size(); n != 1 {
		t.Errorf("local entries after the sweep = %d; want 1", n)
	}
}

// BenchmarkRevoked measures what the deny-list adds to an authenticated
// request, next to the profile cache's GET on the same client: a check of
// a token that was not revoked is one PTTL round trip, a check of one this
// instance knows is revoked is none.
func BenchmarkRevoked(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := embedded.StartRedis(ctx, embedded.RedisLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	rc, err := redis.Open(r.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	l := denylist.New(rc)
	if err := l.Revoke(ctx, "revoked", time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.Run("cache_get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = rc.Redis().Get(ctx, "taskapi:profile:someone").Err()
		}
	})
	b.Run("check_not_revoked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if l.Revoked(ctx, "not-revoked") {
				b.Fatal("revoked")
			}
		}
	})
	b.Run("check_revoked_local", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !l.Revoked(ctx, "revoked") {
				b.Fatal("not revoked")
			}
		}
	})
}
