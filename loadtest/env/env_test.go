package env_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/env"
)

// buildAPI compiles cmd/taskapi, the binary the harness runs.
func buildAPI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "taskapi")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/taskapi").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestEmbeddedRunsInstancesOnSharedStores(t *testing.T) {
	bin := buildAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var took []string
	e, err := env.Embedded(ctx, env.Options{
		APIBinary: bin, Instances: 2, APIEnv: []string{"BCRYPT_COST=4"},
		Progress: func(c string, _ time.Duration) { took = append(took, c) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if len(e.APIs) != 2 || len(took) != 4 {
		t.Fatalf("APIs = %d, progress = %v; want 2 APIs and 4 components", len(e.APIs), took)
	}

	// A user registered through one instance logs in through the other.
	body := `{"name":"E","email":"e@example.com","password":"secret123"}`
	post := func(base, path string) int {
		res, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post(e.APIs[0].URL(), "/api/auth/register"); got != 201 {
		t.Fatalf("register on api-1 = %d", got)
	}
	if got := post(e.APIs[1].URL(), "/api/auth/login"); got != 200 {
		t.Fatalf("login on api-2 = %d; want 200 (shared stores)", got)
	}

	if err := e.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	for _, a := range e.APIs {
		if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(a.URL(), "http://"), time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after Close", a.Name())
		}
	}
}

func TestEmbeddedReportsAnAPIThatCannotStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script := filepath.Join(t.TempDir(), "broken-api")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'taskapi: JWT_SECRET is too short' >&2\nexit 2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := env.Embedded(ctx, env.Options{APIBinary: script})
	if err == nil || !strings.Contains(err.Error(), "api-1 exited before it was ready") || !strings.Contains(err.Error(), "JWT_SECRET is too short") {
		t.Fatalf("err = %v; want it to name api-1 and quote its output", err)
	}
}
