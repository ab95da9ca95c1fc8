package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/internal/render"
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
	m.previous()
	m.attention(s.attention)
	m.categories()
	m.passed(s.passed)
	m.notApplicable(s.notApplicable)
	m.ignored(s.ignored)
	m.footer()
	_, err := m.WriteTo(w)
	return err
}

type mdWriter struct {
	r *readiness.Report
	render.Markdown
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
	m.P("## Production readiness: **", verdict, "** (exit ", strconv.Itoa(r.ExitCode), ") · ", score)
	m.P()
	meta := []string{}
	if r.Run.Target != "" {
		meta = append(meta, "target "+render.MarkdownCode(r.Run.Target))
	}
	meta = append(meta, "started "+render.Time(r.Run.Start), plural(r.Counts.Total, "check", "checks")+" in "+took(r.Run.Duration), "run "+render.MarkdownCode(r.Run.ID))
	if r.Run.ToolVersion != "" {
		meta = append(meta, "harness "+render.MarkdownText(r.Run.ToolVersion))
	}
	if api := apiBuildText(r.Run.API); api != "" {
		meta = append(meta, "api "+render.MarkdownText(api))
	}
	meta = append(meta, "score v"+r.Run.ScoreVersion)
	if r.Run.Policy != "" {
		meta = append(meta, "policy "+render.MarkdownCode(r.Run.Policy))
	}
	if e := r.Run.Environment; e != nil {
		meta = append(meta, "environment "+render.MarkdownText(e.Provider))
	}
	m.P(strings.Join(meta, " · "))
	if e := r.Run.Environment; e != nil && e.Note != "" {
		m.P()
		m.P("> [!WARNING]")
		m.P("> ", render.MarkdownText(e.Note))
	}
	for _, alert := range []struct{ kind, state string }{{"CAUTION", readiness.WaiverExpired}, {"WARNING", readiness.WaiverExpiring}} {
		first := true
		for _, w := range r.Waivers {
			if w.State != alert.state {
				continue
			}
			if first {
				m.P()
				m.P("> [!", alert.kind, "]")
				first = false
			}
			m.P("> - ", render.MarkdownText(w.Message))
		}
	}
	if r.Run.Error != "" {
		m.P()
		m.P("**The run could not start:**")
		m.P()
		m.fence(r.Run.Error)
	}
}

func (m *mdWriter) gates() {
	m.P()
	var rows [][]string
	for _, g := range m.r.Gates {
		res := "passed"
		if !g.Passed {
			res = "**failed**"
		}
		rows = append(rows, []string{render.MarkdownText(g.Name), res, render.MarkdownText(g.Detail)})
	}
	m.Table("lll", []string{"gate", "result", "detail"}, rows)
	m.P()
	c := m.r.Counts
	m.P("**", strconv.Itoa(c.Fail), " failed** · **", plural(c.Error, "error", "errors"), "** · **", plural(c.Warn, "warning", "warnings"), "** · ",
		strconv.Itoa(c.Pass), " passed · ", strconv.Itoa(c.NotApplicable), " not applicable · ", strconv.Itoa(c.Ignored), " ignored")
}

func (m *mdWriter) previous() {
	c := m.r.Previous
	if c == nil {
		return
	}
	m.P()
	m.P("### Since the previous run")
	m.P()
	line := []string{render.MarkdownText(scoreChangeText(c, m.r.Score)), verdictChangeText(c, m.r.Passed), "run " + render.MarkdownCode(c.Run), "started " + render.Time(c.Start)}
	if c.Target != m.r.Run.Target {
		line = append(line, "target "+render.MarkdownCode(c.Target))
	}
	m.P(strings.Join(line, " · "))
	groups := changeGroups(c)
	if len(groups) == 0 {
		m.P()
		m.P("No check changed its result.")
		return
	}
	var rows [][]string
	for _, g := range groups {
		for _, ch := range g.changes {
			rows = append(rows, []string{g.title, render.MarkdownCode(ch.ID), render.MarkdownText(string(ch.Severity)), render.MarkdownText(ch.From), render.MarkdownText(ch.To)})
		}
	}
	m.P()
	m.Table("lllll", []string{"change", "check", "severity", "before", "now"}, rows)
}

