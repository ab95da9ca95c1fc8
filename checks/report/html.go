package report

import (
	"embed"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/internal/render"
)

//go:embed readiness.html.tmpl
var templateFiles embed.FS

// htmlTemplate is parsed once; html/template escapes every value by the
// context it lands in (text, attribute, SVG), so a check's message or a
// response body quoted as evidence cannot break the page.
var htmlTemplate = template.Must(template.New("readiness.html.tmpl").ParseFS(templateFiles, "readiness.html.tmpl"))

// HTML writes r as one self-contained page (readiness.html): inline CSS,
// the score gauge, status bar and category bars drawn here as inline SVG,
// no script, font, image or stylesheet fetched when it is opened, so it
// renders offline and years later. Reference links are plain links, only
// followed when clicked. What needs attention comes first, as cards with
// the evidence in collapsed sections, the fix and the references; passing
// and not-applicable checks are collapsed tables.
func HTML(w io.Writer, r *readiness.Report) error {
	if r == nil {
		return ErrNilReport
	}
	return render.HTML(w, htmlTemplate, newHTMLView(r))
}

type htmlView struct {
	Target, Verdict, VerdictClass, Banner string
	Exit                                  int
	Meta, Thresholds                      []kv
	ConfigError                           string
	Gauge                                 gaugeView
	Gates                                 []gateView
	Bar                                   []segmentView
	Counts                                []countView
	Total                                 int
	Categories                            []categoryView
	Attention                             []cardView
	AttentionSummary                      string
	Passed, NotApplicable, Ignored        []rowView
	ScoreNote, Format                     string
	Waivers                               []waiverView
	WaiverSummary                         string
	Previous                              *previousView
}

type waiverView struct{ State, Mark, Message, Source string }

// previousView is the comparison with a previous run; Class is "up",
// "down" or "same" by the score's change.
type previousView struct {
	Sub, Score, Verdict, Class string
	Rows                       []changeRow
}

type changeRow struct {
	Class, Group, ID, Href, Severity, From, To string
}

type kv struct{ K, V string }

// gaugeView is the score ring: Dash is the arc's length and Gap the rest
// of the circumference, both in SVG units.
type gaugeView struct {
	Defined           bool
	Grade, Value, Sub string
	Class, Dash, Gap  string
	Earned, Possible  string
}

type gateView struct {
	Name, Rule, Detail string
	Passed             bool
	Checks             []linkView
}

type linkView struct{ Text, Href string }

type segmentView struct {
	Class, X, W, Label string
}

type countView struct {
	Class, Label string
	N            int
}

type categoryView struct {
	Name, Score, Grade, Class, W, Counts string
	Defined                              bool
	Attention                            int
}

type cardView struct {
	Anchor, ID, Title, Category, Took, Message string
	Status, StatusClass                        string
	Severity, SeverityClass, WasSeverity       string
	Gating                                     bool
	Evidence                                   []evidenceView
	Remediation                                string
	Refs                                       []linkView
	Policy                                     string
}

type evidenceView struct {
	N                                           int
	Request, Response, Expected, Observed, Note string
}

type rowView struct {
	Anchor, ID, Title, Category, Took, Message string
	Severity, SeverityClass, WasSeverity       string
	Status, StatusClass, Reason, Source, Found string
}

// circumference of the gauge ring (radius 52).
var circumference = 2 * math.Pi * 52

