package report_test

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/reporttest"
	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/summary"
)

// network matches anything a browser would fetch from elsewhere: an
// absolute or protocol-relative URL in src, href and their kin, in CSS
// url() or @import, or a stylesheet link.
var network = regexp.MustCompile(`(?i)(\b(src|href|srcset|action|poster|data|xlink:href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import|<link\b|<script\b[^>]*\bsrc\b|<iframe\b|<object\b|<embed\b)`)

var svgBlock = regexp.MustCompile(`(?s)<svg class="chart".*?</svg>`)

func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		html := string(reporttest.Render(t, report.HTML, fx.make()))
		if m := network.FindString(html); m != "" {
			t.Errorf("%s: the report references the network: %q", fx.name, m)
		}
		for _, bad := range []string{"NaN", "Inf"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s: the report contains %q", fx.name, bad)
			}
		}
		// Rate, latency and errors always; iterations, status codes and
		// the latency distribution when the run has their data.
		charts := svgBlock.FindAllString(html, -1)
		if want := map[string]int{"full": 7}[fx.name]; len(charts) != max(want, 3) {
			t.Fatalf("%s: %d chart SVGs; want %d", fx.name, len(charts), max(want, 3))
		}
		for _, id := range []string{`id="chart-rate"`, `id="chart-latency"`, `id="chart-errors"`} {
			if !strings.Contains(html, id) {
				t.Errorf("%s: no %s", fx.name, id)
			}
		}
		for i, svg := range charts {
			reporttest.SVG(t, fx.name+" chart "+strconv.Itoa(i), svg)
		}
	}
}

// TestHTMLDegenerate feeds numbers no real run has, NaN and infinities
// from a broken import, a series out of order, and an hour of points;
// the report must still be drawable.
func TestHTMLDegenerate(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	s := fullSummary()
	s.Run.Duration = nan
	s.Run.Series = []summary.Point{
		{T: 3, Requests: 5, RPS: inf, P50: nan, P95: inf, P99: -inf, P95Uncorrected: nan},
		{T: 1, Requests: 5, RPS: 5, P50: 1, P95: 2, P99: 3},
		{T: nan, Requests: 5},
		{T: 2, Requests: 0, RPS: nan},
	}
	s.Run.Timeline = append(s.Run.Timeline, summary.Span{Phase: "broken", From: nan, To: inf}, summary.Span{Phase: "backwards", From: 9, To: 3})
	s.Run.Thresholds = append(s.Run.Thresholds, summary.Threshold{Metric: "http_req_duration", Expression: "p(95)<nan"}, summary.Threshold{Metric: "http_req_duration", Expression: "p(99) < 1e400"})
	s.Run.Validity.GeneratorCPU = nan
	html := string(reporttest.Render(t, report.HTML, s))
	for _, bad := range []string{"NaN", "Inf"} {
		if strings.Contains(html, bad) {
			t.Errorf("the report contains %q", bad)
		}
	}
	for i, svg := range svgBlock.FindAllString(html, -1) {
		reporttest.SVG(t, "chart "+strconv.Itoa(i), svg)
	}

	long := fullSummary()
	long.Run.Series = nil
	for i := range 3600 {
		p := summary.Point{T: float64(i), Requests: 100, RPS: 100, P50: 10, P95: 20, P99: 30}
		if i == 1234 {
			p.P99 = 9999 // one spike, which the merge must keep
		}
		long.Run.Series = append(long.Run.Series, p)
	}
	long.Run.Duration = 3600
	html = string(reporttest.Render(t, report.HTML, long))
	if n := strings.Count(html, `<rect class="hover"`); n > 3*600 {
		t.Errorf("%d hover targets for 3600 points; want them merged to at most 600 a chart", n)
	}
	if !strings.Contains(html, "p99: 9999 ms") {
		t.Errorf("the p99 spike of 9999 ms did not survive merging the points")
	}
}

func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	html := string(reporttest.Render(t, report.HTML, invalidSummary()))
	if strings.Contains(html, "<overloaded>") || strings.Contains(html, "x=<y>") {
		t.Errorf("a name or target from the summary reached the page unescaped")
	}
	if !strings.Contains(html, "<h1>tiny &lt;overloaded&gt; &amp; &#34;quoted&#34;</h1>") {
		t.Errorf("the title is not escaped as text")
	}
}

func TestHTMLContent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fixture string
		want    []string
	}{
		{"full", []string{
			`<span class="badge failed" id="outcome">THRESHOLDS CROSSED</span>`,
			`<span class="pill bad">2 of 8 crossed</span>`,
			`p(95) &lt; 300ms ✓`, // threshold line on the latency chart
			`p(99) &lt; 800ms ✗ crossed`,
			`p(99) &lt; 1.5s in spike ✓`,
			`rate &lt; 2.00% ✓`,
			`class="band-label"`,
			`id="table-faults"`, `<g class="faults" data-key="chart-rate-faults">`, `class="fault-label"`, `url(#fault-hatch)`,
			`stroke-dasharray="5 4"`, // p95 uncorrected
			`id="table-endpoints"`, `id="table-phases"`, `id="table-journeys"`, `id="table-scenarios"`, `id="table-checks"`, `id="table-comparison"`,
			`id="table-failures"`, `id="chart-iterations"`, `id="chart-vus"`, `id="chart-statuses"`, `id="chart-distribution"`,
			`baseline p95 168.3ms`, // the baseline's p95 beside the run's
			`<button type="button" data-key="chart-latency-1" aria-pressed="true"`, // a toggle
		}},
		{"empty", []string{`<span class="badge passed" id="outcome">PASSED</span>`, `no data: the run recorded no time series`}},
		// A journey row: iteration_duration in ms, from the scheduled start.
		{"full", []string{`<td class="l"><code>write</code></td><td class="l">writers</td><td>2,000</td><td>11.11</td><td>160.4</td><td>402.8</td><td>903.6</td><td>1450.1</td><td>402.8</td>`}},
		{"invalid", []string{`<span class="badge invalid" id="outcome">INVALID</span>`, `<circle`}},
	} {
		html := string(reporttest.Render(t, report.HTML, fixture(t, tc.fixture)))
		for _, w := range tc.want {
			if !strings.Contains(html, w) {
				t.Errorf("%s: the HTML lacks %q", tc.fixture, w)
			}
		}
	}
}
