package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/checks/check"
)

// maxReplicationLag is how far a secondary may trail the primary before
// mongodb.topology warns; there is no policy field for it yet.
const maxReplicationLag = 10 * time.Second

// driverDefaultPoolSize is the Go driver's maxPoolSize when none is set.
const driverDefaultPoolSize = 100

// uriSettings is what a connection string sets, credentials left out.
type uriSettings struct {
	opts *options.ClientOptions
	err  error
}

func parseURI(uri string) *uriSettings {
	if uri == "" {
		return nil
	}
	o := options.Client().ApplyURI(uri)
	return &uriSettings{opts: o, err: o.Validate()}
}

// w returns the write concern w the URI sets, "" when it sets none.
func (u *uriSettings) w() string {
	if u == nil || u.err != nil || u.opts.WriteConcern == nil || u.opts.WriteConcern.W == nil {
		return ""
	}
	return fmt.Sprint(u.opts.WriteConcern.W)
}

// journal returns the URI's j, nil when unset.
func (u *uriSettings) journal() *bool {
	if u == nil || u.err != nil || u.opts.WriteConcern == nil {
		return nil
	}
	return u.opts.WriteConcern.Journal
}

// defaultRWConcern is getDefaultRWConcern's answer (MongoDB 4.4+).
type defaultRWConcern struct {
	DefaultWriteConcern *struct {
		W any   `bson:"w"`
		J *bool `bson:"j"`
	} `bson:"defaultWriteConcern"`
	Source string `bson:"defaultWriteConcernSource"`
}

func writeConcern(ctx context.Context, t *check.Target) check.Result {
	if t.Mongo == nil {
		return check.NotApplicablef("no MongoDB connection (Target.Mongo): the write concern cannot be read")
	}
	h, _, err := runHello(ctx, t.Mongo)
	if err != nil {
		return check.Errorf("hello: " + err.Error())
	}
	ev := []check.Evidence{{Request: "db.hello()", Response: "topology: " + h.kind()}}

	serverW := ""
	var d defaultRWConcern
	derr := t.Mongo.Database("admin").RunCommand(ctx, bson.D{{Key: "getDefaultRWConcern", Value: 1}}).Decode(&d)
	switch {
	case derr == nil && d.DefaultWriteConcern != nil && d.DefaultWriteConcern.W != nil:
		serverW = fmt.Sprint(d.DefaultWriteConcern.W)
		ev = append(ev, check.Evidence{Request: "db.adminCommand({getDefaultRWConcern: 1})",
			Response: fmt.Sprintf("defaultWriteConcern w=%s (source: %s)", serverW, d.Source)})
	case derr == nil:
		ev = append(ev, check.Evidence{Request: "db.adminCommand({getDefaultRWConcern: 1})",
			Response: "no default write concern set (servers before 5.0 then use w:1)"})
		serverW = "1"
	default:
		ev = append(ev, check.Evidence{Request: "db.adminCommand({getDefaultRWConcern: 1})", Response: "error: " + derr.Error()})
	}

	u := parseURI(t.MongoURI)
	uriW := u.w()
	switch {
	case u == nil:
		ev = append(ev, check.Evidence{Note: "no connection string given (Target.MongoURI; harness check -mongo-uri): the Go driver does not expose a client's write concern, so the API's w is unknown unless it is the server default"})
	case u.err != nil:
		ev = append(ev, check.Evidence{Request: "connection string", Response: "does not parse: " + redactURIError(u.err)})
	default:
		j := "unset"
		if jp := u.journal(); jp != nil {
			j = fmt.Sprint(*jp)
		}
		w := uriW
		if w == "" {
			w = "unset (server default)"
		}
		ev = append(ev, check.Evidence{Request: "connection string options", Response: fmt.Sprintf("w=%s journal=%s", w, j)})
	}

	status, msg := judgeWriteConcern(h.kind(), serverW, uriW, u.journal(), derr)
	effective := serverW
	from := "the server's default"
	if uriW != "" {
		effective, from = uriW, "the connection string"
	}
	ev[0].Observed = fmt.Sprintf("effective w: %s (from %s)", orUnknown(effective), from)
	ev[0].Expected = `w: "majority" on a replica set or sharded cluster; never w: 0`
	return check.Result{Status: status, Message: msg, Evidence: ev}
}

