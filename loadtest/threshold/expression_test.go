package threshold_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/threshold"
)

func TestParseExpressionValid(t *testing.T) {
	t.Parallel()
	p := func(pct float64, op threshold.Op, v float64) threshold.Expression {
		return threshold.Expression{Stat: threshold.StatPercentile, Percentile: pct, Op: op, Value: v}
	}
	e := func(s threshold.Stat, op threshold.Op, v float64) threshold.Expression {
		return threshold.Expression{Stat: s, Op: op, Value: v}
	}
	tests := []struct {
		in, canonical string
		want          threshold.Expression
	}{
		{"p(95)<300", "p(95)<300", p(95, threshold.OpLess, 300)},
		{"p(99.9)<=1000", "p(99.9)<=1000", p(99.9, threshold.OpLessOrEqual, 1000)},
		{"p(100)<5000", "p(100)<5000", p(100, threshold.OpLess, 5000)},
		{"p(0.1)>1", "p(0.1)>1", p(0.1, threshold.OpGreater, 1)},
		{"avg<200", "avg<200", e(threshold.StatAvg, threshold.OpLess, 200)},
		{"med<150", "med<150", e(threshold.StatMed, threshold.OpLess, 150)},
		{"min>0", "min>0", e(threshold.StatMin, threshold.OpGreater, 0)},
		{"max<2000", "max<2000", e(threshold.StatMax, threshold.OpLess, 2000)},
		{"rate<0.01", "rate<0.01", e(threshold.StatRate, threshold.OpLess, 0.01)},
		{"count>100", "count>100", e(threshold.StatCount, threshold.OpGreater, 100)},
		{"count>=100", "count>=100", e(threshold.StatCount, threshold.OpGreaterOrEqual, 100)},
		{"value>0", "value>0", e(threshold.StatValue, threshold.OpGreater, 0)},
		{"rate==1", "rate==1", e(threshold.StatRate, threshold.OpEqual, 1)},
		{"rate===1", "rate===1", e(threshold.StatRate, threshold.OpStrictEqual, 1)},
		{"value!=0", "value!=0", e(threshold.StatValue, threshold.OpNotEqual, 0)},
		{"  p( 95 ) <  300  ", "p(95)<300", p(95, threshold.OpLess, 300)},
		{"p(95)\t<\t300", "p(95)<300", p(95, threshold.OpLess, 300)},
		{"p(95.0)<300.0", "p(95)<300", p(95, threshold.OpLess, 300)},
		{"count < 10", "count<10", e(threshold.StatCount, threshold.OpLess, 10)},
		{"count>1e6", "count>1000000", e(threshold.StatCount, threshold.OpGreater, 1e6)},
		{"rate<1E-7", "rate<1e-07", e(threshold.StatRate, threshold.OpLess, 1e-7)},
		{"value>-5", "value>-5", e(threshold.StatValue, threshold.OpGreater, -5)},
		{"value>+5", "value>5", e(threshold.StatValue, threshold.OpGreater, 5)},
		{"value>-0", "value>0", e(threshold.StatValue, threshold.OpGreater, 0)},
		{"avg<.5", "avg<0.5", e(threshold.StatAvg, threshold.OpLess, 0.5)},
		{"avg<5.", "avg<5", e(threshold.StatAvg, threshold.OpLess, 5)},
		{"avg<007", "avg<7", e(threshold.StatAvg, threshold.OpLess, 7)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := threshold.ParseExpression(tt.in)
			if err != nil {
				t.Fatalf("ParseExpression(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseExpression(%q) = %#v; want %#v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.canonical {
				t.Errorf("ParseExpression(%q).String() = %q; want %q", tt.in, s, tt.canonical)
			}
			if again, err := threshold.ParseExpression(got.String()); err != nil || again != got {
				t.Errorf("round trip of %q: %#v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseExpressionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in  string
		col int
		msg string
	}{
		// empty and missing parts
		{"", 1, "empty expression"},
		{"   ", 4, "empty expression"},
		{"<300", 1, "missing aggregation before the operator"},
		{"95<300", 1, `expected an aggregation (avg, min, med, max, p(N), count, rate, value), found "95<300"`},
		{"p(95)", 6, "missing operator and value after p(95); write e.g. p(95)<300"},
		{"p(95)<", 7, "missing value after <"},
		// unknown aggregations, with and without a suggestion
		{"p95<300", 1, `unknown aggregation "p95"; did you mean "p(95)"?`},
		{"p99.9<300", 1, `did you mean "p(99.9)"?`},
		{"pct90<300", 1, `did you mean "p(90)"?`},
		{"average<200", 1, `unknown aggregation "average"; did you mean "avg"?`},
		{"mean<200", 1, `did you mean "avg"?`},
		{"median<150", 1, `did you mean "med"?`},
		{"AVG<200", 1, `did you mean "avg"?`},
		{"avgg<200", 1, `did you mean "avg"?`},
		{"counts>1", 1, `did you mean "count"?`},
		{"P(95)<300", 1, `did you mean "p(95)"?`},
		{"percentile(99)<300", 1, `did you mean "p(99)"?`},
		{"latency<300", 1, `unknown aggregation "latency"; k6 knows avg, min, med, max, p(N), count, rate, value`},
		// percentiles
		{"p<300", 2, "p needs a percentile in parentheses, such as p(95)"},
		{"p()<300", 3, "empty percentile"},
		{"p(x)<300", 3, `expected a percentile number after "p(", found "x)<300"`},
		{"p(95<300", 5, `expected ")" after the percentile, found "<300"`},
		{"p(95", 5, `missing ")" after the percentile`},
		{"p(0)<300", 3, "p(0) is not a percentile; a percentile must be greater than 0 (use min for the smallest value)"},
		{"p(0.0)<300", 3, "p(0) is not a percentile"},
		{"p(-1)<300", 3, "percentile -1 is negative"},
		{"p(100.1)<300", 3, "percentile 100.1 is above 100"},
		{"p(101)<300", 3, "percentile 101 is above 100"},
		{"p(1e999)<300", 3, "percentile 1e999 is out of range"},
		{"p(9e)<300", 4, "exponent without digits in the percentile"},
		// operators
		{"p(95)300", 6, `expected an operator (<, <=, >, >=, ==, ===, !=) after p(95), found "300"`},
		{"p(95)=300", 6, `a single "=" is not an operator; use == or ===`},
		{"p(95)=>300", 6, `"=>" is not a k6 operator; did you mean ">="?`},
		{"p(95)=<300", 6, `did you mean "<="?`},
		{"p(95)<>300", 6, `did you mean "!="?`},
		{"p(95)!==300", 6, `did you mean "!="?`},
		{"p(95)≤300", 6, `did you mean "<="?`},
		{"p(95)!300", 6, `"!" is not an operator; use !=`},
		{"avg<<300", 5, `expected a number after <, found "<300"`},
		// values
		{"p(95)<abc", 7, `expected a number after <, found "abc"`},
		{"avg<NaN", 5, "NaN is not allowed; the value must be a finite number"},
		{"avg<-Inf", 5, "-Inf is not allowed"},
		{"avg<Infinity", 5, "Infinity is not allowed"},
		{"avg<1e999", 5, "number 1e999 is out of range"},
		{"avg<1e", 6, `exponent without digits in "1e"`},
		{"avg<1e+", 6, "exponent without digits"},
		// units
		{"p(95)<300ms", 10, `unit "ms" is not allowed: k6 threshold values are plain numbers, and trend metrics such as http_req_duration are in milliseconds, so write 300 for 300ms`},
		{"p(95)<1s", 8, "so write 1000 for 1s"},
		{"p(95)<1.5m", 10, "so write 90000 for 1.5m"},
		{"p(95) < 250 µs", 13, "so write 0.25 for 250µs"},
		{"rate < 5 %", 10, "so write 0.05 for 5%"},
		{"rate<1%", 7, `"%" is not allowed: k6 rates are fractions between 0 and 1, so write 0.01 for 1%`},
		{"count<10kB", 9, "data metrics such as data_received count bytes"},
		{"count<10xyz", 9, `unexpected "xyz" after the number 10; k6 threshold values are plain numbers without units`},
		{"avg<0x10", 6, `unexpected "x" after the number 0`},
		// trailing garbage
		{"p(95)<300 && avg<200", 11, "a threshold holds one expression; give each its own list item"},
		{"p(95)<300, avg<200", 10, "a threshold holds one expression"},
		{"p(95)<300 300", 11, `unexpected "300" after the value`},
		{"p(95)<300)", 10, `unexpected ")" after the value`},
		{"p(95)<300.5.5", 12, `unexpected ".5" after the value`},
		{"p(95)<300 this is a long tail", 11, `unexpected "this is a lo…" after the value`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := threshold.ParseExpression(tt.in)
			var se *threshold.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseExpression(%q) error = %v; want a *SyntaxError", tt.in, err)
			}
			if se.Kind != "expression" || se.Input != tt.in || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("ParseExpression(%q) error = %q (column %d); want column %d with %q", tt.in, err, se.Column, tt.col, tt.msg)
			}
		})
	}
}

func TestExpressionValidate(t *testing.T) {
	t.Parallel()
	bad := []threshold.Expression{
		{},
		{Stat: threshold.StatAvg},
		{Stat: threshold.StatPercentile, Op: threshold.OpLess, Value: 1},
		{Stat: threshold.StatPercentile, Percentile: 101, Op: threshold.OpLess, Value: 1},
		{Stat: threshold.StatAvg, Percentile: 95, Op: threshold.OpLess, Value: 1},
		{Stat: threshold.StatAvg, Op: threshold.OpLess, Value: posInf()},
		{Stat: 99, Op: threshold.OpLess},
		{Stat: threshold.StatAvg, Op: 99},
	}
	for _, e := range bad {
		if err := e.Validate(); err == nil {
			t.Errorf("%#v.Validate() = nil; want an error", e)
		}
	}
	if got, want := (threshold.Expression{}).String(), "Stat(0)Op(0)0"; got != want {
		t.Errorf("zero Expression String() = %q; want %q", got, want)
	}
}
