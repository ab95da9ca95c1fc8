package report

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/internal/render"
)

// TextOption configures Text.
type TextOption func(*textConfig)

type textConfig struct {
	color, failedOnly bool
}

// Color turns ANSI colours on or off (off by default: CI logs and files
// are not terminals).
func Color(on bool) TextOption { return func(c *textConfig) { c.color = on } }

// FailedOnly leaves out the passed, not-applicable and ignored tables, as
// Polaris's --only-show-failed-tests does, for long runs read in a log.
func FailedOnly(on bool) TextOption { return func(c *textConfig) { c.failedOnly = on } }

// Text limits: what a terminal shows of each finding; the HTML and JSON
// reports have the rest.
const (
	textWidth         = 100
	textEvidenceItems = 3
	textEvidenceLines = 12
	textEvidenceBytes = 1200
)

// Text writes r for a terminal: what needs attention first, each with its
// evidence and fix, then compact tables of the rest, the categories, the
// score, the gates and a last line with the verdict and exit code.
func Text(w io.Writer, r *readiness.Report, opts ...TextOption) error {
	if r == nil {
		return ErrNilReport
	}
	var c textConfig
	for _, o := range opts {
		o(&c)
	}
	t := &textWriter{r: r, Terminal: render.Terminal{Color: c.color}}
	s := split(r)
	t.header()
	t.waivers()
	t.previous()
	t.attention(s.attention)
	if !c.failedOnly {
		t.table("PASSED", s.passed, func(res readiness.Result) (string, string) { return "", "" })
		t.table("NOT APPLICABLE", s.notApplicable, func(res readiness.Result) (string, string) { return oneLine(res.Message), "" })
		t.table("IGNORED BY POLICY", s.ignored, func(res readiness.Result) (string, string) {
			return "found " + string(res.Status) + ": " + oneLine(res.Message),
				"reason: " + res.Override.Reason + " (" + res.Override.Source + ")"
		})
	}
	t.categories()
	t.score()
	t.gates()
	_, err := t.WriteTo(w)
	return err
}

// textWriter builds the text in memory, so that a failing writer sees
// one write and the report is never half written by our own doing.
type textWriter struct {
	r *readiness.Report
	render.Terminal
}

func (t *textWriter) heading(title, sub string) {
	t.Line()
	if sub != "" {
		sub = "  " + t.Paint(render.Faint, sub)
	}
	t.Line("  ", t.Paint(render.Bold, title), sub)
}

func (t *textWriter) header() {
	r := t.r.Run
	t.Line()
	target := r.Target
	if target == "" {
		target = "(no target)"
	}
	t.Line("  ", t.Paint(render.Bold, "█ READINESS"), "  ", target, "  ·  ",
		plural(t.r.Counts.Total, "check", "checks"), " in ", took(r.Duration))
	meta := []string{"run " + r.ID, "started " + render.Time(r.Start)}
	if r.ToolVersion != "" {
		meta = append(meta, "harness "+r.ToolVersion)
	}
	if api := apiBuildText(r.API); api != "" {
		meta = append(meta, "api "+api)
	}
	meta = append(meta, "score v"+r.ScoreVersion)
	if r.Policy != "" {
		meta = append(meta, "policy "+r.Policy)
	}
	if r.Environment != nil {
		meta = append(meta, "environment "+r.Environment.Provider)
	}
	for _, l := range pack(meta, " · ", textWidth-4) {
		t.Line("    ", t.Paint(render.Faint, l))
	}
	if r.Environment != nil && r.Environment.Note != "" {
		t.Line("    ", t.Paint(render.Yellow, "⚠ "+r.Environment.Note))
	}
	if r.Error != "" {
		t.heading(t.Paint(render.Red, "THE RUN COULD NOT START"), "")
		for _, l := range strings.Split(r.Error, "\n") {
			t.Line("    ", l)
		}
	}
}

