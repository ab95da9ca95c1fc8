// Package envtest holds what the tests of env and of its providers share:
// the API binary they start, built from this repository once per test
// process.
package envtest

import (
	"testing"

	"github.com/taskready/taskready/internal/testbin"
)

// APIBinary compiles cmd/taskapi, the binary the harness runs, once per
// test process, and returns its path; it fails t when the build does.
func APIBinary(t testing.TB) string {
	t.Helper()
	return testbin.Path(t, "github.com/taskready/taskready/cmd/taskapi")
}
