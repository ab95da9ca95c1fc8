// Package redis connects the API to Redis and keeps a Redis outage from
// becoming an API outage.
//
// Redis holds only what the API can live without for a while (the profile
// cache and the shared rate-limit counters), so every use goes through
// Client.Do, which trips a short circuit breaker on connection errors and on
// a server that refuses writes (READONLY: a demoted primary after a
// failover): while it is open, callers fail fast with ErrUnavailable and
// fall back (to the database, to a per-instance limiter) instead of each
// waiting out a dial timeout or silently losing writes. The breaker closes
// again only when a write succeeds, so a Redis that answers reads but not
// writes is reported unavailable, in /readyz and in metrics, until it takes
// writes again.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/taskready/taskready/service/breaker"
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
	rdb      *goredis.Client
	breaker  *breaker.Breaker
	probeKey string // this process's own key for the write probe
	commands *commandMetrics
}

// Open parses url (redis://[user:pass@]host:port/db) and returns a client.
// It does not dial: the API starts even when Redis is down.
func Open(url string) (*Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	applyDefaults(opts)
	// Maintenance notifications are an extra round trip on each new
	// connection, for managed clusters this API does not use.
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return newClient(goredis.NewClient(opts)), nil
}

// Sentinel names the Redis Sentinels that know which server is the primary.
type Sentinel struct {
	Master string   // the name the sentinels monitor the primary under
	Addrs  []string // host:port of each sentinel
	// Password is the sentinels' own requirepass, empty when they ask
	// for none; the primary's password comes from the URL.
	Password string
}

// OpenSentinel returns a client that asks the sentinels for the primary and
// follows it through a failover, so that rate limits and the cache survive
// the loss of one Redis server. url, when not empty, gives only the
// primary's credentials, database and pool options: its host is ignored,
// because the sentinels name the host. Like Open, it does not wait for
// Redis.
func OpenSentinel(url string, s Sentinel) (*Client, error) {
	if len(s.Addrs) == 0 || s.Master == "" {
		return nil, errors.New("redis sentinel: both the sentinel addresses and the master name are needed")
	}
	opts := &goredis.Options{}
	if url != "" {
		var err error
		if opts, err = goredis.ParseURL(url); err != nil {
			return nil, fmt.Errorf("parse REDIS_URL for the sentinel client: %w", err)
		}
	}
	applyDefaults(opts)
	if opts.TLSConfig != nil {
		// ParseURL named the URL's host, which is none of the servers:
		// with no name, each connection verifies the host it dials.
		opts.TLSConfig = opts.TLSConfig.Clone()
		opts.TLSConfig.ServerName = ""
	}
	// go-redis turns maintenance notifications off for failover clients
	// itself; every other setting is carried over from the parsed URL so
	// that both paths honour the same query options.
	return newClient(goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:       s.Master,
		SentinelAddrs:    s.Addrs,
		SentinelPassword: s.Password,
		ClientName:       opts.ClientName,
		Protocol:         opts.Protocol,
		Username:         opts.Username,
		Password:         opts.Password,
		DB:               opts.DB,
		MaxRetries:       opts.MaxRetries,
		MinRetryBackoff:  opts.MinRetryBackoff,
		MaxRetryBackoff:  opts.MaxRetryBackoff,
		DialTimeout:      opts.DialTimeout,
		DialerRetries:    opts.DialerRetries,
		ReadTimeout:      opts.ReadTimeout,
		WriteTimeout:     opts.WriteTimeout,
		PoolFIFO:         opts.PoolFIFO,
		PoolSize:         opts.PoolSize,
		PoolTimeout:      opts.PoolTimeout,
		MinIdleConns:     opts.MinIdleConns,
		MaxIdleConns:     opts.MaxIdleConns,
		MaxActiveConns:   opts.MaxActiveConns,
		ConnMaxIdleTime:  opts.ConnMaxIdleTime,
		ConnMaxLifetime:  opts.ConnMaxLifetime,
		TLSConfig:        opts.TLSConfig,
		DisableIdentity:  opts.DisableIdentity,
	})), nil
}

// applyDefaults sets the pool, timeout and retry settings both kinds of
// client share.
func applyDefaults(opts *goredis.Options) {
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
	// CLIENT SETINFO is an extra round trip on each new connection that
	// buys nothing for a cache.
	opts.DisableIdentity = true
}

func newClient(rdb *goredis.Client) *Client {
	var id [8]byte
	_, _ = rand.Read(id[:])
	c := &Client{rdb: rdb, probeKey: "taskapi:probe:" + hex.EncodeToString(id[:]), commands: newCommandMetrics()}
	c.breaker = breaker.New("redis", DefaultCooldown, c.writeProbe, breaker.OnChange(logBreaker))
	rdb.AddHook(c.commands)
	return c
}

// writeProbe is the breaker's recovery test: a write, not a PING, because a
// demoted primary answers PING (and reads) while refusing every write.
func (c *Client) writeProbe(ctx context.Context) error {
	return c.rdb.Set(ctx, c.probeKey, "1", 10*time.Second).Err()
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

// Available reports whether the breaker is closed: Redis answered the last
// command and took the last write.
func (c *Client) Available() bool { return c.breaker.Closed() }

// Do runs fn unless the breaker is open. A connection-level failure or a
// refused write opens the breaker; other Redis error replies and redis.Nil
// do not.
func (c *Client) Do(ctx context.Context, fn func(ctx context.Context, rdb *goredis.Client) error) error {
	if err := c.breaker.Allow(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	err := fn(ctx, c.rdb)
	if connectionFailure(ctx, err) || writeRefused(err) {
		c.breaker.Trip()
	}
	return err
}

// Ping checks that Redis takes writes, bypassing the breaker, and trips or
// closes the breaker by the answer: readiness probes double as the
// breaker's recovery test.
func (c *Client) Ping(ctx context.Context) error {
	return c.breaker.Probe(ctx)
}

// Close closes the pool.
func (c *Client) Close() error { return c.rdb.Close() }

// writeRefused reports whether Redis answered but would not write: a
// replica (READONLY, a demoted primary after a failover), a primary that
// lost its replicas under min-replicas-to-write (NOREPLICAS), one that
// lost its master link (MASTERDOWN), is loading its dataset (LOADING) or
// is out of memory (OOM). Each means the writes the API counts on are
// being dropped.
func writeRefused(err error) bool {
	var reply goredis.Error
	if !errors.As(err, &reply) {
		return false
	}
	msg := reply.Error()
	for _, prefix := range []string{"READONLY", "NOREPLICAS", "MASTERDOWN", "LOADING", "OOM"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

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