// waivers lists the waivers that expired or expire soon.
func (t *textWriter) waivers() {
	ws := t.r.Waivers
	if len(ws) == 0 {
		return
	}
	t.heading("WAIVERS", waiverCounts(ws))
	for _, w := range ws {
		mark, code := "!", render.Yellow
		if w.State == readiness.WaiverExpired {
			mark, code = "✗", render.Red
		}
		for i, l := range wrap(w.Message, textWidth-6) {
			if i == 0 {
				t.Line("    ", t.Paint(code, mark), " ", l)
			} else {
				t.Line("      ", l)
			}
		}
	}
}

// previous writes what changed since the previous run.
func (t *textWriter) previous() {
	c := t.r.Previous
	if c == nil {
		return
	}
	sub := []string{"run " + c.Run, "started " + render.Time(c.Start)}
	if c.Target != t.r.Run.Target {
		sub = append(sub, "target "+c.Target)
	}
	t.heading("SINCE THE PREVIOUS RUN", strings.Join(sub, " · "))
	t.Line("    ", scoreChangeText(c, t.r.Score), " · ", verdictChangeText(c, t.r.Passed))
	groups := changeGroups(c)
	if len(groups) == 0 {
		t.Line("    ", t.Paint(render.Faint, "no check changed its result"))
		return
	}
	idw := 0
	for _, g := range groups {
		for _, ch := range g.changes {
			idw = max(idw, utf8.RuneCountInString(ch.ID))
		}
	}
	idw = min(idw, 40)
	for _, g := range groups {
		code := map[string]render.Style{"✗": render.Red, "✓": render.Green, "·": render.Faint}[g.mark]
		t.Line("    ", t.Paint(render.Bold, g.title), " ", t.Paint(render.Faint, "("+strconv.Itoa(len(g.changes))+")"))
		for _, ch := range g.changes {
			t.Line("      ", t.Paint(code, g.mark), " ", render.Pad(string(ch.Severity), 9), render.Pad(clip(ch.ID, idw), idw), "  ", ch.From, " → ", ch.To)
		}
	}
}

func statusMark(res readiness.Result) (mark string, style render.Style) {
	switch {
	case res.Ignored:
		return "~", render.Faint
	case res.EffectiveStatus == check.Fail:
		return "✗", render.Red
	case res.EffectiveStatus == check.Error:
		return "✗", render.Purple
	case res.EffectiveStatus == check.Warn:
		return "!", render.Yellow
	case res.EffectiveStatus == check.Pass:
		return "✓", render.Green
	}
	return "–", render.Faint
}

func (t *textWriter) attention(rs []readiness.Result) {
	if len(rs) == 0 {
		if t.r.Run.Error == "" {
			t.heading("NEEDS ATTENTION", "nothing: no check failed, errored or warned")
		}
		return
	}
	c := t.r.Counts
	var sub []string
	for _, p := range []struct {
		n         int
		one, many string
	}{{c.Fail, "failed", "failed"}, {c.Error, "error", "errors"}, {c.Warn, "warning", "warnings"}} {
		if p.n > 0 {
			sub = append(sub, strconv.Itoa(p.n)+" "+map[bool]string{true: p.one, false: p.many}[p.n == 1])
		}
	}
	t.heading("NEEDS ATTENTION", strings.Join(sub, " · "))
	for _, res := range rs {
		t.finding(res)
	}
}

