package docker

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestDockerMongoInitiateDoc(t *testing.T) {
	got := mongoInitiateDoc("rs0", []string{"10.89.0.10:27017", "10.89.0.11:27017", "10.89.0.12:27017"})
	want := bson.D{{Key: "replSetInitiate", Value: bson.D{
		{Key: "_id", Value: "rs0"},
		{Key: "members", Value: bson.A{
			bson.D{{Key: "_id", Value: 0}, {Key: "host", Value: "10.89.0.10:27017"}, {Key: "priority", Value: 2}},
			bson.D{{Key: "_id", Value: 1}, {Key: "host", Value: "10.89.0.11:27017"}},
			bson.D{{Key: "_id", Value: 2}, {Key: "host", Value: "10.89.0.12:27017"}},
		}},
	}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("initiate doc =\n%v\nwant\n%v", got, want)
	}
	// It must encode as the command document mongod expects.
	raw, err := bson.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if s := bson.Raw(raw).String(); !strings.HasPrefix(s, `{"replSetInitiate": {"_id": "rs0","members": [{"_id": {"$numberInt":"0"}`) {
		t.Fatalf("encoded as %s", s)
	}

	one := mongoInitiateDoc("rs0", []string{"10.89.0.10:27017"})
	members := one[0].Value.(bson.D)[1].Value.(bson.A)
	if len(members) != 1 || len(members[0].(bson.D)) != 2 {
		t.Fatalf("one member = %v; want _id and host only", members)
	}
}

func TestDockerMongoConnection(t *testing.T) {
	hosts := []string{"10.89.0.10:27017", "10.89.0.11:27017"}
	for _, tt := range []struct {
		name     string
		set      string
		routable bool
		want     string
	}{
		{"replica set the host reaches", "rs0", true, "mongodb://10.89.0.10:27017,10.89.0.11:27017/?replicaSet=rs0"},
		{"replica set behind an unrouted network", "rs0", false, "mongodb://127.0.0.1:41000/?directConnection=true"},
		{"one node without a set", "", false, "mongodb://127.0.0.1:41000/"},
		{"one node without a set, routable", "", true, "mongodb://127.0.0.1:41000/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mongoConnection(tt.set, hosts, "127.0.0.1:41000", tt.routable)
			if got != tt.want {
				t.Fatalf("got %s; want %s", got, tt.want)
			}
		})
	}
}

