package threshold

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/taskready/taskready/internal/spelling"
)

// SyntaxError reports a malformed selector or expression: what is wrong and
// where.
type SyntaxError struct {
	// Kind is "selector" or "expression".
	Kind string
	// Input is the text that was parsed.
	Input string
	// Column is the 1-based position, in characters, of the problem;
	// one past the last character when something is missing at the end.
	Column int
	// Msg says what is wrong, in lower case without a trailing period.
	Msg string
}

// Error implements error:
//
//	threshold expression "p95<300": column 1: unknown aggregation "p95"; did you mean "p(95)"?
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("threshold %s %q: column %d: %s", e.Kind, e.Input, e.Column, e.Msg)
}

// syntaxErr builds a *SyntaxError for the byte offset off of input.
func syntaxErr(kind, input string, off int, format string, args ...any) *SyntaxError {
	if off > len(input) {
		off = len(input)
	}
	return &SyntaxError{
		Kind:   kind,
		Input:  input,
		Column: utf8.RuneCountInString(input[:off]) + 1,
		Msg:    fmt.Sprintf(format, args...),
	}
}

// aggregationNames lists the k6 aggregations, in the order messages print them.
const aggregationNames = "avg, min, med, max, p(N), count, rate, value"

// aggregationAliases maps names people write by habit to the k6 name.
var aggregationAliases = map[string]string{
	"average": "avg", "mean": "avg", "median": "med",
	"minimum": "min", "maximum": "max",
	"cnt": "count", "total": "count", "sum": "count",
	"val": "value", "last": "value", "ratio": "rate",
}

// suggestAggregation returns the k6 aggregation that ident (an unknown
// aggregation) most likely meant, or "" when nothing is close. paren tells
// whether ident was followed by "(".
func suggestAggregation(ident string, paren bool) string {
	low := strings.ToLower(ident)
	switch low {
	case "p", "pct", "perc", "percentile", "quantile":
		if paren {
			return "p(N)"
		}
	}
	if alias, ok := aggregationAliases[low]; ok {
		return alias
	}
	if n, ok := percentileShorthand(low); ok {
		return "p(" + n + ")"
	}
	best, bestDist := "", 3
	for _, name := range []string{"avg", "min", "med", "max", "count", "rate", "value"} {
		if d := spelling.Distance(low, name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// percentileShorthand recognises p95, p99.9, p_99, pct95 and percentile99,
// returning the number.
func percentileShorthand(low string) (string, bool) {
	for _, prefix := range []string{"percentile", "perc", "pct", "p"} {
		if rest, ok := strings.CutPrefix(low, prefix); ok {
			rest = strings.TrimPrefix(rest, "_")
			if rest != "" && strings.Trim(rest, "0123456789.") == "" &&
				rest[0] != '.' && strings.Count(rest, ".") <= 1 {
				return rest, true
			}
		}
	}
	return "", false
}