func (t *textWriter) finding(res readiness.Result) {
	mark, code := statusMark(res)
	sev := strings.ToUpper(string(res.EffectiveSeverity))
	if res.Downgraded() {
		sev += " (was " + string(res.Severity) + ")"
	}
	sevCode := render.Bold
	if res.EffectiveSeverity == check.Critical {
		sevCode = render.BoldRed
	}
	gating := ""
	if res.Gating {
		gating = "  " + t.Paint(render.BoldRed, "◀ blocks release")
	}
	t.Line()
	t.Line("  ", t.Paint(code, mark+" "+render.Pad(readiness.StatusWord(res.EffectiveStatus), 5)), " ", t.Paint(sevCode, sev), "  ",
		t.Paint(render.Bold, res.ID), "  ", t.Paint(render.Faint, string(res.Category)+" · "+took(res.Took)), gating)
	const indent = "      "
	if res.Title != "" {
		t.Line(indent, res.Title)
	}
	for _, l := range wrap(res.Message, textWidth-len(indent)) {
		t.Line(indent, t.Paint(code, l))
	}
	for i, ev := range res.Evidence {
		if i == textEvidenceItems {
			t.Line(indent, t.Paint(render.Faint, "… "+plural(len(res.Evidence)-i, "more evidence item", "more evidence items")+" in readiness.html and readiness.json"))
			break
		}
		t.evidence(ev, i, len(res.Evidence))
	}
	t.labelled("fix", res.Remediation)
	t.labelled("refs", strings.Join(res.References, " · "))
	t.labelled("policy", overrideText(res))
}

// labelled writes a finding's labelled paragraph ("fix", "refs",
// "policy"), wrapped with a hanging indent.
func (t *textWriter) labelled(label, s string) {
	const indent, width = "      ", 7
	for i, l := range wrap(s, textWidth-len(indent)-width) {
		lb := ""
		if i == 0 {
			lb = label
		}
		t.Line(indent, t.Paint(render.Bold, render.Pad(lb, width)), l)
	}
}

func (t *textWriter) evidence(ev check.Evidence, i, n int) {
	const indent = "        "
	label := "evidence"
	if n > 1 {
		label += " " + strconv.Itoa(i+1) + "/" + strconv.Itoa(n)
	}
	t.Line("      ", t.Paint(render.Faint, label))
	field := func(prefix, s string) {
		for _, l := range excerpt(s, textEvidenceLines, textWidth, textEvidenceBytes) {
			if l == "" {
				t.Line(indent, t.Paint(render.Faint, strings.TrimRight(prefix, " ")))
				continue
			}
			t.Line(indent, t.Paint(render.Faint, prefix), l)
		}
	}
	field("> ", ev.Request)
	field("< ", ev.Response)
	if ev.Expected != "" || ev.Observed != "" {
		field("expected  ", ev.Expected)
		field("observed  ", ev.Observed)
	}
	field("note  ", ev.Note)
}

// table writes a compact table of results: mark, severity, id, title (or
// what extra says), and time taken; note, when extra gives one, goes on
// the lines under the row, wrapped, since a reason must not be clipped.
func (t *textWriter) table(title string, rs []readiness.Result, extra func(readiness.Result) (what, note string)) {
	if len(rs) == 0 {
		return
	}
	t.heading(title, strconv.Itoa(len(rs)))
	idw := 0
	for _, res := range rs {
		idw = max(idw, utf8.RuneCountInString(res.ID))
	}
	idw = min(idw, 32)
	const tookw = 7
	room := textWidth - 4 - 2 - 9 - idw - 2 - 2 - tookw
	for _, res := range rs {
		mark, code := statusMark(res)
		what, note := extra(res)
		if what == "" {
			what = res.Title
		}
		tk := "–"
		if res.Took > 0 {
			tk = took(res.Took)
		}
		t.Line("    ", t.Paint(code, mark), " ", render.Pad(severityWord(res), 9), render.Pad(clip(res.ID, idw), idw), "  ",
			render.Pad(clip(what, room), room), "  ", t.Paint(render.Faint, render.PadLeft(tk, tookw)))
		for _, l := range wrap(note, textWidth-8-idw-9) {
			t.Line("    ", "  ", render.Pad("", 9+idw+2), t.Paint(render.Faint, l))
		}
	}
}

func severityWord(res readiness.Result) string {
	s := string(res.EffectiveSeverity)
	if res.Downgraded() {
		s += "*"
	}
	return s
}

