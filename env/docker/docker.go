package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/taskready/taskready/env"
)

// Labels the docker provider puts on every container and network it
// creates, so that `harness down` finds what a crashed run left behind.
const (
	// LabelHarness is "true" on everything the docker provider creates.
	LabelHarness = "org.taskready.harness"
	// LabelEnvironment carries the id of the environment a resource
	// belongs to.
	LabelEnvironment = "org.taskready.harness.env"
	// LabelComponent carries the component name ("mongo-0").
	LabelComponent = "org.taskready.harness.component"
)

// Defaults of the docker provider.
const (
	DefaultMongoImage    = "mongo:7"
	DefaultRedisImage    = "redis:7"
	DefaultMongoReplicas = 3
	DefaultRedisReplicas = 1
	// NoReplicas, as Options.RedisReplicas, runs the Redis primary
	// alone (the zero value takes DefaultRedisReplicas).
	NoReplicas = -1
)

// Options configure the docker provider; zero values take the
// defaults.
type Options struct {
	// MongoImage is the MongoDB image. When empty: $HARNESS_MONGO_IMAGE,
	// else $LOCAL_IMAGE_MONGO (a locally built image the machine names),
	// else DefaultMongoImage. An image that cannot form a replica set
	// (FerretDB) runs as one node, and the Stores say so.
	MongoImage string
	// RedisImage is the Redis image (redis-server and redis-sentinel).
	// When empty: $HARNESS_REDIS_IMAGE, else $LOCAL_IMAGE_REDIS, else
	// DefaultRedisImage.
	RedisImage string
	// MongoReplicas is the number of replica-set members; 0 takes
	// DefaultMongoReplicas.
	MongoReplicas int
	// RedisReplicas is the number of replicas of the Redis primary; 0
	// takes DefaultRedisReplicas, NoReplicas runs the primary alone.
	RedisReplicas int
	// RedisSentinels is the number of Sentinels watching the primary; 0
	// runs none, 3 is typical.
	RedisSentinels int
	// Labels are added to every container and network, beside
	// LabelHarness and LabelEnvironment.
	Labels map[string]string
}

// withDefaults fills what o leaves empty, from the environment first.
func (o Options) withDefaults() Options {
	o.MongoImage = dockerImage(o.MongoImage, "HARNESS_MONGO_IMAGE", "LOCAL_IMAGE_MONGO", DefaultMongoImage)
	o.RedisImage = dockerImage(o.RedisImage, "HARNESS_REDIS_IMAGE", "LOCAL_IMAGE_REDIS", DefaultRedisImage)
	if o.MongoReplicas <= 0 {
		o.MongoReplicas = DefaultMongoReplicas
	}
	switch {
	case o.RedisReplicas == 0:
		o.RedisReplicas = DefaultRedisReplicas
	case o.RedisReplicas < 0:
		o.RedisReplicas = 0
	}
	o.RedisSentinels = max(o.RedisSentinels, 0)
	return o
}

// dockerImage picks an image: the explicit one, then the harness's own
// variable, then the machine's local image, then the official default.
func dockerImage(explicit, harnessVar, localVar, def string) string {
	for _, img := range []string{explicit, os.Getenv(harnessVar), os.Getenv(localVar)} {
		if img = strings.TrimSpace(img); img != "" {
			return img
		}
	}
	return def
}

type dockerProvider struct{ o Options }

// New returns the provider that runs the stores in containers
// (testcontainers-go): a MongoDB replica set and a Redis primary with
// replicas and optional Sentinels, on a private network, every port bound
// to a fixed loopback port that survives Stop and Start.
func New(o Options) env.Provider { return dockerProvider{o.withDefaults()} }

func (dockerProvider) Name() string { return "docker" }

