// Package testbin builds this module's commands for the tests that run
// them as processes: each command once per test process, however many
// tests ask for it, because linking one takes seconds of CPU that a test
// suite would otherwise pay again in every test.
package testbin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds one build: generous, since a machine busy
// compiling other work links slowly.
const buildTimeout = 10 * time.Minute

// build is one command's build, made at most once.
type build struct {
	once sync.Once
	path string
	err  error
}

var (
	mu     sync.Mutex
	dir    string // where the binaries go; removed by Main
	builds = map[string]*build{}
)

// Path returns the path of the command pkg, given by import path (for
// example "github.com/taskready/taskready/cmd/taskapi") so that the build
// does not depend on the directory the test runs in. The first call
// builds it; later ones, from any goroutine, wait for that build and share
// its binary. It fails t when the build does.
func Path(t testing.TB, pkg string) string {
	t.Helper()
	mu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &build{}
		builds[pkg] = b
	}
	mu.Unlock()
	b.once.Do(func() { b.path, b.err = compile(pkg) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// compile builds pkg into a directory of its own under dir.
func compile(pkg string) (string, error) {
	mu.Lock()
	if dir == "" {
		d, err := os.MkdirTemp("", "testbin-")
		if err != nil {
			mu.Unlock()
			return "", fmt.Errorf("go build %s: %w", pkg, err)
		}
		dir = d
	}
	// Each in a directory of its own: two commands may share a base name.
	own, err := os.MkdirTemp(dir, "")
	mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	bin := filepath.Join(own, path.Base(pkg))
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// Main runs a package's tests, then removes the binaries Path built: a
// test package that uses Path calls it from its TestMain.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if dir != "" {
		os.RemoveAll(dir)
	}
	mu.Unlock()
	os.Exit(code)
}
