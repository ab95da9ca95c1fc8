package threshold_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/threshold"
)

func TestParseString(t *testing.T) {
	t.Parallel()
	got, err := threshold.Parse("http_req_duration{endpoint:list}", "p(95) < 300")
	if err != nil {
		t.Fatal(err)
	}
	want := threshold.Threshold{
		Selector: sel("http_req_duration", "endpoint", "list"),
		Expr:     mustExpr(t, "p(95)<300"),
		Source:   "p(95) < 300",
	}
	if !equalThreshold(got, want) {
		t.Errorf("Parse = %+v; want %+v", got, want)
	}
	if s, want := got.String(), "http_req_duration{endpoint:list} p(95)<300"; s != want {
		t.Errorf("String() = %q; want %q", s, want)
	}
}

func TestParseObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		item  any
		abort bool
		delay time.Duration
	}{
		{map[string]any{"threshold": "p(99)<1000"}, false, 0},
		{map[string]any{"threshold": "p(99)<1000", "abortOnFail": true}, true, 0},
		{map[string]any{"threshold": "p(99)<1000", "abortOnFail": false, "delayAbortEval": nil}, false, 0},
		{map[string]any{"threshold": "p(99)<1000", "abortOnFail": true, "delayAbortEval": "10s"}, true, 10 * time.Second},
		{map[string]any{"threshold": "p(99)<1000", "abortOnFail": true, "delayAbortEval": "1m"}, true, time.Minute},
		{map[string]any{"threshold": "p(99)<1000", "abortOnFail": true, "delayAbortEval": " 1m30s "}, true, 90 * time.Second},
		{map[string]any{"threshold": "p(99)<1000", "abortOnFail": true, "delayAbortEval": "1d"}, true, 24 * time.Hour},
		{map[string]any{"threshold": "p(99)<1000", "abortOnFail": true, "delayAbortEval": "1d12h"}, true, 36 * time.Hour},
		{map[any]any{"threshold": "p(99)<1000", "abortOnFail": true, "delayAbortEval": "500ms"}, true, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		got, err := threshold.Parse("http_req_duration{phase:spike}", tt.item)
		if err != nil {
			t.Errorf("Parse(%v) error: %v", tt.item, err)
			continue
		}
		want := threshold.Threshold{
			Selector:       sel("http_req_duration", "phase", "spike"),
			Expr:           mustExpr(t, "p(99)<1000"),
			AbortOnFail:    tt.abort,
			DelayAbortEval: tt.delay,
			Source:         "p(99)<1000",
		}
		if !equalThreshold(got, want) {
			t.Errorf("Parse(%v) = %+v; want %+v", tt.item, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	obj := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		key  string
		item any
		msg  string
	}{
		// item types
		{"checks", 300.0, `thresholds["checks"]: threshold item must be a string such as "p(95)<300" or an object {threshold: "p(95)<300", abortOnFail: true}; got number 300`},
		{"checks", 300, "got number 300"},
		{"checks", true, "got boolean true"},
		{"checks", nil, "got null"},
		{"checks", struct{}{}, "got a value of type struct {}"},
		{"checks", []any{"rate>0.9"}, "threshold item is a list; each element of the list under a key is one threshold"},
		{"checks", []string{"rate>0.9"}, "threshold item is a list"},
		// object fields
		{"checks", obj("abortOnFail", true), `threshold object has no "threshold" field`},
		{"checks", obj("threshold", 0.9), `"threshold" must be a string such as "p(95)<300"; got number 0.9`},
		{"checks", obj("threshold", "rate>0.9", "abortOnFail", "true"), `"abortOnFail" must be true or false; got string "true"`},
		{"checks", obj("threshold", "rate>0.9", "abortOnFail", true, "delayAbortEval", 10),
			`"delayAbortEval" must be a duration string with a unit, such as "10s"; got number 10 (k6 would read a bare number as milliseconds)`},
		{"checks", obj("threshold", "rate>0.9", "abortOnFail", true, "delayAbortEval", "10"),
			`"delayAbortEval": "10" has no unit; write "10s" for seconds`},
		{"checks", obj("threshold", "rate>0.9", "abortOnFail", true, "delayAbortEval", ""), "empty duration"},
		{"checks", obj("threshold", "rate>0.9", "abortOnFail", true, "delayAbortEval", "soon"),
			`"soon" is not a duration such as "10s", "1m30s" or "1d"`},
		{"checks", obj("threshold", "rate>0.9", "abortOnFail", true, "delayAbortEval", "xd"), `"xd" is not a duration`},
		{"checks", obj("threshold", "rate>0.9", "abortOnFail", true, "delayAbortEval", "-5s"), `"-5s" is negative`},
		{"checks", obj("threshold", "rate>0.9", "delayAbortEval", "10s"),
			`"delayAbortEval" only delays abortOnFail; set abortOnFail: true or remove it`},
		{"checks", obj("threshold", "rate>0.9", "abortonfail", true), `unknown field "abortonfail" in threshold object; did you mean "abortOnFail"?`},
		{"checks", obj("threshold", "rate>0.9", "abortOnFail", true, "delayAbort", "1s"), `did you mean "delayAbortEval"?`},
		{"checks", obj("expr", "rate>0.9"), `unknown field "expr" in threshold object; did you mean "threshold"?`},
		{"checks", obj("threshold", "rate>0.9", "severity", "high"), `unknown field "severity" in threshold object (fields: threshold, abortOnFail, delayAbortEval)`},
		{"checks", map[any]any{1: "rate>0.9"}, "threshold object has a non-string key 1 (int)"},
		// expressions, and their fit to k6 built-in metrics
		{"http_req_duration", "p95<300", `thresholds["http_req_duration"]: threshold expression "p95<300": column 1: unknown aggregation "p95"; did you mean "p(95)"?`},
		{"http_req_failed", "p(95)<1", "http_req_failed is a rate metric: p(95) does not apply to it; use rate (for example rate<0.01)"},
		{"http_req_failed{scenario:browse}", "count<1", "http_req_failed is a rate metric: count does not apply"},
		{"checks", "value>0.9", "checks is a rate metric"},
		{"iterations", "avg>1", "iterations is a counter metric: avg does not apply to it; use count, rate (for example count>0)"},
		{"dropped_iterations", "value<1", "dropped_iterations is a counter metric"},
		{"vus", "p(95)<10", "vus is a gauge metric: p(95) does not apply to it; use value (for example value>0)"},
		{"http_req_duration", "rate<0.01", "http_req_duration is a trend metric: rate does not apply to it; use avg, min, med, max, p(N) (for example p(95)<300)"},
		// selectors
		{"http_req_duration{endpoint:}", "p(95)<300", `threshold selector "http_req_duration{endpoint:}": column 28: empty value for tag "endpoint"`},
	}
	for _, tt := range tests {
		_, err := threshold.Parse(tt.key, tt.item)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%q, %#v) error = %v; want it to contain %q", tt.key, tt.item, err, tt.msg)
		}
	}
}

func TestParseKeepsSyntaxError(t *testing.T) {
	t.Parallel()
	_, err := threshold.Parse("checks", "rate>>0.9")
	var se *threshold.SyntaxError
	if !errors.As(err, &se) || se.Column != 6 {
		t.Errorf("Parse error = %v; want a *SyntaxError at column 6", err)
	}
}

func TestParseCustomMetricAnyAggregation(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"rate<0.1", "p(95)<300", "count>0", "value>0"} {
		if _, err := threshold.Parse("recovery_time{phase:spike}", expr); err != nil {
			t.Errorf("Parse(custom metric, %q) error: %v", expr, err)
		}
	}
}