func newHTMLView(r *readiness.Report) htmlView {
	v := htmlView{Target: r.Run.Target, Exit: r.ExitCode, ConfigError: r.Run.Error, ScoreNote: scoreNote,
		Format: readiness.Format + " v" + strconv.Itoa(r.Version) + " · score v" + r.Run.ScoreVersion}
	if v.Target == "" {
		v.Target = "no target"
	}
	failed := r.FailedGates()
	switch {
	case r.Passed:
		v.Verdict, v.VerdictClass = "PASSED", "passed"
		v.Banner = "Ready to ship: every gate passed."
		if r.Counts.Fail+r.Counts.Error+r.Counts.Warn > 0 {
			v.Banner = "Every gate passed; " + plural(r.Counts.Fail+r.Counts.Error+r.Counts.Warn, "finding", "findings") + " below still need attention."
		}
	case r.Run.Error != "":
		v.Verdict, v.VerdictClass = "NOT RUN", "failed"
		v.Banner = "The run could not start: nothing was verified."
	default:
		v.Verdict, v.VerdictClass = "FAILED", "failed"
		var names []string
		for _, g := range failed {
			names = append(names, g.Name)
		}
		v.Banner = "Release blocked: " + plural(len(failed), "gate", "gates") + " failed (" + strings.Join(names, ", ") + ")."
	}

	add := func(k, val string) {
		if val != "" {
			v.Meta = append(v.Meta, kv{k, val})
		}
	}
	add("started", render.Time(r.Run.Start))
	add("duration", took(r.Run.Duration))
	add("checks", strconv.Itoa(r.Counts.Total))
	add("run", r.Run.ID)
	add("harness", r.Run.ToolVersion)
	add("api build", apiBuildText(r.Run.API))
	add("policy", r.Run.Policy)
	if e := r.Run.Environment; e != nil {
		add("environment", e.Provider)
		add("not production", e.Note)
	}
	if r.Run.MinScore > 0 {
		add("minimum score", strconv.Itoa(r.Run.MinScore))
	}
	for _, t := range r.Run.Thresholds {
		v.Thresholds = append(v.Thresholds, kv{t.Name, t.Value})
	}

	s := r.Score
	v.Gauge = gaugeView{Defined: s.Defined(), Grade: "n/a", Value: "–", Class: "none", Dash: "0", Gap: num2(circumference),
		Sub: "nothing was scored", Earned: num(s.Earned), Possible: num(s.Possible)}
	if s.Defined() {
		dash := circumference * float64(s.Value) / 100
		v.Gauge.Grade, v.Gauge.Value, v.Gauge.Class = s.Grade, strconv.Itoa(s.Value), gradeClass(s.Grade)
		v.Gauge.Dash, v.Gauge.Gap = num2(dash), num2(circumference-dash)
		v.Gauge.Sub = num(s.Earned) + " of " + num(s.Possible) + " points"
	}

	for _, g := range r.Gates {
		gv := gateView{Name: g.Name, Rule: g.Rule, Detail: g.Detail, Passed: g.Passed}
		for _, id := range g.Checks {
			gv.Checks = append(gv.Checks, linkView{Text: id, Href: "#" + anchor(id)})
		}
		v.Gates = append(v.Gates, gv)
	}

	c := r.Counts
	v.Total = c.Total
	v.Counts = []countView{
		{"fail", "failed", c.Fail}, {"error", "errors", c.Error}, {"warn", "warnings", c.Warn},
		{"pass", "passed", c.Pass}, {"na", "not applicable", c.NotApplicable}, {"ignored", "ignored", c.Ignored},
	}
	if c.Total > 0 {
		x := 0.0
		for _, cv := range v.Counts {
			if cv.N == 0 {
				continue
			}
			w := 1000 * float64(cv.N) / float64(c.Total)
			v.Bar = append(v.Bar, segmentView{Class: cv.Class, X: num2(x), W: num2(w), Label: strconv.Itoa(cv.N) + " " + cv.Label})
			x += w
		}
	}

	for _, cs := range r.Categories {
		cv := categoryView{Name: cs.Category.Title(), Score: "n/a", Grade: "–", Class: "none", W: "0", Counts: countsText(cs.Counts),
			Attention: cs.Counts.Fail + cs.Counts.Error}
		if cs.Score.Defined() {
			cv.Defined = true
			cv.Score, cv.Grade, cv.Class, cv.W = strconv.Itoa(cs.Score.Value), cs.Score.Grade, gradeClass(cs.Score.Grade), strconv.Itoa(cs.Score.Value)
		}
		v.Categories = append(v.Categories, cv)
	}

	var parts []string
	for _, p := range []struct {
		n         int
		one, many string
	}{{c.Fail, "1 failed", " failed"}, {c.Error, "1 error", " errors"}, {c.Warn, "1 warning", " warnings"}} {
		switch {
		case p.n == 1:
			parts = append(parts, p.one)
		case p.n > 1:
			parts = append(parts, strconv.Itoa(p.n)+p.many)
		}
	}
	v.AttentionSummary = strings.Join(parts, " · ")

	for _, w := range r.Waivers {
		mark := "!"
		if w.State == readiness.WaiverExpired {
			mark = "✗"
		}
		v.Waivers = append(v.Waivers, waiverView{State: w.State, Mark: mark, Message: w.Message, Source: w.Source})
	}
	v.WaiverSummary = waiverCounts(r.Waivers)
	v.Previous = newPreviousView(r)

	sec := split(r)
	for _, res := range sec.attention {
		cv := cardView{Anchor: anchor(res.ID), ID: res.ID, Title: res.Title, Category: res.Category.Title(), Took: took(res.Took),
			Message: res.Message, Status: readiness.StatusWord(res.EffectiveStatus), StatusClass: statusClass(res),
			Severity: string(res.EffectiveSeverity), SeverityClass: string(res.EffectiveSeverity), Gating: res.Gating,
			Remediation: res.Remediation, Refs: refLinks(res.References), Policy: overrideText(res)}
		if res.Downgraded() {
			cv.WasSeverity = string(res.Severity)
		}
		if cv.Title == "" {
			cv.Title = res.ID
		}
		for i, ev := range res.Evidence {
			cv.Evidence = append(cv.Evidence, evidenceView{N: i + 1, Request: ev.Request, Response: ev.Response,
				Expected: ev.Expected, Observed: ev.Observed, Note: ev.Note})
		}
		v.Attention = append(v.Attention, cv)
	}
	row := func(res readiness.Result) rowView {
		rv := rowView{Anchor: anchor(res.ID), ID: res.ID, Title: res.Title, Category: res.Category.Title(), Took: took(res.Took),
			Message: res.Message, Severity: string(res.EffectiveSeverity), SeverityClass: string(res.EffectiveSeverity),
			Status: readiness.StatusWord(res.EffectiveStatus), StatusClass: statusClass(res), Found: string(res.Status)}
		if res.Downgraded() {
			rv.WasSeverity = string(res.Severity)
		}
		if res.Override != nil {
			rv.Reason, rv.Source = res.Override.Reason, res.Override.Source
		}
		return rv
	}
	for _, res := range sec.passed {
		v.Passed = append(v.Passed, row(res))
	}
	for _, res := range sec.notApplicable {
		v.NotApplicable = append(v.NotApplicable, row(res))
	}
	for _, res := range sec.ignored {
		v.Ignored = append(v.Ignored, row(res))
	}
	return v
}