func (t *textWriter) categories() {
	if len(t.r.Categories) == 0 {
		return
	}
	t.heading("CATEGORIES", "")
	w := 0
	for _, c := range t.r.Categories {
		w = max(w, len(c.Category))
	}
	for _, c := range t.r.Categories {
		score, grade, bar := "n/a", "", strings.Repeat("░", 20)
		code := render.Faint
		if c.Score.Defined() {
			score, grade = strconv.Itoa(c.Score.Value), c.Score.Grade
			filled := c.Score.Value / 5
			bar = strings.Repeat("█", filled) + strings.Repeat("░", 20-filled)
			code = gradeCode(c.Score.Grade)
		}
		t.Line("    ", render.Pad(string(c.Category), w+2), render.Pad(score, 4), render.Pad(grade, 4), t.Paint(code, bar), "  ", t.Paint(render.Faint, countsText(c.Counts)))
	}
}

func gradeCode(grade string) render.Style {
	switch {
	case strings.HasPrefix(grade, "A"):
		return render.Green
	case strings.HasPrefix(grade, "B"), strings.HasPrefix(grade, "C"):
		return render.Yellow
	}
	return render.Red
}

func (t *textWriter) score() {
	s := t.r.Score
	t.Line()
	if !s.Defined() {
		t.Line("  ", t.Paint(render.Bold, "SCORE  n/a"), "  ", t.Paint(render.Faint, "nothing was scored · score v"+t.r.Run.ScoreVersion))
		return
	}
	t.Line("  ", t.Paint(render.Bold, "SCORE  "+strconv.Itoa(s.Value)+"/100  "), t.Paint(render.Bold+";"+gradeCode(s.Grade), "grade "+s.Grade), "  ",
		t.Paint(render.Faint, num(s.Earned)+" of "+num(s.Possible)+" points · score v"+t.r.Run.ScoreVersion))
	for _, l := range wrap(scoreNote, textWidth-4) {
		t.Line("    ", t.Paint(render.Faint, l))
	}
}

func (t *textWriter) gates() {
	t.heading("GATES", "")
	nw := 8
	for _, g := range t.r.Gates {
		nw = max(nw, utf8.RuneCountInString(g.Name)+2)
	}
	for _, g := range t.r.Gates {
		mark, code := "✓", render.Green
		if !g.Passed {
			mark, code = "✗", render.Red
		}
		lines := wrap(g.Detail, textWidth-6-nw)
		for i, l := range lines {
			if i == 0 {
				t.Line("    ", t.Paint(code, mark), " ", render.Pad(g.Name, nw), l)
			} else {
				t.Line("    ", "  ", render.Pad("", nw), l)
			}
		}
	}
	t.Line()
	if t.r.Passed {
		t.Line("  ", t.Paint(render.Bold+";"+render.Green, "✓ "+t.r.Verdict()))
	} else {
		t.Line("  ", t.Paint(render.BoldRed, "✗ "+t.r.Verdict()))
	}
}

// num prints a score weight: "12.5", "19".
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// clip cuts s to width runes with an ellipsis.
func clip(s string, width int) string {
	s = oneLine(s)
	if width < 1 {
		return ""
	}
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// oneLine folds whitespace runs, newlines included, into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// pack joins parts with sep into lines of at most width runes, breaking
// only between parts.
func pack(parts []string, sep string, width int) []string {
	var out []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case utf8.RuneCountInString(cur+sep+p) > width:
			out = append(out, cur)
			cur = p
		default:
			cur += sep + p
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// wrap breaks s into lines of at most width runes at spaces, keeping its
// own line breaks; a word longer than width has a line of its own.
func wrap(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(strings.TrimSpace(s), "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			continue
		}
		cur := words[0]
		for _, w := range words[1:] {
			if utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) > width {
				out = append(out, cur)
				cur = w
				continue
			}
			cur += " " + w
		}
		out = append(out, cur)
	}
	return out
}
