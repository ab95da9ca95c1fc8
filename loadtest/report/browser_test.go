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
// after load must hold the three chart SVGs. REPORT_SCREENSHOT=path keeps
// a copy of the screenshot for people to look at.
func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	bin := browser.Find(t)
	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, reporttest.Render(t, report.HTML, fullSummary()), 0o644); err != nil {
		t.Fatal(err)
	}
	img := browser.Screenshot(t, bin, browser.FileURL(page), 1280, 2000, os.Getenv("REPORT_SCREENSHOT"))
	checkScreenshot(t, img)

	dom := string(browser.Headless(t, bin, browser.FileURL(page), "--dump-dom"))
	if n := strings.Count(dom, `<svg class="chart"`); n != 3 {
		t.Errorf("the DOM after load holds %d chart SVGs; want 3", n)
	}
	for _, want := range []string{`id="chart-rate"`, `id="chart-latency"`, `id="chart-errors"`, `<path d="M`, `class="band-label"`, `id="table-endpoints"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM after load lacks %s", want)
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
