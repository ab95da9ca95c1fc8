package render

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Style is an ANSI SGR code, the parameters between "\x1b[" and "m".
type Style string

// The styles the reports paint with.
const (
	Bold    Style = "1"
	Faint   Style = "2"
	Red     Style = "31"
	Green   Style = "32"
	Yellow  Style = "33"
	Purple  Style = "35"
	BoldRed Style = "1;31"
)

// Terminal builds text for a terminal in memory, so that a failing writer
// sees one write and a report is never half written by our own doing.
type Terminal struct {
	// Color turns ANSI styles on; off, Paint returns its text unchanged
	// (CI logs and files are not terminals).
	Color bool
	b     strings.Builder
}

// Paint wraps s in style when colour is on; an empty s stays empty, so
// that an absent value leaves no stray escapes.
func (t *Terminal) Paint(style Style, s string) string {
	if !t.Color || s == "" {
		return s
	}
	return "\x1b[" + string(style) + "m" + s + "\x1b[0m"
}

// Line writes parts as one line without trailing spaces.
func (t *Terminal) Line(parts ...string) {
	t.b.WriteString(strings.TrimRight(strings.Join(parts, ""), " "))
	t.b.WriteByte('\n')
}

// String is the text so far.
func (t *Terminal) String() string { return t.b.String() }

// WriteTo writes the text to w in one write.
func (t *Terminal) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, t.b.String())
	return int64(n), err
}

// Pad pads s with spaces on the right to width runes.
func Pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// PadLeft pads s with spaces on the left to width runes.
func PadLeft(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return strings.Repeat(" ", width-n) + s
	}
	return s
}
