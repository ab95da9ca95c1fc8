package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/internal/testserver"
	"github.com/taskready/taskready/service/redis"
)

func TestOpenOptions(t *testing.T) {
	t.Parallel()
	// Unroutable sentinels: the failover client starts dialing them in the
	// background, and these fail at once.
	sentinel := redis.Sentinel{Master: "mymaster", Addrs: []string{"127.0.0.1:1"}}
	tests := []struct {
		name string
		open func() (*redis.Client, error)
		want goredis.Options // the fields compared below
	}{
		{
			name: "url defaults",
			open: func() (*redis.Client, error) { return redis.Open("redis://cache:6379/0") },
			want: goredis.Options{Addr: "cache:6379", PoolSize: redis.DefaultPoolSize, MinIdleConns: redis.DefaultMinIdleConns, DialTimeout: redis.DefaultDialTimeout, ReadTimeout: redis.DefaultIOTimeout, WriteTimeout: redis.DefaultIOTimeout, PoolTimeout: redis.DefaultPoolTimeout},
		},
		{
			name: "url query wins over defaults",
			open: func() (*redis.Client, error) {
				return redis.Open("redis://u:pw@cache:6379/4?pool_size=7&dial_timeout=2s&max_retries=9")
			},
			want: goredis.Options{Addr: "cache:6379", Username: "u", Password: "pw", DB: 4, PoolSize: 7, MinIdleConns: redis.DefaultMinIdleConns, DialTimeout: 2 * time.Second, ReadTimeout: redis.DefaultIOTimeout, WriteTimeout: redis.DefaultIOTimeout, PoolTimeout: redis.DefaultPoolTimeout},
		},
		{
			name: "sentinel without url",
			open: func() (*redis.Client, error) { return redis.OpenSentinel("", sentinel) },
			want: goredis.Options{Addr: "FailoverClient", PoolSize: redis.DefaultPoolSize, MinIdleConns: redis.DefaultMinIdleConns, DialTimeout: redis.DefaultDialTimeout, ReadTimeout: redis.DefaultIOTimeout, WriteTimeout: redis.DefaultIOTimeout, PoolTimeout: redis.DefaultPoolTimeout},
		},
		{
			name: "sentinel takes credentials, db and options from the url",
			open: func() (*redis.Client, error) {
				return redis.OpenSentinel("redis://u:pw@ignored:6379/3?pool_size=11&read_timeout=1s", sentinel)
			},
			want: goredis.Options{Addr: "FailoverClient", Username: "u", Password: "pw", DB: 3, PoolSize: 11, MinIdleConns: redis.DefaultMinIdleConns, DialTimeout: redis.DefaultDialTimeout, ReadTimeout: time.Second, WriteTimeout: redis.DefaultIOTimeout, PoolTimeout: redis.DefaultPoolTimeout},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.open()
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { _ = c.Close() })
			got := c.Redis().Options()
			fields := []struct {
				name      string
				got, want any
			}{
				{"Addr", got.Addr, tt.want.Addr},
				{"Username", got.Username, tt.want.Username},
				{"Password", got.Password, tt.want.Password},
				{"DB", got.DB, tt.want.DB},
				{"PoolSize", got.PoolSize, tt.want.PoolSize},
				{"MinIdleConns", got.MinIdleConns, tt.want.MinIdleConns},
				{"DialTimeout", got.DialTimeout, tt.want.DialTimeout},
				{"ReadTimeout", got.ReadTimeout, tt.want.ReadTimeout},
				{"WriteTimeout", got.WriteTimeout, tt.want.WriteTimeout},
				{"PoolTimeout", got.PoolTimeout, tt.want.PoolTimeout},
				// Forced on both paths, whatever the URL says: a down
				// server must cost one retry and one dial.
				{"MaxRetries", got.MaxRetries, 1},
				{"DialerRetries", got.DialerRetries, 1},
				{"DisableIdentity", got.DisableIdentity, true},
				{"MaintNotifications", got.MaintNotificationsConfig != nil && got.MaintNotificationsConfig.Mode == maintnotifications.ModeDisabled, true},
			}
			for _, f := range fields {
				if f.got != f.want {
					t.Errorf("Options().%s = %v; want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

func TestOpenSentinelTLS(t *testing.T) {
	t.Parallel()
	c, err := redis.OpenSentinel("rediss://:pw@ignored:6380/0", redis.Sentinel{Master: "mymaster", Addrs: []string{"127.0.0.1:1"}})
	if err != nil {
		t.Fatalf("OpenSentinel(rediss://...): %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	// The URL's host is not a server: verifying certificates against it
	// would refuse every real one.
	tlsConfig := c.Redis().Options().TLSConfig
	if tlsConfig == nil || tlsConfig.ServerName != "" {
		t.Errorf("TLSConfig = %+v; want TLS with no fixed ServerName", tlsConfig)
	}
}

func TestOpenSentinelRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		s    redis.Sentinel
	}{
		{"no sentinels", "", redis.Sentinel{Master: "mymaster"}},
		{"no master", "", redis.Sentinel{Addrs: []string{"127.0.0.1:26379"}}},
		{"bad url", "http://cache:6379", redis.Sentinel{Master: "mymaster", Addrs: []string{"127.0.0.1:26379"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c, err := redis.OpenSentinel(tt.url, tt.s); err == nil {
				_ = c.Close()
				t.Errorf("OpenSentinel(%q, %+v) error = nil; want one", tt.url, tt.s)
			}
		})
	}
}

// TestOpenSentinelFollowsFailover runs a primary, a replica and a sentinel
// that requires a password of its own (real redis-server processes),
// forces a failover, and checks that writes through the client land on
// the promoted replica: what the API needs to keep its shared rate limits
// when the Redis primary is lost.
func TestOpenSentinelFollowsFailover(t *testing.T) {
	t.Parallel()
	bin := testserver.RedisServerPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const password, master, db = "failover-test-password", "mymaster", 3
	const sentinelPassword = "sentinel-test-password"

	primaryAddr, replicaAddr := startServer(ctx, t, password), startServer(ctx, t, password)
	replica := dial(t, replicaAddr, password, 0)
	host, port, err := net.SplitHostPort(primaryAddr)
	if err != nil {
		t.Fatalf("primary address %q: %v", primaryAddr, err)
	}
	if err := replica.Do(ctx, "REPLICAOF", host, port).Err(); err != nil {
		t.Fatalf("REPLICAOF %s %s: %v", host, port, err)
	}
	// The sentinel finds replicas in the primary's INFO: start it only
	// once the replica is attached, or it learns of it ten seconds later.
	eventually(ctx, t, "replica in sync", func() error {
		info, err := replica.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return errors.New("master_link_status is not up yet")
		}
		return nil
	})
	sentinelAddr := startSentinel(ctx, t, bin, sentinelPassword, fmt.Sprintf(
		"requirepass %s\nsentinel monitor %s %s %s 1\nsentinel auth-pass %s %s\nsentinel down-after-milliseconds %s 5000\nsentinel failover-timeout %s 10000\n",
		sentinelPassword, master, host, port, master, password, master, master))
	url := fmt.Sprintf("redis://:%s@ignored-host:1/%d", password, db)

	// Without the sentinel's password the client cannot learn the
	// primary: the password must reach the sentinel, not only the primary.
	unauth, err := redis.OpenSentinel(url, redis.Sentinel{Master: master, Addrs: []string{sentinelAddr}})
	if err != nil {
		t.Fatalf("OpenSentinel without the sentinel password: %v", err)
	}
	t.Cleanup(func() { _ = unauth.Close() })
	if err := unauth.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error { return rdb.Set(ctx, "k", "unauth", 0).Err() }); err == nil {
		t.Fatal("a write through a sentinel that requires a password succeeded without it")
	}

	c, err := redis.OpenSentinel(url, redis.Sentinel{Master: master, Addrs: []string{sentinelAddr}, Password: sentinelPassword})
	if err != nil {
		t.Fatalf("OpenSentinel: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })

	// Before: the sentinel names the primary, and the password and
	// database come from the URL.
	eventually(ctx, t, "write through the sentinel", func() error {
		return c.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error { return rdb.Set(ctx, "k", "before", 0).Err() })
	})
	if got, err := dial(t, primaryAddr, password, db).Get(ctx, "k").Result(); err != nil || got != "before" {
		t.Fatalf("primary db %d GET k = %q, %v; want \"before\"", db, got, err)
	}

	sentinel := goredis.NewSentinelClient(&goredis.Options{Addr: sentinelAddr, Password: sentinelPassword, DisableIdentity: true})
	t.Cleanup(func() { _ = sentinel.Close() })
	// NOGOODSLAVE until the sentinel has read the replica's INFO once.
	eventually(ctx, t, "SENTINEL FAILOVER accepted", func() error { return sentinel.Failover(ctx, master).Err() })
	eventually(ctx, t, "replica promoted", func() error {
		role, err := replica.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("ROLE = %v", role)
		}
		return nil
	})

	// After: once promoted, the former replica no longer copies the old
	// primary, so a fresh value found on it was written there by the
	// client. Errors and the breaker's cooldown are expected while the
	// client learns of the switch.
	promoted := dial(t, replicaAddr, password, db)
	n := 0
	eventually(ctx, t, "write lands on the promoted replica", func() error {
		n++
		want := "after-" + strconv.Itoa(n)
		if err := c.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error { return rdb.Set(ctx, "k", want, 0).Err() }); err != nil {
			return err
		}
		got, err := promoted.Get(ctx, "k").Result()
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("promoted replica has k = %q; want %q (the write went to the old primary)", got, want)
		}
		return nil
	})
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping after the failover: %v", err)
	}
}

// startServer starts a redis-server (never miniredis, which cannot
// replicate) that requires password, also for its own link to a primary,
// and returns its address.
func startServer(ctx context.Context, t *testing.T, password string) string {
	t.Helper()
	r, err := embedded.StartRedis(ctx, embedded.RedisBinary(testserver.RedisServerPath(t)), embedded.RedisLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	// One connection: it stays authenticated after requirepass is set.
	c := goredis.NewClient(&goredis.Options{Addr: r.Addr(), DisableIdentity: true, PoolSize: 1})
	defer c.Close()
	settings := [][2]string{
		{"requirepass", password},
		{"masterauth", password},
		// A primary waits 5s by default for more replicas before a full
		// sync; this test has one.
		{"repl-diskless-sync-delay", "0"},
	}
	for _, kv := range settings {
		if err := c.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s on %s: %v", kv[0], r.Addr(), err)
		}
	}
	return r.Addr()
}

// dial returns a client to one server's database db.
func dial(t *testing.T, addr, password string, db int) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, Password: password, DB: db, DisableIdentity: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// startSentinel runs `redis-server CONF --sentinel` with conf plus a port
// and returns its address. Sentinel rewrites its configuration file, so
// the file lives in the test's own directory.
// startSentinel runs redis-server --sentinel with conf, whose requirepass
// is password (empty: none), and returns its address.
func startSentinel(ctx context.Context, t *testing.T, bin, password, conf string) string {
	t.Helper()
	dir := t.TempDir()
	// A free port can be taken between choosing and binding it: retry
	// with another rather than fail.
	var lastErr error
	for range 3 {
		port := testserver.FreePort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		path := filepath.Join(dir, "sentinel.conf")
		full := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n%s", port, dir, conf)
		if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
			t.Fatalf("write sentinel.conf: %v", err)
		}
		if lastErr = runSentinel(ctx, t, bin, path, addr, password); lastErr == nil {
			return addr
		}
	}
	t.Fatalf("start redis sentinel: %v", lastErr)
	return ""
}

