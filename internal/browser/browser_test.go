package browser_test

import (
	"image"
	"image/color"
	"testing"

	"github.com/taskready/taskready/internal/browser"
)

// TestLook draws a known picture: a white 10×10 page with a red band in
// rows 2-3 and one near-red pixel (antialiasing) in row 7.
func TestLook(t *testing.T) {
	t.Parallel()
	img := image.NewRGBA(image.Rect(0, 0, 10, 10))
	for y := range 10 {
		for x := range 10 {
			img.Set(x, y, color.White)
		}
	}
	red := color.RGBA{0xdc, 0x26, 0x26, 0xff}
	for y := 2; y <= 3; y++ {
		for x := range 10 {
			img.Set(x, y, red)
		}
	}
	img.Set(5, 7, color.RGBA{0xd0, 0x30, 0x26, 0xff}) // 22 away in sum
	tests := []struct {
		name        string
		tolerance   int
		pixels      int
		top, bottom int
	}{
		{"exact and near", 30, 21, 2, 7},
		{"exact only", 5, 20, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sw := &browser.Swatch{Name: "red", RGB: [3]int{0xdc, 0x26, 0x26}}
			s := browser.Look(img, tt.tolerance, []*browser.Swatch{sw})
			if s.Colours != 3 || s.NonWhite != 21 || s.Total != 100 {
				t.Errorf("survey = %+v; want 3 colours, 21 non-white of 100", s)
			}
			if sw.Pixels != tt.pixels || sw.Top != tt.top || sw.Bottom != tt.bottom {
				t.Errorf("swatch = %d pixels in rows %d-%d; want %d in %d-%d", sw.Pixels, sw.Top, sw.Bottom, tt.pixels, tt.top, tt.bottom)
			}
		})
	}
	if n := browser.Colours(img, image.Rect(0, 0, 10, 4)); n != 2 {
		t.Errorf("colours of rows 0-3 = %d; want 2 (white, red)", n)
	}
	if n := browser.Colours(img, image.Rect(-5, 8, 50, 50)); n != 1 {
		t.Errorf("colours of a rectangle past the edges = %d; want 1 (white)", n)
	}
}
