// Package browser runs headless Chromium for tests that look at a page the
// way people do: the HTML reports and the API's browser client.
package browser

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Find returns the Chromium to drive: $CHROMIUM, /usr/bin/chromium, then
// the usual names on PATH. Without one it skips t, or fails it when
// REQUIRE_BROWSER=1 (as CI sets), saying how to install one.
func Find(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const where = "no chromium at /usr/bin/chromium, on PATH or in $CHROMIUM"
	if os.Getenv("REQUIRE_BROWSER") == "1" {
		t.Fatal(where + ", and REQUIRE_BROWSER=1: apt-get install chromium")
	}
	t.Skip("skipped: " + where + "; apt-get install chromium, or set REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// FileURL is the file:// URL of a local page.
func FileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

// Headless runs bin on target (a URL) with args after the common headless
// flags and returns its stdout. Each run gets its own profile directory, so
// runs never share a lock.
func Headless(t testing.TB, bin, target string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
		"--user-data-dir=" + t.TempDir(),
	}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, target)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// Screenshot renders target (a URL) in a width×height window and returns
// the picture, failing t unless Chromium writes a PNG of that size. When
// keep is not empty the PNG is also written there, for people to look at.
func Screenshot(t testing.TB, bin, target string, width, height int, keep string) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "screenshot.png")
	Headless(t, bin, target, "--screenshot="+shot, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height))
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if keep != "" {
		if err := os.WriteFile(keep, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Errorf("the screenshot is %dx%d; want %dx%d", b.Dx(), b.Dy(), width, height)
	}
	return img
}

// Swatch is a colour a screenshot should show, and what Look found of it.
type Swatch struct {
	// Name says what the colour stands for, for messages.
	Name string
	// RGB is the colour as drawn.
	RGB [3]int
	// Pixels counts the pixels whose channels differ from RGB by less than
	// Look's tolerance in sum (antialiasing shifts edges a little).
	Pixels int
	// Top and Bottom are the first and last rows holding such a pixel.
	Top, Bottom int
}

// Survey is what Look saw in a screenshot.
type Survey struct {
	// Colours counts the distinct colours: a rendered page has hundreds.
	Colours int
	// NonWhite counts the pixels darker than near-white in any channel: a
	// blank page has almost none.
	NonWhite int
	// Total is the number of pixels.
	Total int
}

// Look surveys img and counts, for each swatch, the pixels near its
// colour and the rows they span, so that a test can tell a drawn page
// from a blank or unstyled one without comparing pixels exactly.
func Look(img image.Image, tolerance int, swatches []*Swatch) Survey {
	b := img.Bounds()
	for _, s := range swatches {
		s.Pixels, s.Top, s.Bottom = 0, b.Max.Y, b.Min.Y
	}
	colours := map[[3]uint8]bool{}
	nonWhite := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgb(img, x, y)
			colours[c] = true
			if c[0] < 235 || c[1] < 235 || c[2] < 235 {
				nonWhite++
			}
			for _, s := range swatches {
				d := 0
				for k := range 3 {
					d += abs(int(c[k]) - s.RGB[k])
				}
				if d < tolerance {
					s.Pixels++
					s.Top, s.Bottom = min(s.Top, y), max(s.Bottom, y)
				}
			}
		}
	}
	return Survey{Colours: len(colours), NonWhite: nonWhite, Total: b.Dx() * b.Dy()}
}

// AssertDrawn logs what s saw and fails t when the screenshot looks
// blank or unstyled: fewer than minColours distinct colours, or fewer
// than one pixel in twenty darker than near-white.
func AssertDrawn(t testing.TB, s Survey, minColours int) {
	t.Helper()
	t.Logf("screenshot: %d distinct colours, %.1f%% darker than near-white", s.Colours, 100*float64(s.NonWhite)/float64(s.Total))
	if s.Colours < minColours {
		t.Errorf("the screenshot has %d distinct colours; a rendered page has far more", s.Colours)
	}
	if s.NonWhite < s.Total/20 {
		t.Errorf("the screenshot is %d%% non-white; it looks blank", 100*s.NonWhite/s.Total)
	}
}

// Colours counts the distinct colours of img inside r.
func Colours(img image.Image, r image.Rectangle) int {
	seen := map[[3]uint8]bool{}
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			seen[rgb(img, x, y)] = true
		}
	}
	return len(seen)
}

func rgb(img image.Image, x, y int) [3]uint8 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
