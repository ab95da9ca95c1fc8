package cors_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/cors"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/loadtest/env"
)

var (
	buildOnce sync.Once
	apiBin    string
	buildErr  error
)

// buildAPI compiles cmd/taskapi, the binary the harness runs, once.
func buildAPI(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "readiness-cors-test-")
		if err != nil {
			buildErr = err
			return
		}
		apiBin = filepath.Join(dir, "taskapi")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", apiBin, "../../cmd/taskapi").CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build taskapi: %v", buildErr)
	}
	return apiBin
}

// upRealAPI starts two instances of the real API behind the balancer, on
// embedded stores, with the default limits, and a target with a MongoDB
// connection so that the fixture users can be removed afterwards.
func upRealAPI(t *testing.T) *check.Target {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the real API")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := env.Up(ctx, env.NewEmbedded(env.EmbeddedOptions{}), env.Options{
		APIBinary: buildAPI(t), Instances: 2, APIEnv: []string{"BCRYPT_COST=4"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	mc, err := mongo.Connect(options.Client().ApplyURI(e.Stores.MongoURI))
	if err != nil {
		t.Fatal(err)
	}
	target := &check.Target{BaseURL: e.Target, Mongo: mc, Database: "taskmanager", Prefix: "readiness-cors-test"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, _, err := fixture.Cleanup(ctx, target); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		_ = mc.Disconnect(ctx)
	})
	return target
}

func TestEveryCheckPassesAgainstTheRealAPI(t *testing.T) {
	target := upRealAPI(t)
	for _, c := range cors.Checks() {
		r := run(t, c, target)
		t.Logf("%s %s: %s", c.Meta().ID, r.Status, r.Message)
		if r.Status != check.Pass {
			t.Errorf("%s = %s: %s; want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
}
