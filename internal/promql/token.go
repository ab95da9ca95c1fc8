package promql

import (
	"fmt"
	"strconv"
	"strings"
)

// kind is what a token is.
type kind uint8

const (
	ident  kind = iota + 1 // a name: metric, label, function, keyword
	str                    // a string literal, unquoted
	number                 // a number or a duration: 0.5, 1e3, 5m, 1h30m
	punct                  // an operator or a bracket
	end                    // past the last token
)

// token is one token of an expression and its byte offset.
type token struct {
	kind kind
	text string
	pos  int
}

// String names t in an error message.
func (t token) String() string {
	switch t.kind {
	case end:
		return "the end"
	case str:
		return fmt.Sprintf("the string %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// twoChar are the operators of two characters.
var twoChar = []string{"!=", "=~", "!~", "==", "<=", ">="}

// tokenize splits expr into tokens, dropping whitespace and comments.
func tokenize(expr string) ([]token, error) {
	var out []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case isNameStart(c):
			j := i + 1
			for j < len(expr) && isName(expr[j]) {
				j++
			}
			out = append(out, token{ident, expr[i:j], i})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(expr) && isDigit(expr[i+1])):
			j := i + 1
			for j < len(expr) {
				d := expr[j]
				if isName(d) || d == '.' {
					j++
				} else if (d == '+' || d == '-') && (expr[j-1] == 'e' || expr[j-1] == 'E') && j+1 < len(expr) && isDigit(expr[j+1]) {
					j++
				} else {
					break
				}
			}
			out = append(out, token{number, expr[i:j], i})
			i = j
		case c == '"' || c == '\'' || c == '`':
			text, n, err := unquote(expr[i:])
			if err != nil {
				return nil, fmt.Errorf("%w: the string at offset %d: %v", ErrSyntax, i, err)
			}
			out = append(out, token{str, text, i})
			i += n
		default:
			n := 1
			for _, op := range twoChar {
				if strings.HasPrefix(expr[i:], op) {
					n = 2
				}
			}
			out = append(out, token{punct, expr[i : i+n], i})
			i += n
		}
	}
	return out, nil
}

// unquote reads the string literal at the start of s (PromQL's: Go's
// escapes in "..." and '...', none in `...`) and returns its value and
// its length in s.
func unquote(s string) (string, int, error) {
	q := s[0]
	for j := 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++ // the escaped character, whatever it is
		case s[j] == '\n' && q != '`':
			return "", 0, fmt.Errorf("a line break in a quoted string")
		case s[j] == q:
			lit := s[:j+1]
			if q == '`' {
				return lit[1 : len(lit)-1], j + 1, nil
			}
			if q == '\'' {
				lit = requote(lit[1 : len(lit)-1])
			}
			v, err := strconv.Unquote(lit)
			if err != nil {
				return "", 0, fmt.Errorf("%s: %w", lit, err)
			}
			return v, j + 1, nil
		}
	}
	return "", 0, fmt.Errorf("never closed")
}

// requote turns the body of a single-quoted string into a double-quoted
// Go literal with the same value: \' becomes ', and a bare " is escaped.
func requote(body string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\' && i+1 < len(body) && body[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(body):
			b.WriteString(body[i : i+2])
			i++
		case c == '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isNameStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isName(c byte) bool { return isNameStart(c) || isDigit(c) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
