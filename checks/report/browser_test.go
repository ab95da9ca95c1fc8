package report_test

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/browser"
	"github.com/taskready/taskready/internal/reporttest"
)

// TestHTMLInChromium renders the report in a real browser: the screenshot
// must not be blank and must show the verdict's and the findings' colours;
// the DOM after load must hold the gauge, the gates and the finding cards.
// REPORT_SCREENSHOT=path keeps a copy of the screenshot for people to
// look at (docs/readiness-report.png is one).
func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	bin := browser.Find(t)
	page := filepath.Join(t.TempDir(), report.HTMLFile)
	if err := os.WriteFile(page, reporttest.Render(t, report.HTML, fullReport(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	img := browser.Screenshot(t, bin, browser.FileURL(page), 1280, 1800, os.Getenv("REPORT_SCREENSHOT"))
	checkScreenshot(t, img)

	dom := string(browser.Headless(t, bin, browser.FileURL(page), "--dump-dom"))
	for _, want := range []string{`id="gauge"`, `class="arc gb"`, `id="gate-critical"`, `class="finding sev-critical st-fail"`,
		`id="check-jwt-alg-none"`, `class="statusbar"`, `class="catbar"`, `id="waivers"`, `id="previous"`, `class="delta up"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM after load lacks %s", want)
		}
	}
}

// checkScreenshot asserts that the page is not blank, that it is a
// rendered page (many colours), and that the colours that carry meaning
// are drawn in quantity: the failure red of the banner, pills and status
// bar, the grade's arc, the warning amber, and the pass green.
func checkScreenshot(t *testing.T, img image.Image) {
	t.Helper()
	want := []*browser.Swatch{
		{Name: "failure red (#dc2626)", RGB: [3]int{0xdc, 0x26, 0x26}},
		{Name: "grade B lime (#65a30d)", RGB: [3]int{0x65, 0xa3, 0x0d}},
		{Name: "warning amber (#d97706)", RGB: [3]int{0xd9, 0x77, 0x06}},
		{Name: "pass green (#16a34a)", RGB: [3]int{0x16, 0xa3, 0x4a}},
	}
	s := browser.Look(img, 30, want)
	browser.AssertDrawn(t, s, 300)
	for _, w := range want {
		t.Logf("%s: %d pixels", w.Name, w.Pixels)
		if w.Pixels < 200 {
			t.Errorf("%s: only %d pixels; that part of the report was not drawn", w.Name, w.Pixels)
		}
	}
}