func newPreviousView(r *readiness.Report) *previousView {
	c := r.Previous
	if c == nil {
		return nil
	}
	sub := []string{"run " + c.Run, "started " + render.Time(c.Start)}
	if c.Target != r.Run.Target {
		sub = append(sub, "target "+c.Target)
	}
	pv := &previousView{Sub: strings.Join(sub, " · "), Score: scoreChangeText(c, r.Score), Verdict: verdictChangeText(c, r.Passed), Class: "same"}
	if d := c.ScoreDelta; d != nil && *d > 0 {
		pv.Class = "up"
	} else if d != nil && *d < 0 {
		pv.Class = "down"
	}
	for _, g := range changeGroups(c) {
		for _, ch := range g.changes {
			row := changeRow{Class: strings.ReplaceAll(g.title, " ", "-"), Group: g.title, ID: ch.ID, Severity: string(ch.Severity), From: ch.From, To: ch.To}
			if ch.To != readiness.NotRun {
				row.Href = "#" + anchor(ch.ID)
			}
			pv.Rows = append(pv.Rows, row)
		}
	}
	return pv
}

// anchor is the fragment id of a check's card or row.
func anchor(id string) string {
	var b strings.Builder
	b.WriteString("check-")
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func statusClass(res readiness.Result) string {
	switch {
	case res.Ignored:
		return "ignored"
	case res.EffectiveStatus == check.NotApplicable:
		return "na"
	}
	return string(res.EffectiveStatus)
}

// gradeClass picks the colour of a grade: A green, B lime, C amber, D
// orange, F red.
func gradeClass(grade string) string {
	if grade == "" || grade == "n/a" {
		return "none"
	}
	return "g" + strings.ToLower(grade[:1])
}

func refLinks(refs []string) []linkView {
	var out []linkView
	for _, ref := range refs {
		out = append(out, linkView{Text: ref, Href: ReferenceURL(ref)})
	}
	return out
}

// num2 prints an SVG coordinate with two decimals; the inputs are finite
// by construction (a score from 0 to 100, counts over a non-zero total).
func num2(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}
