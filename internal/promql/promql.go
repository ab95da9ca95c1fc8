// Package promql reads what a PromQL expression selects: the metric name
// and label matchers of each of its vector selectors.
//
// It is neither an evaluator nor a full parser, only enough to say which
// series a rule reads: the metrics an alert needs from a scrape, and
// whether a deployment's alerting rules cover a job. That keeps the
// Prometheus module (and its dependencies) out of the harness. What it
// skips it skips by shape: function and aggregation names (an identifier
// before "("), the label lists of by, without, on, ignoring, group_left
// and group_right, range and subquery brackets, strings and numbers.
package promql

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrSyntax is matched (errors.Is) by every error Selectors returns.
var ErrSyntax = errors.New("promql")

// Matcher is one label matcher of a selector: job="api", le=~"0.25|0.5".
type Matcher struct {
	Label string
	Op    string // "=", "!=", "=~" or "!~"
	Value string

	re *regexp.Regexp // for =~ and !~, anchored as Prometheus anchors it
}

// Matches reports whether a series whose label has value v ("" when the
// series lacks the label) passes m, as Prometheus decides it.
func (m Matcher) Matches(v string) bool {
	switch m.Op {
	case "=":
		return v == m.Value
	case "!=":
		return v != m.Value
	case "=~":
		return m.regexp().MatchString(v)
	case "!~":
		return !m.regexp().MatchString(v)
	}
	return false
}

// regexp is m's expression anchored at both ends; a Matcher built by
// hand (not by Selectors) compiles it here, and one that does not
// compile matches nothing.
func (m Matcher) regexp() *regexp.Regexp {
	if m.re != nil {
		return m.re
	}
	re, err := compile(m.Value)
	if err != nil {
		return regexp.MustCompile(`^\b$`) // matches no string at all
	}
	return re
}

func compile(v string) (*regexp.Regexp, error) { return regexp.Compile("^(?s:" + v + ")$") }

// String writes m as PromQL does: job="api".
func (m Matcher) String() string { return m.Label + m.Op + strconv.Quote(m.Value) }

// Selector is one vector selector: its metric name (written before the
// braces or as a __name__="..." matcher; "" when neither names one) and
// its other matchers, in order.
type Selector struct {
	Metric   string
	Matchers []Matcher
}

// Accepts reports whether every matcher of s on label lets a series
// whose label has value v through; true when s has none on label.
func (s Selector) Accepts(label, v string) bool {
	for _, m := range s.Matchers {
		if m.Label == label && !m.Matches(v) {
			return false
		}
	}
	return true
}

// String writes s as PromQL: name{label="value",...}.
func (s Selector) String() string {
	if len(s.Matchers) == 0 {
		return s.Metric
	}
	parts := make([]string, len(s.Matchers))
	for i, m := range s.Matchers {
		parts[i] = m.String()
	}
	return s.Metric + "{" + strings.Join(parts, ",") + "}"
}

// keywords are identifiers that never name a metric.
var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"inf": true, "nan": true,
}

// labelLists are the keywords followed by a parenthesised list of label
// names, not of expressions.
var labelLists = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// Selectors returns every vector selector of expr, in the order they are
// written. A syntax error it meets (an unterminated string or bracket, a
// malformed matcher, an invalid regular expression) wraps ErrSyntax.
func Selectors(expr string) ([]Selector, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	var out []Selector
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == ident && labelLists[strings.ToLower(t.text)]:
			if i+1 < len(toks) && toks[i+1].text == "(" {
				if i, err = skip(toks, i+1, "(", ")"); err != nil {
					return nil, err
				}
			}
		case t.kind == ident && keywords[strings.ToLower(t.text)]:
		case t.kind == ident && i+1 < len(toks) && (toks[i+1].text == "(" ||
			toks[i+1].kind == ident && (strings.EqualFold(toks[i+1].text, "by") || strings.EqualFold(toks[i+1].text, "without"))):
			// a function or an aggregation ("sum by (job) (...)"): its
			// arguments follow
		case t.kind == ident:
			s := Selector{Metric: t.text}
			if i+1 < len(toks) && toks[i+1].text == "{" {
				if i, err = matchers(toks, i+1, &s); err != nil {
					return nil, err
				}
			}
			out = append(out, s)
		case t.text == "{":
			var s Selector
			if i, err = matchers(toks, i, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
		case t.text == "[":
			if i, err = skip(toks, i, "[", "]"); err != nil {
				return nil, err
			}
		case t.kind == punct && (t.text == "}" || t.text == "]"):
			return nil, fmt.Errorf("%w: unexpected %q at offset %d", ErrSyntax, t.text, t.pos)
		}
	}
	return out, nil
}

// skip returns the index of the bracket that closes the one at i.
func skip(toks []token, i int, open, close string) (int, error) {
	depth := 0
	for j := i; j < len(toks); j++ {
		switch toks[j].text {
		case open:
			depth++
		case close:
			if depth--; depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: %q at offset %d is never closed", ErrSyntax, open, toks[i].pos)
}

// matchers reads the braces at i into s and returns the index of "}".
func matchers(toks []token, i int, s *Selector) (int, error) {
	at := func(j int) token {
		if j < len(toks) {
			return toks[j]
		}
		return token{kind: end, pos: -1}
	}
	open := toks[i].pos
	for j := i + 1; ; {
		t := at(j)
		if t.text == "}" && t.kind == punct {
			return j, nil
		}
		if t.kind != ident && t.kind != str {
			return 0, fmt.Errorf("%w: a label name expected in the braces at offset %d, found %s", ErrSyntax, open, t)
		}
		name := t.text
		op := at(j + 1)
		if t.kind == str && op.kind == punct && (op.text == "," || op.text == "}") {
			// {"metric.name"}: a quoted metric name alone
			if s.Metric != "" {
				return 0, fmt.Errorf("%w: a second metric name %q in the braces at offset %d", ErrSyntax, name, open)
			}
			s.Metric = name
			j++
		} else {
			if op.kind != punct || (op.text != "=" && op.text != "!=" && op.text != "=~" && op.text != "!~") {
				return 0, fmt.Errorf("%w: a matcher (=, !=, =~, !~) expected after %q at offset %d, found %s", ErrSyntax, name, t.pos, op)
			}
			v := at(j + 2)
			if v.kind != str {
				return 0, fmt.Errorf("%w: a quoted value expected after %s%s at offset %d, found %s", ErrSyntax, name, op.text, t.pos, v)
			}
			m := Matcher{Label: name, Op: op.text, Value: v.text}
			if m.Op == "=~" || m.Op == "!~" {
				re, err := compile(m.Value)
				if err != nil {
					return 0, fmt.Errorf("%w: %s at offset %d: %v", ErrSyntax, m, t.pos, err)
				}
				m.re = re
			}
			if m.Label == "__name__" && m.Op == "=" && s.Metric == "" {
				s.Metric = m.Value
			} else {
				s.Matchers = append(s.Matchers, m)
			}
			j += 3
		}
		switch sep := at(j); {
		case sep.kind == punct && sep.text == ",":
			j++
		case sep.kind == punct && sep.text == "}":
		default:
			return 0, fmt.Errorf("%w: \",\" or \"}\" expected in the braces at offset %d, found %s", ErrSyntax, open, sep)
		}
	}
}
