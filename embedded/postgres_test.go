package embedded_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/taskready/taskready/embedded"
)

// fakePostgres writes an initdb and a postgres that print a message and
// fail, in a directory of their own, and returns it.
func fakePostgres(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs a shell script")
	}
	dir := t.TempDir()
	for _, name := range []string{"initdb", "postgres"} {
		script := "#!/bin/sh\necho '" + name + ": FATAL: boom, cannot start' >&2\nexit 1\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMongoFallsBackToSQLite: PostgreSQL that fails to start leaves the
// server on SQLite, saying why and how to get the faster backend. Not
// parallel: sets PATH, where the fake is found first.
func TestMongoFallsBackToSQLite(t *testing.T) {
	fake := fakePostgres(t)
	t.Setenv("PATH", fake)
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	m := startMongo(t, ctx, dir, embedded.MongoLogger(nil))
	if m.Backend() != embedded.SQLite {
		t.Fatalf("Backend() = %v, want SQLite", m.Backend())
	}
	why := m.Fallback()
	for _, want := range []string{"PostgreSQL failed", "boom, cannot start", embedded.PostgreSQLHint} {
		if !strings.Contains(why, want) {
			t.Errorf("Fallback() = %q; want it to contain %q", why, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "postgresql")); err == nil {
		t.Error("the failed cluster's directory was left behind")
	}
	coll := mongoClient(t, m.URI()).Database("taskready").Collection("tasks")
	if _, err := coll.InsertOne(ctx, task{ID: "t", Title: "on SQLite"}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
}

// TestMongoExplicitPostgreSQLFails: with the binaries named, a failure is
// an error that carries PostgreSQL's own words, not a fallback.
func TestMongoExplicitPostgreSQLFails(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 60*time.Second)
	for name, bin := range map[string]string{"failing binaries": fakePostgres(t), "no binaries": t.TempDir()} {
		m, err := embedded.StartMongo(ctx, t.TempDir(), embedded.MongoPostgreSQL(bin))
		if err == nil {
			m.Close()
			t.Fatalf("%s: StartMongo succeeded", name)
		}
		if !strings.Contains(err.Error(), "PostgreSQL") {
			t.Errorf("%s: error does not name PostgreSQL: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

// TestMongoKeepsSQLiteData: a directory that holds SQLite data stays on
// SQLite when PostgreSQL is installed, rather than starting an empty
// cluster beside the data.
func TestMongoKeepsSQLiteData(t *testing.T) {
	t.Parallel()
	postgresBin(t)
	ctx := testCtx(t, 60*time.Second)
	dir := t.TempDir()
	m, err := embedded.StartMongo(ctx, dir, embedded.MongoSQLite())
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	coll := mongoClient(t, m.URI()).Database("taskready").Collection("tasks")
	if _, err := coll.InsertOne(ctx, task{ID: "old", Title: "from before"}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	m2 := startMongo(t, ctx, dir)
	if m2.Backend() != embedded.SQLite || !strings.Contains(m2.Fallback(), "SQLite data") {
		t.Fatalf("Backend() = %v, Fallback() = %q; want SQLite because of the data", m2.Backend(), m2.Fallback())
	}
	coll2 := mongoClient(t, m2.URI()).Database("taskready").Collection("tasks")
	if got := findTask(ctx, t, coll2, "old"); got.Title != "from before" {
		t.Fatalf("FindOne = %+v", got)
	}
}

// TestMongoPostgreSQLServesFiltersFromIndexes: on PostgreSQL, an equality
// filter on an indexed field is answered from an index, not by reading the
// table, as FerretDB's explain shows.
func TestMongoPostgreSQLServesFiltersFromIndexes(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 60*time.Second)
	m := startMongo(t, ctx, t.TempDir(), embedded.MongoPostgreSQL(postgresBin(t)))
	db := mongoClient(t, m.URI()).Database("taskready")
	coll := db.Collection("tasks")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "user", Value: 1}, {Key: "createdAt", Value: -1}},
	}); err != nil {
		t.Fatalf("CreateIndex: %v", err)
	}
	// Enough rows that reading them all would cost more than the index.
	docs := make([]any, 2000)
	for i := range docs {
		docs[i] = bson.D{{Key: "user", Value: bson.NewObjectID()}, {Key: "createdAt", Value: time.Now()}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatalf("InsertMany: %v", err)
	}

	user := docs[7].(bson.D)[0].Value
	for name, filter := range map[string]bson.D{
		"by user":         {{Key: "user", Value: user}},
		"by _id and user": {{Key: "_id", Value: bson.NewObjectID()}, {Key: "user", Value: user}},
	} {
		var out bson.M
		err := db.RunCommand(ctx, bson.D{
			{Key: "explain", Value: bson.D{{Key: "find", Value: "tasks"}, {Key: "filter", Value: filter}}},
		}).Decode(&out)
		if err != nil {
			t.Fatalf("%s: explain: %v", name, err)
		}
		plan := strings.ToLower(bsonText(out["queryPlanner"]))
		if out["filterPushdown"] != true || !strings.Contains(plan, "index") || strings.Contains(plan, "seq scan") {
			t.Errorf("%s: filterPushdown=%v, plan %s; want the filter pushed down and served by an index", name, out["filterPushdown"], plan)
		}
	}
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "user", Value: user}})
	if err != nil || n != 1 {
		t.Fatalf("CountDocuments = %d, %v; want 1", n, err)
	}
}

func bsonText(v any) string {
	b, err := bson.MarshalExtJSON(bson.M{"v": v}, false, false)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
