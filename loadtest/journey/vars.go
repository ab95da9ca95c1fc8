package journey

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// variable matches {{name}}, whitespace allowed inside the braces; the
// same syntax the scenario validator checks.
var variable = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}`)

// vars are the variables of one iteration: the builtins and what earlier
// steps extracted. uuid is not stored: every use draws a new one.
//
// The builtins are formatted when looked up rather than stored up front:
// most steps use none of them, and building a map of five strings for
// every iteration was a measurable share of a fast target's cost. m holds
// only what steps extracted (nil until then), and an extracted name
// shadows a builtin as storing it over the builtin did.
type vars struct {
	vu VU
	m  map[string]string
}

func newVars(vu VU) *vars {
	return &vars{vu: vu}
}

func (v *vars) lookup(name string) (string, bool) {
	if name == "uuid" {
		return newUUID(), true
	}
	if s, ok := v.m[name]; ok {
		return s, true
	}
	switch name {
	case "user.email":
		return v.vu.User.Email, true
	case "user.password":
		return v.vu.User.Password, true
	case "user.index":
		return strconv.Itoa(v.vu.User.Index), true
	case "vu":
		return strconv.Itoa(v.vu.ID), true
	case "iteration":
		return strconv.Itoa(v.vu.Iteration), true
	}
	return "", false
}

// expand replaces every {{name}} in s.
func (v *vars) expand(s string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil // no variable: skip the regexp, the common case per request
	}
	idx := variable.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		name := s[m[2]:m[3]]
		val, ok := v.lookup(name)
		if !ok {
			return "", fmt.Errorf("undefined variable %s", name)
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(val)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// expandValue returns a copy of a decoded JSON/YAML value with every
// string in it expanded; other values are kept as they are. The journey's
// own value is shared by every VU and is never changed.
func (v *vars) expandValue(x any) (any, error) {
	switch t := x.(type) {
	case string:
		return v.expand(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			ex, err := v.expandValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = ex
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			ex, err := v.expandValue(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = ex
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			ex, err := v.expandValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = ex
		}
		return out, nil
	default:
		return x, nil
	}
}

// extract sets each variable of ex (name → dotted path) from the JSON
// answer, in name order; the first path that finds nothing is the error.
func (v *vars) extract(ex map[string]string, answer []byte) error {
	dec := json.NewDecoder(bytes.NewReader(answer))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		name := sortedKeys(ex)[0]
		return fmt.Errorf("extract %s: the answer is not JSON", name)
	}
	for _, name := range sortedKeys(ex) {
		path := ex[name]
		s, ok := Lookup(doc, path)
		if !ok {
			return fmt.Errorf("extract %s: no %s in the answer", name, path)
		}
		if v.m == nil {
			v.m = make(map[string]string, len(ex))
		}
		v.m[name] = s
	}
	return nil
}

// Lookup follows a dotted path ("tasks.0._id") into a decoded JSON value:
// objects by key, arrays by numeric index. It converts what it finds to a
// string: strings as they are, integers without an exponent, booleans as
// true or false, objects and arrays as compact JSON. A missing key, an
// index out of range, or null is not found.
func Lookup(doc any, path string) (string, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch t := cur.(type) {
		case map[string]any:
			e, ok := t[part]
			if !ok {
				return "", false
			}
			cur = e
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(t) {
				return "", false
			}
			cur = t[i]
		default:
			return "", false
		}
	}
	switch t := cur.(type) {
	case nil:
		return "", false
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case json.Number:
		return formatNumber(t), true
	case float64:
		return formatFloat(t), true
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
}

func formatNumber(n json.Number) string {
	s := n.String()
	if !strings.ContainsAny(s, "eE") {
		return s
	}
	f, err := n.Float64()
	if err != nil {
		return s
	}
	return formatFloat(f)
}

// formatFloat writes integers in full (1e3 → "1000") and other numbers in
// their shortest form.
func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