func runSentinel(ctx context.Context, t *testing.T, bin, conf, addr, password string) error {
	logPath := conf + ".log"
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("sentinel log: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, conf, "--sentinel")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s --sentinel: %w", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-done
	}
	probe := goredis.NewClient(&goredis.Options{Addr: addr, Password: password, DisableIdentity: true, MaxRetries: -1})
	defer probe.Close()
	for {
		// The pid in INFO tells our sentinel from a squatter on the port.
		info, err := probe.Info(ctx, "server").Result()
		if err == nil && strings.Contains(info, "process_id:"+strconv.Itoa(cmd.Process.Pid)+"\r\n") {
			t.Cleanup(stop)
			return nil
		}
		select {
		case <-done:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("sentinel exited: %s", strings.TrimSpace(string(out)))
		case <-ctx.Done():
			stop()
			return fmt.Errorf("sentinel on %s did not answer: %w", addr, context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// eventually polls f until it succeeds, failing the test with f's last
// error when ctx ends.
func eventually(ctx context.Context, t *testing.T, what string, f func() error) {
	t.Helper()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: gave up: %v", what, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestReadOnlyRedisIsUnavailable demotes a real redis-server to a replica,
// as a failover does to the old primary when it returns: it still answers
// PING and reads but refuses every write with READONLY. The client must
// call that unavailable (so the API limits per instance and /readyz says
// degraded) and recover once writes succeed again.
func TestReadOnlyRedisIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const password = "readonly-test-password"
	addr := startServer(ctx, t, password)
	admin := dial(t, addr, password, 0)
	c, err := redis.Open(fmt.Sprintf("redis://:%s@%s/0", password, addr))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	write := func() error {
		return c.Do(ctx, func(ctx context.Context, rdb *goredis.Client) error { return rdb.Incr(ctx, "counter").Err() })
	}
	if err := write(); err != nil || !c.Available() {
		t.Fatalf("write to a primary = %v, available %v; want nil, true", err, c.Available())
	}

	// A primary that does not exist: the server stays a read-only replica
	// whose link is down, as a demoted primary is until it has synced.
	if err := admin.Do(ctx, "REPLICAOF", "127.0.0.1", "1").Err(); err != nil {
		t.Fatalf("REPLICAOF: %v", err)
	}
	if err := write(); err == nil || !strings.Contains(err.Error(), "READONLY") {
		t.Fatalf("write to a replica = %v; want READONLY", err)
	}
	if c.Available() {
		t.Error("Available() = true after READONLY; want false")
	}
	if err := write(); !errors.Is(err, redis.ErrUnavailable) {
		t.Errorf("write while the breaker is open = %v; want ErrUnavailable at once", err)
	}
	if err := c.Ping(ctx); err == nil {
		t.Error("Ping of a read-only Redis = nil; want the refused write")
	}

	if err := admin.Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatalf("REPLICAOF NO ONE: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping once writable again: %v", err)
	}
	if !c.Available() {
		t.Error("Available() = false after a successful write probe; want true")
	}
	if err := write(); err != nil {
		t.Errorf("write after recovery: %v", err)
	}
}
