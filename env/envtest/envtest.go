// Package envtest holds what tests that need the real API share: the API
// binary, built from this repository once per test process, an embedded
// environment running it, and that environment's database.
package envtest

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/internal/testbin"
	"github.com/taskready/taskready/service/config"
)

// APIBinary compiles cmd/taskapi, the binary the harness runs, once per
// test process, and returns its path; it fails t when the build does.
func APIBinary(t testing.TB) string {
	t.Helper()
	return testbin.Path(t, "github.com/taskready/taskready/cmd/taskapi")
}

// Embedded starts instances of the real API (behind the balancer) on
// embedded stores, with bcrypt at its cheapest and apiEnv, and closes it
// all when the test ends. It skips the test in -short mode.
func Embedded(t *testing.T, instances int, apiEnv ...string) *env.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the real API with embedded stores; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e, err := env.Up(ctx, env.NewEmbedded(env.EmbeddedOptions{}), env.Options{
		APIBinary: APIBinary(t), Instances: instances,
		APIEnv: append([]string{"BCRYPT_COST=4"}, apiEnv...),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// Mongo connects to e's MongoDB and disconnects when the test ends, after
// the cleanups registered later, which may still need the connection.
func Mongo(t *testing.T, e *env.Env) *mongo.Client {
	t.Helper()
	mc, err := mongo.Connect(options.Client().ApplyURI(e.Stores.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = mc.Disconnect(ctx)
	})
	return mc
}

// Database is the API's database in e's MongoDB (see Mongo).
func Database(t *testing.T, e *env.Env) *mongo.Database {
	t.Helper()
	return Mongo(t, e).Database(config.DefaultDatabase)
}
