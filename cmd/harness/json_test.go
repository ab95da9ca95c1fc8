package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/loadtest/scenario"
)

// harnessJSON runs the harness in this process with args and decodes its
// stdout, which must be one JSON document whatever the exit code, into v.
func harnessJSON(t *testing.T, v any, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("harness %v: stdout is no JSON document of %T: %v\nstdout:\n%s\nstderr:\n%s", args, v, err, out.String(), errOut.String())
	}
	if dec.More() {
		t.Errorf("harness %v: stdout holds more than one document:\n%s", args, out.String())
	}
	return code, out.String(), errOut.String()
}

func TestValidateJSON(t *testing.T) {
	var v scenario.Validation
	code, stdout, stderr := harnessJSON(t, &v, "validate", "-json", "testdata/broken.yaml", "testdata/compare.yaml", "testdata/no-such.yaml")
	golden.Assert(t, "validate.json", []byte(stdout))
	if code != exitUsage {
		t.Errorf("exit %d, want %d as without -json", code, exitUsage)
	}
	// Diagnostics stay on stderr, as without -json.
	if !strings.Contains(stderr, "testdata/broken.yaml:4: scenarios.s.executor: unknown executor") {
		t.Errorf("stderr lacks the problem:\n%s", stderr)
	}
	if v.Valid || len(v.Files) != 3 || !v.Files[1].Valid || len(v.Errors) != 2 || v.Errors[0].Line != 4 {
		t.Errorf("validation %+v; want invalid, compare.yaml valid, two errors", v)
	}

	code, stdout, _ = harnessJSON(t, &v, "validate", "-json", "../../scenarios/smoke.yaml")
	if code != exitPass || !v.Valid || !strings.Contains(stdout, `"errors": []`) {
		t.Errorf("a valid file: exit %d, %s; want 0, valid, an empty list of errors", code, stdout)
	}
}

// A command given -json that fails before it has a result still prints
// one document: the error and the exit code.
func TestJSONOnFailure(t *testing.T) {
	tests := []struct {
		args []string
		code int
		says string
	}{
		{[]string{"validate", "-json"}, exitUsage, "name at least one scenario file"},
		{[]string{"compare", "-json", "testdata/no-such-run", "testdata"}, exitUsage, "not a run directory"},
		{[]string{"compare", "-json", "-percentile", "200", "testdata/no-such-run", "testdata"}, exitUsage, "not a run directory"},
		{[]string{"capacity", "-json", "-scenario", "no-such-scenario"}, exitUsage, "no-such-scenario"},
		{[]string{"capacity", "-json", "-start", "0"}, exitUsage, "-start"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var doc errorDocument
			code, _, stderr := harnessJSON(t, &doc, tt.args...)
			if code != tt.code || doc.ExitCode != code || !strings.Contains(doc.Error, tt.says) {
				t.Errorf("exit %d, document %+v; want %d and an error saying %q", code, doc, tt.code, tt.says)
			}
			if !strings.Contains(stderr, tt.says) {
				t.Errorf("stderr %q does not say it too", stderr)
			}
		})
	}
}
