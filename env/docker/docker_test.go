package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/redis/go-redis/v9"
	"github.com/testcontainers/testcontainers-go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/docker"
	"github.com/taskready/taskready/env/envtest"
)

// testLabel marks what one test creates, so that its leftovers can be
// counted without touching other runs on the same engine.
const testLabel = "org.taskready.test"

// needDocker skips the test when no engine answers, or fails it when
// REQUIRE_CONTAINERS=1.
func needDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := docker.Available(ctx); err != nil {
		if os.Getenv("REQUIRE_CONTAINERS") == "1" {
			t.Fatalf("REQUIRE_CONTAINERS=1 but %v", err)
		}
		t.Skip(err)
	}
}

// dockerStores brings up the docker provider's stores with o, labelled
// for this test. Cleanup closes them and then asserts that the engine
// lists no container or network of the test.
func dockerStores(t *testing.T, o docker.Options) *env.Stores {
	t.Helper()
	needDocker(t)
	label := testLabel + "=" + randomID()
	key, value, _ := strings.Cut(label, "=")
	o.Labels = map[string]string{key: value}
	t.Cleanup(func() { assertNoLeftovers(t, label) }) // runs after Close
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	s, err := docker.New(o).Stores(ctx)
	if err != nil {
		t.Fatalf("Stores: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Logf("Stores took %s: %s", time.Since(start).Round(time.Millisecond), s.Description)
	for _, tm := range s.Timings {
		t.Logf("  %-28s %s", tm.Component, tm.Took)
	}
	for _, n := range s.Notes {
		t.Logf("  note: %s", n)
	}
	return s
}

// assertNoLeftovers fails the test if any container or network carries
// label.
func assertNoLeftovers(t *testing.T, label string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Errorf("leftovers: %v", err)
		return
	}
	defer cli.Close()
	filter := make(client.Filters).Add("label", label)
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		t.Errorf("list containers: %v", err)
	}
	for _, c := range ctrs.Items {
		t.Errorf("container left behind: %v (%s)", c.Names, c.State)
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		t.Errorf("list networks: %v", err)
	}
	for _, n := range nets.Items {
		t.Errorf("network left behind: %s", n.Name)
	}
}

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func component(t *testing.T, s *env.Stores, name string) env.Component {
	t.Helper()
	var names []string
	for _, c := range s.Components {
		if c.Name() == name {
			return c
		}
		names = append(names, c.Name())
	}
	t.Fatalf("no component %q (have %v)", name, names)
	return nil
}

func componentNames(s *env.Stores) []string {
	var names []string
	for _, c := range s.Components {
		names = append(names, c.Name())
	}
	return names
}