// judgeWriteConcern applies DB-04: the effective w is the connection
// string's when it sets one, else the server's default (serverW, "" when
// unknown; derr is why).
func judgeWriteConcern(kind, serverW, uriW string, journal *bool, derr error) (check.Status, string) {
	effective, from := serverW, "the server's default"
	if uriW != "" {
		effective, from = uriW, "the connection string"
	}
	noJournal := journal != nil && !*journal
	switch {
	case effective == "0":
		return check.Fail, fmt.Sprintf("w: 0 (from %s): writes are not acknowledged at all, and failures go unnoticed", from)
	case kind == "standalone":
		return check.Warn, fmt.Sprintf("standalone server: there is no replica set, so w: %s cannot be more durable than one node's disk "+
			"(w: \"majority\" means this one node); production needs a replica set", orUnknown(effective))
	case effective == "majority" && noJournal:
		return check.Warn, "w: \"majority\" but journal=false in the connection string: acknowledged before it is in the on-disk journal"
	case effective == "majority":
		return check.Pass, fmt.Sprintf("writes wait for a majority (w: \"majority\" from %s) on %s", from, kind)
	case effective == "":
		return check.Warn, "could not determine the effective write concern: the server's default is not readable (" +
			errString(derr) + ") and the connection string sets no w (or was not given): pass the API's connection string"
	case effective == "1":
		return check.Fail, fmt.Sprintf("w: 1 (from %s) on %s: a write acknowledged by the primary alone is lost if it fails over before replicating", from, kind)
	}
	return check.Warn, fmt.Sprintf("w: %s (from %s) on %s: not \"majority\", which adapts to the set's membership", effective, from, kind)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

// redactURIError keeps a parse error from quoting a password.
func redactURIError(err error) string {
	s := err.Error()
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.LastIndex(s, "@"); j > i {
			s = s[:i+3] + "<redacted>" + s[j:]
		}
	}
	return s
}

// member is one entry of replSetGetStatus.members.
type member struct {
	Name       string    `bson:"name"`
	Health     float64   `bson:"health"`
	State      int       `bson:"state"`
	StateStr   string    `bson:"stateStr"`
	OptimeDate time.Time `bson:"optimeDate"`
}

// replStatus is the part of replSetGetStatus the check judges.
type replStatus struct {
	Set     string   `bson:"set"`
	Members []member `bson:"members"`
}

// voteConfig is replSetGetConfig's member votes.
type voteConfig struct {
	Config struct {
		Members []struct {
			Host        string `bson:"host"`
			Votes       int    `bson:"votes"`
			ArbiterOnly bool   `bson:"arbiterOnly"`
		} `bson:"members"`
	} `bson:"config"`
}

