package limits_test

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
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/limits"
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
		dir, err := os.MkdirTemp("", "readiness-limits-test-")
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
// connection (to seed long lists and remove the fixture users afterwards)
// and the environment (to reach each instance).
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
	target := &check.Target{BaseURL: e.Target, Mongo: mc, Database: "taskmanager", Prefix: "readiness-limits-test", Env: environment{e}}
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

// environment adapts env.Env to check.Environment: the harness's
// environment names its parts as Components and its instances as APIs.
type environment struct{ e *env.Env }

func (a environment) Apply(ctx context.Context, component, action string) error {
	return a.e.Apply(ctx, component, action)
}

func (a environment) Components() []string {
	var names []string
	for _, c := range a.e.Components() {
		names = append(names, c.Name())
	}
	return names
}

func (a environment) APITargets() []string {
	var urls []string
	for _, api := range a.e.APIs {
		urls = append(urls, api.URL())
	}
	return urls
}

func TestEveryCheckPassesAgainstTheRealAPI(t *testing.T) {
	target := upRealAPI(t)
	for _, c := range limits.Checks() {
		r := run(t, c, target)
		t.Logf("%s %s: %s", c.Meta().ID, r.Status, r.Message)
		if r.Status != check.Pass {
			t.Errorf("%s = %s: %s; want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
	// The seeded tasks are gone; only the shared fixture user remains.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	users, tasks, err := fixture.Cleanup(ctx, target)
	if err != nil || users != 1 || tasks != 0 {
		t.Errorf("cleanup removed %d users and %d tasks (%v); want 1 user and no task left behind", users, tasks, err)
	}
}
