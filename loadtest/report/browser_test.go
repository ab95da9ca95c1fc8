package report_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/browser"
	"github.com/taskready/taskready/loadtest/report"
)

// TestHTMLInChromium renders the report in a real browser: the screenshot
// must show the charts (their series' colours, in quantity), and the DOM
// after load must hold the three chart SVGs. REPORT_SCREENSHOT=path keeps
// a copy of the screenshot for people to look at.
func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	bin := browser.Find(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.HTML(f, fullSummary()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	shot := filepath.Join(dir, "report.png")
	browser.Headless(t, bin, browser.FileURL(page), "--screenshot="+shot, "--window-size=1280,2000")
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
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d; want 1280x2000", b.Dx(), b.Dy())
	}
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
	b := img.Bounds()
	colours := map[[3]uint8]int{}
	nonWhite := 0
	type series struct {
		name    string
		rgb     [3]int
		n       int
		top, bt int
	}
	want := []*series{
		{name: "requests/s (blue)", rgb: [3]int{0x25, 0x63, 0xeb}, top: b.Max.Y},
		{name: "p50 (cyan)", rgb: [3]int{0x08, 0x91, 0xb2}, top: b.Max.Y},
		{name: "p95 (purple)", rgb: [3]int{0x7c, 0x3a, 0xed}, top: b.Max.Y},
		{name: "p99 (orange)", rgb: [3]int{0xea, 0x58, 0x0c}, top: b.Max.Y},
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
			colours[c]++
			if c[0] < 235 || c[1] < 235 || c[2] < 235 {
				nonWhite++
			}
			for _, s := range want {
				d := 0
				for i := range 3 {
					d += abs(int(c[i]) - s.rgb[i])
				}
				if d < 40 {
					s.n++
					s.top, s.bt = min(s.top, y), max(s.bt, y)
				}
			}
		}
	}
	total := b.Dx() * b.Dy()
	t.Logf("screenshot: %d distinct colours, %.1f%% non-white", len(colours), 100*float64(nonWhite)/float64(total))
	if len(colours) < 500 {
		t.Errorf("screenshot has %d distinct colours; a rendered report has far more", len(colours))
	}
	if nonWhite < total/20 {
		t.Errorf("screenshot is %d%% non-white; it looks blank", 100*nonWhite/total)
	}
	top, bottom := b.Max.Y, 0
	for _, s := range want {
		t.Logf("%s: %d pixels in rows %d-%d", s.name, s.n, s.top, s.bt)
		if s.n < 300 {
			t.Errorf("%s: only %d pixels of the series colour; the chart was not drawn", s.name, s.n)
		}
		top, bottom = min(top, s.top), max(bottom, s.bt)
	}
	if bottom <= top {
		return
	}
	// The chart region: the rows between the first and the last series
	// pixel.
	region := map[[3]uint8]bool{}
	for y := top; y <= bottom; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			region[[3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}] = true
		}
	}
	if len(region) < 300 {
		t.Errorf("the chart region (rows %d-%d) has %d distinct colours; want many", top, bottom, len(region))
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
