package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/report"
)

// cells counts the cells of a GFM table row: the "|" not escaped.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

func TestMarkdownTables(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		var b bytes.Buffer
		if err := report.Markdown(&b, fx.make()); err != nil {
			t.Fatal(err)
		}
		// Every row of a table has as many cells as its header: a "|"
		// in a name would otherwise shift the columns.
		want := -1
		for _, line := range strings.Split(b.String(), "\n") {
			if !strings.HasPrefix(line, "|") {
				want = -1
				continue
			}
			if want < 0 {
				want = cells(line)
				continue
			}
			if got := cells(line); got != want {
				t.Errorf("%s: row %q has %d cells; its header %d", fx.name, line, got, want)
			}
		}
	}
}

func TestMarkdownContent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fixture string
		want    []string
	}{
		{"full", []string{
			"## browse-and-write: **THRESHOLDS CROSSED** (exit 99)\n",
			"### Thresholds: 6 of 8 passed\n",
			"| `http_req_duration{endpoint:create}` | `p(95)<50` | 72.13ms | **crossed** |\n",
			"| `http_req_duration{endpoint:export}` | `p(95)<500` | no data | pass (no data) |\n",
			"**Validity:** valid · generator CPU 23.40% · send lag p99 1.8ms\n",
			"| `writers` | `export \\| csv` | 0 |",
			"### Phases\n",
			"| `spike` | 4683 | 3.20 | 310.6 | 951.2 | 1210.0 | 156.10 |\n",
			"- threshold http\\_req\\_duration p(99)\\<800 crossed: 912.7 is not \\< 800\n",
			"### Comparison with baseline\n",
		}},
		{"empty", []string{"## empty: **PASSED** (exit 0)\n"}},
		{"invalid", []string{
			"## tiny \\<overloaded\\> \\& \"quoted\": **INVALID** (exit 101)\n",
			"**Validity: INVALID**, generator CPU was 99.1% (limit \\< 80%); ",
			"| `burst` | `list\\|all` | 40 |",
		}},
	} {
		var b bytes.Buffer
		if err := report.Markdown(&b, fixture(t, tc.fixture)); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: the Markdown lacks %q", tc.fixture, w)
			}
		}
	}
}
