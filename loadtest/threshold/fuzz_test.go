package threshold_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/taskready/taskready/loadtest/threshold"
)

// maxFuzzLen bounds fuzz inputs: longer ones take no new paths (a metric
// name is at most 128 characters) but cost the fuzzer's minimizer
// quadratic time, which stalled whole runs.
const maxFuzzLen = 256

// checkSyntaxError checks that err is a *SyntaxError pointing inside input.
func checkSyntaxError(t *testing.T, kind, input string, err error) {
	t.Helper()
	var se *threshold.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *SyntaxError", err, err)
	}
	if se.Kind != kind || se.Input != input || se.Msg == "" {
		t.Fatalf("SyntaxError %+v does not describe %s %q", se, kind, input)
	}
	if n := utf8.RuneCountInString(input); se.Column < 1 || se.Column > n+1 {
		t.Fatalf("column %d outside 1..%d for %q", se.Column, n+1, input)
	}
}

func FuzzParseExpression(f *testing.F) {
	for _, s := range []string{
		"p(95)<300", "p(99.9)<=1000", "avg<200", "med<150", "min>0", "max<2000",
		"rate<0.01", "count>100", "value>0", "rate===1", "value!=0", " p( 95 ) < 300 ",
		"count>1e6", "rate<1e-7", "value>-0", "p(0)<1", "p(100.5)<1", "p95<300",
		"average<1", "p(95)<300ms", "rate<1%", "avg<NaN", "p(95)<300 && avg<1", "avg=>1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxFuzzLen {
			return
		}
		e, err := threshold.ParseExpression(s)
		if err != nil {
			checkSyntaxError(t, "expression", s, err)
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("ParseExpression(%q) = %#v, which is not valid: %v", s, e, err)
		}
		canonical := e.String()
		again, err := threshold.ParseExpression(canonical)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canonical, s, err)
		}
		if again != e {
			t.Fatalf("round trip of %q via %q: %#v != %#v", s, canonical, again, e)
		}
		if again.String() != canonical {
			t.Fatalf("canonical form is not stable: %q then %q", canonical, again.String())
		}
		if strings.ContainsAny(canonical, " \t") {
			t.Fatalf("canonical form %q has whitespace", canonical)
		}
	})
}

func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{
		"http_req_duration", "http_req_duration{endpoint:list}", "checks",
		"http_req_duration{endpoint:list,phase:spike}", "http_req_failed{scenario:browse}",
		"m{ a : b , c:d }", `m{"a":'b'}`, `m{a:" b "}`, `m{a:"o'b"}`, "m{url:http://x:1/y}",
		"m{}", "m{a:b", "m}", "m{a:1,a:2}", "m{a:}", "{a:b}", "m {a:b}", "m{a:b}x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxFuzzLen {
			return
		}
		sel, err := threshold.ParseSelector(s)
		if err != nil {
			checkSyntaxError(t, "selector", s, err)
			return
		}
		if sel.Metric == "" || (sel.Tags != nil && len(sel.Tags) == 0) {
			t.Fatalf("ParseSelector(%q) = %#v: empty metric or empty non-nil tags", s, sel)
		}
		for i, tag := range sel.Tags {
			if tag.Key == "" || tag.Value == "" {
				t.Fatalf("ParseSelector(%q) has an empty key or value: %#v", s, sel)
			}
			if i > 0 && sel.Tags[i-1].Key >= tag.Key {
				t.Fatalf("ParseSelector(%q) tags not sorted and unique: %#v", s, sel)
			}
		}
		canonical := sel.String()
		again, err := threshold.ParseSelector(canonical)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", canonical, s, err)
		}
		if !again.Equal(sel) {
			t.Fatalf("round trip of %q via %q: %#v != %#v", s, canonical, again, sel)
		}
		if again.String() != canonical {
			t.Fatalf("canonical form is not stable: %q then %q", canonical, again.String())
		}
	})
}
