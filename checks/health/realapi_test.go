package health_test

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
	"github.com/taskready/taskready/checks/health"
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
		dir, err := os.MkdirTemp("", "readiness-health-test-")
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
	target := &check.Target{BaseURL: e.Target, Mongo: mc, Database: "taskmanager", Prefix: "readiness-health-test", Env: environment{e}}
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

// TestEveryCheckPassesAgainstTheRealAPI runs the checks as a runner would:
// the others first, then the disruptive ones alone, one after the other.
func TestEveryCheckPassesAgainstTheRealAPI(t *testing.T) {
	target := upRealAPI(t)
	var later []check.Check
	for _, c := range health.Checks() {
		if isDisruptive(c) {
			later = append(later, c)
			continue
		}
		r := run(t, c, target)
		t.Logf("%s %s: %s", c.Meta().ID, r.Status, r.Message)
		if r.Status != check.Pass {
			t.Errorf("%s = %s: %s; want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
	for _, c := range later {
		r := run(t, c, target)
		t.Logf("%s %s: %s", c.Meta().ID, r.Status, r.Message)
		if r.Status != check.Pass {
			t.Errorf("%s = %s: %s; want pass\n%+v", c.Meta().ID, r.Status, r.Message, r.Evidence)
		}
	}
	// The environment is whole again: every instance ready, both stores in.
	for _, api := range target.Env.APITargets() {
		r := run(t, byID(t, "health.readiness-report"), &check.Target{BaseURL: api})
		if r.Status != check.Pass {
			t.Errorf("%s after the faults: %s (%s)", api, r.Status, r.Message)
		}
	}
}
