package threshold_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/threshold"
)

func TestParseSelectorValid(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("m", 128)
	tests := []struct {
		in, canonical string
		want          threshold.Selector
	}{
		{"http_req_duration", "http_req_duration", threshold.Selector{Metric: "http_req_duration"}},
		{"checks", "checks", threshold.Selector{Metric: "checks"}},
		{"iterations", "iterations", threshold.Selector{Metric: "iterations"}},
		{"dropped_iterations", "dropped_iterations", threshold.Selector{Metric: "dropped_iterations"}},
		{"_custom_2", "_custom_2", threshold.Selector{Metric: "_custom_2"}},
		{long, long, threshold.Selector{Metric: long}},
		{"http_req_duration{endpoint:list}", "http_req_duration{endpoint:list}",
			sel("http_req_duration", "endpoint", "list")},
		{"http_req_failed{scenario:browse}", "http_req_failed{scenario:browse}",
			sel("http_req_failed", "scenario", "browse")},
		{"http_req_duration{phase:spike,endpoint:list}", "http_req_duration{endpoint:list,phase:spike}",
			sel("http_req_duration", "endpoint", "list", "phase", "spike")},
		{"http_req_duration{ endpoint : list ,\tphase:spike }", "http_req_duration{endpoint:list,phase:spike}",
			sel("http_req_duration", "endpoint", "list", "phase", "spike")},
		{`http_req_duration{"endpoint":"list"}`, "http_req_duration{endpoint:list}",
			sel("http_req_duration", "endpoint", "list")},
		{`http_req_duration{endpoint:'list'}`, "http_req_duration{endpoint:list}",
			sel("http_req_duration", "endpoint", "list")},
		{"http_req_duration{load_zone:amazon:us:ashburn}", "http_req_duration{load_zone:amazon:us:ashburn}",
			sel("http_req_duration", "load_zone", "amazon:us:ashburn")},
		{"http_req_duration{url:http://localhost:5000/tasks?page=2}", "http_req_duration{url:http://localhost:5000/tasks?page=2}",
			sel("http_req_duration", "url", "http://localhost:5000/tasks?page=2")},
		{"http_req_duration{name:get tasks}", "http_req_duration{name:get tasks}",
			sel("http_req_duration", "name", "get tasks")},
		{`http_req_duration{name:" padded "}`, `http_req_duration{name:" padded "}`,
			sel("http_req_duration", "name", " padded ")},
		{`http_req_duration{name:"o'brien"}`, `http_req_duration{name:"o'brien"}`,
			sel("http_req_duration", "name", "o'brien")},
		{`http_req_duration{name:'say "hi"'}`, `http_req_duration{name:'say "hi"'}`,
			sel("http_req_duration", "name", `say "hi"`)},
		{"http_req_duration{expected_response:true}", "http_req_duration{expected_response:true}",
			sel("http_req_duration", "expected_response", "true")},
		{"my_trend{tâche:créer}", "my_trend{tâche:créer}", sel("my_trend", "tâche", "créer")},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := threshold.ParseSelector(tt.in)
			if err != nil {
				t.Fatalf("ParseSelector(%q) error: %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseSelector(%q) = %#v; want %#v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.canonical {
				t.Errorf("ParseSelector(%q).String() = %q; want %q", tt.in, s, tt.canonical)
			}
			again, err := threshold.ParseSelector(got.String())
			if err != nil || !again.Equal(got) {
				t.Errorf("round trip of %q: %#v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseSelectorErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in  string
		col int
		msg string
	}{
		{"", 1, "empty selector"},
		{"{endpoint:list}", 1, `missing metric name before '{'`},
		{" http_req_duration", 1, "whitespace before the metric name"},
		{"http_req_duration ", 18, "whitespace after the metric name"},
		{"http_req_duration {a:b}", 18, `whitespace between the metric name and "{" is not allowed (k6 would look for a metric named "http_req_duration ")`},
		{"http req", 5, "whitespace inside a metric name"},
		{"9lives", 1, `must start with a letter or "_", not '9'`},
		{"http-req", 5, `character '-' is not allowed in a metric name`},
		{strings.Repeat("m", 129), 129, "metric name is 129 characters long; k6 allows at most 128"},
		{"m}", 2, `"}" without a matching "{"`},
		{"m{}", 2, `empty tag list "{}"`},
		{"m{ }", 2, `empty tag list "{}"`},
		{"m{a:b", 6, `missing "}" to close the tag list opened at column 2`},
		{"m{a:b,c", 8, `missing "}"`},
		{"m{a", 4, `missing "}"`},
		{"m{a:b}}", 7, `unexpected "}" after the closing "}"`},
		{"m{a:b}x", 7, `unexpected "x" after the closing "}"`},
		{"m{:b}", 3, `empty tag key before ":"`},
		{`m{"":b}`, 3, "empty tag key"},
		{"m{a:}", 5, `empty value for tag "a"`},
		{"m{a:", 5, `empty value for tag "a"`},
		{"m{a: ", 6, `empty value for tag "a"`},
		{"m{a: }", 6, `empty value for tag "a"`},
		{`m{a:""}`, 5, `empty value for tag "a"`},
		{"m{a}", 4, `tag "a" has no value; write a:value`},
		{"m{a:b,}", 7, `trailing "," before "}"`},
		{"m{,a:b}", 3, `empty tag before ","`},
		{"m{a:1,a:2}", 7, `duplicate tag key "a" (first set at column 3)`},
		{"m{a:1, a :2}", 8, `duplicate tag key "a"`},
		{"m{a:{b}}", 5, `"{" is not allowed inside a tag list`},
		{"m{{a:b}}", 3, `"{" is not allowed inside a tag list`},
		{`m{a:"b`, 5, "unterminated quote in a tag value"},
		{`m{a:"b}`, 7, `'}' is not allowed in a tag value, quoted or not`},
		{`m{a:"b,c"}`, 7, `',' is not allowed in a tag value`},
		{`m{"a:b":c}`, 5, `':' is not allowed in a tag key`},
		{`m{a:b"c"}`, 6, "quote inside a tag value; quote the whole value"},
		{`m{a"b":c}`, 4, "quote inside a tag key; quote the whole key"},
		{`m{a:"b"c}`, 8, `unexpected "c}" after the quoted tag value`},
		{"m{a:b\x00}", 6, "control character U+0000 is not allowed in a tag value"},
		{"m{a\x01:b}", 4, "control character U+0001 is not allowed in a tag key"},
		{"m{a:\xff}", 5, "invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := threshold.ParseSelector(tt.in)
			var se *threshold.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSelector(%q) error = %v; want a *SyntaxError", tt.in, err)
			}
			if se.Kind != "selector" || se.Input != tt.in || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("ParseSelector(%q) error = %q (column %d); want column %d with %q", tt.in, err, se.Column, tt.col, tt.msg)
			}
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := threshold.ParseSelector("http_req_duration{endpoint:}")
	want := `threshold selector "http_req_duration{endpoint:}": column 28: empty value for tag "endpoint"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v; want %s", err, want)
	}
}

func TestSelectorTagAndMatches(t *testing.T) {
	t.Parallel()
	s := mustSelector(t, "http_req_duration{phase:spike,endpoint:list}")
	if v, ok := s.Tag("phase"); !ok || v != "spike" {
		t.Errorf("Tag(phase) = %q, %t; want spike, true", v, ok)
	}
	if _, ok := s.Tag("status"); ok {
		t.Error("Tag(status) found; want not found")
	}
	tests := []struct {
		tags map[string]string
		want bool
	}{
		{map[string]string{"endpoint": "list", "phase": "spike", "status": "200"}, true},
		{map[string]string{"endpoint": "list", "phase": "spike"}, true},
		{map[string]string{"endpoint": "list"}, false},
		{map[string]string{"endpoint": "list", "phase": "steady"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := s.Matches(tt.tags); got != tt.want {
			t.Errorf("Matches(%v) = %t; want %t", tt.tags, got, tt.want)
		}
	}
	if !mustSelector(t, "checks").Matches(nil) {
		t.Error("a selector without tags must match every sample")
	}
}

// sel builds a Selector from a metric and key, value pairs given in key order.
func sel(metric string, kv ...string) threshold.Selector {
	s := threshold.Selector{Metric: metric}
	for i := 0; i < len(kv); i += 2 {
		s.Tags = append(s.Tags, threshold.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return s
}

func mustSelector(tb testing.TB, s string) threshold.Selector {
	tb.Helper()
	sel, err := threshold.ParseSelector(s)
	if err != nil {
		tb.Fatal(err)
	}
	return sel
}
