package docker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/testcontainers/testcontainers-go"

	"github.com/taskready/taskready/env"
)

// SentinelMaster is the name the Sentinels monitor the primary by
// (env.Stores.SentinelMaster).
const SentinelMaster = "taskready"

const (
	dockerRedisPort    = 6379
	dockerSentinelPort = 26379
	dockerSentinelConf = "/tmp/sentinel.conf"
)

// dockerRedis is the Redis part of an environment.
type dockerRedis struct {
	description    string
	notes          []string
	url            string
	replicaURLs    []string
	sentinelAddrs  []string
	sentinelMaster string
	// sentinelPassword is what the Sentinels require of clients.
	sentinelPassword string
	// password is every server's requirepass and masterauth, and the
	// Sentinels' auth-pass: one per environment.
	password  string
	primary   *dockerNode
	replicas  []*dockerNode
	sentinels []*dockerNode
}

func (r *dockerRedis) components() []env.Component {
	out := []env.Component{r.primary}
	for _, n := range r.replicas {
		out = append(out, n)
	}
	for _, n := range r.sentinels {
		out = append(out, n)
	}
	return out
}

// startRedis starts the primary, then its replicas (waiting until each
// has a live replication link), then the Sentinels (waiting until each
// sees the replicas and enough peers for a failover).
func (d *dockerEnv) startRedis(ctx context.Context, o Options) (*dockerRedis, error) {
	// A password of this environment's own, as a deployment's Redis has:
	// every server requires it, replicas use it to follow the primary and
	// the Sentinels to watch them.
	r := &dockerRedis{password: env.NewSecret()}
	var err error
	if r.primary, err = d.run(ctx, dockerRedisSpec("redis-primary", o.RedisImage, r.password)); err != nil {
		return nil, err
	}
	r.url = dockerRedisURL(r.primary.hostAddr(), r.password)

	replicaOf := []string{"--replicaof", r.primary.ip.String(), strconv.Itoa(dockerRedisPort)}
	if r.replicas, err = d.runAll(ctx, o.RedisReplicas, func(i int) dockerSpec {
		return dockerRedisSpec("redis-replica-"+strconv.Itoa(i+1), o.RedisImage, r.password, replicaOf...)
	}); err != nil {
		return nil, err
	}
	start := time.Now()
	for _, n := range r.replicas {
		if err := dockerRedisLinkUp(ctx, n, r.password); err != nil {
			return nil, err
		}
		r.replicaURLs = append(r.replicaURLs, dockerRedisURL(n.hostAddr(), r.password))
	}
	if len(r.replicas) > 0 {
		d.timing("redis replication", time.Since(start))
	}
	r.description = fmt.Sprintf("redis (%s) primary + %d replica(s)", o.RedisImage, len(r.replicas))
	if len(r.replicas) == 0 {
		r.description = fmt.Sprintf("redis (%s) primary alone", o.RedisImage)
	}
	if o.RedisSentinels == 0 {
		return r, nil
	}

	// Sentinel tells clients the addresses the servers have on the
	// private network. The host follows a failover only if it can reach
	// them: on Linux the engine routes its bridge networks from the host
	// (checked here), and the addresses are fixed, so they survive
	// restarts. The alternatives are worse: announcing 127.0.0.1 and the
	// loopback ports breaks the Sentinels' and replicas' own links (inside
	// a container 127.0.0.1 is that container), and host networking gives
	// up the private network.
	if !dockerRoutable(ctx, r.primary.netAddr()) {
		return nil, fmt.Errorf("redis sentinels: this host cannot reach the containers' network (%s), so Sentinel would hand clients addresses they cannot dial; run without sentinels, or on an engine that routes its bridge networks (Docker Engine or rootful Podman on Linux)", r.primary.netAddr())
	}
	conf := dockerSentinelConfig(SentinelMaster, r.primary.ip.String(), o.RedisSentinels, r.password)
	if r.sentinels, err = d.runAll(ctx, o.RedisSentinels, func(i int) dockerSpec {
		return dockerSentinelSpec("sentinel-"+strconv.Itoa(i+1), o.RedisImage, conf, r.password)
	}); err != nil {
		return nil, err
	}
	start = time.Now()
	for _, n := range r.sentinels {
		if err := dockerSentinelSettled(ctx, n, r.password, len(r.replicas), len(r.sentinels)); err != nil {
			return nil, err
		}
		r.sentinelAddrs = append(r.sentinelAddrs, n.hostAddr())
	}
	d.timing("redis sentinel discovery", time.Since(start))
	r.sentinelMaster, r.sentinelPassword = SentinelMaster, r.password
	r.description += fmt.Sprintf(" + %d sentinel(s) (master %q)", len(r.sentinels), SentinelMaster)
	return r, nil
}