// eventually retries f every 100 ms until it succeeds or d passes.
func eventually(t *testing.T, d time.Duration, what string, f func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func redisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestDockerRedisReplicaReadsPrimaryWrites(t *testing.T) {
	t.Parallel()
	s := dockerStores(t, docker.Options{})
	if want := []string{"redis-primary", "redis-replica-1"}; !containsAll(componentNames(s), want) {
		t.Fatalf("components = %v; want %v among them", componentNames(s), want)
	}
	if len(s.RedisReplicaURLs) != 1 || s.RedisURL == "" || s.MongoURI == "" {
		t.Fatalf("RedisURL %q, replicas %v, MongoURI %q", s.RedisURL, s.RedisReplicaURLs, s.MongoURI)
	}
	if len(s.SentinelAddrs) != 0 || s.SentinelMaster != "" {
		t.Fatalf("sentinels %v %q; want none", s.SentinelAddrs, s.SentinelMaster)
	}
	primary, replica := redisClient(t, s.RedisURL), redisClient(t, s.RedisReplicaURLs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Like a deployment's, every server of the environment wants the
	// password its URLs carry.
	for _, u := range []string{s.RedisURL, s.RedisReplicaURLs[0]} {
		opt, err := redis.ParseURL(u)
		if err != nil {
			t.Fatal(err)
		}
		if opt.Password == "" {
			t.Fatalf("%s carries no password", u)
		}
		anon := redis.NewClient(&redis.Options{Addr: opt.Addr, MaxRetries: -1})
		err = anon.Ping(ctx).Err()
		_ = anon.Close()
		if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("PING without the password to %s = %v; want NOAUTH", opt.Addr, err)
		}
	}
	if err := primary.Set(ctx, "harness:k", "v1", 0).Err(); err != nil {
		t.Fatalf("SET on the primary: %v", err)
	}
	eventually(t, 10*time.Second, "the replica reads the primary's write", func(ctx context.Context) error {
		got, err := replica.Get(ctx, "harness:k").Result()
		if err == nil && got != "v1" {
			err = errors.New("got " + got)
		}
		return err
	})
	if err := replica.Set(ctx, "harness:k", "v2", 0).Err(); err == nil || !strings.Contains(err.Error(), "READONLY") {
		t.Errorf("SET on the replica = %v; want READONLY", err)
	}

	// Close removes everything and can be called again.
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := primary.Ping(ctx).Err(); err == nil {
		t.Error("the primary still answers after Close")
	}
}

func TestDockerSentinelsFailOverAKilledPrimary(t *testing.T) {
	t.Parallel()
	s := dockerStores(t, docker.Options{RedisSentinels: 3})
	if len(s.SentinelAddrs) != 3 || s.SentinelMaster == "" {
		t.Fatalf("SentinelAddrs %v, master %q; want 3 and a name", s.SentinelAddrs, s.SentinelMaster)
	}
	if want := []string{"redis-primary", "redis-replica-1", "sentinel-1", "sentinel-2", "sentinel-3"}; !containsAll(componentNames(s), want) {
		t.Fatalf("components = %v; want %v among them", componentNames(s), want)
	}
	primaryOpts, err := redis.ParseURL(s.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	if primaryOpts.Password == "" {
		t.Fatalf("RedisURL %s carries no password", s.RedisURL)
	}
	if s.SentinelPassword == "" {
		t.Fatal("the Sentinels require no password")
	}
	open := redis.NewSentinelClient(&redis.Options{Addr: s.SentinelAddrs[0], MaxRetries: -1})
	t.Cleanup(func() { _ = open.Close() })
	if err := open.Ping(context.Background()).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("PING to a Sentinel without its password: %v; want NOAUTH", err)
	}
	fc := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: s.SentinelMaster, SentinelAddrs: s.SentinelAddrs, SentinelPassword: s.SentinelPassword, Password: primaryOpts.Password,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
	})
	t.Cleanup(func() { _ = fc.Close() })
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: s.SentinelAddrs[0], Password: s.SentinelPassword})
	t.Cleanup(func() { _ = sentinel.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := fc.Set(ctx, "harness:before", "1", 0).Err(); err != nil {
		t.Fatalf("SET through the failover client: %v", err)
	}
	before, err := sentinel.GetMasterAddrByName(ctx, s.SentinelMaster).Result()
	if err != nil {
		t.Fatal(err)
	}

	killed := time.Now()
	if err := component(t, s, "redis-primary").Kill(ctx); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	eventually(t, 30*time.Second, "a SET through the failover client after the primary was killed", func(ctx context.Context) error {
		return fc.Set(ctx, "harness:after", "2", 0).Err()
	})
	t.Logf("writes resumed %s after the kill", time.Since(killed).Round(time.Millisecond))
	// The client heard of the new master from whichever Sentinel led the
	// failover; the one asked here learns it from the others' hellos a
	// moment later.
	eventually(t, 30*time.Second, "the first Sentinel naming a new master", func(ctx context.Context) error {
		after, err := sentinel.GetMasterAddrByName(ctx, s.SentinelMaster).Result()
		if err == nil && slices.Equal(before, after) {
			err = fmt.Errorf("master is still %v after the failover", after)
		}
		return err
	})
	if got, err := redisClient(t, s.RedisReplicaURLs[0]).Get(ctx, "harness:after").Result(); err != nil || got != "2" {
		t.Fatalf("the promoted replica has harness:after = %q, %v", got, err)
	}

	// The old primary comes back on the same address and the Sentinels
	// turn it into a replica of the new one.
	if err := component(t, s, "redis-primary").Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	old := redisClient(t, s.RedisURL)
	eventually(t, 30*time.Second, "the old primary rejoins as a replica", func(ctx context.Context) error {
		info, err := old.Info(ctx, "replication").Result()
		if err == nil && !strings.Contains(info, "role:slave") {
			err = errors.New("not a replica yet")
		}
		return err
	})
}

func TestDockerMongoAnswersAgainOnTheSameURIAfterStopStart(t *testing.T) {
	t.Parallel()
	s := dockerStores(t, docker.Options{RedisReplicas: docker.NoReplicas})
	ferret := strings.Contains(strings.ToLower(s.Description), "ferretdb")
	if ferret {
		// FerretDB (the local image here) cannot form a replica set.
		if got := componentNames(s); got[0] != "mongo-0" || slices.Contains(got, "mongo-1") {
			t.Fatalf("components = %v; want one mongo node", got)
		}
		if !slices.ContainsFunc(s.Notes, func(n string) bool {
			return strings.Contains(n, "cannot form a replica set") && strings.Contains(n, "running 1 node instead of 3")
		}) {
			t.Fatalf("notes = %q; want the fallback to one node said", s.Notes)
		}
	} else if !slices.Contains(componentNames(s), "mongo-2") {
		t.Fatalf("components = %v; want a replica set of 3", componentNames(s))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(s.MongoURI).SetServerSelectionTimeout(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	coll := c.Database("harness").Collection("docker")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var doc struct{ N int }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&doc); err != nil || doc.N != 1 {
		t.Fatalf("find = %+v, %v", doc, err)
	}

	mongo0 := component(t, s, "mongo-0")
	if err := mongo0.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	pctx, pcancel := context.WithTimeout(ctx, time.Second)
	err = c.Ping(pctx, nil)
	pcancel()
	if ferret && err == nil {
		t.Fatal("ping succeeded while mongo-0 was stopped")
	}
	if err := mongo0.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	eventually(t, 30*time.Second, "ping on the same URI after Start", func(ctx context.Context) error {
		return c.Ping(ctx, nil)
	})
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&doc); err != nil || doc.N != 1 {
		t.Fatalf("find after restart = %+v, %v", doc, err)
	}
}

// TestDockerMongoFerretDBUnderAnotherNameRunsAlone gives the local
// FerretDB image a name that does not say so: the members fail to start
// as mongod, the image's own command answers buildInfo as FerretDB, and
// the provider falls back to one node.
func TestDockerMongoFerretDBUnderAnotherNameRunsAlone(t *testing.T) {
	t.Parallel()
	needDocker(t)
	local := os.Getenv("LOCAL_IMAGE_MONGO")
	if !strings.Contains(strings.ToLower(local), "ferretdb") {
		t.Skip("LOCAL_IMAGE_MONGO is not a FerretDB image")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	alias := "localhost/taskready-docdb:" + randomID()
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: local, Target: alias}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := cli.ImageRemove(ctx, alias, client.ImageRemoveOptions{}); err != nil {
			t.Errorf("untag %s: %v", alias, err)
		}
	})

	s := dockerStores(t, docker.Options{MongoImage: alias, RedisReplicas: docker.NoReplicas})
	if got := componentNames(s); got[0] != "mongo-0" || slices.Contains(got, "mongo-1") {
		t.Fatalf("components = %v; want one mongo node", got)
	}
	if !slices.ContainsFunc(s.Notes, func(n string) bool {
		return strings.Contains(n, alias+" cannot form a replica set (FerretDB") && strings.Contains(n, "instead of 3")
	}) {
		t.Fatalf("notes = %q; want the fallback said", s.Notes)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(s.MongoURI).SetServerSelectionTimeout(2 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatalf("ping %s: %v", s.MongoURI, err)
	}
}

