package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
)

// Markdown limits: a pull-request comment holds at most 65,536
// characters, so evidence is cut harder than in the terminal, and dropped
// altogether for later findings once the comment is long.
const (
	mdEvidenceItems  = 2
	mdEvidenceLines  = 10
	mdEvidenceBytes  = 800
	mdEvidenceBudget = 40000
)

// Markdown writes r as GitHub-flavoured Markdown for a pull-request
// comment or a CI job summary: the verdict and score in the title, the
// failed gates under it (what a reviewer reads first), then the findings
// with evidence and fix, and tables of the rest. No raw HTML and no
// emoji, so it reads the same in any renderer.
func Markdown(w io.Writer, r *readiness.Report) error {
	if r == nil {
		return ErrNilReport
	}
	m := &mdWriter{r: r}
	s := split(r)
	m.title()
	m.gates()
	m.attention(s.attention)
	m.categories()
	m.passed(s.passed)
	m.notApplicable(s.notApplicable)
	m.ignored(s.ignored)
	m.footer()
	_, err := io.WriteString(w, m.b.String())
	return err
}

type mdWriter struct {
	r *readiness.Report
	b strings.Builder
}

func (m *mdWriter) p(parts ...string) {
	m.b.WriteString(strings.Join(parts, ""))
	m.b.WriteString("\n")
}

func (m *mdWriter) title() {
	r := m.r
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	score := "score n/a"
	if r.Score.Defined() {
		score = "score " + strconv.Itoa(r.Score.Value) + "/100, grade " + r.Score.Grade
	}
	m.p("## Production readiness: **", verdict, "** (exit ", strconv.Itoa(r.ExitCode), ") · ", score)
	m.p()
	meta := []string{}
	if r.Run.Target != "" {
		meta = append(meta, "target "+mdCode(r.Run.Target))
	}
	meta = append(meta, "started "+startTime(r.Run.Start), plural(r.Counts.Total, "check", "checks")+" in "+took(r.Run.Duration), "run "+mdCode(r.Run.ID))
	if r.Run.ToolVersion != "" {
		meta = append(meta, "harness "+mdText(r.Run.ToolVersion))
	}
	meta = append(meta, "score v"+r.Run.ScoreVersion)
	if r.Run.Policy != "" {
		meta = append(meta, "policy "+mdCode(r.Run.Policy))
	}
	m.p(strings.Join(meta, " · "))
	if r.Run.Error != "" {
		m.p()
		m.p("**The run could not start:**")
		m.p()
		m.fence(r.Run.Error)
	}
}

func (m *mdWriter) gates() {
	m.p()
	var rows [][]string
	for _, g := range m.r.Gates {
		res := "passed"
		if !g.Passed {
			res = "**failed**"
		}
		rows = append(rows, []string{mdText(g.Name), res, mdText(g.Detail)})
	}
	m.table("lll", []string{"gate", "result", "detail"}, rows)
	m.p()
	c := m.r.Counts
	m.p("**", strconv.Itoa(c.Fail), " failed** · **", plural(c.Error, "error", "errors"), "** · **", plural(c.Warn, "warning", "warnings"), "** · ",
		strconv.Itoa(c.Pass), " passed · ", strconv.Itoa(c.NotApplicable), " not applicable · ", strconv.Itoa(c.Ignored), " ignored")
}

func (m *mdWriter) attention(rs []readiness.Result) {
	if len(rs) == 0 {
		return
	}
	m.p()
	m.p("### Needs attention (", strconv.Itoa(len(rs)), ")")
	for _, res := range rs {
		m.p()
		head := readiness.StatusWord(res.EffectiveStatus) + " · " + severityText(res) + " · " + mdCode(res.ID)
		if res.Title != "" {
			head += " — " + mdText(res.Title)
		}
		m.p("#### ", head)
		m.p()
		line := []string{}
		if res.Gating {
			line = append(line, "**blocks release**")
		}
		line = append(line, mdText(string(res.Category)), took(res.Took))
		m.p(strings.Join(line, " · "))
		m.p()
		m.p(mdText(res.Message))
		if len(res.Evidence) > 0 {
			m.p()
			if m.b.Len() > mdEvidenceBudget {
				m.p("Evidence: ", plural(len(res.Evidence), "item", "items"), " in readiness.html (left out here to keep the comment short).")
			} else {
				m.evidence(res.Evidence)
			}
		}
		if res.Remediation != "" {
			m.p()
			m.p("**Fix:** ", mdText(oneLine(res.Remediation)))
		}
		if len(res.References) > 0 {
			m.p()
			m.p("**References:** ", mdRefs(res.References))
		}
		if o := overrideText(res); o != "" {
			m.p()
			m.p("**Policy:** ", mdText(o))
		}
	}
}

