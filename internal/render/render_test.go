package render_test

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/render"
)

func TestMarkdownEscaping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, text, code string }{
		{"a|b", `a\|b`, "`a\\|b`"},
		{"http_req_duration{endpoint:list}", `http\_req\_duration{endpoint:list}`, "`http_req_duration{endpoint:list}`"},
		{"p(95)<300", `p(95)\<300`, "`p(95)<300`"},
		{"two\nlines", "two lines", "`two lines`"},
		{"a`b", "a\\`b", "`` a`b ``"},
		{"*bold* [link](x) <b> &amp;", `\*bold\* \[link\](x) \<b\> \&amp;`, "`*bold* [link](x) <b> &amp;`"},
		{"", "", ""},
	} {
		if got := render.MarkdownText(tc.in); got != tc.text {
			t.Errorf("MarkdownText(%q) = %q; want %q", tc.in, got, tc.text)
		}
		if got := render.MarkdownCode(tc.in); got != tc.code {
			t.Errorf("MarkdownCode(%q) = %q; want %q", tc.in, got, tc.code)
		}
	}
}

func TestMarkdownTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		align string
		want  string
	}{
		{"one letter a column", "lr", "| a | b |\n| --- | ---: |\n| 1 | 2 |\n"},
		{"short align is left", "", "| a | b |\n| --- | --- |\n| 1 | 2 |\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m render.Markdown
			m.Table(tt.align, []string{"a", "b"}, [][]string{{"1", "2"}})
			if got := m.String(); got != tt.want {
				t.Errorf("table = %q; want %q", got, tt.want)
			}
			if m.Len() != len(tt.want) {
				t.Errorf("Len = %d; want %d", m.Len(), len(tt.want))
			}
		})
	}
}

func TestTerminalPaint(t *testing.T) {
	t.Parallel()
	plain, color := render.Terminal{}, render.Terminal{Color: true}
	if got := plain.Paint(render.Red, "x"); got != "x" {
		t.Errorf("Paint without colour = %q; want the text alone", got)
	}
	if got := color.Paint(render.BoldRed, "x"); got != "\x1b[1;31mx\x1b[0m" {
		t.Errorf("Paint(BoldRed) = %q", got)
	}
	if got := color.Paint(render.Red, ""); got != "" {
		t.Errorf("Paint of nothing = %q; want nothing, not bare escapes", got)
	}
	color.Line("a  ", color.Paint(render.Faint, ""), " ")
	if got := color.String(); got != "a\n" {
		t.Errorf("Line = %q; want trailing spaces trimmed", got)
	}
}

func TestPad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in          string
		width       int
		right, left string
	}{
		{"ab", 4, "ab  ", "  ab"},
		{"✓é", 3, "✓é ", " ✓é"}, // runes, not bytes
		{"long", 2, "long", "long"},
	} {
		if got := render.Pad(tc.in, tc.width); got != tc.right {
			t.Errorf("Pad(%q, %d) = %q; want %q", tc.in, tc.width, got, tc.right)
		}
		if got := render.PadLeft(tc.in, tc.width); got != tc.left {
			t.Errorf("PadLeft(%q, %d) = %q; want %q", tc.in, tc.width, got, tc.left)
		}
	}
}

// countingWriter counts the writes it is given; it has no WriteString,
// so io.WriteString goes through Write.
type countingWriter struct {
	got    []byte
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	c.got = append(c.got, p...)
	return len(p), nil
}

func (c *countingWriter) String() string { return string(c.got) }

func TestOneWrite(t *testing.T) {
	t.Parallel()
	var term render.Terminal
	term.Line("one")
	term.Line("two")
	var md render.Markdown
	md.P("# title")
	md.P("body")
	for name, w := range map[string]io.WriterTo{"terminal": &term, "markdown": &md} {
		var c countingWriter
		if _, err := w.WriteTo(&c); err != nil {
			t.Fatal(err)
		}
		if c.writes != 1 || !strings.Contains(c.String(), "\n") {
			t.Errorf("%s: %d writes of %q; want one", name, c.writes, c.String())
		}
	}
}

func TestHTML(t *testing.T) {
	t.Parallel()
	page := template.Must(template.New("p").Parse(`<p>{{.}}</p>`))
	var b bytes.Buffer
	if err := render.HTML(&b, page, "<b>"); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "<p>&lt;b&gt;</p>" {
		t.Errorf("HTML = %q; want the value escaped", got)
	}
	broken := template.Must(template.New("p").Parse(`<p>{{.Missing}}</p>`))
	var c countingWriter
	if err := render.HTML(&c, broken, 42); err == nil {
		t.Error("a template error gave no error")
	}
	if c.writes != 0 {
		t.Errorf("a failed template wrote %d times; want nothing written", c.writes)
	}
	if err := render.HTML(failing{}, page, "x"); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("a failing writer gave %v; want its error", err)
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestTime(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, "unknown"},
		{time.Date(2026, 12, 7, 7, 30, 5, 900, paris), "2026-12-07 06:30:05 UTC"},
	} {
		if got := render.Time(tt.in); got != tt.want {
			t.Errorf("Time(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNiceScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		top, step, nice float64
	}{
		{1, 0.2, 1}, {162, 50, 200}, {1500, 500, 1500}, {1650, 500, 2000}, {4.7, 1, 5}, {0, 0.2, 1}, {math.NaN(), 0.2, 1}, {math.Inf(1), 0.2, 1},
		{12, 2.5, 12.5},
	} {
		step, nice := render.NiceScale(tc.top, 5)
		if math.Abs(step-tc.step) > 1e-9 || math.Abs(nice-tc.nice) > 1e-9 {
			t.Errorf("NiceScale(%v, 5) = %v, %v; want %v, %v", tc.top, step, nice, tc.step, tc.nice)
		}
	}
}