func TestDockerMongoReplicaSetSupport(t *testing.T) {
	for _, tt := range []struct {
		name      string
		image     string
		buildInfo bson.M
		ok        bool
		server    string
	}{
		{"mongo by name", "mongo:7", nil, true, ""},
		{"mongo by buildInfo", "mongo:7", bson.M{"version": "7.0.14", "ok": 1.0}, true, "MongoDB 7.0.14"},
		{"FerretDB by name", "localhost/ferretdb:1.24.2", nil, false, "FerretDB"},
		{"FerretDB by name, any case", "ghcr.io/FerretDB/FerretDB:1", nil, false, "FerretDB"},
		{"FerretDB by buildInfo", "registry.example/docdb:1", bson.M{"version": "7.0.42", "ferretdbVersion": "v1.24.2"}, false, "FerretDB v1.24.2"},
		{"FerretDB of an unknown version", "localhost/ferretdb:dev", bson.M{"version": "7.0.42", "ferretdbVersion": "unknown"}, false, "FerretDB"},
		{"FerretDB by both", "localhost/ferretdb:1.24.2", bson.M{"version": "7.0.42", "ferretdbVersion": "v1.24.2"}, false, "FerretDB v1.24.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, server := mongoReplicaSetSupport(tt.image, tt.buildInfo)
			if ok != tt.ok || server != tt.server {
				t.Fatalf("got (%v, %q); want (%v, %q)", ok, server, tt.ok, tt.server)
			}
		})
	}

	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("connection refused"), false},
		{mongo.CommandError{Code: 59, Name: "CommandNotFound"}, true},
		{mongo.CommandError{Code: 76, Name: "NoReplicationEnabled"}, true},
		{mongo.CommandError{Code: 93, Name: "InvalidReplicaSetConfig"}, false},
		{mongo.CommandError{Code: 23, Name: "AlreadyInitialized"}, false},
	} {
		if got := mongoInitiateUnsupported(tt.err); got != tt.want {
			t.Errorf("mongoInitiateUnsupported(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}

func TestDockerMongoAloneSaysWhy(t *testing.T) {
	n := &dockerNode{name: "mongo-0", hostPort: 41000}
	m := mongoAlone(Options{MongoImage: "localhost/ferretdb:1.24.2", MongoReplicas: 3}, &dockerMongo{nodes: []*dockerNode{n}}, "FerretDB v1.24.2")
	if m.uri != "mongodb://127.0.0.1:41000/" {
		t.Errorf("uri = %s", m.uri)
	}
	wantNote := "mongo: localhost/ferretdb:1.24.2 cannot form a replica set (FerretDB v1.24.2); running 1 node instead of 3"
	if len(m.notes) != 1 || m.notes[0] != wantNote {
		t.Errorf("notes = %q; want %q", m.notes, wantNote)
	}
	if !strings.Contains(m.description, "1 node instead of a replica set of 3") {
		t.Errorf("description = %q", m.description)
	}
	m = mongoAlone(Options{MongoImage: "localhost/ferretdb:1.24.2", MongoReplicas: 1}, &dockerMongo{nodes: []*dockerNode{n}}, "FerretDB")
	if len(m.notes) != 0 || !strings.Contains(m.description, "no replica set") {
		t.Errorf("one node asked for: notes %q, description %q", m.notes, m.description)
	}
}

func TestDockerOptionsDefaults(t *testing.T) {
	t.Setenv("HARNESS_MONGO_IMAGE", "")
	t.Setenv("LOCAL_IMAGE_MONGO", "")
	t.Setenv("HARNESS_REDIS_IMAGE", "")
	t.Setenv("LOCAL_IMAGE_REDIS", "")
	o := Options{}.withDefaults()
	if o.MongoImage != "mongo:7" || o.RedisImage != "redis:7" || o.MongoReplicas != 3 || o.RedisReplicas != 1 || o.RedisSentinels != 0 {
		t.Fatalf("defaults = %+v", o)
	}
	if o := (Options{RedisReplicas: NoReplicas}).withDefaults(); o.RedisReplicas != 0 {
		t.Fatalf("NoReplicas gives %d replicas", o.RedisReplicas)
	}

	t.Setenv("LOCAL_IMAGE_MONGO", "localhost/ferretdb:1.24.2")
	if got := (Options{}).withDefaults().MongoImage; got != "localhost/ferretdb:1.24.2" {
		t.Errorf("with LOCAL_IMAGE_MONGO: %s", got)
	}
	t.Setenv("HARNESS_MONGO_IMAGE", "mongo:8")
	if got := (Options{}).withDefaults().MongoImage; got != "mongo:8" {
		t.Errorf("HARNESS_MONGO_IMAGE does not win over LOCAL_IMAGE_MONGO: %s", got)
	}
	if got := (Options{MongoImage: "mongo:6"}).withDefaults().MongoImage; got != "mongo:6" {
		t.Errorf("the explicit image does not win: %s", got)
	}
	t.Setenv("LOCAL_IMAGE_REDIS", "localhost/redis:7.0-bookworm")
	if got := (Options{}).withDefaults().RedisImage; got != "localhost/redis:7.0-bookworm" {
		t.Errorf("with LOCAL_IMAGE_REDIS: %s", got)
	}
}

func TestDockerSentinelConfig(t *testing.T) {
	conf := dockerSentinelConfig("taskready", "10.89.0.10", 3, "s3cret")
	for _, want := range []string{
		"sentinel monitor taskready 10.89.0.10 6379 2\n",
		"sentinel down-after-milliseconds taskready 1500\n",
		"sentinel failover-timeout taskready 5000\n",
		"port 26379\n",
		"sentinel auth-pass taskready s3cret\n",
		"requirepass s3cret\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if conf := dockerSentinelConfig("taskready", "10.89.0.10", 1, ""); !strings.Contains(conf, " 6379 1\n") || strings.Contains(conf, "auth-pass") || strings.Contains(conf, "requirepass") {
		t.Errorf("one sentinel needs a quorum of 1:\n%s", conf)
	}
}

func TestDockerAddresses(t *testing.T) {
	p := netip.MustParsePrefix("10.89.3.0/24")
	if got := dockerNthAddr(p, 10); got != netip.MustParseAddr("10.89.3.10") {
		t.Errorf("10th = %s", got)
	}
	if got := dockerLastAddr(p); got != netip.MustParseAddr("10.89.3.255") {
		t.Errorf("last = %s", got)
	}
	if got := dockerNthAddr(netip.MustParsePrefix("172.18.0.0/16"), 300); got != netip.MustParseAddr("172.18.1.44") {
		t.Errorf("300th of a /16 = %s", got)
	}
	a := &dockerAddrs{next: dockerNthAddr(p, 10), last: dockerLastAddr(p), taken: map[int]bool{}}
	if x, y := a.ip(), a.ip(); x.Next() != y {
		t.Errorf("ips %s then %s", x, y)
	}
	seen := map[int]bool{}
	for range 50 {
		port, err := a.hostPort()
		if err != nil || seen[port] {
			t.Fatalf("port %d, %v (seen before: %v)", port, err, seen[port])
		}
		seen[port] = true
	}
	if (&dockerAddrs{}).ip().IsValid() {
		t.Error("an unknown subnet gives an address")
	}
}

func TestDockerLastLines(t *testing.T) {
	got := lastLines(strings.NewReader("a\n\nb\r\nc\nd\n"), 2)
	if !reflect.DeepEqual(got, []string{"c", "d"}) {
		t.Fatalf("got %q", got)
	}
	if got := dockerInfoField("# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n", "master_link_status"); got != "up" {
		t.Fatalf("master_link_status = %q", got)
	}
}

// TestDockerRemoveLabelled is RemoveLeftovers on a label of its own, so
// that it cannot remove another run's environment on a shared engine.
func TestDockerRemoveLabelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Available(ctx); err != nil {
		if os.Getenv("REQUIRE_CONTAINERS") == "1" {
			t.Fatalf("REQUIRE_CONTAINERS=1 but %v", err)
		}
		t.Skip(err)
	}
	image := dockerImage("", "HARNESS_REDIS_IMAGE", "LOCAL_IMAGE_REDIS", DefaultRedisImage)
	labels := map[string]string{"org.taskready.test": "remove-" + t.Name() + "-" + time.Now().Format("150405.000")}
	label := "org.taskready.test=" + labels["org.taskready.test"]
	nw, err := network.New(ctx, network.WithLabels(labels))
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := testcontainers.Run(ctx, image,
		testcontainers.WithLogger(tclog.NewNoopLogger()),
		testcontainers.WithLabels(labels), network.WithNetwork([]string{"x"}, nw),
		testcontainers.WithCmd("sleep", "60"))
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	removed, err := removeLabelled(ctx, cli, label)
	if err != nil || removed != 2 {
		t.Fatalf("removed %d, %v; want the container and the network", removed, err)
	}
	filter := make(client.Filters).Add("label", label)
	if ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter}); err != nil || len(ctrs.Items) != 0 {
		t.Fatalf("containers left: %v, %v", ctrs.Items, err)
	}
	if nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter}); err != nil || len(nets.Items) != 0 {
		t.Fatalf("networks left: %v, %v", nets.Items, err)
	}
}

