package store

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/internal/testserver"
	"github.com/taskready/taskready/seed"
	svcmongo "github.com/taskready/taskready/service/mongo"
)

// One embedded FerretDB and one Redis for the package; each test has its
// own database.
var (
	mongoURI string
	client   *mongo.Client
	redisSrv *embedded.Redis
)

var quiet = slog.New(slog.DiscardHandler)

func TestMain(m *testing.M) {
	testserver.MainWithMongo("store-test-mongo-", func(db *testserver.Mongo) int {
		mongoURI, client = db.URI(), db.Client
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if redisSrv, err = embedded.StartRedis(ctx, embedded.RedisLogger(quiet)); err != nil {
			fmt.Fprintln(os.Stderr, "start embedded redis:", err)
			return 1
		}
		defer redisSrv.Close()
		return m.Run()
	})
}

var dbSeq atomic.Int64

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newDB returns a fresh database name, optionally seeded and indexed.
func newDB(t *testing.T, seeded, indexed bool) string {
	t.Helper()
	return newDBOn(t, client, seeded, indexed)
}

// newDBOn is newDB on the server c is connected to.
func newDBOn(t *testing.T, c *mongo.Client, seeded, indexed bool) string {
	t.Helper()
	ctx := testCtx(t)
	name := fmt.Sprintf("st_%d", dbSeq.Add(1))
	db := c.Database(name)
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	if seeded {
		if _, err := seed.Run(ctx, db, seed.Options{Users: 20, TasksPerUser: 15, Seed: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if indexed {
		if _, err := svcmongo.EnsureIndexes(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

func byID(t *testing.T, id string) check.Check {
	t.Helper()
	for _, c := range Checks() {
		if c.Meta().ID == id {
			return c
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

func TestMeta(t *testing.T) {
	want := map[string]check.Severity{
		"mongodb.indexes": check.Critical, "mongodb.explain": check.High, "mongodb.write-concern": check.High,
		"mongodb.topology": check.High, "mongodb.pool": check.Low, "redis.auth": check.High, "redis.cache-invalidation": check.Medium,
	}
	cs := Checks()
	if len(cs) != len(want) {
		t.Fatalf("%d checks", len(cs))
	}
	for _, c := range cs {
		m := c.Meta()
		if want[m.ID] != m.Severity || m.Title == "" || m.Remediation == "" || len(m.References) == 0 {
			t.Errorf("%+v", m)
		}
	}
}

func TestNotApplicable(t *testing.T) {
	ctx := testCtx(t)
	for _, c := range Checks() {
		if r := c.Run(ctx, &check.Target{}); r.Status != check.NotApplicable || r.Message == "" {
			t.Errorf("%s on an empty target: %s %q", c.Meta().ID, r.Status, r.Message)
		}
	}
}

func TestIndexes(t *testing.T) {
	ctx := testCtx(t)
	c := byID(t, "mongodb.indexes")

	t.Run("the API's indexes pass", func(t *testing.T) {
		r := c.Run(ctx, &check.Target{Mongo: client, Database: newDB(t, true, true)})
		t.Logf("%s: %s\n%+v", r.Status, r.Message, r.Evidence)
		if r.Status != check.Pass {
			t.Fatalf("%s %s", r.Status, r.Message)
		}
	})

	t.Run("a database without the indexes fails naming them", func(t *testing.T) {
		r := c.Run(ctx, &check.Target{Mongo: client, Database: newDB(t, true, false)})
		t.Logf("%s: %s", r.Status, r.Message)
		for _, want := range []string{"users {email: 1} unique", "tasks {user: 1, createdAt: -1}", "tasks {user: 1, status: 1}"} {
			if r.Status != check.Fail || !strings.Contains(r.Message, want) {
				t.Errorf("%s %q does not name %q", r.Status, r.Message, want)
			}
		}
	})

	t.Run("one missing index is named alone", func(t *testing.T) {
		name := newDB(t, true, true)
		if err := client.Database(name).Collection("tasks").Indexes().DropOne(ctx, "user_status_createdAt"); err != nil {
			t.Fatal(err)
		}
		r := c.Run(ctx, &check.Target{Mongo: client, Database: name})
		if r.Status != check.Fail || !strings.Contains(r.Message, "tasks {user: 1, status: 1}") || strings.Contains(r.Message, "createdAt") || strings.Contains(r.Message, "email") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})

	t.Run("a non-unique email index fails", func(t *testing.T) {
		name := newDB(t, true, false)
		db := client.Database(name)
		mustIndex(t, db, "users", bson.D{{Key: "email", Value: 1}}, false)
		mustIndex(t, db, "tasks", bson.D{{Key: "user", Value: 1}, {Key: "createdAt", Value: -1}}, false)
		mustIndex(t, db, "tasks", bson.D{{Key: "user", Value: 1}, {Key: "status", Value: 1}}, false)
		r := c.Run(ctx, &check.Target{Mongo: client, Database: name})
		if r.Status != check.Fail || !strings.Contains(r.Message, "not unique") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})

	t.Run("reversed and wider indexes serve", func(t *testing.T) {
		name := newDB(t, true, false)
		db := client.Database(name)
		mustIndex(t, db, "users", bson.D{{Key: "email", Value: 1}}, true)
		mustIndex(t, db, "tasks", bson.D{{Key: "user", Value: -1}, {Key: "createdAt", Value: 1}}, false)
		mustIndex(t, db, "tasks", bson.D{{Key: "user", Value: 1}, {Key: "status", Value: 1}, {Key: "createdAt", Value: -1}}, false)
		r := c.Run(ctx, &check.Target{Mongo: client, Database: name})
		obs := r.Evidence[len(r.Evidence)-1].Observed
		if r.Status != check.Pass || !strings.Contains(obs, "walked backwards") || !strings.Contains(obs, "as its prefix") {
			t.Errorf("%s %q\n%s", r.Status, r.Message, obs)
		}
	})

	t.Run("missing collections fail with a note", func(t *testing.T) {
		r := c.Run(ctx, &check.Target{Mongo: client, Database: newDB(t, false, false)})
		if r.Status != check.Fail || !strings.Contains(r.Evidence[len(r.Evidence)-1].Note, "does not exist") {
			t.Errorf("%s %q %+v", r.Status, r.Message, r.Evidence)
		}
	})
}

func mustIndex(t *testing.T, db *mongo.Database, coll string, key bson.D, unique bool) {
	t.Helper()
	if _, err := db.Collection(coll).Indexes().CreateOne(context.Background(), mongo.IndexModel{Keys: key, Options: options.Index().SetUnique(unique)}); err != nil {
		t.Fatal(err)
	}
}

// TestExplainFerretDB records what FerretDB's explain gives on each of its
// backends and that the check does not pass on it: on SQLite no filter is
// pushed down and every shape reads the whole table; on PostgreSQL the
// filters are pushed down, but the plan is still not MongoDB's.
func TestExplainFerretDB(t *testing.T) {
	for _, tt := range []struct {
		name     string
		opts     func(t *testing.T) []embedded.MongoOption
		scans    string
		pushdown string
		// plan is what the clipped plan always shows: PostgreSQL's comes
		// as a document whose keys FerretDB orders differently each time,
		// so its node type may fall beyond the clip; its start is there.
		plan string
	}{
		{"sqlite", func(*testing.T) []embedded.MongoOption { return []embedded.MongoOption{embedded.MongoSQLite()} },
			"for 4 of 4 shapes", "filterPushdown=false", "scan"},
		{"postgresql", func(t *testing.T) []embedded.MongoOption {
			bin := embedded.FindPostgreSQL()
			if bin == "" {
				if os.Getenv("REQUIRE_POSTGRES") == "1" {
					t.Fatal("PostgreSQL not found and REQUIRE_POSTGRES=1")
				}
				t.Skip("PostgreSQL not installed")
			}
			return []embedded.MongoOption{embedded.MongoPostgreSQL(bin)}
		}, "for 0 of 4 shapes", "filterPushdown=true", "limitpushdown=false {\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv, err := embedded.StartMongo(ctx, t.TempDir(), append(tt.opts(t), embedded.MongoLogger(quiet))...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			c, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Disconnect(context.Background()) })

			r := byID(t, "mongodb.explain").Run(ctx, &check.Target{Mongo: c, Database: newDBOn(t, c, true, true)})
			t.Logf("%s: %s", r.Status, r.Message)
			for _, e := range r.Evidence {
				t.Logf("  %s\n    -> %s", e.Request, e.Response)
			}
			if r.Status != check.Warn || !strings.Contains(r.Message, "FerretDB") || !strings.Contains(r.Message, tt.scans) || len(r.Evidence) != 4 {
				t.Fatalf("%s %q", r.Status, r.Message)
			}
			if !strings.Contains(r.Evidence[0].Response, tt.pushdown) || !strings.Contains(strings.ToLower(r.Evidence[0].Response), tt.plan) {
				t.Errorf("evidence %+v", r.Evidence[0])
			}
		})
	}
}

// withURI is target with the API's connection string uri.
func withURI(target *check.Target, uri string) *check.Target {
	c := *target
	c.MongoURI = uri
	return &c
}

func TestWriteConcernAndTopologyOnFerretDB(t *testing.T) {
	ctx := testCtx(t)
	target := &check.Target{Mongo: client, Database: newDB(t, false, false)}

	r := byID(t, "mongodb.write-concern").Run(ctx, target)
	t.Logf("write-concern: %s: %s %+v", r.Status, r.Message, r.Evidence)
	if r.Status != check.Warn || !strings.Contains(r.Message, "standalone") {
		t.Errorf("%s %q", r.Status, r.Message)
	}
	r = byID(t, "mongodb.write-concern").Run(ctx, withURI(target, withParams(mongoURI, "w=0")))
	if r.Status != check.Fail || !strings.Contains(r.Message, "w: 0") {
		t.Errorf("w=0: %s %q", r.Status, r.Message)
	}
	r = byID(t, "mongodb.write-concern").Run(ctx, withURI(target, "mongodb://app:s3cret@127.0.0.1:1/?w=majority&journal=false"))
	if r.Status != check.Warn || strings.Contains(fmt.Sprint(r), "s3cret") {
		t.Errorf("w=majority on a standalone: %s %q", r.Status, r.Message)
	}

	r = byID(t, "mongodb.topology").Run(ctx, target)
	t.Logf("topology: %s: %s", r.Status, r.Message)
	if r.Status != check.Warn || !strings.Contains(r.Message, "standalone") || !strings.Contains(r.Message, "FerretDB") {
		t.Errorf("%s %q", r.Status, r.Message)
	}

	r = byID(t, "mongodb.pool").Run(ctx, target)
	if r.Status != check.NotApplicable {
		t.Errorf("pool without a URI on FerretDB: %s %q", r.Status, r.Message)
	}
	r = byID(t, "mongodb.pool").Run(ctx, withURI(target, withParams(mongoURI, "maxPoolSize=20&serverSelectionTimeoutMS=2000")))
	t.Logf("pool: %s: %s %+v", r.Status, r.Message, r.Evidence)
	if r.Status != check.Pass || !strings.Contains(r.Message, "maxPoolSize 20") ||
		!strings.Contains(r.Evidence[len(r.Evidence)-1].Response, "serverSelectionTimeoutMS=2s") {
		t.Errorf("%s %q %+v", r.Status, r.Message, r.Evidence)
	}
}

func TestJudgeWriteConcern(t *testing.T) {
	no := false
	cases := []struct {
		kind, server, uri string
		journal           *bool
		want              check.Status
	}{
		{"replica set rs0", "majority", "", nil, check.Pass},
		{"replica set rs0", "majority", "1", nil, check.Fail},
		{"replica set rs0", "1", "majority", nil, check.Pass},
		{"replica set rs0", "1", "", nil, check.Fail},
		{"replica set rs0", "", "", nil, check.Warn},
		{"replica set rs0", "majority", "2", nil, check.Warn},
		{"replica set rs0", "majority", "", &no, check.Warn},
		{"replica set rs0", "majority", "0", nil, check.Fail},
		{"sharded cluster (mongos)", "majority", "", nil, check.Pass},
		{"standalone", "majority", "", nil, check.Warn},
		{"standalone", "", "0", nil, check.Fail},
	}
	for _, tc := range cases {
		if got, msg := judgeWriteConcern(tc.kind, tc.server, tc.uri, tc.journal, nil); got != tc.want {
			t.Errorf("%s server=%q uri=%q: %s (%s), want %s", tc.kind, tc.server, tc.uri, got, msg, tc.want)
		}
	}
}

func TestJudgeReplicaSet(t *testing.T) {
	now := time.Now()
	m := func(name string, state int, health float64, lag time.Duration) member {
		str := map[int]string{1: "PRIMARY", 2: "SECONDARY", 7: "ARBITER", 8: "(not reachable/healthy)", 3: "RECOVERING"}[state]
		return member{Name: name, State: state, StateStr: str, Health: health, OptimeDate: now.Add(-lag)}
	}
	votes := func(vs ...int) *voteConfig {
		var c voteConfig
		for i, v := range vs {
			c.Config.Members = append(c.Config.Members, struct {
				Host        string `bson:"host"`
				Votes       int    `bson:"votes"`
				ArbiterOnly bool   `bson:"arbiterOnly"`
			}{fmt.Sprintf("m%d:27017", i), v, false})
		}
		return &c
	}
	healthy := []member{m("a", 1, 1, 0), m("b", 2, 1, time.Second), m("c", 2, 1, 0)}
	cases := []struct {
		name        string
		members     []member
		votes       *voteConfig
		fails, warn string // substrings; "" means none expected
	}{
		{"three healthy members", healthy, votes(1, 1, 1), "", ""},
		{"two members", healthy[:2], votes(1, 1), "2 data-bearing members", ""},
		{"an unreachable member", []member{m("a", 1, 1, 0), m("b", 2, 1, 0), m("c", 8, 0, 0)}, nil, "member c is unreachable", ""},
		{"a recovering member", []member{m("a", 1, 1, 0), m("b", 2, 1, 0), m("c", 3, 1, 0)}, nil, "member c is RECOVERING", ""},
		{"no primary", []member{m("a", 2, 1, 0), m("b", 2, 1, 0), m("c", 2, 1, 0)}, nil, "0 primaries", ""},
		{"an arbiter", []member{m("a", 1, 1, 0), m("b", 2, 1, 0), m("c", 2, 1, 0), m("d", 7, 1, 0)}, votes(1, 1, 1, 0), "", "arbiter"},
		{"a lagging secondary", []member{m("a", 1, 1, 0), m("b", 2, 1, time.Minute), m("c", 2, 1, 0)}, nil, "", "secondary b lags"},
		{"even votes", append(healthy, m("d", 2, 1, 0)), votes(1, 1, 1, 1), "4 voting members", ""},
		{"two votes", healthy, votes(2, 1, 1), "has 2 votes", ""},
	}
	for _, tc := range cases {
		fails, warns, _ := judgeReplicaSet(replStatus{Set: "rs0", Members: tc.members}, tc.votes)
		f, w := strings.Join(fails, "; "), strings.Join(warns, "; ")
		if (tc.fails == "") != (f == "") || !strings.Contains(f, tc.fails) {
			t.Errorf("%s: fails %q, want %q", tc.name, f, tc.fails)
		}
		if (tc.warn == "") != (w == "") || !strings.Contains(w, tc.warn) {
			t.Errorf("%s: warns %q, want %q", tc.name, w, tc.warn)
		}
	}
}

// explainDoc builds an explain answer from extended JSON.
func explainDoc(t *testing.T, js string) bson.Raw {
	t.Helper()
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(js), false, &d); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	return d
}

func TestJudgeMongoDBExplain(t *testing.T) {
	paged := shape{name: "paged", skip: 10, noSort: true}
	byStatus := shape{name: "status"}
	count := shape{name: "count", noRatio: true}
	cases := []struct {
		name     string
		sh       shape
		explain  string
		format   string
		problems []string // substrings, all expected; none when empty
		note     string
	}{
		{"paged list through user_createdAt", paged, `{"queryPlanner": {"winningPlan": {"stage": "LIMIT", "inputStage": {"stage": "SKIP",
			"inputStage": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN", "indexName": "user_createdAt", "keyPattern": {"user": 1, "createdAt": -1}}}}},
			"rejectedPlans": [{"stage": "SORT", "inputStage": {"stage": "COLLSCAN"}}]},
			"executionStats": {"nReturned": 10, "totalDocsExamined": 20, "totalKeysExamined": 20, "executionStages": {"stage": "LIMIT"}}, "ok": 1}`,
			"mongodb", nil, ""},
		{"paged list with a collection scan and a sort", paged, `{"queryPlanner": {"winningPlan": {"stage": "SORT", "inputStage": {"stage": "COLLSCAN"}}},
			"executionStats": {"nReturned": 10, "totalDocsExamined": 100000, "totalKeysExamined": 0}}`,
			"mongodb", []string{"COLLSCAN", "no index scan", "in-memory SORT", "examined 100000 documents to return 10"}, ""},
		{"paged list sorted in memory after an index scan", paged, `{"queryPlanner": {"winningPlan": {"stage": "SORT", "inputStage": {"stage": "FETCH",
			"inputStage": {"stage": "IXSCAN", "indexName": "user_status"}}}}, "executionStats": {"nReturned": 10, "totalDocsExamined": 100, "totalKeysExamined": 100}}`,
			"mongodb", []string{"in-memory SORT"}, ""},
		{"status filter sorted in memory is noted, not failed", byStatus, `{"queryPlanner": {"winningPlan": {"stage": "SORT", "inputStage": {"stage": "FETCH",
			"inputStage": {"stage": "IXSCAN", "indexName": "user_status"}}}}, "executionStats": {"nReturned": 10, "totalDocsExamined": 40, "totalKeysExamined": 40}}`,
			"mongodb", nil, "in-memory SORT"},
		{"status filter through user_createdAt examining too much", byStatus, `{"queryPlanner": {"winningPlan": {"stage": "LIMIT", "inputStage": {"stage": "FETCH",
			"filter": {"status": {"$eq": "completed"}}, "inputStage": {"stage": "IXSCAN", "indexName": "user_createdAt"}}}},
			"executionStats": {"nReturned": 2, "totalDocsExamined": 500, "totalKeysExamined": 500}}`,
			"mongodb", []string{"examined 500 documents to return 2"}, ""},
		{"SBE plan (7.0)", byStatus, `{"explainVersion": "2", "queryPlanner": {"winningPlan": {"queryPlan": {"stage": "FETCH",
			"inputStage": {"stage": "IXSCAN", "indexName": "email_unique"}}, "slotBasedPlan": {"slots": "...", "stages": "[1] scan s1"}}},
			"executionStats": {"nReturned": 1, "totalDocsExamined": 1, "totalKeysExamined": 1}}`,
			"mongodb", nil, ""},
		{"express plan (8.0)", byStatus, `{"queryPlanner": {"winningPlan": {"isCached": false, "stage": "EXPRESS_IXSCAN", "keyPattern": "{ email: 1 }", "indexName": "email_unique"}},
			"executionStats": {"nReturned": 1, "totalDocsExamined": 1, "totalKeysExamined": 1}}`,
			"mongodb", nil, ""},
		{"count aggregate through $cursor", count, `{"explainVersion": "1", "stages": [{"$cursor": {"queryPlanner": {"winningPlan": {"stage": "PROJECTION_COVERED",
			"inputStage": {"stage": "IXSCAN", "indexName": "user_createdAt"}}}, "executionStats": {"nReturned": 100, "totalDocsExamined": 0, "totalKeysExamined": 100}}},
			{"$group": {"_id": {"$const": 1}, "n": {"$sum": {"$const": 1}}}}]}`,
			"mongodb", nil, ""},
		{"count aggregate with a collection scan", count, `{"stages": [{"$cursor": {"queryPlanner": {"winningPlan": {"stage": "COLLSCAN"}},
			"executionStats": {"nReturned": 100, "totalDocsExamined": 100000}}}]}`,
			"mongodb", []string{"COLLSCAN"}, ""},
		{"sharded find", byStatus, `{"queryPlanner": {"winningPlan": {"stage": "SINGLE_SHARD", "shards": [{"shardName": "s0",
			"winningPlan": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN", "indexName": "user_status"}}}]}},
			"executionStats": {"nReturned": 5, "totalDocsExamined": 5, "totalKeysExamined": 5}}`,
			"mongodb", nil, ""},
		{"FerretDB", byStatus, `{"queryPlanner": {"Plan": ["id=2 parent=0 notused=0 detail=SCAN tasks_ad2e48cd"]},
			"filterPushdown": false, "sortPushdown": false, "limitPushdown": false, "ok": 1}`,
			"ferretdb", nil, ""},
		{"unknown", byStatus, `{"ok": 1}`, "unknown", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := judge(tc.sh, explainDoc(t, tc.explain))
			if v.format != tc.format {
				t.Fatalf("format %s, want %s", v.format, tc.format)
			}
			got := strings.Join(v.problems, "; ")
			if len(tc.problems) == 0 && got != "" {
				t.Errorf("problems %q, want none (stages %v)", got, v.stages)
			}
			for _, p := range tc.problems {
				if !strings.Contains(got, p) {
					t.Errorf("problems %q lack %q (stages %v)", got, p, v.stages)
				}
			}
			if !strings.Contains(strings.Join(v.notes, "; "), tc.note) {
				t.Errorf("notes %v lack %q", v.notes, tc.note)
			}
			if tc.format == "ferretdb" && (!v.ferretScan || !strings.Contains(v.ferret, "filterPushdown=false")) {
				t.Errorf("ferret %q scan=%t", v.ferret, v.ferretScan)
			}
		})
	}
}

func TestRedisAuth(t *testing.T) {
	ctx := testCtx(t)
	c := byID(t, "redis.auth")

	t.Run("a Redis without a password fails", func(t *testing.T) {
		// The URL carries credentials the probe must strip and not show.
		u := strings.Replace(redisSrv.URL(), "redis://", "redis://app:s3cret@", 1)
		r := c.Run(ctx, &check.Target{RedisURL: u})
		t.Logf("%s (%s): %s %+v", r.Status, redisSrv.Kind(), r.Message, r.Evidence)
		if r.Status != check.Fail || !strings.Contains(r.Message, "PONG") || strings.Contains(fmt.Sprint(r), "s3cret") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})

	t.Run("the address of Target.Redis is used without a URL", func(t *testing.T) {
		rc := goredis.NewClient(&goredis.Options{Addr: redisSrv.Addr()})
		defer rc.Close()
		if r := c.Run(ctx, &check.Target{Redis: rc}); r.Status != check.Fail {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})

	t.Run("a Redis that requires a password passes", func(t *testing.T) {
		mr := miniredis.RunT(t)
		mr.RequireAuth("s3cret")
		r := c.Run(ctx, &check.Target{RedisURL: "redis://:s3cret@" + mr.Addr() + "/0"})
		t.Logf("%s: %s %+v", r.Status, r.Message, r.Evidence)
		if r.Status != check.Pass || !strings.Contains(r.Message, "NOAUTH") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})

	t.Run("protected mode passes", func(t *testing.T) {
		addr := fakeRedis(t, "-DENIED Redis is running in protected mode because protected mode is enabled\r\n")
		if r := c.Run(ctx, &check.Target{RedisURL: "redis://" + addr}); r.Status != check.Pass || !strings.Contains(r.Message, "protected mode") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})

	t.Run("an unreachable Redis is not a pass", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		r := c.Run(ctx, &check.Target{RedisURL: "redis://" + addr})
		if r.Status != check.Warn || !strings.Contains(r.Message, "not tested") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})

	t.Run("a bad URL is an error without the URL", func(t *testing.T) {
		r := c.Run(ctx, &check.Target{RedisURL: "http://app:s3cret@host"})
		if r.Status != check.Error || strings.Contains(r.Message, "s3cret") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})
}

// fakeRedis answers every connection's first command with reply.
func fakeRedis(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 64)
				_, _ = conn.Read(buf)
				_, _ = conn.Write([]byte(reply))
			}()
		}
	}()
	return ln.Addr().String()
}

// withParams adds query parameters to a connection string, which may have
// some already (the embedded server's credentials come with authMechanism).
func withParams(uri, params string) string {
	if strings.Contains(uri, "?") {
		return uri + "&" + params
	}
	return uri + "?" + params
}
