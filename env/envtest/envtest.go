// Package envtest holds what the tests of env and of its providers share:
// the API binary they start, built from this repository once per test
// process.
package envtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	apiBin    string
	buildErr  error
)

// APIBinary compiles cmd/taskapi, the binary the harness runs, once per
// test process, and returns its path; it fails t when the build does.
func APIBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "harness-env-test-")
		if err != nil {
			buildErr = err
			return
		}
		apiBin = filepath.Join(dir, "taskapi")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		// By import path, so that the build does not depend on which
		// package directory the test runs in.
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", apiBin, "github.com/taskready/taskready/cmd/taskapi").CombinedOutput(); err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build taskapi: %v", buildErr)
	}
	return apiBin
}
