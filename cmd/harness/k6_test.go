package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stubK6 is a stand-in for k6, which no machine here can install (AGPL,
// no package): it checks the command line `harness run -engine k6` builds
// (run, --summary-export, --out json=, -e BASE_URL=, --quiet when the run
// is quiet, a script that node
// accepts when node is there) and answers as k6 did for a fixture: its
// real output files and its exit code.
const stubK6 = `#!/bin/sh
set -eu
[ "$1" = run ] || { echo "stub k6: want run, got $1" >&2; exit 64; }
shift
while [ $# -gt 1 ]; do
  case "$1" in
    --summary-export) sum=$2; shift 2 ;;
    --out) out=${2#json=}; shift 2 ;;
    --quiet) echo "stub k6: quiet"; shift ;;
    -e) case "$2" in BASE_URL=http://127.0.0.1:*) ;; *) echo "stub k6: -e $2" >&2; exit 64 ;; esac; shift 2 ;;
    *) echo "stub k6: unexpected $1" >&2; exit 64 ;;
  esac
done
script=$1
grep -q "export const options" "$script" || { echo "stub k6: $script is not a k6 script" >&2; exit 65; }
if command -v node >/dev/null; then node --check "$script"; fi
cp "$FIXTURE/summary-export.json" "$sum"
gunzip -c "$FIXTURE/samples.ndjson.gz" > "$out"
echo "stub k6: answered with $FIXTURE"
exit $EXIT
`

// TestRunEngineK6 drives harness run -engine k6 through an external k6 that
// answers with real k6 output: the import, the reports and the exit code
// follow k6's verdict.
func TestRunEngineK6(t *testing.T) {
	t.Parallel()
	harness, taskapi := buildBinaries(t)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "k6"), []byte(stubK6), 0o755); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")
	fixtures, err := filepath.Abs("../../loadtest/k6/testdata/k6")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, fixture, exit, says string
		quiet                     bool
		want                      int
	}{
		{"passing", "passing", "0", "PASSED", false, 0},
		{"threshold-crossed", "threshold-crossed", "99", "http_req_duration{endpoint:create}", false, 99},
		{"quiet", "passing", "0", "stub k6: quiet", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := []string{path, "FIXTURE=" + filepath.Join(fixtures, tc.fixture), "EXIT=" + tc.exit}
			out := t.TempDir()
			args := []string{"run", "-engine", "k6", "-provider", "embedded", "-api-bin", taskapi,
				"-api-env", "BCRYPT_COST=4", "-scenario", "smoke", "-out", out}
			if tc.quiet {
				args = append(args, "-quiet")
			}
			code, text := harnessRunEnv(t, env, harness, args...)
			if code != tc.want {
				t.Fatalf("exited %d, want %d:\n%s", code, tc.want, text)
			}
			if !tc.quiet && strings.Contains(text, "--quiet") {
				t.Errorf("k6 was given --quiet by a run without -quiet:\n%s", text)
			}
			for _, want := range []string{"k6 run --summary-export", "stub k6: answered", tc.says} {
				if !strings.Contains(text, want) {
					t.Errorf("output lacks %q:\n%s", want, text)
				}
			}
			s := readSummary(t, out)
			if s.Run.Engine != "k6" || s.Metrics["http_reqs"] == nil {
				t.Errorf("summary engine %q, http_reqs %v; want k6's imported run", s.Run.Engine, s.Metrics["http_reqs"])
			}
			for _, f := range []string{"report.html", "report.md", "junit.xml", "script.js"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
