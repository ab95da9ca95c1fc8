// Package cache keeps read-mostly data in Redis in front of the stores.
//
// Only what is safe to share lives here: a user's public profile, never a
// password hash. Every read falls back to the store when Redis is down, so
// the cache can make the API faster but never make it fail.
package cache

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/taskready/taskready/service/redis"
	"github.com/taskready/taskready/service/user"
)

// keyPrefix namespaces the API's keys, so a shared Redis stays readable.
const keyPrefix = "taskapi:profile:"

// Profiles caches user profiles by user id.
type Profiles struct {
	store   user.Store
	rc      *redis.Client
	ttl     time.Duration
	lookups *prometheus.CounterVec
}

// NewProfiles returns a profile cache over store with entries living ttl.
func NewProfiles(store user.Store, rc *redis.Client, ttl time.Duration) *Profiles {
	p := &Profiles{
		store: store, rc: rc, ttl: ttl,
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_cache_requests_total",
			Help: "Cache lookups by cache and result (hit, miss, error).",
		}, []string{"cache", "result"}),
	}
	// Every series exists from the start at 0: a hit ratio or an error
	// rate is then defined before the first lookup, and an alert on a
	// missing series means a broken scrape, not a quiet cache.
	for _, result := range []string{"hit", "miss", "error"} {
		p.lookups.WithLabelValues("profile", result)
	}
	return p
}

// Collector returns the cache's hit and miss counters.
func (p *Profiles) Collector() prometheus.Collector { return p.lookups }

// Profile returns the profile of user id from the cache or, on a miss, from
// the store, filling the cache. user.ErrNotFound when there is no such user.
func (p *Profiles) Profile(ctx context.Context, id string) (user.Profile, error) {
	var raw []byte
	err := p.rc.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error {
		var err error
		raw, err = rdb.Get(ctx, keyPrefix+id).Bytes()
		return err
	})
	var pr user.Profile
	switch {
	case err == nil && json.Unmarshal(raw, &pr) == nil:
		p.lookups.WithLabelValues("profile", "hit").Inc()
		return pr, nil
	case err == nil || errors.Is(err, goredis.Nil):
		p.lookups.WithLabelValues("profile", "miss").Inc()
	default:
		p.lookups.WithLabelValues("profile", "error").Inc()
	}
	u, err := p.store.ByID(ctx, id)
	if err != nil {
		return user.Profile{}, err
	}
	pr = u.Profile()
	if data, err := json.Marshal(pr); err == nil {
		// A failed fill only costs the next request a store read.
		_ = p.rc.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error {
			return rdb.Set(ctx, keyPrefix+id, data, p.ttl).Err()
		})
	}
	return pr, nil
}

// Invalidate drops user id's cached profile. Call it after every write
// that changes or removes the user.
func (p *Profiles) Invalidate(ctx context.Context, id string) error {
	return p.rc.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error {
		return rdb.Del(ctx, keyPrefix+id).Err()
	})
}

// Delete removes user id from the store and from the cache.
func (p *Profiles) Delete(ctx context.Context, id string) error {
	if err := p.store.Delete(ctx, id); err != nil {
		return err
	}
	return p.Invalidate(ctx, id)
}
