package render

import (
	"io"
	"strings"
)

// Markdown builds a GitHub-flavoured Markdown document in memory, so that
// a failing writer sees one write and a report is never half written by
// our own doing.
type Markdown struct {
	b strings.Builder
}

// P writes parts as one line.
func (m *Markdown) P(parts ...string) {
	m.b.WriteString(strings.Join(parts, ""))
	m.b.WriteString("\n")
}

// Table writes a GFM table; align holds 'l' or 'r' per column, and a
// column it does not cover is left-aligned. Cells are written as given:
// escape them with MarkdownText or MarkdownCode.
func (m *Markdown) Table(align string, head []string, rows [][]string) {
	m.P("| ", strings.Join(head, " | "), " |")
	seps := make([]string, len(head))
	for i := range head {
		seps[i] = "---"
		if i < len(align) && align[i] == 'r' {
			seps[i] = "---:"
		}
	}
	m.P("| ", strings.Join(seps, " | "), " |")
	for _, r := range rows {
		m.P("| ", strings.Join(r, " | "), " |")
	}
}

// Len is the document's length in bytes so far, for reports that stop
// adding detail once a comment grows long.
func (m *Markdown) Len() int { return m.b.Len() }

// String is the document so far.
func (m *Markdown) String() string { return m.b.String() }

// WriteTo writes the document to w in one write.
func (m *Markdown) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, m.b.String())
	return int64(n), err
}

// mdReplacer escapes what Markdown would read as formatting, and "|",
// which would end a table cell; a newline would end the table, so it
// becomes a space.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "&", `\&`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "#", `\#`, "\r\n", " ", "\n", " ", "\r", " ",
)

// MarkdownText is s as literal Markdown text, safe in a table cell.
func MarkdownText(s string) string { return mdReplacer.Replace(s) }

// MarkdownCode is s as a code span, which shows identifiers as they are
// without escaping their underscores. GFM splits table cells on "|"
// before it reads code spans, so "|" is still escaped inside; a backtick
// in s gets a longer fence.
func MarkdownCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || len(fence) > 1 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
