package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/alicebob/miniredis/v2"
)

// RedisKind says which implementation a [Redis] runs.
type RedisKind int

const (
	// RedisServer is a redis-server child process.
	RedisServer RedisKind = iota + 1
	// Miniredis is an in-process github.com/alicebob/miniredis server.
	Miniredis
)

// String returns "redis-server" or "miniredis (in-process)".
func (k RedisKind) String() string {
	switch k {
	case RedisServer:
		return "redis-server"
	case Miniredis:
		return "miniredis (in-process)"
	default:
		return "RedisKind(" + strconv.Itoa(int(k)) + ")"
	}
}

// Redis is a Redis server for the no-setup default: redis-server from PATH
// as a child process when present, else an in-process miniredis.
//
// Persistence is off in both cases: Stop loses the data.
type Redis struct {
	kind RedisKind
	log  *slog.Logger
	host string // listen host ("" = all interfaces)
	port int    // resolved port, reused by Start
	dial string // host:port clients dial
	url  string

	password string // requirepass, "" for none

	binary string // redis-server path (RedisServer only)
	dir    string // redis-server working directory, removed by Close

	mu     sync.Mutex
	proc   *redisProc           // running redis-server, nil while stopped
	mini   *miniredis.Miniredis // running miniredis, nil while stopped
	closed bool
}

type redisOptions struct {
	binary    string
	binarySet bool
	inProcess bool
	addr      string
	password  string
	logger    *slog.Logger
}

// RedisOption configures [StartRedis].
type RedisOption func(*redisOptions) error

// RedisBinary sets the redis-server executable instead of looking it up; ""
// forces miniredis. With an explicit binary, a failure to start it is an
// error rather than a fallback to miniredis.
func RedisBinary(path string) RedisOption {
	return func(o *redisOptions) error {
		o.binary = path
		o.binarySet = true
		return nil
	}
}

// RedisAddr sets the listen address (host:port). The default is
// "127.0.0.1:0": a free loopback port, chosen once at [StartRedis] and
// reused by later Starts.
func RedisAddr(addr string) RedisOption {
	return func(o *redisOptions) error {
		if _, _, err := splitAddr(addr); err != nil {
			return fmt.Errorf("embedded: RedisAddr(%q): %w", addr, err)
		}
		o.addr = addr
		return nil
	}
}

// RedisPassword makes the server refuse every command until a client
// sends AUTH with password, as a deployment's Redis does; [Redis.URL] then
// carries it. The default is no password.
func RedisPassword(password string) RedisOption {
	return func(o *redisOptions) error {
		if strings.ContainsAny(password, " \t\r\n\"'") {
			return errors.New("embedded: RedisPassword: no spaces, quotes or line breaks")
		}
		o.password = password
		return nil
	}
}

// RedisInProcess forces miniredis even when redis-server is installed.
func RedisInProcess() RedisOption {
	return func(o *redisOptions) error {
		o.inProcess = true
		return nil
	}
}

// RedisLogger sets the logger. The default (also used for nil) logs
// warnings and errors to stderr.
func RedisLogger(l *slog.Logger) RedisOption {
	return func(o *redisOptions) error {
		o.logger = l
		return nil
	}
}

