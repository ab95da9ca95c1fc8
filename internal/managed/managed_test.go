package managed_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/internal/managed"
)

// An environment around a deployment the harness did not start: the
// target carries its address and the stores' as given, and the
// environment has nothing to act on. (The check packages' real-API tests
// cover instances and components.)
func TestTargetOfAnExternalEnvironment(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := env.Up(ctx, env.NewExternal(env.ExternalOptions{MongoURI: "mongodb://db.example:27017", RedisURL: "redis://cache.example:6379"}), env.Options{Target: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })

	tg := managed.Target(e)
	if tg.BaseURL != srv.URL || tg.MongoURI != "mongodb://db.example:27017" || tg.RedisURL != "redis://cache.example:6379" || tg.MetricsURL != "" {
		t.Errorf("target %+v; want the deployment's URL and store addresses, no metrics URL without instances", tg)
	}
	if tg.Env == nil || len(tg.Env.Components()) != 0 || len(tg.Env.APITargets()) != 0 {
		t.Fatalf("environment %v; want one with no components and no instances", tg.Env)
	}
	if err := tg.Env.Apply(ctx, "mongo-0", "stop"); err == nil {
		t.Error("Apply on a component the environment lacks = nil; want an error")
	}
}