func (m *mdWriter) evidence(evs []check.Evidence) {
	var lines []string
	for i, ev := range evs {
		if i == mdEvidenceItems {
			lines = append(lines, "… "+plural(len(evs)-i, "more evidence item", "more evidence items")+" in readiness.html")
			break
		}
		if i > 0 {
			lines = append(lines, "")
		}
		add := func(prefix, s string) {
			for _, l := range excerpt(s, mdEvidenceLines, 120, mdEvidenceBytes) {
				lines = append(lines, strings.TrimRight(prefix+l, " "))
			}
		}
		add("> ", ev.Request)
		add("< ", ev.Response)
		add("expected: ", ev.Expected)
		add("observed: ", ev.Observed)
		add("note: ", ev.Note)
	}
	m.fence(strings.Join(lines, "\n"))
}

// fence writes s as a fenced code block whose fence no line of s closes.
func (m *mdWriter) fence(s string) {
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	m.p(fence, "text")
	m.p(s)
	m.p(fence)
}

func (m *mdWriter) categories() {
	if len(m.r.Categories) == 0 {
		return
	}
	m.p()
	m.p("### Categories")
	m.p()
	var rows [][]string
	for _, c := range m.r.Categories {
		score, grade := "n/a", "–"
		if c.Score.Defined() {
			score, grade = strconv.Itoa(c.Score.Value), c.Score.Grade
		}
		k := c.Counts
		rows = append(rows, []string{mdText(string(c.Category)), score, grade, strconv.Itoa(k.Pass), strconv.Itoa(k.Warn),
			strconv.Itoa(k.Fail), strconv.Itoa(k.Error), strconv.Itoa(k.NotApplicable), strconv.Itoa(k.Ignored)})
	}
	m.table("lrlrrrrrr", []string{"category", "score", "grade", "pass", "warn", "fail", "error", "n/a", "ignored"}, rows)
}

func (m *mdWriter) passed(rs []readiness.Result) {
	if len(rs) == 0 {
		return
	}
	m.p()
	m.p("### Passed (", strconv.Itoa(len(rs)), ")")
	m.p()
	var rows [][]string
	for _, res := range rs {
		rows = append(rows, []string{mdText(severityText(res)), mdCode(res.ID), mdText(res.Title), mdText(string(res.Category)), took(res.Took)})
	}
	m.table("lllll", []string{"severity", "check", "title", "category", "took"}, rows)
}

func (m *mdWriter) notApplicable(rs []readiness.Result) {
	if len(rs) == 0 {
		return
	}
	m.p()
	m.p("### Not applicable (", strconv.Itoa(len(rs)), ")")
	m.p()
	var rows [][]string
	for _, res := range rs {
		rows = append(rows, []string{mdText(severityText(res)), mdCode(res.ID), mdText(res.Message)})
	}
	m.table("lll", []string{"severity", "check", "why"}, rows)
}

func (m *mdWriter) ignored(rs []readiness.Result) {
	if len(rs) == 0 {
		return
	}
	m.p()
	m.p("### Ignored by policy (", strconv.Itoa(len(rs)), ")")
	m.p()
	var rows [][]string
	for _, res := range rs {
		rows = append(rows, []string{mdCode(res.ID), mdText(string(res.Severity)), mdText(string(res.Status)), mdText(res.Override.Reason), mdCode(res.Override.Source)})
	}
	m.table("lllll", []string{"check", "severity", "found", "reason", "where"}, rows)
}

func (m *mdWriter) footer() {
	m.p()
	m.p("Score v", m.r.Run.ScoreVersion, ": ", mdText(scoreNote), ". Report format ", readiness.Format, " v", strconv.Itoa(m.r.Version), ".")
}

func (m *mdWriter) table(align string, head []string, rows [][]string) {
	m.p("| ", strings.Join(head, " | "), " |")
	var sep []string
	for _, a := range align {
		if a == 'r' {
			sep = append(sep, "---:")
		} else {
			sep = append(sep, "---")
		}
	}
	m.p("| ", strings.Join(sep, " | "), " |")
	for _, r := range rows {
		m.p("| ", strings.Join(r, " | "), " |")
	}
}

func mdRefs(refs []string) string {
	var out []string
	for _, ref := range refs {
		if u := ReferenceURL(ref); u != "" {
			out = append(out, "["+mdText(ref)+"]("+strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u)+")")
		} else {
			out = append(out, mdText(ref))
		}
	}
	return strings.Join(out, " · ")
}

// mdReplacer escapes what Markdown would read as formatting, and "|",
// which would end a table cell; a newline would end the table, so it
// becomes a space.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "&", `\&`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "#", `\#`, "\r\n", " ", "\n", " ", "\r", " ",
)

// mdText is s as literal Markdown text, safe in a table cell.
func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCode is s as a code span, which shows identifiers as they are; "|" is
// still escaped, since GFM splits table cells before it reads code spans.
func mdCode(s string) string {
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
