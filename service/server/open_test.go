package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/testserver"
	"github.com/taskready/taskready/service/config"
	"github.com/taskready/taskready/service/server"
)

// A store that cannot be reached is an error that says what to check,
// never a panic: Open's cleanup once closed its nil result.
func TestOpenWithAnUnreachableStoreReturnsAnError(t *testing.T) {
	closed := testserver.FreePort(t) // nothing listens there
	settings := map[string]string{
		"MONGODB_URI": fmt.Sprintf("mongodb://127.0.0.1:%d/?serverSelectionTimeoutMS=200&connectTimeoutMS=200", closed),
		"REDIS_URL":   fmt.Sprintf("redis://127.0.0.1:%d", closed),
		"JWT_SECRET":  "test-secret-that-is-long-enough-0123456789",
		"LOG_LEVEL":   "error",
	}
	cfg, err := config.Load(func(k string) string { return settings[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := server.Open(ctx, cfg, discard)
	if err == nil {
		srv.Close()
		t.Fatal("Open succeeded with no MongoDB listening")
	}
	if srv != nil {
		t.Errorf("Open returned a server with its error: %v", err)
	}
	if !strings.Contains(err.Error(), "MONGODB_URI") {
		t.Errorf("error %q does not say which setting to check", err)
	}
}
