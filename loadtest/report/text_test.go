package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/report"
)

func TestTextOutcomeLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
	}{
		{"full", "THRESHOLDS CROSSED (exit 99): threshold http_req_duration p(99)<800 crossed: 912.7 is not < 800; "},
		{"empty", "PASSED (exit 0)"},
		{"invalid", "INVALID (exit 101): invalid run: generator CPU was 99.1% (limit < 80%); "},
	} {
		var b bytes.Buffer
		if err := report.Text(&b, fixture(t, tc.name)); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, tc.want) {
			t.Errorf("%s: last line = %q; want it to start with %q", tc.name, last, tc.want)
		}
	}
}

// TestTextK6Layout checks the parts of the layout that people who read k6
// summaries rely on.
func TestTextK6Layout(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := report.Text(&b, fullSummary()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"  █ THRESHOLDS\n\n    http_req_duration\n    ✓ 'p(95)<300' p(95)=212.4ms\n    ✗ 'p(99)<800' p(99)=912.7ms\n",
		"    http_req_failed\n    ✓ 'rate<0.02' rate=1.02%\n",
		"    ✓ 'p(95)<500' no data\n",
		"  █ TOTAL RESULTS\n",
		"    checks_succeeded...: 99.59% 16830 out of 16900\n",
		"      ✗ create 201\n        ↳  97% — ✓ 2330 / ✗ 70\n",
		"      { endpoint:create }....................: avg=38.2ms  min=4.2ms  med=30.1ms max=690.4ms p(90)=61.9ms  p(95)=72.13ms p(99)=210.5ms\n",
		"    http_req_failed..........................: 1.02% 172 out of 16833\n",
		"    http_reqs................................: 16833 93.516667/s\n",
		"    data_received............................: 8.8 MB 49 kB/s\n",
		"    iteration_duration.......................: avg=412.6ms min=55.2ms med=301.4ms max=4.21s p(90)=702.3ms p(95)=990.1ms p(99)=2.41s\n",
		"      { journey:browse, scenario:writers }...: avg=420.3ms",
		"      { journey:write }......................: avg=201.9ms",
		"  { scenario:browse }....................: 10512 target=60/s  achieved=58.4/s (97.3%) dropped=288 vus_max=40\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text summary lacks\n%q", want)
		}
	}
	// Every dot-leader row of a block puts its colon in the same column.
	col := -1
	for _, line := range strings.Split(out[strings.Index(out, "    HTTP\n"):strings.Index(out, "  █ COMPARISON")], "\n") {
		if i := strings.Index(line, "..: "); i >= 0 {
			n := len([]rune(line[:i]))
			if col >= 0 && n != col {
				t.Errorf("colon of %q in column %d; want %d", line, n, col)
			}
			col = n
		}
	}
}