// StartRedis starts a Redis server and returns once it answers. Unless told
// otherwise by options it runs redis-server if one is found (on PATH, then
// /usr/sbin and /usr/bin), and miniredis otherwise, or if that redis-server
// fails to start (logged as a warning; [Redis.Kind] tells which one runs).
// Call [Redis.Close] to release it.
func StartRedis(ctx context.Context, opts ...RedisOption) (*Redis, error) {
	o := redisOptions{addr: "127.0.0.1:0"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.logger == nil {
		o.logger = defaultLogger()
	}

	bin := o.binary
	if o.inProcess {
		bin = ""
	} else if !o.binarySet {
		bin = findRedisServer()
	}
	if bin != "" {
		r, err := startRedisServer(ctx, bin, o)
		if err == nil {
			return r, nil
		}
		if o.binarySet || ctx.Err() != nil {
			return nil, err
		}
		o.logger.Warn("embedded redis: redis-server failed, using miniredis instead", "err", err)
	}
	return startMiniredis(ctx, o)
}

// findRedisServer returns the path of redis-server, or "" if there is none.
func findRedisServer() string {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/redis-server", "/usr/bin/redis-server"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// setPort records the resolved port and the addresses derived from it.
// It is only called before r is returned by StartRedis.
func (r *Redis) setPort(port int) {
	r.port = port
	r.dial = net.JoinHostPort(dialHost(r.host), strconv.Itoa(port))
	u := url.URL{Scheme: "redis", Host: r.dial, Path: "/0"}
	if r.password != "" {
		u.User = url.UserPassword("", r.password)
	}
	r.url = u.String()
}

func startRedisServer(ctx context.Context, bin string, o redisOptions) (*Redis, error) {
	host, port, err := splitAddr(o.addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := bounded(ctx)
	defer cancel()

	dir, err := TempDir(RedisDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	r := &Redis{kind: RedisServer, log: o.logger, host: host, binary: bin, dir: dir, password: o.password}
	// A fixed port that is taken fails at once; an auto-picked one that
	// turns out taken (someone else grabbed it) is replaced by another.
	proc, port, err := r.launch(ctx, port, port == 0, false)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	r.setPort(port)
	r.proc = proc
	r.log.Debug("embedded redis: started redis-server", "addr", r.dial, "pid", proc.pid(), "binary", bin)
	return r, nil
}

func startMiniredis(ctx context.Context, o redisOptions) (*Redis, error) {
	host, port, err := splitAddr(o.addr)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedded redis: miniredis: %w", context.Cause(ctx))
	}
	mr := miniredis.NewMiniRedis()
	if o.password != "" {
		mr.RequireAuth(o.password)
	}
	if err := mr.StartAddr(o.addr); err != nil {
		return nil, fmt.Errorf("embedded redis: miniredis: %w", err)
	}
	if port == 0 {
		_, p, err := net.SplitHostPort(mr.Addr())
		if err == nil {
			port, err = strconv.Atoi(p)
		}
		if err != nil {
			mr.Close()
			return nil, fmt.Errorf("embedded redis: miniredis address %q: %w", mr.Addr(), err)
		}
	}
	r := &Redis{kind: Miniredis, log: o.logger, host: host, mini: mr, password: o.password}
	r.setPort(port)
	r.log.Debug("embedded redis: started miniredis", "addr", r.dial)
	return r, nil
}

// URL returns redis://127.0.0.1:PORT/0, with the password when there is
// one (redis://:PASSWORD@127.0.0.1:PORT/0). It is the same across Stop and
// Start.
func (r *Redis) URL() string { return r.url }

// Pause freezes redis-server (SIGSTOP): connections stay open and nothing
// is answered until Unpause. The in-process fallback cannot be frozen.
func (r *Redis) Pause(context.Context) error { return r.signal(true) }

// Unpause lets a paused redis-server run again (SIGCONT).
func (r *Redis) Unpause(context.Context) error { return r.signal(false) }

func (r *Redis) signal(stop bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		if r.mini != nil {
			return fmt.Errorf("embedded redis: pause: %w", ErrNoFreeze)
		}
		return fmt.Errorf("embedded redis: pause: %w", errStopped)
	}
	return freeze(r.proc.cmd.Process, stop)
}

// ErrNoFreeze is the cause of pausing a server that cannot be frozen:
// the in-process Redis (miniredis), or any process where the system has
// no SIGSTOP.
var ErrNoFreeze = errors.New("this server cannot be frozen")

// Addr returns the host:port clients dial (the loopback address if the
// server listens on all interfaces).
func (r *Redis) Addr() string { return r.dial }

// Kind returns which implementation runs.
func (r *Redis) Kind() RedisKind { return r.kind }

// Stop makes the server go away: the redis-server process (group) is killed
// and reaped, or miniredis is closed along with its connections. Clients
// then get "connection refused". The data is lost. Stop is idempotent.
func (r *Redis) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := bounded(ctx)
	defer cancel()
	return r.stopLocked(ctx)
}

func (r *Redis) stopLocked(ctx context.Context) error {
	if r.mini != nil {
		r.mini.Close()
		r.mini = nil
	}
	if r.proc != nil {
		if err := r.proc.stop(ctx); err != nil {
			return err // keep r.proc so a later Stop or Close tries again
		}
		r.proc = nil
	}
	return nil
}

// Start brings the server back on the same port, empty. It retries until
// ctx ends (at most 10 s) if the port is still taken. Start is idempotent;
// after Close it returns [ErrClosed].
func (r *Redis) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.proc != nil || r.mini != nil {
		return nil
	}
	ctx, cancel := bounded(ctx)
	defer cancel()

	addr := net.JoinHostPort(r.host, strconv.Itoa(r.port))
	switch r.kind {
	case RedisServer:
		proc, _, err := r.launch(ctx, r.port, false, true)
		if err != nil {
			return err
		}
		r.proc = proc
	default:
		// A fresh miniredis rather than Restart(): Close cancels the
		// instance's context for good, after which its blocking commands
		// (BLPOP, XREAD BLOCK, ...) return without replying. Losing the
		// data matches redis-server, which runs without persistence.
		for attempt := 0; ; attempt++ {
			mr := miniredis.NewMiniRedis()
			if r.password != "" {
				mr.RequireAuth(r.password)
			}
			err := mr.StartAddr(addr)
			if err == nil {
				r.mini = mr
				break
			}
			if !backoff(ctx, attempt) {
				return fmt.Errorf("embedded redis: miniredis on %s: %w (gave up: %w)", addr, err, context.Cause(ctx))
			}
		}
	}
	return nil
}

// Close stops the server for good: it kills and reaps the redis-server
// process and removes its temporary directory. Close is idempotent and
// nil-safe.
func (r *Redis) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	if err := r.stopLocked(ctx); err != nil {
		return err // not marked closed: Close may be retried
	}
	r.closed = true
	if r.dir != "" {
		if err := os.RemoveAll(r.dir); err != nil {
			return fmt.Errorf("embedded redis: removing %s: %w", r.dir, err)
		}
	}
	return nil
}
