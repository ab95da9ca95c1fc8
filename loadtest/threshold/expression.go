package threshold

import (
	"fmt"
	"strings"
)

// Stat is the aggregation a threshold expression tests: the left-hand side
// of p(95)<300.
type Stat uint8

// The k6 aggregations. The zero Stat is invalid.
const (
	StatAvg        Stat = iota + 1 // avg: mean of a trend
	StatMin                        // min: smallest value of a trend
	StatMed                        // med: median of a trend
	StatMax                        // max: largest value of a trend
	StatPercentile                 // p(N): Nth percentile of a trend
	StatCount                      // count: total of a counter
	StatRate                       // rate: share of non-zero values of a rate, or a counter's count per second
	StatValue                      // value: last value of a gauge
)

var statNames = [...]string{
	StatAvg: "avg", StatMin: "min", StatMed: "med", StatMax: "max",
	StatPercentile: "p", StatCount: "count", StatRate: "rate", StatValue: "value",
}

// String returns the k6 name of s; "p" for StatPercentile.
func (s Stat) String() string {
	if s.valid() {
		return statNames[s]
	}
	return fmt.Sprintf("Stat(%d)", uint8(s))
}

func (s Stat) valid() bool { return s >= StatAvg && s <= StatValue }

// Op is the comparison of a threshold expression.
type Op uint8

// The k6 operators. The zero Op is invalid. OpEqual and OpStrictEqual
// compare the same way; both exist so that an expression prints back as it
// was written.
const (
	OpLess           Op = iota + 1 // <
	OpLessOrEqual                  // <=
	OpGreater                      // >
	OpGreaterOrEqual               // >=
	OpEqual                        // ==
	OpStrictEqual                  // ===
	OpNotEqual                     // !=
)

var opSymbols = [...]string{
	OpLess: "<", OpLessOrEqual: "<=", OpGreater: ">", OpGreaterOrEqual: ">=",
	OpEqual: "==", OpStrictEqual: "===", OpNotEqual: "!=",
}

// String returns the symbol of o, such as "<=".
func (o Op) String() string {
	if o.valid() {
		return opSymbols[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

func (o Op) valid() bool { return o >= OpLess && o <= OpNotEqual }

// Compare reports whether "observed o limit" is true. It is false for an
// invalid Op, and for NaN operands except with OpNotEqual.
func (o Op) Compare(observed, limit float64) bool {
	switch o {
	case OpLess:
		return observed < limit
	case OpLessOrEqual:
		return observed <= limit
	case OpGreater:
		return observed > limit
	case OpGreaterOrEqual:
		return observed >= limit
	case OpEqual, OpStrictEqual:
		return observed == limit
	case OpNotEqual:
		return observed != limit
	}
	return false
}

// Expression is one parsed threshold expression, such as p(95)<300. It is a
// comparable value: two expressions are equal when they read the same in
// canonical form.
type Expression struct {
	// Stat is the aggregation tested.
	Stat Stat
	// Percentile is N in p(N), in (0, 100]; zero for other stats.
	Percentile float64
	// Op compares the observed statistic with Value.
	Op Op
	// Value is the limit, a finite number.
	Value float64
}

// String returns the canonical form of e, which k6 accepts: p(95)<300,
// rate<0.01, count>=100.
func (e Expression) String() string {
	var b strings.Builder
	b.WriteString(e.Stat.String())
	if e.Stat == StatPercentile {
		b.WriteString("(" + formatNumber(e.Percentile) + ")")
	}
	b.WriteString(e.Op.String())
	b.WriteString(formatNumber(e.Value))
	return b.String()
}

// Aggregation returns the left-hand side of e as k6 writes it: p(95),
// rate, avg.
func (e Expression) Aggregation() string {
	if e.Stat == StatPercentile {
		return "p(" + formatNumber(e.Percentile) + ")"
	}
	return e.Stat.String()
}

// Validate reports whether e could have come from ParseExpression; the
// zero Expression is not valid.
func (e Expression) Validate() error {
	switch {
	case !e.Stat.valid():
		return fmt.Errorf("threshold expression: invalid aggregation %v", e.Stat)
	case !e.Op.valid():
		return fmt.Errorf("threshold expression: invalid operator %v", e.Op)
	case !isFinite(e.Value):
		return fmt.Errorf("threshold expression: value %v is not a finite number", e.Value)
	case e.Stat == StatPercentile && !(e.Percentile > 0 && e.Percentile <= 100):
		return fmt.Errorf("threshold expression: percentile %v is not in (0, 100]", e.Percentile)
	case e.Stat != StatPercentile && e.Percentile != 0:
		return fmt.Errorf("threshold expression: percentile %v set on %v", e.Percentile, e.Stat)
	}
	return nil
}

// ParseExpression parses a k6 threshold expression such as "p(95)<300"; see
// the package documentation for the grammar. Errors are *SyntaxError.
func ParseExpression(s string) (Expression, error) {
	p := exprParser{in: s}
	e, err := p.parse()
	if err != nil {
		return Expression{}, err
	}
	return e, nil
}
