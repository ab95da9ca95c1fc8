// Package gotool builds a command pinned to a version (kube-score,
// actionlint) from the Go module proxy, for the tests that run it. It is
// installed as an external program, outside this module, rather than
// imported or listed as a tool in go.mod: its dependencies stay out of
// this module's go.mod and go.sum, and the version in the test is the one
// that runs, verified against the checksum database like any module.
package gotool

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// installTimeout bounds one install: the first downloads and compiles
// the command and its dependencies, a minute or more on a busy machine.
const installTimeout = 10 * time.Minute

// Binary returns the command that module ("path/to/cmd@version") builds:
// $env when that variable is set (a binary the machine already has),
// else the one `go install` puts in the user's cache directory, where it
// stays between test runs (later installs only check it is up to date).
// It skips t in -short mode, as the first install takes a minute or more,
// and fails t when the install fails.
func Binary(t testing.TB, module, env string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if testing.Short() {
		t.Skip("skipped in -short mode: building " + module + " takes a minute the first time")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	pkg, version, _ := strings.Cut(module, "@")
	name := path.Base(pkg)
	bin := filepath.Join(cache, "taskready", name+"-"+version)
	ctx, cancel := context.WithTimeout(t.Context(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", module)
	// Outside any module and workspace, so that this repository's go.mod
	// does not change what is built.
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s (it needs the module proxy, or %s=/path/to/%s): %v\n%s", module, env, name, err, out)
	}
	return filepath.Join(bin, name)
}