func TestDockerPausedRedisTimesOutUntilUnpaused(t *testing.T) {
	t.Parallel()
	s := dockerStores(t, docker.Options{RedisReplicas: docker.NoReplicas, MongoReplicas: 1})
	if slices.Contains(componentNames(s), "redis-replica-1") {
		t.Fatalf("components = %v; want no replica", componentNames(s))
	}
	rc := redisClient(t, s.RedisURL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	primary := component(t, s, "redis-primary")
	if err := primary.Pause(ctx); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err := rc.Ping(pctx).Err()
	pcancel()
	if err == nil {
		t.Fatal("PING answered while paused")
	}
	if err := primary.Unpause(ctx); err != nil {
		t.Fatalf("Unpause: %v", err)
	}
	eventually(t, 10*time.Second, "PING after Unpause", func(ctx context.Context) error { return rc.Ping(ctx).Err() })
}

func TestDockerStoresThatFailLeaveNothing(t *testing.T) {
	t.Parallel()
	needDocker(t)
	label := testLabel + "=" + randomID()
	key, value, _ := strings.Cut(label, "=")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := docker.New(docker.Options{
		RedisImage: "localhost/taskready-no-such-image:0",
		Labels:     map[string]string{key: value},
	}).Stores(ctx)
	if err == nil || !strings.Contains(err.Error(), "redis-primary") {
		t.Fatalf("err = %v; want it to name redis-primary", err)
	}
	t.Logf("error: %v", err)
	assertNoLeftovers(t, label)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// TestDockerAPIsFollowARedisFailover: with Sentinels, the API instances
// are given REDIS_SENTINELS and find the primary through them. After the
// primary is killed, and again after it comes back as a replica of the
// new one, both instances count one shared rate limit in Redis: their
// writes reach the new primary (a READONLY replica, or a dead one, would
// leave each instance counting alone).
func TestDockerAPIsFollowARedisFailover(t *testing.T) {
	t.Parallel()
	needDocker(t)
	label := testLabel + "=" + randomID()
	key, value, _ := strings.Cut(label, "=")
	t.Cleanup(func() { assertNoLeftovers(t, label) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e, err := env.Up(ctx, docker.New(docker.Options{
		MongoReplicas: 1, RedisSentinels: 3, Labels: map[string]string{key: value},
	}), env.Options{
		APIBinary: envtest.APIBinary(t), Instances: 2,
		APIEnv: []string{"BCRYPT_COST=4", "RATE_LIMIT_API=100000/1h", "RATE_LIMIT_AUTH=100000/1h"},
	})
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if _, ok := e.Links["redis"]; ok {
		t.Error("a fault link to the first primary exists; the APIs reach Redis through the Sentinels")
	}

	token := registerToken(t, e.APIs[0].URL())
	// shared makes requests alternately on each instance and reports
	// whether the API limit's remaining budget fell by one each time: one
	// counter in Redis, seen by both.
	shared := func(ctx context.Context) error {
		last := -1
		for i := range 6 {
			remaining, err := apiRemaining(ctx, e.APIs[i%2].URL(), token)
			if err != nil {
				return err
			}
			if last >= 0 && remaining != last-1 {
				return fmt.Errorf("request %d on %s: RateLimit-Remaining %d after %d: not one shared counter", i, e.APIs[i%2].Name(), remaining, last)
			}
			last = remaining
		}
		return nil
	}
	eventually(t, 30*time.Second, "one shared rate limit before the failover", shared)

	primary, err := e.Component("redis-primary")
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := primary.Kill(ctx); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	eventually(t, 60*time.Second, "one shared rate limit after the primary was killed", shared)
	t.Logf("shared counting resumed %s after the kill", time.Since(killed).Round(time.Millisecond))

	if err := primary.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	old := redisClient(t, e.Stores.RedisURL)
	eventually(t, 30*time.Second, "the old primary rejoins as a replica", func(ctx context.Context) error {
		info, err := old.Info(ctx, "replication").Result()
		if err == nil && !strings.Contains(info, "role:slave") {
			err = errors.New("not a replica yet")
		}
		return err
	})
	// The old primary's address is what REDIS_URL names; the APIs must
	// not write there now.
	for range 3 {
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		err := shared(cctx)
		ccancel()
		if err != nil {
			t.Fatalf("with the old primary back as a replica: %v", err)
		}
	}
}

// registerToken registers a fresh user on base and returns its token.
func registerToken(t *testing.T, base string) string {
	t.Helper()
	body := fmt.Sprintf(`{"name":"F","email":"failover-%s@example.com","password":"secret123"}`, randomID())
	res, err := http.Post(base+"/api/auth/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil || res.StatusCode != http.StatusCreated || a.Token == "" {
		t.Fatalf("register = %d, %v, token %q", res.StatusCode, err, a.Token)
	}
	return a.Token
}

// apiRemaining lists the user's tasks on base and returns the API limit's
// RateLimit-Remaining.
func apiRemaining(ctx context.Context, base, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/tasks", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /api/tasks on %s = %d", base, res.StatusCode)
	}
	return strconv.Atoi(res.Header.Get("RateLimit-Remaining"))
}
