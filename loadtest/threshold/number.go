package threshold

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// scanNumber scans the number that starts at s[i:] (see the grammar in the
// package documentation). It returns the end of the number, or i when no
// number starts there. badExp is true when an exponent marker has no
// digits; end then points at the marker.
func scanNumber(s string, i int) (end int, badExp bool) {
	j := i
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	intStart := j
	j = skipDigits(s, j)
	mantissa := j - intStart
	if j < len(s) && s[j] == '.' {
		k := skipDigits(s, j+1)
		mantissa += k - (j + 1)
		j = k
	}
	if mantissa == 0 {
		return i, false
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		d := skipDigits(s, k)
		if d == k {
			return j, true
		}
		j = d
	}
	return j, false
}

func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// parseNumber converts a lexeme accepted by scanNumber. ok is false when it
// is out of the float64 range. Negative zero becomes zero.
func parseNumber(lexeme string) (v float64, ok bool) {
	v, err := strconv.ParseFloat(lexeme, 64)
	if err != nil || !isFinite(v) {
		return 0, false
	}
	if v == 0 {
		v = 0
	}
	return v, true
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// formatNumber writes v in the shortest form that parses back to v, without
// an exponent in the range JavaScript also prints without one (so a k6
// script gets 300, 0.01 and 1000000, not 3e+02).
func formatNumber(v float64) string {
	if a := math.Abs(v); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// formatObserved writes an observed statistic for people: about four
// significant digits, no trailing zeros (212.4, 0.0123, 5000).
func formatObserved(v float64) string {
	a := math.Abs(v)
	var s string
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case a >= 1e15:
		return strconv.FormatFloat(v, 'g', 4, 64)
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	case a == 0:
		return "0"
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// wordAt returns the run of letters, '%' and 'µ' at s[i:], as used for
// units after a number.
func wordAt(s string, i int) string {
	j := i
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if !unicode.IsLetter(r) && r != '%' {
			break
		}
		j += n
	}
	return s[i:j]
}

// timeUnits converts a duration suffix to milliseconds.
var timeUnits = map[string]float64{
	"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "μs": 1e-3, "ms": 1,
	"s": 1000, "sec": 1000, "m": 60000, "min": 60000, "h": 3600000,
}

// dataUnits are size suffixes people put after data_sent limits.
var dataUnits = map[string]bool{
	"b": true, "kb": true, "mb": true, "gb": true, "kib": true, "mib": true, "gib": true, "bytes": true,
}

// snippet quotes what is at s[i:] for an error message: up to 12 characters.
func snippet(s string, i int) string {
	if i >= len(s) {
		return "end of input"
	}
	rest := s[i:]
	if utf8.RuneCountInString(rest) > 12 {
		n := 0
		for k := range rest {
			if n == 12 {
				rest = rest[:k] + "…"
				break
			}
			n++
		}
	}
	return strconv.Quote(rest)
}
