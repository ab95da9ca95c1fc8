package embedded_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/internal/testserver"
)

// A paused MongoDB answers nothing, not even a ping, while its connections
// stay open; a write sent during the pause is held, not lost, and lands
// once it is unpaused.
func TestMongoPause(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 60*time.Second)
	m := startMongo(t, ctx, filepath.Join(t.TempDir(), "data"))
	client := mongoClient(t, m.URI())
	coll := client.Database("taskready").Collection("tasks")
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("Ping before the pause: %v", err)
	}
	if err := m.Pause(ctx); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := client.Ping(short, nil)
	cancel()
	if err == nil {
		t.Fatal("a paused server answered a ping")
	}
	held := make(chan error, 1)
	go func() {
		_, err := coll.InsertOne(ctx, bson.M{"_id": "held", "title": "sent during the pause"})
		held <- err
	}()
	select {
	case err := <-held:
		t.Fatalf("a write completed while paused: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := m.Unpause(ctx); err != nil {
		t.Fatalf("Unpause: %v", err)
	}
	if err := <-held; err != nil {
		t.Fatalf("the write held by the pause: %v", err)
	}
	if n, err := coll.CountDocuments(ctx, bson.M{"_id": "held"}); err != nil || n != 1 {
		t.Errorf("the held write: %d documents, %v; want it stored", n, err)
	}
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Pause(ctx); err == nil {
		t.Error("a stopped server was paused")
	}
}

// redis-server is frozen by Pause (SIGSTOP) and runs again after Unpause;
// the in-process fallback says it cannot be frozen.
func TestRedisPause(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, 60*time.Second)
	r, err := embedded.StartRedis(ctx, embedded.RedisBinary(testserver.RedisServerPath(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if r.Kind() != embedded.RedisServer {
		t.Skipf("redis-server is not installed: %s", r.Kind())
	}
	opts, err := goredis.ParseURL(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1
	c := goredis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	if err := r.Pause(ctx); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = c.Ping(short).Err()
	cancel()
	if err == nil {
		t.Fatal("a paused redis-server answered a ping")
	}
	if err := r.Unpause(ctx); err != nil {
		t.Fatalf("Unpause: %v", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("Ping after Unpause: %v", err)
	}

	mini, err := embedded.StartRedis(ctx, embedded.RedisInProcess())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mini.Close() })
	if err := mini.Pause(ctx); !errors.Is(err, embedded.ErrNoFreeze) {
		t.Errorf("Pause of miniredis = %v; want ErrNoFreeze", err)
	}
}
