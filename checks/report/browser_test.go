package report_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/browser"
)

// TestHTMLInChromium renders the report in a real browser: the screenshot
// must not be blank and must show the verdict's and the findings' colours;
// the DOM after load must hold the gauge, the gates and the finding cards.
// REPORT_SCREENSHOT=path keeps a copy of the screenshot for people to
// look at (docs/readiness-report.png is one).
func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	bin := browser.Find(t)
	dir := t.TempDir()
	page := filepath.Join(dir, report.HTMLFile)
	if err := os.WriteFile(page, render(t, report.HTML, fullReport(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "readiness.png")
	browser.Headless(t, bin, browser.FileURL(page), "--screenshot="+shot, "--window-size=1280,1800")
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if keep := os.Getenv("REPORT_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1800 {
		t.Errorf("the screenshot is %dx%d; want 1280x1800", b.Dx(), b.Dy())
	}
	checkScreenshot(t, img)

	dom := string(browser.Headless(t, bin, browser.FileURL(page), "--dump-dom"))
	for _, want := range []string{`id="gauge"`, `class="arc gb"`, `id="gate-critical"`, `class="finding sev-critical st-fail"`,
		`id="check-jwt-alg-none"`, `class="statusbar"`, `class="catbar"`} {
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
	b := img.Bounds()
	colours := map[[3]uint8]int{}
	nonWhite := 0
	want := []struct {
		name string
		rgb  [3]int
		n    int
	}{
		{name: "failure red (#dc2626)", rgb: [3]int{0xdc, 0x26, 0x26}},
		{name: "grade B lime (#65a30d)", rgb: [3]int{0x65, 0xa3, 0x0d}},
		{name: "warning amber (#d97706)", rgb: [3]int{0xd9, 0x77, 0x06}},
		{name: "pass green (#16a34a)", rgb: [3]int{0x16, 0xa3, 0x4a}},
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
			colours[c]++
			if c[0] < 235 || c[1] < 235 || c[2] < 235 {
				nonWhite++
			}
			for i := range want {
				d := 0
				for k := range 3 {
					d += abs(int(c[k]) - want[i].rgb[k])
				}
				if d < 30 {
					want[i].n++
				}
			}
		}
	}
	total := b.Dx() * b.Dy()
	t.Logf("screenshot: %d distinct colours, %.1f%% darker than near-white", len(colours), 100*float64(nonWhite)/float64(total))
	if len(colours) < 300 {
		t.Errorf("the screenshot has %d distinct colours; a rendered report has far more", len(colours))
	}
	if nonWhite < total/20 {
		t.Errorf("the screenshot is %d%% non-white; it looks blank", 100*nonWhite/total)
	}
	for _, w := range want {
		t.Logf("%s: %d pixels", w.name, w.n)
		if w.n < 200 {
			t.Errorf("%s: only %d pixels; that part of the report was not drawn", w.name, w.n)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
