package docker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/env"
)

const (
	dockerMongoPort = 27017
	// ReplicaSet is the name of the MongoDB replica set.
	ReplicaSet = "rs0"
)

// dockerMongo is the MongoDB part of an environment.
type dockerMongo struct {
	description string
	notes       []string
	uri         string
	nodes       []*dockerNode
	buildInfo   bson.M // the server's buildInfo reply, when known
}

func (m *dockerMongo) components() []env.Component {
	out := make([]env.Component, len(m.nodes))
	for i, n := range m.nodes {
		out[i] = n
	}
	return out
}

// startMongo starts a replica set of o.MongoReplicas members and waits
// until it has elected a primary, or one node where the image cannot form
// a replica set (FerretDB), saying so in a note.
//
// The members know each other, and clients know them, by their fixed
// addresses on the private network: those survive restarts, and the host
// reaches them where the engine routes its bridge networks (Linux). Where
// it does not, the URI connects directly to mongo-0's loopback port: the
// driver then cannot follow a new primary, and a note says so.
func (d *dockerEnv) startMongo(ctx context.Context, o Options) (*dockerMongo, error) {
	if ok, server := mongoReplicaSetSupport(o.MongoImage, nil); !ok {
		return d.startMongoAlone(ctx, o, server)
	}
	cmd := []string{"mongod", "--replSet", ReplicaSet, "--bind_ip_all", "--port", strconv.Itoa(dockerMongoPort)}
	nodes, err := d.runAll(ctx, o.MongoReplicas, func(i int) dockerSpec {
		return dockerSpec{name: "mongo-" + strconv.Itoa(i), image: o.MongoImage, cmd: cmd, port: dockerMongoPort, ping: dockerMongoPing}
	})
	if err != nil {
		return d.startMongoNotMongod(ctx, o, err)
	}
	m := &dockerMongo{nodes: nodes}
	first := nodes[0]

	// The image's name did not give it away; the server may still.
	var info bson.M
	if err := dockerMongoCommand(ctx, first.hostAddr(), bson.D{{Key: "buildInfo", Value: 1}}, &info); err != nil {
		return nil, first.errorf("buildInfo: %w", err)
	}
	if ok, server := mongoReplicaSetSupport(o.MongoImage, info); !ok {
		return d.fallBackToOne(ctx, o, m, server)
	}

	start := time.Now()
	hosts := make([]string, len(nodes))
	for i, n := range nodes {
		hosts[i] = n.netAddr()
	}
	err = dockerMongoCommand(ctx, first.hostAddr(), mongoInitiateDoc(ReplicaSet, hosts), nil)
	if mongoInitiateUnsupported(err) {
		return d.fallBackToOne(ctx, o, m, fmt.Sprintf("%v, replSetInitiate: %v", info["version"], err))
	}
	if err != nil {
		return nil, first.errorf("replSetInitiate: %w", err)
	}
	if err := dockerMongoElected(ctx, first, len(nodes)); err != nil {
		return nil, err
	}
	d.timing("mongo replica set election", time.Since(start))

	routable := dockerRoutable(ctx, first.netAddr())
	m.uri = mongoConnection(ReplicaSet, hosts, first.hostAddr(), routable)
	if !routable {
		m.notes = append(m.notes, fmt.Sprintf("mongo: this host cannot reach the containers' network, so MONGODB_URI connects directly to mongo-0 (%s) and does not follow a new primary", first.hostAddr()))
	}
	m.description = fmt.Sprintf("mongo (%s %v) replica set %s of %d", o.MongoImage, info["version"], ReplicaSet, len(nodes))
	return m, nil
}