func (m *mdWriter) attention(rs []readiness.Result) {
	if len(rs) == 0 {
		return
	}
	m.P()
	m.P("### Needs attention (", strconv.Itoa(len(rs)), ")")
	for _, res := range rs {
		m.P()
		head := readiness.StatusWord(res.EffectiveStatus) + " · " + severityText(res) + " · " + render.MarkdownCode(res.ID)
		if res.Title != "" {
			head += " — " + render.MarkdownText(res.Title)
		}
		m.P("#### ", head)
		m.P()
		line := []string{}
		if res.Gating {
			line = append(line, "**blocks release**")
		}
		line = append(line, render.MarkdownText(string(res.Category)), took(res.Took))
		m.P(strings.Join(line, " · "))
		m.P()
		m.P(render.MarkdownText(res.Message))
		if len(res.Evidence) > 0 {
			m.P()
			if m.Len() > mdEvidenceBudget {
				m.P("Evidence: ", plural(len(res.Evidence), "item", "items"), " in readiness.html (left out here to keep the comment short).")
			} else {
				m.evidence(res.Evidence)
			}
		}
		if res.Remediation != "" {
			m.P()
			m.P("**Fix:** ", render.MarkdownText(oneLine(res.Remediation)))
		}
		if len(res.References) > 0 {
			m.P()
			m.P("**References:** ", mdRefs(res.References))
		}
		if o := overrideText(res); o != "" {
			m.P()
			m.P("**Policy:** ", render.MarkdownText(o))
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
	m.P(fence, "text")
	m.P(s)
	m.P(fence)
}

func (m *mdWriter) categories() {
	if len(m.r.Categories) == 0 {
		return
	}
	m.P()
	m.P("### Categories")
	m.P()
	var rows [][]string
	for _, c := range m.r.Categories {
		score, grade := "n/a", "–"
		if c.Score.Defined() {
			score, grade = strconv.Itoa(c.Score.Value), c.Score.Grade
		}
		k := c.Counts
		rows = append(rows, []string{render.MarkdownText(string(c.Category)), score, grade, strconv.Itoa(k.Pass), strconv.Itoa(k.Warn),
			strconv.Itoa(k.Fail), strconv.Itoa(k.Error), strconv.Itoa(k.NotApplicable), strconv.Itoa(k.Ignored)})
	}
	m.Table("lrlrrrrrr", []string{"category", "score", "grade", "pass", "warn", "fail", "error", "n/a", "ignored"}, rows)
}

func (m *mdWriter) passed(rs []readiness.Result) {
	if len(rs) == 0 {
		return
	}
	m.P()
	m.P("### Passed (", strconv.Itoa(len(rs)), ")")
	m.P()
	var rows [][]string
	for _, res := range rs {
		rows = append(rows, []string{render.MarkdownText(severityText(res)), render.MarkdownCode(res.ID), render.MarkdownText(res.Title), render.MarkdownText(string(res.Category)),
			render.MarkdownText(res.Message), took(res.Took)})
	}
	// The result is what was measured (an RTO, a max-age), as the HTML
	// report's passed table shows it.
	m.Table("llllll", []string{"severity", "check", "title", "category", "result", "took"}, rows)
}

func (m *mdWriter) notApplicable(rs []readiness.Result) {
	if len(rs) == 0 {
		return
	}
	m.P()
	m.P("### Not applicable (", strconv.Itoa(len(rs)), ")")
	m.P()
	var rows [][]string
	for _, res := range rs {
		rows = append(rows, []string{render.MarkdownText(severityText(res)), render.MarkdownCode(res.ID), render.MarkdownText(res.Message)})
	}
	m.Table("lll", []string{"severity", "check", "why"}, rows)
}

func (m *mdWriter) ignored(rs []readiness.Result) {
	if len(rs) == 0 {
		return
	}
	m.P()
	m.P("### Ignored by policy (", strconv.Itoa(len(rs)), ")")
	m.P()
	var rows [][]string
	for _, res := range rs {
		rows = append(rows, []string{render.MarkdownCode(res.ID), render.MarkdownText(string(res.Severity)), render.MarkdownText(string(res.Status)), render.MarkdownText(res.Override.Reason), render.MarkdownCode(res.Override.Source)})
	}
	m.Table("lllll", []string{"check", "severity", "found", "reason", "where"}, rows)
}

func (m *mdWriter) footer() {
	m.P()
	m.P("Score v", m.r.Run.ScoreVersion, ": ", render.MarkdownText(scoreNote), ". Report format ", readiness.Format, " v", strconv.Itoa(m.r.Version), ".")
}

func mdRefs(refs []string) string {
	var out []string
	for _, ref := range refs {
		if u := ReferenceURL(ref); u != "" {
			out = append(out, "["+render.MarkdownText(ref)+"]("+strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u)+")")
		} else {
			out = append(out, render.MarkdownText(ref))
		}
	}
	return strings.Join(out, " · ")
}
