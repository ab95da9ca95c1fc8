package threshold

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// exprParser reads one expression; pos is a byte offset into in.
type exprParser struct {
	in  string
	pos int
}

func (p *exprParser) errAt(off int, format string, args ...any) error {
	return syntaxErr("expression", p.in, off, format, args...)
}

func (p *exprParser) skipSpace() {
	for p.pos < len(p.in) {
		r, n := utf8.DecodeRuneInString(p.in[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += n
	}
}

func (p *exprParser) parse() (Expression, error) {
	p.skipSpace()
	if p.pos == len(p.in) {
		return Expression{}, p.errAt(p.pos, "empty expression; write one such as p(95)<300")
	}
	var e Expression
	var err error
	if e.Stat, e.Percentile, err = p.aggregation(); err != nil {
		return Expression{}, err
	}
	lhs := p.in[:p.pos]
	p.skipSpace()
	if e.Op, err = p.operator(strings.TrimSpace(lhs)); err != nil {
		return Expression{}, err
	}
	p.skipSpace()
	if e.Value, err = p.value(e.Op); err != nil {
		return Expression{}, err
	}
	p.skipSpace()
	if p.pos < len(p.in) {
		return Expression{}, p.trailing()
	}
	return e, nil
}

// aggregation reads avg, min, med, max, count, rate, value or p(N).
func (p *exprParser) aggregation() (Stat, float64, error) {
	start := p.pos
	for p.pos < len(p.in) && isIdentByte(p.in[p.pos], p.pos == start) {
		p.pos++
	}
	ident := p.in[start:p.pos]
	switch ident {
	case "":
		if strings.ContainsRune("<>=!", rune(p.in[start])) {
			return 0, 0, p.errAt(start, "missing aggregation before the operator; expected one of %s", aggregationNames)
		}
		return 0, 0, p.errAt(start, "expected an aggregation (%s), found %s", aggregationNames, snippet(p.in, start))
	case "avg":
		return StatAvg, 0, nil
	case "min":
		return StatMin, 0, nil
	case "med":
		return StatMed, 0, nil
	case "max":
		return StatMax, 0, nil
	case "count":
		return StatCount, 0, nil
	case "rate":
		return StatRate, 0, nil
	case "value":
		return StatValue, 0, nil
	case "p":
		pct, err := p.percentile()
		return StatPercentile, pct, err
	}
	return 0, 0, p.unknownAggregation(start, ident)
}

func isIdentByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9', c == '.':
		return !first
	}
	return false
}

func (p *exprParser) unknownAggregation(start int, ident string) error {
	after := p.pos
	for after < len(p.in) && p.in[after] == ' ' {
		after++
	}
	paren := after < len(p.in) && p.in[after] == '('
	hint := suggestAggregation(ident, paren)
	if hint == "p(N)" {
		if end := strings.IndexByte(p.in[after:], ')'); end > 1 && end <= 12 {
			hint = "p(" + strings.TrimSpace(p.in[after+1:after+end]) + ")"
		}
	}
	if hint != "" {
		return p.errAt(start, "unknown aggregation %q; did you mean %q? (k6 knows %s)", ident, hint, aggregationNames)
	}
	return p.errAt(start, "unknown aggregation %q; k6 knows %s", ident, aggregationNames)
}

// percentile reads "(N)" after "p" and checks 0 < N <= 100.
func (p *exprParser) percentile() (float64, error) {
	p.skipSpace()
	if p.pos == len(p.in) || p.in[p.pos] != '(' {
		return 0, p.errAt(p.pos, "p needs a percentile in parentheses, such as p(95)")
	}
	p.pos++
	p.skipSpace()
	start := p.pos
	end, badExp := scanNumber(p.in, start)
	switch {
	case badExp:
		return 0, p.errAt(end, "exponent without digits in the percentile")
	case end == start && p.pos < len(p.in) && p.in[p.pos] == ')':
		return 0, p.errAt(start, "empty percentile; write a number in p(), such as p(95)")
	case end == start:
		return 0, p.errAt(start, "expected a percentile number after \"p(\", found %s", snippet(p.in, start))
	}
	pct, ok := parseNumber(p.in[start:end])
	if !ok {
		return 0, p.errAt(start, "percentile %s is out of range; it must be greater than 0 and at most 100", p.in[start:end])
	}
	p.pos = end
	p.skipSpace()
	if p.pos == len(p.in) {
		return 0, p.errAt(p.pos, "missing \")\" after the percentile")
	}
	if p.in[p.pos] != ')' {
		return 0, p.errAt(p.pos, "expected \")\" after the percentile, found %s", snippet(p.in, p.pos))
	}
	p.pos++
	switch {
	case pct == 0:
		return 0, p.errAt(start, "p(0) is not a percentile; a percentile must be greater than 0 (use min for the smallest value)")
	case pct < 0:
		return 0, p.errAt(start, "percentile %s is negative; it must be greater than 0 and at most 100", p.in[start:end])
	case pct > 100:
		return 0, p.errAt(start, "percentile %s is above 100; it must be greater than 0 and at most 100", p.in[start:end])
	}
	return pct, nil
}

