package report

import (
	"strings"
	"unicode/utf8"

	"github.com/taskready/taskready/internal/render"
)

// dotRow is one "label.....: cells" line. Cells of rows in the same
// non-zero group line up in columns, as k6 lines up a trend's avg=, min=
// and the rest; mark, when set, replaces the row's indentation.
type dotRow struct {
	mark  string
	label string
	cells []string
	group int
}

// dotWidth is the label width of a block: k6 leaves at least three dots
// after the longest label.
func dotWidth(blocks ...[]dotRow) int {
	w := 0
	for _, rows := range blocks {
		for _, r := range rows {
			w = max(w, utf8.RuneCountInString(r.label))
		}
	}
	return w + 3
}

func (t *textWriter) dots(rows []dotRow) { t.dotsWidth(rows, dotWidth(rows)) }

func (t *textWriter) dotsWidth(rows []dotRow, width int) {
	// Column widths per group; rows outside a group align their first
	// cell with each other only, as k6 aligns "0.00%  0 out of 501".
	widths := map[int][]int{}
	for _, r := range rows {
		ws := widths[r.group]
		for i, c := range r.cells {
			if r.group == 0 && i > 0 {
				break
			}
			if i >= len(ws) {
				ws = append(ws, 0)
			}
			ws[i] = max(ws[i], utf8.RuneCountInString(c))
		}
		widths[r.group] = ws
	}
	for _, r := range rows {
		var cells []string
		for i, c := range r.cells {
			if ws := widths[r.group]; i < len(ws) && i < len(r.cells)-1 {
				c = render.Pad(c, ws[i])
			}
			cells = append(cells, c)
		}
		ind := "    "
		if r.mark != "" {
			ind = "    " + t.markText(r.mark) + " "
		}
		leader := strings.Repeat(".", width-utf8.RuneCountInString(r.label))
		t.Line(ind, r.label, t.Paint(render.Faint, leader), ": ", strings.Join(cells, " "))
	}
}

func (t *textWriter) markText(m string) string {
	switch m {
	case "✓":
		return t.Paint(render.Green, m)
	case "✗":
		return t.Paint(render.Red, m)
	}
	return t.Paint(render.Yellow, m)
}