// Stores starts MongoDB and Redis side by side. On error, and on Close,
// every container and the network are removed.
func (p dockerProvider) Stores(ctx context.Context) (_ *env.Stores, err error) {
	start := time.Now()
	d, err := newDockerEnv(ctx, p.o.Labels)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.close())
		}
	}()
	d.timing("docker network", time.Since(start))

	// MongoDB and Redis come up at the same time; the first failure
	// cancels the other.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg   sync.WaitGroup
		m    *dockerMongo
		r    *dockerRedis
		errs [2]error
	)
	wg.Go(func() {
		if m, errs[0] = d.startMongo(ctx, p.o); errs[0] != nil {
			cancel(errs[0])
		}
	})
	wg.Go(func() {
		if r, errs[1] = d.startRedis(ctx, p.o); errs[1] != nil {
			cancel(errs[1])
		}
	})
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		// The part that failed first canceled the other: report it alone.
		for _, e := range errs {
			if e != nil && errors.Is(context.Cause(ctx), e) {
				return nil, e
			}
		}
		return nil, errors.Join(errs[:]...)
	}

	s := &env.Stores{
		ID:          d.id,
		Description: fmt.Sprintf("docker: %s + %s", m.description, r.description),
		Notes: append(append(m.notes, r.notes...),
			"docker: MongoDB without authentication (FerretDB 1.x has none but an experimental one; a mongo replica set would need a key file); Redis requires a password of this environment"),
		MongoURI: m.uri,
		RedisURL: r.url,
		// Components in a fixed order: mongo, redis, sentinels.
		Components:       append(m.components(), r.components()...),
		RedisReplicaURLs: r.replicaURLs,
		SentinelAddrs:    r.sentinelAddrs,
		SentinelMaster:   r.sentinelMaster,
		SentinelPassword: r.sentinelPassword,
		Close:            d.close,
	}
	s.Timings = append(d.timings(), env.Timing{Component: "docker stores", Took: time.Since(start)})
	return s, nil
}

// Available reports whether a Docker-compatible engine answers, as
// testcontainers finds it (DOCKER_HOST, ~/.testcontainers.properties, the
// usual sockets). The error says what to do.
func Available(ctx context.Context) error {
	// Generous: an engine busy starting other containers has been seen to
	// take over 10s to answer its info request.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var pingErr error
	err := safely("connect to the container engine", func() error {
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err == nil {
			_, err = cli.Ping(ctx, client.PingOptions{})
			_ = cli.Close()
		}
		pingErr = err
		return nil
	})
	if err != nil {
		return err // the engine answered and then failed: not "no engine"
	}
	if pingErr != nil {
		where := "DOCKER_HOST is not set"
		if h := os.Getenv("DOCKER_HOST"); h != "" {
			where = "DOCKER_HOST=" + h
		}
		return fmt.Errorf("%w (%s): %w; start Docker or another Docker-compatible engine and point DOCKER_HOST at it", ErrNoEngine, where, pingErr)
	}
	return nil
}

// ErrNoEngine is wrapped by Available when no container engine
// answers, as against one that answers and fails.
var ErrNoEngine = errors.New("no container engine answers")

// safely runs f, a call into testcontainers, and turns a panic in it into
// an error saying what failed. testcontainers panics in places (its
// MustExtractDockerSocket when the engine answers one request and fails
// the next, for one); a cleanup such as harness down must say what went
// wrong, never crash with a stack trace. f's own goroutines need their
// own safely.
func safely(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: the container library failed: %v", what, r)
		}
	}()
	return f()
}

// RemoveLeftovers removes every container and network labelled
// LabelHarness=true, whichever run created it: what `harness down` does
// after a crashed run. It returns how many it removed.
//
// With id set, only the environment with that id (env.Stores.ID) is removed,
// so one run's cleanup never touches another's running environment.
func RemoveLeftovers(ctx context.Context, id string) (removed int, err error) {
	err = safely("remove leftover containers and networks", func() error {
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			return fmt.Errorf("connect to the container engine: %w", err)
		}
		defer cli.Close()
		label := LabelHarness + "=true"
		if id != "" {
			label = LabelEnvironment + "=" + id
		}
		removed, err = removeLabelled(ctx, cli, label)
		return err
	})
	return removed, err
}