// judgeReplicaSet applies DB-05 to a replica set's status and, when
// readable, its vote configuration (votes nil otherwise).
func judgeReplicaSet(st replStatus, votes *voteConfig) (fails, warns []string, summary string) {
	var lines []string
	primaries, dataBearing, arbiters := 0, 0, 0
	var primaryOptime time.Time
	for _, m := range st.Members {
		lines = append(lines, fmt.Sprintf("%s %s health=%g", m.Name, m.StateStr, m.Health))
		if m.State == 1 {
			primaries++
			primaryOptime = m.OptimeDate
		}
		if m.State == 7 || m.StateStr == "ARBITER" {
			arbiters++
		} else {
			dataBearing++
		}
		switch {
		case m.Health != 1:
			fails = append(fails, fmt.Sprintf("member %s is unreachable (health %g, %s)", m.Name, m.Health, m.StateStr))
		case m.State != 1 && m.State != 2 && m.State != 7:
			fails = append(fails, fmt.Sprintf("member %s is %s, not PRIMARY or SECONDARY", m.Name, m.StateStr))
		}
	}
	if primaries != 1 {
		fails = append(fails, fmt.Sprintf("%d primaries (want exactly 1)", primaries))
	}
	if dataBearing < 3 {
		fails = append(fails, fmt.Sprintf("%d data-bearing members (want at least 3)", dataBearing))
	}
	if arbiters > 0 {
		warns = append(warns, fmt.Sprintf("%d arbiter(s): with an arbiter, w: \"majority\" can stall or fall back to w:1 when a data-bearing member is down", arbiters))
	}
	if primaries == 1 {
		for _, m := range st.Members {
			if m.State == 2 && !m.OptimeDate.IsZero() {
				if lag := primaryOptime.Sub(m.OptimeDate); lag > maxReplicationLag {
					warns = append(warns, fmt.Sprintf("secondary %s lags the primary by %s (more than %s)", m.Name, lag.Round(time.Second), maxReplicationLag))
				}
			}
		}
	}
	if votes != nil {
		voting := 0
		for _, m := range votes.Config.Members {
			if m.Votes > 1 {
				fails = append(fails, fmt.Sprintf("member %s has %d votes (at most 1)", m.Host, m.Votes))
			}
			if m.Votes > 0 {
				voting++
			}
		}
		if voting%2 == 0 {
			fails = append(fails, fmt.Sprintf("%d voting members: an even number cannot always elect a primary after a partition", voting))
		}
		lines = append(lines, fmt.Sprintf("%d voting members", voting))
	}
	return fails, warns, strings.Join(lines, "\n")
}

func topology(ctx context.Context, t *check.Target) check.Result {
	if t.Mongo == nil {
		return check.NotApplicablef("no MongoDB connection (Target.Mongo): the topology cannot be read")
	}
	h, raw, err := runHello(ctx, t.Mongo)
	if err != nil {
		return check.Errorf("hello: " + err.Error())
	}
	ev := []check.Evidence{{Request: "db.hello()", Response: compact(raw, 600)}}
	switch h.kind() {
	case "standalone":
		note := ""
		if v, ok := ferretDB(ctx, t.Mongo); ok {
			note = fmt.Sprintf(" (%s: it has no replication)", ferretLabel(v))
		}
		ev[0].Expected, ev[0].Observed = "a replica set of >= 3 data-bearing members", "standalone"+note
		return check.Warnf("standalone server"+note+": no failover and no copy of the data on another node; production needs a replica set of at least 3 data-bearing members", ev...)
	case "sharded cluster (mongos)":
		return check.Warnf("connected through mongos: each shard's and the config servers' replica sets must be checked on their own; not inspected here", ev...)
	}

	admin := t.Mongo.Database("admin")
	var st replStatus
	if err := admin.RunCommand(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}}).Decode(&st); err != nil {
		// Without clusterMonitor, hello's lists are all there is.
		members := len(h.Hosts) + len(h.Passives)
		ev = append(ev, check.Evidence{Request: "db.adminCommand({replSetGetStatus: 1})", Response: "error: " + err.Error()})
		if members < 3 {
			return check.Failf(fmt.Sprintf("replica set %s lists %d data-bearing members (want at least 3)", h.SetName, members), ev...)
		}
		return check.Warnf(fmt.Sprintf("replica set %s lists %d data-bearing members, but their health could not be read (replSetGetStatus needs clusterMonitor): %v",
			h.SetName, members, err), ev...)
	}
	var votes *voteConfig
	var vc voteConfig
	if err := admin.RunCommand(ctx, bson.D{{Key: "replSetGetConfig", Value: 1}}).Decode(&vc); err == nil {
		votes = &vc
	} else {
		ev = append(ev, check.Evidence{Request: "db.adminCommand({replSetGetConfig: 1})", Response: "error: " + err.Error(), Note: "votes not checked"})
	}
	fails, warns, summary := judgeReplicaSet(st, votes)
	ev = append(ev, check.Evidence{Request: "rs.status()", Response: summary,
		Expected: "one PRIMARY, >= 3 healthy data-bearing members, an odd number of voting members with 0 or 1 vote each, lag <= " + maxReplicationLag.String()})
	switch {
	case len(fails) > 0:
		return check.Failf(fmt.Sprintf("replica set %s: %s", st.Set, strings.Join(fails, "; ")), ev...)
	case len(warns) > 0:
		return check.Warnf(fmt.Sprintf("replica set %s: %s", st.Set, strings.Join(warns, "; ")), ev...)
	}
	return check.Passf(fmt.Sprintf("replica set %s: %d healthy members, one primary", st.Set, len(st.Members)), ev...)
}

