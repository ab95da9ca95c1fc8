package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/service/config"
	"github.com/taskready/taskready/service/server"
)

// startAPI runs a task API instance on db against the shared stores.
func startAPI(t *testing.T, db string) string {
	t.Helper()
	settings := map[string]string{
		"MONGODB_URI": mongoURI, "MONGODB_DB": db, "REDIS_URL": redisSrv.URL(),
		"BCRYPT_COST": "4", "RATE_LIMIT_AUTH": "1000/15m", "RATE_LIMIT_API": "10000/15m",
		"JWT_SECRET": "test-secret-that-is-long-enough-0123456789", "LOG_LEVEL": "error",
	}
	cfg, err := config.Load(func(k string) string { return settings[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.Open(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String()
}

// env is a check.Environment with several API instances.
type env struct{ apis []string }

func (e env) Apply(context.Context, string, string) error { return nil }
func (e env) Components() []string                        { return nil }
func (e env) APITargets() []string                        { return e.apis }

func TestCacheInvalidation(t *testing.T) {
	ctx := testCtx(t)
	c := byID(t, "redis.cache-invalidation")
	rc := goredis.NewClient(&goredis.Options{Addr: redisSrv.Addr()})
	t.Cleanup(func() { _ = rc.Close() })

	t.Run("the API serves fresh reads", func(t *testing.T) {
		db := newDB(t, false, false)
		target := &check.Target{BaseURL: startAPI(t, db), Client: &http.Client{Timeout: 10 * time.Second},
			Mongo: client, Database: db, Redis: rc, Prefix: "readiness-cache"}
		r := c.Run(ctx, target)
		t.Logf("%s: %s", r.Status, r.Message)
		for _, e := range r.Evidence {
			t.Logf("  %s -> %s [%s]", e.Request, e.Response, e.Observed)
		}
		if r.Status != check.Pass || !strings.Contains(fmt.Sprint(r.Evidence), "exists: true") {
			t.Fatalf("%s %q", r.Status, r.Message)
		}
		// The check removed its user, its tasks and the cached profile.
		for _, coll := range []string{"users", "tasks"} {
			if n, _ := client.Database(db).Collection(coll).CountDocuments(ctx, bson.D{}); n != 0 {
				t.Errorf("%d %s left behind", n, coll)
			}
		}
		if keys, _ := rc.Keys(ctx, profileKeyPrefix+"*").Result(); len(keys) != 0 {
			t.Errorf("cached profiles left: %v", keys)
		}
	})

	t.Run("writes on one instance, reads on another", func(t *testing.T) {
		db := newDB(t, false, false)
		a, b := startAPI(t, db), startAPI(t, db)
		r := c.Run(ctx, &check.Target{BaseURL: a, Env: env{[]string{a, b}}, Mongo: client, Database: db, Prefix: "readiness-cache2"})
		if r.Status != check.Pass || !strings.Contains(r.Message, "2 instances") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})

	t.Run("a cache that is never invalidated fails", func(t *testing.T) {
		r := c.Run(ctx, &check.Target{BaseURL: staleAPI(t)})
		t.Logf("%s: %s", r.Status, r.Message)
		if r.Status != check.Fail || !strings.Contains(r.Message, "stale read: a deleted task is gone") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
		if !strings.Contains(fmt.Sprint(r.Evidence), "remains: the API cannot delete users") {
			t.Errorf("evidence does not say the fixture user remains: %+v", r.Evidence)
		}
	})
}

// staleAPI is a minimal task API whose GET answers are cached per URL and
// never invalidated.
func staleAPI(t *testing.T) string {
	t.Helper()
	var mu sync.Mutex
	tasks := map[string]map[string]any{}
	cache := map[string][]byte{}
	seq, email := 0, ""
	write := func(w http.ResponseWriter, status int, v any) []byte {
		b, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.URL.Path == "/api/auth/register":
			email = body["email"]
			write(w, 201, map[string]any{"token": "tok", "user": map[string]any{"id": "u1", "email": email}})
			return
		case r.URL.Path == "/api/auth/profile":
			write(w, 200, map[string]any{"user": map[string]any{"id": "u1", "email": email}})
			return
		case r.Method == http.MethodGet:
			if b, ok := cache[r.URL.String()]; ok {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(b)
				return
			}
		}
		id := strings.TrimPrefix(r.URL.Path, "/api/tasks/")
		switch {
		case r.Method == http.MethodPost:
			seq++
			task := map[string]any{"_id": fmt.Sprintf("t%d", seq), "title": body["title"], "status": "pending"}
			tasks[task["_id"].(string)] = task
			write(w, 201, map[string]any{"task": task})
		case r.Method == http.MethodGet && r.URL.Path == "/api/tasks":
			var list []map[string]any
			for _, task := range tasks {
				if s := r.URL.Query().Get("status"); s == "" || task["status"] == s {
					list = append(list, task)
				}
			}
			cache[r.URL.String()] = write(w, 200, map[string]any{"tasks": list})
		case r.Method == http.MethodGet:
			if task, ok := tasks[id]; ok {
				cache[r.URL.String()] = write(w, 200, map[string]any{"task": task})
			} else {
				write(w, 404, map[string]any{"message": "Task not found"})
			}
		case r.Method == http.MethodPut:
			task := tasks[id]
			task["title"], task["status"] = body["title"], body["status"]
			write(w, 200, map[string]any{"task": task})
		case r.Method == http.MethodDelete:
			delete(tasks, id)
			write(w, 200, map[string]any{"message": "Task deleted successfully"})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