// startMongoNotMongod handles members that would not start as mongod
// with replica-set flags. If the image, run with its own command, turns
// out to be FerretDB under another name, it runs as one node; otherwise
// the members' error stands.
func (d *dockerEnv) startMongoNotMongod(ctx context.Context, o Options, membersErr error) (*dockerMongo, error) {
	if ctx.Err() != nil {
		return nil, membersErr
	}
	for _, n := range d.nodesNamed("mongo-") {
		if err := d.drop(ctx, n); err != nil {
			return nil, errors.Join(membersErr, err)
		}
	}
	m, err := d.startMongoAlone(ctx, o, "")
	if err != nil {
		return nil, fmt.Errorf("%w; with the image's own command: %w", membersErr, err)
	}
	if ok, _ := mongoReplicaSetSupport(o.MongoImage, m.buildInfo); ok {
		return nil, errors.Join(membersErr, d.drop(ctx, m.nodes[0]))
	}
	return m, nil
}

// startMongoAlone runs one node of an image that cannot form a replica
// set, with the image's own command (FerretDB takes no mongod flags).
func (d *dockerEnv) startMongoAlone(ctx context.Context, o Options, server string) (*dockerMongo, error) {
	n, err := d.run(ctx, dockerSpec{
		name: "mongo-0", image: o.MongoImage, port: dockerMongoPort, ping: dockerMongoPing,
		// Upstream FerretDB 1.x images default to a PostgreSQL backend;
		// SQLite needs nothing else. Images that ignore it are unaffected.
		env: map[string]string{"FERRETDB_HANDLER": "sqlite"},
	})
	if err != nil {
		return nil, err
	}
	var info bson.M
	if err := dockerMongoCommand(ctx, n.hostAddr(), bson.D{{Key: "buildInfo", Value: 1}}, &info); err == nil {
		if _, s := mongoReplicaSetSupport(o.MongoImage, info); s != "" {
			server = s
		}
	}
	return mongoAlone(o, &dockerMongo{nodes: []*dockerNode{n}, buildInfo: info}, server), nil
}

// fallBackToOne keeps mongo-0 of a set that cannot form and removes the
// other members.
func (d *dockerEnv) fallBackToOne(ctx context.Context, o Options, m *dockerMongo, server string) (*dockerMongo, error) {
	for _, n := range m.nodes[1:] {
		if err := d.drop(ctx, n); err != nil {
			return nil, err
		}
	}
	m.nodes = m.nodes[:1]
	return mongoAlone(o, m, server), nil
}

// mongoAlone describes a one-node MongoDB that could not be a replica set.
func mongoAlone(o Options, m *dockerMongo, server string) *dockerMongo {
	m.uri = mongoConnection("", nil, m.nodes[0].hostAddr(), false)
	m.description = fmt.Sprintf("mongo (%s, %s) 1 node, no replica set", o.MongoImage, server)
	if o.MongoReplicas > 1 {
		m.description = fmt.Sprintf("mongo (%s, %s) 1 node instead of a replica set of %d", o.MongoImage, server, o.MongoReplicas)
		m.notes = append(m.notes, fmt.Sprintf("mongo: %s cannot form a replica set (%s); running 1 node instead of %d", o.MongoImage, server, o.MongoReplicas))
	}
	return m
}

// mongoReplicaSetSupport decides whether a MongoDB-compatible server can
// form a replica set, from its image name and, once it runs, its
// buildInfo reply (nil before). When it cannot, server names it
// ("FerretDB 1.24.2"). When it can, server is its version, if known.
func mongoReplicaSetSupport(image string, buildInfo bson.M) (ok bool, server string) {
	if v, found := buildInfo["ferretdbVersion"]; found {
		if v, _ := v.(string); v != "" && v != "unknown" {
			return false, "FerretDB " + v
		}
		return false, "FerretDB"
	}
	if strings.Contains(strings.ToLower(image), "ferretdb") {
		return false, "FerretDB"
	}
	if v, found := buildInfo["version"]; found {
		return true, fmt.Sprintf("MongoDB %v", v)
	}
	return true, ""
}

