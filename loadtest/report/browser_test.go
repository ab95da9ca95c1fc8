package report_test

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/browser"
	"github.com/taskready/taskready/internal/reporttest"
	"github.com/taskready/taskready/loadtest/report"
)

// TestHTMLInChromium renders the report in a real browser: the screenshot
// must show the charts (their series' colours, in quantity), and the DOM
// after load must hold the seven chart SVGs. REPORT_SCREENSHOT=path keeps
// a copy of the screenshot for people to look at.
func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	bin := browser.Find(t)
	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, reporttest.Render(t, report.HTML, fullSummary()), 0o644); err != nil {
		t.Fatal(err)
	}
	img := browser.Screenshot(t, bin, browser.FileURL(page), 1280, 2800, os.Getenv("REPORT_SCREENSHOT"))
	checkScreenshot(t, img)

	dom := string(browser.Headless(t, bin, browser.FileURL(page), "--dump-dom"))
	if n := strings.Count(dom, `<svg class="chart"`); n != 7 {
		t.Errorf("the DOM after load holds %d chart SVGs; want 7", n)
	}
	for _, want := range []string{`id="chart-rate"`, `id="chart-iterations"`, `id="chart-vus"`, `id="chart-latency"`, `id="chart-statuses"`, `id="chart-errors"`, `id="chart-distribution"`,
		`<path data-key="chart-latency-1" d="M`, `class="band-label"`, `id="table-endpoints"`, `id="table-failures"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM after load lacks %s", want)
		}
	}
}

// TestHTMLTogglesInChromium clicks legend entries in a real browser: the
// page's script must run without an error, and a click must hide its
// series (and only it), a second click show it again. The test wraps
// the page with a script of its own that records errors and clicks, and
// reads the outcome from the DOM Chromium dumps after load.
func TestHTMLTogglesInChromium(t *testing.T) {
	t.Parallel()
	bin := browser.Find(t)
	html := string(reporttest.Render(t, report.HTML, fullSummary()))
	// Errors are caught from the first line of the page on.
	catch := `<script>window.pageErrors = []; window.addEventListener("error", function (e) { window.pageErrors.push(e.message); });</script>`
	html = strings.Replace(html, "<head>", "<head>"+catch, 1)
	drive := `<script>
function hidden(key) {
  var els = document.querySelectorAll('svg.chart [data-key="' + key + '"]');
  var n = 0;
  els.forEach(function (e) { if (getComputedStyle(e).display === "none") n++; });
  return n + "/" + els.length;
}
var p95 = document.querySelector('ul.legend button[data-key="chart-latency-1"]');
var thresholds = document.querySelector('ul.legend button[data-key="chart-latency-thresholds"]');
var out = [];
out.push("before p95 " + hidden("chart-latency-1"));
p95.click();
out.push("clicked p95 " + hidden("chart-latency-1") + " pressed " + p95.getAttribute("aria-pressed") + " p99 " + hidden("chart-latency-2"));
thresholds.click();
out.push("clicked thresholds " + hidden("chart-latency-thresholds"));
p95.click();
out.push("clicked again p95 " + hidden("chart-latency-1") + " pressed " + p95.getAttribute("aria-pressed"));
out.push("errors " + window.pageErrors.length + " " + window.pageErrors.join("; "));
var pre = document.createElement("pre");
pre.id = "toggle-result";
pre.textContent = out.join("\n");
document.body.appendChild(pre);
</script>`
	html = strings.Replace(html, "</body>", drive+"</body>", 1)
	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(browser.Headless(t, bin, browser.FileURL(page), "--dump-dom"))
	_, result, ok := strings.Cut(dom, `<pre id="toggle-result">`)
	if !ok {
		t.Fatalf("the test's script did not run: no result in the DOM")
	}
	result, _, _ = strings.Cut(result, "</pre>")
	for _, want := range []string{
		"before p95 0/1",
		"clicked p95 1/1 pressed false p99 0/1",
		"clicked thresholds 3/3",
		"clicked again p95 0/1 pressed true",
		"errors 0 ",
	} {
		if !strings.Contains(result, want) {
			t.Errorf("toggles: %q lacks %q", result, want)
		}
	}
}

// checkScreenshot asserts the page is not blank and that the charts were
// drawn: each series colour covers many pixels, and the rows where the
// charts are hold many distinct colours (lines, bands, text, antialiasing).
func checkScreenshot(t *testing.T, img image.Image) {
	t.Helper()
	want := []*browser.Swatch{
		{Name: "requests/s (blue)", RGB: [3]int{0x25, 0x63, 0xeb}},
		{Name: "p50 (cyan)", RGB: [3]int{0x08, 0x91, 0xb2}},
		{Name: "p95 (purple)", RGB: [3]int{0x7c, 0x3a, 0xed}},
		{Name: "p99 (orange)", RGB: [3]int{0xea, 0x58, 0x0c}},
	}
	s := browser.Look(img, 40, want)
	browser.AssertDrawn(t, s, 500)
	b := img.Bounds()
	top, bottom := b.Max.Y, 0
	for _, w := range want {
		t.Logf("%s: %d pixels in rows %d-%d", w.Name, w.Pixels, w.Top, w.Bottom)
		if w.Pixels < 300 {
			t.Errorf("%s: only %d pixels of the series colour; the chart was not drawn", w.Name, w.Pixels)
		}
		top, bottom = min(top, w.Top), max(bottom, w.Bottom)
	}
	if bottom <= top {
		return
	}
	// The chart region: the rows between the first and the last series
	// pixel.
	region := image.Rect(b.Min.X, top, b.Max.X, bottom+1)
	if n := browser.Colours(img, region); n < 300 {
		t.Errorf("the chart region (rows %d-%d) has %d distinct colours; want many", top, bottom, n)
	}
}
