package promql_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/promql"
)

func TestSelectors(t *testing.T) {
	tests := []struct {
		name, expr string
		want       []string // Selector.String of each, in order
	}{
		{"a bare metric", `up`, []string{`up`}},
		{"matchers of every kind", `taskapi_http_requests_total{job="api", status_class=~"5..", route!="/livez", method!~'GET|HEAD'}`,
			[]string{`taskapi_http_requests_total{job="api",status_class=~"5..",route!="/livez",method!~"GET|HEAD"}`}},
		{"an aggregation with by, a range and a ratio",
			"sum by (job) (rate(a_total{status_class=\"5xx\"}[5m]))\n  / sum by (job) (rate(a_total[5m]))",
			[]string{`a_total{status_class="5xx"}`, `a_total`}},
		{"by after the aggregation", `sum(rate(x[1m])) without (instance, pod)`, []string{`x`}},
		{"vector matching keeps label lists out", `a / on (job, instance) group_left (limiter) b`, []string{`a`, `b`}},
		{"ignoring and bool", `a > bool ignoring (le) b`, []string{`a`, `b`}},
		{"and, or, unless", `(a > 1 and b < 2) or c unless d`, []string{`a`, `b`, `c`, `d`}},
		{"a recording rule name with colons", `job:slo_errors:ratio_rate1h{job="api"} > (14.4 * 0.01)`, []string{`job:slo_errors:ratio_rate1h{job="api"}`}},
		{"functions and strings are not selectors", `label_replace(vector(1), "dst", "$1", "src", "(.*)") + time()`, nil},
		{"a subquery and offset", `max_over_time(rate(x[5m])[1h:1m] offset 30m)`, []string{`x`}},
		{"@ modifier and numbers", `x @ 1609746000 + 1e3 + 0x1f + .5 + Inf - NaN`, []string{`x`}},
		{"__name__ names the metric", `{__name__="up", job="a"}`, []string{`up{job="a"}`}},
		{"a regex __name__ stays a matcher", `{__name__=~"taskapi_.*"}`, []string{`{__name__=~"taskapi_.*"}`}},
		{"a quoted metric name", `{"my.metric", job="a"}`, []string{`my.metric{job="a"}`}},
		{"a comment", "x # not y{a=\"b\"}\n+ z", []string{`x`, `z`}},
		{"escapes in values", `x{a="q\"uote", b='it\'s', c=` + "`raw\\n`" + `}`, []string{`x{a="q\"uote",b="it's",c="raw\\n"}`}},
		{"a histogram bucket", `histogram_quantile(0.95, sum by (le) (rate(d_bucket{le="0.25"}[5m])))`, []string{`d_bucket{le="0.25"}`}},
		{"a trailing comma", `x{a="1",}`, []string{`x{a="1"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := promql.Selectors(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, g := range got {
				s = append(s, g.String())
			}
			if strings.Join(s, " ; ") != strings.Join(tt.want, " ; ") {
				t.Errorf("Selectors(%q) = %q; want %q", tt.expr, s, tt.want)
			}
		})
	}
}

func TestSelectorsErrors(t *testing.T) {
	for _, expr := range []string{
		`x{a="1"`,        // unclosed braces
		`x{a=1}`,         // unquoted value
		`x{a}`,           // no operator
		`x{a="1" b="2"}`, // no comma
		`x{a=~"("}`,      // bad regexp
		`rate(x[5m)`,     // unclosed bracket
		`x{a="1}`,        // unclosed string
		"x{a=\"1\n\"}",   // a line break in a string
		`x}`,             // stray brace
		`{"a", "b"}`,     // two names
	} {
		if _, err := promql.Selectors(expr); !errors.Is(err, promql.ErrSyntax) {
			t.Errorf("Selectors(%q) error = %v; want ErrSyntax", expr, err)
		}
	}
}

func TestMatches(t *testing.T) {
	sels, err := promql.Selectors(`x{job=~"api|web", env!~"dev.*", status_class="5xx", route!="/livez"}`)
	if err != nil {
		t.Fatal(err)
	}
	s := sels[0]
	for _, tt := range []struct {
		label, value string
		want         bool
	}{
		{"job", "api", true},
		{"job", "web", true},
		{"job", "apiserver", false}, // anchored, as Prometheus anchors it
		{"job", "", false},
		{"env", "prod", true},
		{"env", "development", false},
		{"status_class", "5xx", true},
		{"status_class", "4xx", false},
		{"route", "/livez", false},
		{"route", "/api/tasks", true},
		{"instance", "anything", true}, // no matcher on it
	} {
		if got := s.Accepts(tt.label, tt.value); got != tt.want {
			t.Errorf("Accepts(%s, %q) = %v; want %v", tt.label, tt.value, got, tt.want)
		}
	}
	// A matcher built by hand compiles its expression when asked.
	if !(promql.Matcher{Label: "job", Op: "=~", Value: "a.*"}).Matches("api") {
		t.Error("a hand-built regexp matcher does not match")
	}
	if (promql.Matcher{Label: "job", Op: "=~", Value: "("}).Matches("(") {
		t.Error("an invalid hand-built regexp matches")
	}
}

// FuzzSelectors: no input panics, and what a selector prints reads back
// as the same selector.
func FuzzSelectors(f *testing.F) {
	for _, s := range []string{
		`sum by (job) (rate(a_total{status_class="5xx"}[5m])) / sum by (job) (rate(a_total[5m]))`,
		`{__name__="up", job=~"a|b"}`, `x{a='it\'s'}`, "x{a=`raw`}", `histogram_quantile(0.9, rate(b[1h:5m] offset 1d))`,
		`{"my.metric"}`, `a / on (job) group_left b`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		sels, err := promql.Selectors(expr)
		if err != nil {
			if !errors.Is(err, promql.ErrSyntax) {
				t.Fatalf("error %v is not ErrSyntax", err)
			}
			return
		}
		for _, s := range sels {
			if s.Metric == "" && len(s.Matchers) == 0 {
				continue // "{}": nothing to print back
			}
			if s.Metric != "" && !validName(s.Metric) {
				continue // a quoted name prints unquoted, and reads back otherwise
			}
			back, err := promql.Selectors(s.String())
			if err != nil || len(back) != 1 || back[0].String() != s.String() {
				t.Fatalf("%q: selector %s reads back as %v (%v)", expr, s, back, err)
			}
		}
	})
}

// validName is a metric name PromQL reads without quotes.
func validName(s string) bool {
	for i, c := range s {
		letter := c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	low := strings.ToLower(s)
	return low != "inf" && low != "nan" && low != "and" && low != "or" && low != "unless" && low != "bool" &&
		low != "offset" && low != "atan2" && low != "by" && low != "without" && low != "on" && low != "ignoring" &&
		low != "group_left" && low != "group_right"
}