// mongoInitiateUnsupported reports whether replSetInitiate failed because
// the server has no replication, rather than because of the config.
func mongoInitiateUnsupported(err error) bool {
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Code {
	case 59, // CommandNotFound
		76,  // NoReplicationEnabled
		115, // CommandNotSupported
		238: // NotImplemented
		return true
	}
	return false
}

// mongoInitiateDoc is the replSetInitiate command for members at hosts,
// in order: member i has _id i, and the first has a higher priority so it
// is elected first and wins again after a restart.
func mongoInitiateDoc(set string, hosts []string) bson.D {
	members := bson.A{}
	for i, h := range hosts {
		m := bson.D{{Key: "_id", Value: i}, {Key: "host", Value: h}}
		if i == 0 && len(hosts) > 1 {
			m = append(m, bson.E{Key: "priority", Value: 2})
		}
		members = append(members, m)
	}
	return bson.D{{Key: "replSetInitiate", Value: bson.D{{Key: "_id", Value: set}, {Key: "members", Value: members}}}}
}

// mongoConnection is the URI the host uses. A replica set (set not
// empty) whose members the host can reach is named by all of them, so
// the driver follows elections; otherwise the URI connects directly to
// the one loopback address.
func mongoConnection(set string, hosts []string, loopback string, routable bool) string {
	q := url.Values{}
	host := loopback
	switch {
	case set != "" && routable:
		host = strings.Join(hosts, ",")
		q.Set("replicaSet", set)
	case set != "":
		q.Set("directConnection", "true")
	}
	u := url.URL{Scheme: "mongodb", Host: host, Path: "/", RawQuery: q.Encode()}
	return u.String()
}

// dockerMongoElected waits until the set, seen from first, has a primary
// and every other member is a healthy secondary.
func dockerMongoElected(ctx context.Context, first *dockerNode, members int) error {
	state, err := dockerPoll(ctx, func(ctx context.Context) (bool, string, error) {
		var st struct {
			Members []struct {
				Name     string `bson:"name"`
				StateStr string `bson:"stateStr"`
			} `bson:"members"`
		}
		if err := dockerMongoCommand(ctx, first.hostAddr(), bson.D{{Key: "replSetGetStatus", Value: 1}}, &st); err != nil {
			return false, err.Error(), nil
		}
		primaries, secondaries := 0, 0
		var states []string
		for _, m := range st.Members {
			states = append(states, m.Name+" "+m.StateStr)
			switch m.StateStr {
			case "PRIMARY":
				primaries++
			case "SECONDARY":
				secondaries++
			}
		}
		done := primaries == 1 && secondaries == members-1
		return done, strings.Join(states, ", "), nil
	})
	if err != nil {
		return first.errorf("replica set %s elected no primary: %w; members: %s", ReplicaSet, err, state)
	}
	return nil
}

// dockerMongoOptions connect to the one server at addr.
func dockerMongoOptions(addr string) *options.ClientOptions {
	return options.Client().ApplyURI(mongoConnection(ReplicaSet, nil, addr, false)).
		SetServerSelectionTimeout(dockerTryTimeout).SetConnectTimeout(dockerTryTimeout)
}

// dockerMongoCommand runs cmd on the admin database of the server at
// addr, and decodes the reply into out unless it is nil.
func dockerMongoCommand(ctx context.Context, addr string, cmd bson.D, out any) error {
	c, err := mongo.Connect(dockerMongoOptions(addr))
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dockerTryTimeout)
		defer cancel()
		_ = c.Disconnect(dctx)
	}()
	res := c.Database("admin").RunCommand(ctx, cmd)
	if out == nil {
		return res.Err()
	}
	return res.Decode(out)
}

// dockerMongoPing succeeds when the server at addr answers ping.
func dockerMongoPing(ctx context.Context, addr string) error {
	return dockerMongoCommand(ctx, addr, bson.D{{Key: "ping", Value: 1}}, nil)
}