// operators, longest first where one is a prefix of another.
var operators = []struct {
	sym string
	op  Op
}{
	{"<=", OpLessOrEqual}, {"<", OpLess}, {">=", OpGreaterOrEqual}, {">", OpGreater},
	{"===", OpStrictEqual}, {"==", OpEqual}, {"!=", OpNotEqual},
}

// lookalikes are operators from other languages and their k6 spelling.
var lookalikes = []struct{ sym, want string }{
	{"=>", ">="}, {"=<", "<="}, {"<>", "!="}, {"!==", "!="}, {"≤", "<="}, {"≥", ">="}, {"≠", "!="},
}

func (p *exprParser) operator(lhs string) (Op, error) {
	rest := p.in[p.pos:]
	if rest == "" {
		return 0, p.errAt(p.pos, "missing operator and value after %s; write e.g. %s<300", lhs, lhs)
	}
	for _, l := range lookalikes {
		if strings.HasPrefix(rest, l.sym) {
			return 0, p.errAt(p.pos, "%q is not a k6 operator; did you mean %q?", l.sym, l.want)
		}
	}
	for _, o := range operators {
		if strings.HasPrefix(rest, o.sym) {
			p.pos += len(o.sym)
			return o.op, nil
		}
	}
	switch rest[0] {
	case '=':
		return 0, p.errAt(p.pos, "a single \"=\" is not an operator; use == or ===")
	case '!':
		return 0, p.errAt(p.pos, "\"!\" is not an operator; use !=")
	}
	return 0, p.errAt(p.pos, "expected an operator (<, <=, >, >=, ==, ===, !=) after %s, found %s", lhs, snippet(p.in, p.pos))
}

// value reads the right-hand side number and rejects units after it.
func (p *exprParser) value(op Op) (float64, error) {
	start := p.pos
	if start == len(p.in) {
		return 0, p.errAt(start, "missing value after %s", op)
	}
	end, badExp := scanNumber(p.in, start)
	if badExp {
		return 0, p.errAt(end, "exponent without digits in %q", p.in[start:end+1])
	}
	if end == start {
		word := wordAt(p.in, start+signLen(p.in, start))
		switch strings.ToLower(word) {
		case "nan", "inf", "infinity":
			return 0, p.errAt(start, "%s is not allowed; the value must be a finite number",
				p.in[start:start+signLen(p.in, start)+len(word)])
		}
		return 0, p.errAt(start, "expected a number after %s, found %s", op, snippet(p.in, start))
	}
	lexeme := p.in[start:end]
	v, ok := parseNumber(lexeme)
	if !ok {
		return 0, p.errAt(start, "number %s is out of range", lexeme)
	}
	after := end
	for after < len(p.in) && (p.in[after] == ' ' || p.in[after] == '\t') {
		after++
	}
	if unit := wordAt(p.in, after); unit != "" && (after == end || isUnit(unit)) {
		return 0, p.unitError(after, lexeme, v, unit)
	}
	p.pos = end
	return v, nil
}

func signLen(s string, i int) int {
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		return 1
	}
	return 0
}

func isUnit(word string) bool {
	_, isTime := timeUnits[word]
	return isTime || dataUnits[strings.ToLower(word)] || strings.HasPrefix(word, "%")
}

func (p *exprParser) unitError(off int, lexeme string, v float64, unit string) error {
	if strings.HasPrefix(unit, "%") {
		return p.errAt(off, "\"%%\" is not allowed: k6 rates are fractions between 0 and 1, so write %s for %s%%",
			formatNumber(v/100), lexeme)
	}
	if ms, ok := timeUnits[unit]; ok {
		return p.errAt(off, "unit %q is not allowed: k6 threshold values are plain numbers, and trend "+
			"metrics such as http_req_duration are in milliseconds, so write %s for %s%s",
			unit, formatNumber(v*ms), lexeme, unit)
	}
	if dataUnits[strings.ToLower(unit)] {
		return p.errAt(off, "unit %q is not allowed: k6 threshold values are plain numbers, "+
			"and data metrics such as data_received count bytes", unit)
	}
	return p.errAt(off, "unexpected %s after the number %s; k6 threshold values are plain numbers without units",
		strconv.Quote(unit), lexeme)
}

// trailing explains what follows a complete expression.
func (p *exprParser) trailing() error {
	rest := p.in[p.pos:]
	for _, joiner := range []string{"&&", "||", ",", ";", "and ", "or ", "AND ", "OR "} {
		if strings.HasPrefix(rest, joiner) {
			return p.errAt(p.pos, "unexpected %s after the value: a threshold holds one expression; "+
				"give each its own list item", snippet(p.in, p.pos))
		}
	}
	return p.errAt(p.pos, "unexpected %s after the value", snippet(p.in, p.pos))
}
