package report

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/internal/buildinfo"
)

// ErrNilReport is returned by every writer given a nil report.
var ErrNilReport = errors.New("report: nil report")

// The file names WriteFiles writes, which CI jobs pick up by name.
const (
	JSONFile     = "readiness.json"
	MarkdownFile = "readiness.md"
	JUnitFile    = "junit.xml"
	SARIFFile    = "readiness.sarif"
	HTMLFile     = "readiness.html"
)

// WriteFiles writes every file report of r into dir (created if needed):
// readiness.json, readiness.md, junit.xml, readiness.sarif,
// readiness.html and readiness.prom. It returns the paths written.
func WriteFiles(dir string, r *readiness.Report) ([]string, error) {
	if r == nil {
		return nil, ErrNilReport
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range []struct {
		name  string
		write func(w *strings.Builder) error
	}{
		{JSONFile, func(w *strings.Builder) error { return JSON(w, r) }},
		{MarkdownFile, func(w *strings.Builder) error { return Markdown(w, r) }},
		{JUnitFile, func(w *strings.Builder) error { return JUnit(w, r) }},
		{SARIFFile, func(w *strings.Builder) error { return SARIF(w, r) }},
		{HTMLFile, func(w *strings.Builder) error { return HTML(w, r) }},
		{MetricsFile, func(w *strings.Builder) error { return Metrics(w, r) }},
	} {
		var b strings.Builder
		if err := f.write(&b); err != nil {
			return paths, err
		}
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// sections are the results as every report groups them: what needs
// attention (failures, errors, warnings), then passes, not-applicable and
// ignored results, each in the report's order.
type sections struct {
	attention, passed, notApplicable, ignored []readiness.Result
}

func split(r *readiness.Report) sections {
	var s sections
	for _, res := range r.Results {
		switch {
		case res.Ignored:
			s.ignored = append(s.ignored, res)
		case res.Attention():
			s.attention = append(s.attention, res)
		case res.EffectiveStatus == check.NotApplicable:
			s.notApplicable = append(s.notApplicable, res)
		default:
			s.passed = append(s.passed, res)
		}
	}
	return s
}

// owaspAPI2023 are the page names of the OWASP API Security Top 10 2023.
var owaspAPI2023 = map[string]string{
	"1": "0xa1-broken-object-level-authorization", "2": "0xa2-broken-authentication",
	"3": "0xa3-broken-object-property-level-authorization", "4": "0xa4-unrestricted-resource-consumption",
	"5": "0xa5-broken-function-level-authorization", "6": "0xa6-unrestricted-access-to-sensitive-business-flows",
	"7": "0xa7-server-side-request-forgery", "8": "0xa8-security-misconfiguration",
	"9": "0xa9-improper-inventory-management", "10": "0xaa-unsafe-consumption-of-apis",
}

var (
	reURL   = regexp.MustCompile(`^https?://\S+$`)
	reCWE   = regexp.MustCompile(`^CWE-(\d+)\b`)
	reRFC   = regexp.MustCompile(`^RFC ?(\d+)(?:\s*§\s*([0-9.]*[0-9]))?`)
	reOWASP = regexp.MustCompile(`^OWASP API(\d+):2023\b`)
	reASVS  = regexp.MustCompile(`^ASVS 5\.0\b`)
	reDraft = regexp.MustCompile(`^(draft-[a-z0-9-]+[a-z0-9])`)
)

// ReferenceURL is a link for a reference when it is a URL or a standard
// id whose address is known by its form (CWE, RFC with section, OWASP API
// Top 10 2023, ASVS 5.0, IETF drafts); "" otherwise, and the reference is
// shown as text.
func ReferenceURL(ref string) string {
	ref = strings.TrimSpace(ref)
	switch {
	case reURL.MatchString(ref):
		return ref
	case reCWE.MatchString(ref):
		return "https://cwe.mitre.org/data/definitions/" + reCWE.FindStringSubmatch(ref)[1] + ".html"
	case reRFC.MatchString(ref):
		m := reRFC.FindStringSubmatch(ref)
		u := "https://www.rfc-editor.org/rfc/rfc" + m[1]
		if m[2] != "" {
			u += "#section-" + m[2]
		}
		return u
	case reOWASP.MatchString(ref):
		if page, ok := owaspAPI2023[reOWASP.FindStringSubmatch(ref)[1]]; ok {
			return "https://owasp.org/API-Security/editions/2023/en/" + page + "/"
		}
	case reASVS.MatchString(ref):
		return "https://github.com/OWASP/ASVS/tree/master/5.0/en"
	case reDraft.MatchString(ref):
		return "https://datatracker.ietf.org/doc/" + reDraft.FindStringSubmatch(ref)[1] + "/"
	}
	return ""
}

// excerpt is s cut to at most maxLines lines of at most lineWidth runes
// and maxBytes bytes in all, saying what it left out, for the reports
// people read; the JSON and the HTML keep all the evidence the report
// holds.
func excerpt(s string, maxLines, lineWidth, maxBytes int) []string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	var out []string
	used := 0
	for i, l := range lines {
		if i == maxLines || used >= maxBytes {
			rest := 0
			for _, r := range lines[i:] {
				rest += len(r) + 1
			}
			out = append(out, "… ("+strconv.Itoa(len(lines)-i)+" more lines, "+strconv.Itoa(rest)+" bytes)")
			break
		}
		l = strings.ReplaceAll(l, "\t", "  ")
		if utf8.RuneCountInString(l) > lineWidth {
			kept := string([]rune(l)[:lineWidth-1])
			l = kept + "… [+" + strconv.Itoa(len(l)-len(kept)) + " bytes]"
		}
		if used+len(l) > maxBytes {
			l = readiness.Truncate(l, max(0, maxBytes-used))
		}
		used += len(l) + 1
		out = append(out, l)
	}
	return out
}

// took is a duration for people: "120ms", "1.52s".
func took(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return readiness.Round(d).String()
}

// plural is "1 check", "2 checks".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// overrideText says what the policy did to r, and why, who answers for
// it and until when; or that the waiver expired and no longer applies.
func overrideText(r readiness.Result) string {
	o := r.Override
	if o == nil {
		return ""
	}
	var what string
	switch o.Action {
	case readiness.ActionIgnore:
		what = "ignored (found " + string(r.Status) + ")"
	case readiness.ActionWarn:
		what = "warn only"
		if r.Status == check.Fail {
			what = "warn only (the failure counts as a warning)"
		}
	case readiness.ActionDowngrade:
		what = "downgraded " + string(r.Severity) + " → " + string(o.Severity)
	default:
		what = string(o.Action)
	}
	if r.WaiverExpired {
		what = "waiver expired on " + o.Expires + ", no longer applied (was " + string(o.Action) + ")"
	}
	var about []string
	if o.Owner != "" {
		about = append(about, "owner "+o.Owner)
	}
	if o.Expires != "" && !r.WaiverExpired {
		about = append(about, "expires "+o.Expires)
	}
	if o.Source != "" {
		about = append(about, o.Source)
	}
	s := what + ": " + o.Reason
	if len(about) > 0 {
		s += " (" + strings.Join(about, ", ") + ")"
	}
	return s
}

// apiBuildText is the API's build for a report's header: "v1.2.0
// 1a2b3c4d5e6f", "unknown", or "" when the run did not ask.
func apiBuildText(b *check.Build) string {
	if b == nil {
		return ""
	}
	i := buildinfo.Info{Version: b.Version, Revision: b.Revision}
	if i.Revision == buildinfo.Unknown {
		i.Revision = ""
	}
	if i.Version == buildinfo.Unknown && i.Revision != "" {
		i.Version = ""
	}
	return i.Short()
}

// scoreChangeText is "score 71 → 62 (-9)" for the comparison with a
// previous run.
func scoreChangeText(c *readiness.Comparison, now readiness.Score) string {
	scoreOf := func(s readiness.Score) string {
		if !s.Defined() {
			return "n/a"
		}
		return strconv.Itoa(s.Value)
	}
	s := "score " + scoreOf(c.Score) + " → " + scoreOf(now)
	if c.ScoreDelta != nil {
		switch d := *c.ScoreDelta; {
		case d > 0:
			s += " (+" + strconv.Itoa(d) + ")"
		case d < 0:
			s += " (" + strconv.Itoa(d) + ")"
		default:
			s += " (unchanged)"
		}
	}
	return s
}

// verdictChangeText is "was PASSED, now FAILED" or "still PASSED".
func verdictChangeText(c *readiness.Comparison, passed bool) string {
	word := map[bool]string{true: "PASSED", false: "FAILED"}
	if c.Passed == passed {
		return "still " + word[passed]
	}
	return "was " + word[c.Passed] + ", now " + word[passed]
}

// waiverCounts is "1 expired · 2 expiring".
func waiverCounts(ws []readiness.Waiver) string {
	expired := 0
	for _, w := range ws {
		if w.State == readiness.WaiverExpired {
			expired++
		}
	}
	var parts []string
	if expired > 0 {
		parts = append(parts, strconv.Itoa(expired)+" expired")
	}
	if n := len(ws) - expired; n > 0 {
		parts = append(parts, strconv.Itoa(n)+" expiring")
	}
	return strings.Join(parts, " · ")
}

// changeGroup is one list of the comparison, titled for every report.
type changeGroup struct {
	title   string
	mark    string // the terminal's mark of its rows
	changes []readiness.StatusChange
}

// changeGroups are the comparison's lists that have rows, worst first.
func changeGroups(c *readiness.Comparison) []changeGroup {
	var out []changeGroup
	for _, g := range []changeGroup{{"newly failing", "✗", c.NewlyFailing}, {"newly passing", "✓", c.NewlyPassing}, {"other changes", "·", c.Changed}} {
		if len(g.changes) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// severityText is the effective severity, with the original after a
// downgrade: "low (was high)".
func severityText(r readiness.Result) string {
	if r.Downgraded() {
		return string(r.EffectiveSeverity) + " (was " + string(r.Severity) + ")"
	}
	return string(r.EffectiveSeverity)
}

// countsText is "3 pass · 1 warn · 2 fail", leaving out zeros.
func countsText(c readiness.Counts) string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{c.Fail, "fail"}, {c.Error, "error"}, {c.Warn, "warn"}, {c.Pass, "pass"}, {c.NotApplicable, "n/a"}, {c.Ignored, "ignored"}} {
		if p.n > 0 {
			parts = append(parts, strconv.Itoa(p.n)+" "+p.what)
		}
	}
	if len(parts) == 0 {
		return "no checks"
	}
	return strings.Join(parts, " · ")
}

// scoreNote explains the score in one line.
const scoreNote = "severity-weighted pass ratio: critical 10, high 5, medium 3, low 1, info 0; a warning earns half; not-applicable, errors and ignored checks are not scored"