// removeLabelled force-removes the containers, then the networks, that
// carry label ("key=value").
func removeLabelled(ctx context.Context, cli client.APIClient, label string) (removed int, err error) {
	filter := make(client.Filters).Add("label", label)
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range ctrs.Items {
		_, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", dockerName(c.Names, c.ID), err))
			continue
		}
		removed++
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

func dockerName(names []string, id string) string {
	if len(names) > 0 {
		return strings.TrimPrefix(names[0], "/")
	}
	return id[:min(12, len(id))]
}

// dockerEnv is one environment on the engine: its client, network,
// containers and labels. Its methods are safe for concurrent use.
type dockerEnv struct {
	id     string
	labels map[string]string
	cli    *testcontainers.DockerClient
	net    *testcontainers.DockerNetwork
	addrs  *dockerAddrs

	mu    sync.Mutex
	nodes []*dockerNode
	took  []env.Timing

	closeOnce sync.Once
	closeErr  error
}

// newDockerEnv connects to the engine and creates the private network.
func newDockerEnv(ctx context.Context, extra map[string]string) (_ *dockerEnv, err error) {
	if err := Available(ctx); err != nil {
		return nil, err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	d := &dockerEnv{id: hex.EncodeToString(b[:]), labels: map[string]string{}}
	maps.Copy(d.labels, extra)
	d.labels[LabelHarness] = "true"
	d.labels[LabelEnvironment] = d.id
	if d.cli, err = testcontainers.NewDockerClientWithOpts(ctx); err != nil {
		return nil, fmt.Errorf("connect to the container engine: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, d.close())
		}
	}()
	if d.net, err = network.New(ctx, network.WithLabels(d.labels)); err != nil {
		return nil, fmt.Errorf("create network: %w", err)
	}
	if d.addrs, err = newDockerAddrs(ctx, d.cli, d.net.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// timing records how long a component took.
func (d *dockerEnv) timing(name string, took time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.took = append(d.took, env.Timing{Component: name, Took: took.Round(time.Millisecond)})
}

func (d *dockerEnv) timings() []env.Timing {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]env.Timing(nil), d.took...)
}

// close terminates every container, then the network, and sweeps up
// anything else labelled with this environment's id (a container whose
// creation was interrupted). It runs once, on its own deadline, so that
// it also works after the caller's context is canceled.
func (d *dockerEnv) close() error {
	if d == nil {
		return nil
	}
	d.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		d.mu.Lock()
		nodes := d.nodes
		d.mu.Unlock()
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		fail := func(err error) {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		}
		for _, n := range nodes {
			wg.Go(func() {
				// Stores are throwaway: no graceful shutdown.
				err := safely("remove "+n.name, func() error {
					return testcontainers.TerminateContainer(n.ctr, testcontainers.StopContext(ctx), testcontainers.StopTimeout(0))
				})
				if err != nil {
					fail(fmt.Errorf("remove %s: %w", n.name, err))
				}
			})
		}
		wg.Wait()
		if d.net != nil {
			if err := safely("remove network", func() error { return d.net.Remove(ctx) }); err != nil {
				fail(fmt.Errorf("remove network: %w", err))
			}
		}
		if d.cli != nil {
			// What matters is that nothing of ours is left: errors of the
			// steps above count only when the sweep cannot fix them.
			label := LabelEnvironment + "=" + d.id
			err := safely("remove what is labelled "+label, func() error {
				_, err := removeLabelled(ctx, d.cli, label)
				return err
			})
			if err == nil {
				errs = nil
			} else {
				fail(err)
			}
			_ = d.cli.Close()
		}
		if d.closeErr = errors.Join(errs...); d.closeErr != nil {
			d.closeErr = fmt.Errorf("docker environment %s: %w", d.id, d.closeErr)
		}
	})
	return d.closeErr
}
