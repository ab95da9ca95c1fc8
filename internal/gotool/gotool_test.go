package gotool_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/taskready/taskready/internal/gotool"
)

// A binary the machine already has, named by the variable, is used as it
// is: nothing is built (the module here does not exist).
func TestBinaryFromEnvironment(t *testing.T) {
	want := filepath.Join(t.TempDir(), "actionlint")
	t.Setenv("GOTOOL_TEST_BINARY", want)
	if got := gotool.Binary(t, "example.invalid/no/such/cmd@v0.0.0", "GOTOOL_TEST_BINARY"); got != want {
		t.Errorf("Binary = %q; want %q from the environment", got, want)
	}
}

// Otherwise the pinned version is installed into the user's cache, under
// the command's name and version.
func TestBinaryInstalls(t *testing.T) {
	t.Setenv("GOTOOL_TEST_BINARY", "")
	bin := gotool.Binary(t, "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12", "GOTOOL_TEST_BINARY")
	if filepath.Base(bin) != "actionlint" || filepath.Base(filepath.Dir(bin)) != "actionlint-v1.7.12" {
		t.Errorf("Binary = %q; want .../actionlint-v1.7.12/actionlint", bin)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Error(err)
	}
}
