package report_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/reporttest"
)

// fetch matches anything a browser would fetch when the page is opened:
// a src, srcset, poster, data or xlink:href attribute, CSS url() or
// @import, a stylesheet or preload link, a script, frame, object or embed.
// Plain <a href> links are allowed: they are followed only when clicked.
var fetch = regexp.MustCompile(`(?i)(\b(src|srcset|poster|data|xlink:href|background)\s*=|url\(|@import|<link\b|<script\b|<iframe\b|<frame\b|<object\b|<embed\b|<img\b|<video\b|<audio\b|<meta[^>]+http-equiv)`)

var svgBlock = regexp.MustCompile(`(?s)<svg\b.*?</svg>`)

func TestHTMLSelfContained(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		html := string(reporttest.Render(t, report.HTML, fx.make(t)))
		if m := fetch.FindString(html); m != "" {
			t.Errorf("%s: the page fetches from somewhere: %q", fx.name, m)
		}
		for _, bad := range []string{"NaN", "Inf", "<nil>", "%!", "ZgotmplZ"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s: the page contains %q", fx.name, bad)
			}
		}
		for _, a := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
			if h := a[1]; !strings.HasPrefix(h, "#") && !strings.HasPrefix(h, "https://") {
				t.Errorf("%s: link %q is neither in-page nor https", fx.name, h)
			}
		}
		svgs := svgBlock.FindAllString(html, -1)
		if len(svgs) < 2 {
			t.Errorf("%s: %d SVGs; want the gauge and the status bar at least", fx.name, len(svgs))
		}
		for i, svg := range svgs {
			reporttest.SVG(t, fx.name+" svg "+strconv.Itoa(i), svg)
		}
	}
}

func TestHTMLContent(t *testing.T) {
	t.Parallel()
	html := string(reporttest.Render(t, report.HTML, fullReport(t)))
	order := []string{`id="verdict">FAILED`, `id="gauge"`, `>B-</text>`, `id="gate-critical"`, `href="#check-jwt-alg-none"`,
		`id="categories"`, `id="attention"`, `id="check-jwt-alg-none"`, `id="check-backup-recent"`, `id="check-headers-hsts"`,
		`id="ignored"`, `id="passed"`, `id="not-applicable"`, `id="how-scored"`}
	at := 0
	for _, s := range order {
		i := strings.Index(html[at:], s)
		if i < 0 {
			t.Fatalf("the page lacks %s after byte %d, or has it out of order", s, at)
		}
		at += i
	}
	for _, want := range []string{
		`<details class="evidence" open>`,               // a finding that blocks the release shows its evidence
		`<details class="card table-card" id="passed">`, // passes are collapsed
		`at &lt;anonymous&gt;&lt;/pre&gt;`,              // evidence is escaped, never markup
		`&#34;sleep(100) || 1&#34;`,                     // a message is escaped too
		`<a href="https://cwe.mitre.org/data/definitions/347.html" rel="noopener noreferrer">CWE-347</a>`,
		`<span class="was">medium</span>`, // a downgrade shows what it was
		`… [truncated `,                   // the long body was cut
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(html, "<pre>MongoServerError") {
		t.Error("evidence reached the page as markup")
	}
}
