package testserver_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/taskready/taskready/internal/testserver"
)

// TestFreePortIsAPort only checks the range: whether the port is still
// free when a caller binds it is a race with every other process on the
// machine (the port is free "a moment ago"), which callers retry on.
func TestFreePortIsAPort(t *testing.T) {
	t.Parallel()
	if port := testserver.FreePort(t); port <= 0 || port > 65535 {
		t.Errorf("FreePort = %d; want a TCP port", port)
	}
}

// TestRedisAnswers: the Redis a test gets is a server on a real socket
// that answers PING.
func TestRedisAnswers(t *testing.T) {
	t.Parallel()
	r := testserver.Redis(t)
	c := goredis.NewClient(&goredis.Options{Addr: r.Addr(), DisableIdentity: true})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
}

func TestRedisServerPathIsTheBinary(t *testing.T) {
	t.Parallel()
	if p := testserver.RedisServerPath(t); p == "" {
		t.Error("RedisServerPath returned no path and did not skip")
	}
}
