package server_test

import (
	"context"
	"fmt"
	"net"
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

// A Shutdown that comes before Serve and ServeMetrics have started (a
// SIGTERM during startup) still stops them: each returns at once instead
// of serving a process that was told to stop.
func TestShutdownBeforeServeStopsServe(t *testing.T) {
	srv := newEnv(t).open(t, discard)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for name, serve := range map[string]func(net.Listener) error{"Serve": srv.Serve, "ServeMetrics": srv.ServeMetrics} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- serve(ln) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s after Shutdown: %v", name, err)
			}
		case <-ctx.Done():
			ln.Close()
			t.Fatalf("%s still serving 10s after Shutdown", name)
		}
		if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%s left its listener open", name)
		}
	}
}