// TestDockerNodeThatExitsIsNamedWithItsLastWords checks the readiness
// error of a container that dies: it names the component and quotes
// what the container printed last, and close leaves nothing behind.
func TestDockerNodeThatExitsIsNamedWithItsLastWords(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := Available(ctx); err != nil {
		if os.Getenv("REQUIRE_CONTAINERS") == "1" {
			t.Fatalf("REQUIRE_CONTAINERS=1 but %v", err)
		}
		t.Skip(err)
	}
	d, err := newDockerEnv(ctx, map[string]string{"org.taskready.test": "exits"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.run(ctx, dockerSpec{
		name: "redis-primary", image: dockerImage("", "HARNESS_REDIS_IMAGE", "LOCAL_IMAGE_REDIS", DefaultRedisImage),
		cmd:  []string{"sh", "-c", "echo 'starting'; echo 'FATAL: bad config line 3' >&2; exit 3"},
		port: dockerRedisPort, ping: dockerRedisPinger(""),
	})
	if err == nil || !strings.Contains(err.Error(), "redis-primary exited with code 3") || !strings.Contains(err.Error(), "FATAL: bad config line 3") {
		t.Errorf("err = %v; want the component, its exit code and its last words", err)
	}
	if err := d.close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	filter := make(client.Filters).Add("label", LabelEnvironment+"="+d.id)
	if ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter}); err != nil || len(ctrs.Items) != 0 {
		t.Fatalf("containers left: %v, %v", ctrs.Items, err)
	}
	if nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter}); err != nil || len(nets.Items) != 0 {
		t.Fatalf("networks left: %v, %v", nets.Items, err)
	}
}
