// Package redis connects the API to Redis and keeps a Redis outage from
// becoming an API outage.
//
// Redis holds only what the API can live without for a while (the profile
// cache and the shared rate-limit counters), so every use goes through
// Client.Do, which trips a short circuit breaker on connection errors: while
// it is open, callers fail fast with ErrUnavailable and fall back (to the
// database, to a per-instance limiter) instead of each waiting out a dial
// timeout.
package redis

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Pool and timeout defaults; a URL query (pool_size=, dial_timeout=, ...)
// that sets the same option wins.
const (
	DefaultPoolSize     = 50
	DefaultMinIdleConns = 2
	DefaultDialTimeout  = 500 * time.Millisecond
	DefaultIOTimeout    = 500 * time.Millisecond
	DefaultPoolTimeout  = time.Second
	// DefaultCooldown is how long the breaker stays open before Redis is
	// tried again.
	DefaultCooldown = time.Second
)

// ErrUnavailable is returned by Do while the breaker is open.
var ErrUnavailable = errors.New("redis unavailable")

// Client is a go-redis client behind a circuit breaker.
type Client struct {
	rdb       *goredis.Client
	cooldown  time.Duration
	openUntil atomic.Int64 // unix nanos; the breaker is open before it
	now       func() time.Time
}

// Open parses url (redis://[user:pass@]host:port/db) and returns a client.
// It does not dial: the API starts even when Redis is down.
func Open(url string) (*Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	setDefault(&opts.PoolSize, DefaultPoolSize)
	setDefault(&opts.MinIdleConns, DefaultMinIdleConns)
	setDefault(&opts.DialTimeout, DefaultDialTimeout)
	setDefault(&opts.ReadTimeout, DefaultIOTimeout)
	setDefault(&opts.WriteTimeout, DefaultIOTimeout)
	setDefault(&opts.PoolTimeout, DefaultPoolTimeout)
	// A down server must cost little per request: one command retry, and
	// one dial attempt (go-redis otherwise dials 5 times, 100 ms apart).
	opts.MaxRetries = 1
	opts.DialerRetries = 1
	// CLIENT SETINFO and maintenance notifications are extra round trips on
	// each new connection that buy nothing for a single-node cache.
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return &Client{rdb: goredis.NewClient(opts), cooldown: DefaultCooldown, now: time.Now}, nil
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// Redis returns the underlying client, for callers that manage errors
// themselves (health probes, tests).
func (c *Client) Redis() *goredis.Client { return c.rdb }

// Available reports whether the breaker is closed.
func (c *Client) Available() bool { return c.now().UnixNano() >= c.openUntil.Load() }

// Do runs fn unless the breaker is open. A connection-level failure opens
// the breaker; Redis error replies and redis.Nil do not.
func (c *Client) Do(ctx context.Context, fn func(ctx context.Context, rdb *goredis.Client) error) error {
	if !c.Available() {
		return ErrUnavailable
	}
	err := fn(ctx, c.rdb)
	if connectionFailure(ctx, err) {
		c.openUntil.Store(c.now().Add(c.cooldown).UnixNano())
	}
	return err
}

// Ping checks Redis directly, bypassing the breaker, and closes the breaker
// when Redis answers: readiness probes double as the breaker's recovery test.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	c.openUntil.Store(0)
	return nil
}

// Close closes the pool.
func (c *Client) Close() error { return c.rdb.Close() }

func connectionFailure(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, goredis.Nil) {
		return false
	}
	var reply goredis.Error
	if errors.As(err, &reply) {
		return false // the server answered; it is up
	}
	// The caller giving up (client went away) says nothing about Redis.
	return !errors.Is(err, context.Canceled) || ctx.Err() == nil
}
