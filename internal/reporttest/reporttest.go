// Package reporttest holds the assertions that loadtest/report's and
// checks/report's tests both make on what a renderer writes: that it
// renders, that colour adds only ANSI escapes, that a failing writer's
// error comes back, and that inline SVG is well-formed with finite
// coordinates. It is for tests only.
package reporttest

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Render runs fn on v into memory and returns what it wrote, failing t on
// an error.
func Render[T any](t testing.TB, fn func(io.Writer, T) error, v T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := fn(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FailingWriter fails every write, as a closed pipe does.
type FailingWriter struct{}

// Write fails with io.ErrClosedPipe.
func (FailingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// ColorOnly asserts that plain has no ANSI escapes, that colored has some,
// and that colored without them is plain: colour must change nothing a
// log or a grep reads.
func ColorOnly(t testing.TB, name string, plain, colored []byte) {
	t.Helper()
	if bytes.Contains(plain, []byte("\x1b[")) {
		t.Errorf("%s: text without colour has ANSI escapes", name)
	}
	if !bytes.Contains(colored, []byte("\x1b[")) {
		t.Errorf("%s: text with colour has no ANSI escapes", name)
	}
	if got := ansi.ReplaceAll(colored, nil); !bytes.Equal(got, plain) {
		t.Errorf("%s: coloured text without its escapes differs from the plain text:\n%s", name, got)
	}
}

// coords are the SVG attributes that hold one number.
var coords = map[string]bool{"x": true, "y": true, "x1": true, "x2": true, "y1": true, "y2": true,
	"cx": true, "cy": true, "r": true, "width": true, "height": true}

var pathNumber = regexp.MustCompile(`[-0-9.e+]+`)

// SVG parses svg as XML, which inline SVG must be, and checks that every
// coordinate, path number, viewBox and dash length is a finite number: a
// NaN or Inf from a degenerate run would leave a shape undrawn or break
// the page. The root's width and height may be CSS lengths.
func SVG(t testing.TB, name, svg string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Errorf("%s: not well-formed: %v", name, err)
			return
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		for _, a := range el.Attr {
			var nums []string
			switch {
			case coords[a.Name.Local] && el.Name.Local != "svg":
				nums = []string{a.Value}
			case a.Name.Local == "d":
				nums = pathNumber.FindAllString(a.Value, -1)
			case a.Name.Local == "viewBox", a.Name.Local == "stroke-dasharray":
				nums = strings.Fields(strings.ReplaceAll(a.Value, ",", " "))
			}
			for _, n := range nums {
				v, err := strconv.ParseFloat(n, 64)
				if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("%s: <%s %s=%q>: %q is not a finite number", name, el.Name.Local, a.Name.Local, a.Value, n)
				}
			}
		}
	}
}
