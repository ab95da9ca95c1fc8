// Package golden compares test output with files under testdata/, and
// rewrites them when the test binary runs with -update: the reports, the
// contract smoke's text and the k6 export are all checked this way.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is registered once here, so that every package using golden
// files shares the same -update flag.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Updating reports whether the run rewrites golden files (-update).
func Updating() bool { return *update }

// Assert compares got with testdata/<file>, or writes it there under
// -update.
func Assert(t testing.TB, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", path, got)
	}
}