// runAll starts count nodes at once.
func (d *dockerEnv) runAll(ctx context.Context, count int, spec func(i int) dockerSpec) ([]*dockerNode, error) {
	nodes := make([]*dockerNode, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := range count {
		wg.Go(func() { nodes[i], errs[i] = d.run(ctx, spec(i)) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return nodes, nil
}

// dockerRedisSpec runs redis-server without persistence, requiring
// password from clients and using it towards its primary; args are added
// to its command line. Any node may become the primary, and a primary
// would otherwise wait 5 s before it streams a new replica its data.
// The password is on the command line: only the engine's users see it,
// and they can read a container's files as well.
func dockerRedisSpec(name, image, password string, args ...string) dockerSpec {
	cmd := []string{"redis-server", "--port", strconv.Itoa(dockerRedisPort),
		"--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no",
		"--repl-diskless-sync-delay", "0", "--requirepass", password, "--masterauth", password}
	return dockerSpec{name: name, image: image, cmd: append(cmd, args...), port: dockerRedisPort, ping: dockerRedisPinger(password)}
}

// dockerRedisURL is the URL of the server at addr with its password.
func dockerRedisURL(addr, password string) string {
	u := url.URL{Scheme: "redis", Host: addr}
	if password != "" {
		u.User = url.UserPassword("", password)
	}
	return u.String()
}

// dockerSentinelSpec runs redis-sentinel on a copy of conf it may rewrite;
// password is the Sentinel's requirepass, for its readiness probe.
func dockerSentinelSpec(name, image, conf, password string) dockerSpec {
	return dockerSpec{
		name: name, image: image, port: dockerSentinelPort, ping: dockerRedisPinger(password),
		cmd: []string{"redis-sentinel", dockerSentinelConf},
		files: []testcontainers.ContainerFile{{
			Reader: strings.NewReader(conf), ContainerFilePath: dockerSentinelConf, FileMode: 0o666,
		}},
	}
}

// dockerSentinelConfig is the configuration of every Sentinel: it
// monitors the primary at ip with password, decides it is down after
// 1.5 s, and needs a majority of the sentinels to agree.
//
// The Sentinels require the same password of their clients (the APIs get
// it as REDIS_SENTINEL_PASSWORD) and of each other: an open Sentinel
// lets anyone force a failover or point it at a server of their own.
func dockerSentinelConfig(master, ip string, sentinels int, password string) string {
	quorum := sentinels/2 + 1
	conf := fmt.Sprintf(`port %d
bind 0.0.0.0
protected-mode no
dir /tmp
sentinel monitor %[2]s %[3]s %[4]d %[5]d
sentinel down-after-milliseconds %[2]s 1500
sentinel failover-timeout %[2]s 5000
sentinel parallel-syncs %[2]s 1
`, dockerSentinelPort, master, ip, dockerRedisPort, quorum)
	if password != "" {
		// requirepass also makes each Sentinel authenticate to its peers.
		conf += fmt.Sprintf("requirepass %s\nsentinel auth-pass %s %s\n", password, master, password)
	}
	return conf
}

// dockerRedisClient connects to one server (or Sentinel) for a probe.
func dockerRedisClient(addr, password string) *redis.Client {
	return redis.NewClient(dockerRedisOptions(addr, password))
}

func dockerRedisOptions(addr, password string) *redis.Options {
	return &redis.Options{
		Addr: addr, Password: password, Protocol: 2, DisableIdentity: true, MaxRetries: -1, PoolSize: 1,
		DialTimeout: dockerTryTimeout, ReadTimeout: dockerTryTimeout, WriteTimeout: dockerTryTimeout,
	}
}

// dockerRedisPinger returns a ping that succeeds when the server (or
// Sentinel) at addr answers PING, after AUTH when password is set. It
// speaks RESP itself: a go-redis client would log every refused dial
// while a server starts.
func dockerRedisPinger(password string) func(ctx context.Context, addr string) error {
	return func(ctx context.Context, addr string) error {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		if dl, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(dl)
		}
		br := bufio.NewReader(conn)
		if password != "" {
			if _, err := conn.Write([]byte("AUTH \"" + password + "\"\r\n")); err != nil {
				return err
			}
			line, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			if line = strings.TrimSpace(line); line != "+OK" {
				return fmt.Errorf("AUTH answered %q", line)
			}
		}
		if _, err := conn.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line = strings.TrimSpace(line); line != "+PONG" {
			return fmt.Errorf("PING answered %q", line)
		}
		return nil
	}
}

// dockerPoll calls try until it reports done, an error ends it, or
// dockerSyncTimeout passes; what stands then is the last state try saw.
func dockerPoll(ctx context.Context, try func(ctx context.Context) (done bool, state string, err error)) (state string, err error) {
	ctx, cancel := context.WithTimeout(ctx, dockerSyncTimeout)
	defer cancel()
	for {
		tctx, tcancel := context.WithTimeout(ctx, dockerTryTimeout)
		done, st, err := try(tctx)
		tcancel()
		if err != nil || done {
			return st, err
		}
		state = st
		select {
		case <-ctx.Done():
			return state, fmt.Errorf("not within %s (%w)", dockerSyncTimeout, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// dockerRedisLinkUp waits until the replica n reports its link to the
// primary up.
func dockerRedisLinkUp(ctx context.Context, n *dockerNode, password string) error {
	c := dockerRedisClient(n.hostAddr(), password)
	defer c.Close()
	state, err := dockerPoll(ctx, func(ctx context.Context) (bool, string, error) {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return false, err.Error(), nil
		}
		status := dockerInfoField(info, "master_link_status")
		return status == "up", "master_link_status:" + status, nil
	})
	if err != nil {
		return n.errorf("replication link to the primary not up: %w; last seen: %s", err, state)
	}
	return nil
}

// dockerSentinelSettled waits until the Sentinel n sees the primary with
// its replicas, and enough Sentinels to authorize a failover.
func dockerSentinelSettled(ctx context.Context, n *dockerNode, password string, replicas, sentinels int) error {
	c := redis.NewSentinelClient(dockerRedisOptions(n.hostAddr(), password))
	defer c.Close()
	state, err := dockerPoll(ctx, func(ctx context.Context) (bool, string, error) {
		reps, err := c.Replicas(ctx, SentinelMaster).Result()
		if err != nil {
			return false, err.Error(), nil
		}
		up := 0
		for _, r := range reps {
			if f := r["flags"]; f == "slave" || f == "replica" {
				up++
			}
		}
		peers, err := c.Sentinels(ctx, SentinelMaster).Result()
		if err != nil {
			return false, err.Error(), nil
		}
		state := fmt.Sprintf("%d of %d replicas, %d of %d other sentinels", up, replicas, len(peers), sentinels-1)
		if up < replicas || len(peers) < sentinels-1 {
			return false, state, nil
		}
		if err := c.CkQuorum(ctx, SentinelMaster).Err(); err != nil {
			return false, state + "; " + err.Error(), nil
		}
		return true, state, nil
	})
	if err != nil {
		return n.errorf("sentinel not settled: %w; it sees %s", err, state)
	}
	return nil
}

// dockerInfoField returns a field of an INFO reply ("" when absent).
func dockerInfoField(info, key string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return v
		}
	}
	return ""
}