func TestParseList(t *testing.T) {
	t.Parallel()
	got, err := threshold.ParseList("http_req_duration{endpoint:list}", []any{
		"p(95)<300",
		map[string]any{"threshold": "avg<200", "abortOnFail": true, "delayAbortEval": "10s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].String() != "http_req_duration{endpoint:list} p(95)<300" ||
		got[1].String() != "http_req_duration{endpoint:list} avg<200" || !got[1].AbortOnFail {
		t.Errorf("ParseList = %+v", got)
	}
	if got, err := threshold.ParseList("checks", []string{"rate>0.99", "rate>0.9"}); err != nil || len(got) != 2 {
		t.Errorf("ParseList([]string) = %v, %v; want 2 thresholds", got, err)
	}
	if got, err := threshold.ParseList("http_req_duration{endpoint:create}", []any{}); err != nil || len(got) != 0 {
		t.Errorf("ParseList(empty) = %v, %v; want no threshold and no error", got, err)
	}
	errs := []struct {
		key   string
		items any
		msg   string
	}{
		{"checks", "rate>0.99", `thresholds["checks"] must be a list of thresholds such as ["p(95)<300"]; got string "rate>0.99"`},
		{"checks", map[string]any{"threshold": "rate>0.99"}, "got an object"},
		{"checks", []any{"rate>0.99", "rate>>0.9"}, `thresholds["checks"][1]: threshold expression "rate>>0.9"`},
		{"checks{", []any{}, `threshold selector "checks{"`},
	}
	for _, tt := range errs {
		if _, err := threshold.ParseList(tt.key, tt.items); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseList(%q, %#v) error = %v; want it to contain %q", tt.key, tt.items, err, tt.msg)
		}
	}
}

func TestBuiltinType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		metric string
		want   threshold.MetricType
	}{
		{"http_req_duration", threshold.Trend},
		{"http_req_failed", threshold.Rate},
		{"checks", threshold.Rate},
		{"iterations", threshold.Counter},
		{"dropped_iterations", threshold.Counter},
		{"http_reqs", threshold.Counter},
		{"vus", threshold.Gauge},
		{"data_received", threshold.Counter},
		{"iteration_duration", threshold.Trend},
	}
	for _, tt := range tests {
		if got, ok := threshold.BuiltinType(tt.metric); !ok || got != tt.want {
			t.Errorf("BuiltinType(%q) = %v, %t; want %v, true", tt.metric, got, ok, tt.want)
		}
	}
	if _, ok := threshold.BuiltinType("recovery_time"); ok {
		t.Error("BuiltinType(recovery_time) found; want a custom metric")
	}
	if got := threshold.MetricType(0).String(); got != "MetricType(0)" {
		t.Errorf("MetricType(0).String() = %q", got)
	}
}

func mustExpr(tb testing.TB, s string) threshold.Expression {
	tb.Helper()
	e, err := threshold.ParseExpression(s)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func equalThreshold(a, b threshold.Threshold) bool {
	return a.Selector.Equal(b.Selector) && a.Expr == b.Expr && a.AbortOnFail == b.AbortOnFail &&
		a.DelayAbortEval == b.DelayAbortEval && a.Source == b.Source
}
