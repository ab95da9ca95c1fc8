package testserver_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/taskready/taskready/internal/testserver"
)

func TestFreePortCanBeBound(t *testing.T) {
	t.Parallel()
	port := testserver.FreePort(t)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listen on the free port %d: %v", port, err)
	}
	ln.Close()
}

// TestRedisAnswers: the Redis a test gets is a real server on a socket
// that answers PING, and is gone once the test's cleanups have run.
func TestRedisAnswers(t *testing.T) {
	t.Parallel()
	var addr string
	t.Run("up", func(t *testing.T) {
		r := testserver.Redis(t)
		addr = r.Addr()
		c := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("PING: %v", err)
		}
	})
	if conn, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after the test ended", addr)
	}
}

func TestRedisServerPathIsTheBinary(t *testing.T) {
	t.Parallel()
	if p := testserver.RedisServerPath(t); p == "" {
		t.Error("RedisServerPath returned no path and did not skip")
	}
}