func pool(ctx context.Context, t *check.Target) check.Result {
	if t.Mongo == nil {
		return check.NotApplicablef("no MongoDB connection (Target.Mongo): pool settings cannot be judged")
	}
	var ss struct {
		Connections *struct {
			Current      int64 `bson:"current"`
			Available    int64 `bson:"available"`
			TotalCreated int64 `bson:"totalCreated"`
		} `bson:"connections"`
	}
	serr := t.Mongo.Database("admin").RunCommand(ctx, bson.D{{Key: "serverStatus", Value: 1}}).Decode(&ss)
	var ev []check.Evidence
	haveServer := serr == nil && ss.Connections != nil
	switch {
	case haveServer:
		ev = append(ev, check.Evidence{Request: "db.serverStatus().connections",
			Response: fmt.Sprintf("current %d, available %d, totalCreated %d", ss.Connections.Current, ss.Connections.Available, ss.Connections.TotalCreated)})
	case serr != nil:
		ev = append(ev, check.Evidence{Request: "db.serverStatus()", Response: "error: " + serr.Error()})
	default:
		ev = append(ev, check.Evidence{Request: "db.serverStatus()", Response: "no connections section (FerretDB does not report one)"})
	}

	u := parseURI(t.MongoURI)
	if u == nil && !haveServer {
		return check.NotApplicablef("the server does not report its connections and no connection string was given (Target.MongoURI; harness check -mongo-uri): " +
			"the driver does not expose a client's pool settings")
	}
	if u == nil {
		return check.Warnf(fmt.Sprintf("the server has %d connections available; the API's pool settings are not visible (the driver does not expose them): pass its connection string",
			ss.Connections.Available), ev...)
	}
	if u.err != nil {
		return check.Errorf("connection string does not parse: " + redactURIError(u.err))
	}
	o := u.opts
	maxPool, maxSet := uint64(driverDefaultPoolSize), false
	if o.MaxPoolSize != nil {
		maxPool, maxSet = *o.MaxPoolSize, true
	}
	var set, unset []string
	add := func(name string, isSet bool, value string) {
		if isSet {
			set = append(set, name+"="+value)
		} else {
			unset = append(unset, name)
		}
	}
	add("maxPoolSize", maxSet, fmt.Sprint(maxPool))
	add("minPoolSize", o.MinPoolSize != nil, ptrString(o.MinPoolSize))
	add("maxIdleTimeMS", o.MaxConnIdleTime != nil, durString(o.MaxConnIdleTime))
	add("serverSelectionTimeoutMS", o.ServerSelectionTimeout != nil, durString(o.ServerSelectionTimeout))
	add("connectTimeoutMS", o.ConnectTimeout != nil, durString(o.ConnectTimeout))
	add("timeoutMS", o.Timeout != nil, durString(o.Timeout))
	e := check.Evidence{Request: "connection string options",
		Response: "set: " + strings.Join(set, ", ") + "; not set: " + strings.Join(unset, ", "),
		Note:     "options not set in the URI may still be set in code: the task API's service/mongo.Connect sets pool and timeout defaults that URI options override"}
	ev = append(ev, e)
	if haveServer && int64(maxPool) > ss.Connections.Available {
		return check.Warnf(fmt.Sprintf("maxPoolSize %d is more than the %d connections the server has available: one busy instance could exhaust it", maxPool, ss.Connections.Available), ev...)
	}
	msg := fmt.Sprintf("pool: maxPoolSize %d", maxPool)
	if haveServer {
		msg += fmt.Sprintf("; the server has %d connections available, room for %d instances at full pools", ss.Connections.Available, ss.Connections.Available/int64(max(maxPool, 1)))
	} else {
		msg += "; the server does not report its connection limit"
	}
	return check.Passf(msg, ev...)
}

func ptrString(p *uint64) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

func durString(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return d.String()
}
