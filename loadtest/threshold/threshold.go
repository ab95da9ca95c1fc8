package threshold

import (
	"fmt"
	"strings"
	"time"

	"github.com/taskready/taskready/internal/spelling"
)

// Threshold is one parsed threshold: an expression on a selected metric,
// with k6's abort options.
type Threshold struct {
	// Selector is the metric or sub-metric the threshold applies to.
	Selector Selector
	// Expr is the condition that must hold for the threshold to pass.
	Expr Expression
	// AbortOnFail stops the test as soon as the threshold fails.
	AbortOnFail bool
	// DelayAbortEval is how long into the test AbortOnFail waits before it
	// may stop the test, letting enough samples accumulate; zero for none.
	DelayAbortEval time.Duration
	// Source is the expression as written; k6 summaries key thresholds by it.
	Source string
}

// String returns the selector and the canonical expression:
// http_req_duration{endpoint:list} p(95)<300.
func (t Threshold) String() string {
	return t.Selector.String() + " " + t.Expr.String()
}

// Parse parses one threshold: key is the selector (the key of the
// thresholds map) and item one element of the list under it, either a
// string expression ("p(95)<300") or an object as decoded from YAML or JSON
// (map[string]any, or map[any]any with string keys):
//
//	{threshold: "p(95)<300", abortOnFail: true, delayAbortEval: "10s"}
//
// delayAbortEval is a Go duration, optionally with k6's leading days
// ("10s", "1m30s", "1d12h"). Two mistakes k6 lets through are errors here:
// a bare number for delayAbortEval (k6 reads 10 as 10 ms) and
// delayAbortEval without abortOnFail: true (k6 ignores it). Unknown object
// fields are errors too, with a "did you mean". On the k6 built-in metrics
// the aggregation must suit the metric's type (no p(95) on
// http_req_failed).
func Parse(key string, item any) (Threshold, error) {
	sel, err := ParseSelector(key)
	if err != nil {
		return Threshold{}, err
	}
	t, err := parseItem(sel, item)
	if err != nil {
		return Threshold{}, fmt.Errorf("thresholds[%q]: %w", key, err)
	}
	return t, nil
}

// ParseList parses the list under one key of a thresholds map: a []any
// (as decoded from YAML or JSON) or a []string. An empty list is valid and
// yields no threshold, as in k6, where it only makes the sub-metric show in
// the summary.
func ParseList(key string, items any) ([]Threshold, error) {
	sel, err := ParseSelector(key)
	if err != nil {
		return nil, err
	}
	var list []any
	switch v := items.(type) {
	case []any:
		list = v
	case []string:
		for _, s := range v {
			list = append(list, s)
		}
	case []map[string]any:
		for _, m := range v {
			list = append(list, m)
		}
	default:
		return nil, fmt.Errorf("thresholds[%q] must be a list of thresholds such as [\"p(95)<300\"]; got %s",
			key, describe(items))
	}
	out := make([]Threshold, 0, len(list))
	for i, item := range list {
		t, err := parseItem(sel, item)
		if err != nil {
			return nil, fmt.Errorf("thresholds[%q][%d]: %w", key, i, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func parseItem(sel Selector, item any) (Threshold, error) {
	t := Threshold{Selector: sel}
	switch v := item.(type) {
	case string:
		t.Source = v
	case map[string]any:
		if err := t.fromObject(v); err != nil {
			return Threshold{}, err
		}
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, val := range v {
			ks, ok := k.(string)
			if !ok {
				return Threshold{}, fmt.Errorf("threshold object has a non-string key %v (%T)", k, k)
			}
			m[ks] = val
		}
		if err := t.fromObject(m); err != nil {
			return Threshold{}, err
		}
	case []any, []string:
		return Threshold{}, fmt.Errorf("threshold item is a list; each element of the list under a key " +
			"is one threshold: a string such as \"p(95)<300\" or an object {threshold: ...}")
	default:
		return Threshold{}, fmt.Errorf("threshold item must be a string such as \"p(95)<300\" "+
			"or an object {threshold: \"p(95)<300\", abortOnFail: true}; got %s", describe(item))
	}
	e, err := ParseExpression(t.Source)
	if err != nil {
		return Threshold{}, err
	}
	if mt, ok := BuiltinType(sel.Metric); ok {
		if err := e.CheckType(sel.Metric, mt); err != nil {
			return Threshold{}, err
		}
	}
	t.Expr = e
	return t, nil
}

// objectFields are the fields of a threshold object, in k6's spelling.
var objectFields = []string{"threshold", "abortOnFail", "delayAbortEval"}

// fromObject reads {threshold, abortOnFail, delayAbortEval} into t.
func (t *Threshold) fromObject(m map[string]any) error {
	for k := range m {
		if !containsString(objectFields, k) {
			return unknownField(k)
		}
	}
	src, ok := m["threshold"]
	if !ok {
		return fmt.Errorf("threshold object has no \"threshold\" field; write {threshold: \"p(95)<300\", abortOnFail: true}")
	}
	if t.Source, ok = src.(string); !ok {
		return fmt.Errorf("\"threshold\" must be a string such as \"p(95)<300\"; got %s", describe(src))
	}
	if v, ok := m["abortOnFail"]; ok && v != nil {
		if t.AbortOnFail, ok = v.(bool); !ok {
			return fmt.Errorf("\"abortOnFail\" must be true or false; got %s", describe(v))
		}
	}
	if v, ok := m["delayAbortEval"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("\"delayAbortEval\" must be a duration string with a unit, such as \"10s\"; got %s "+
				"(k6 would read a bare number as milliseconds)", describe(v))
		}
		d, err := parseDuration(s)
		if err != nil {
			return fmt.Errorf("\"delayAbortEval\": %w", err)
		}
		if !t.AbortOnFail {
			return fmt.Errorf("\"delayAbortEval\" only delays abortOnFail; set abortOnFail: true or remove it")
		}
		t.DelayAbortEval = d
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func unknownField(k string) error {
	best, bestDist := "", 4
	low := strings.ToLower(k)
	for _, f := range objectFields {
		lf := strings.ToLower(f)
		if d := spelling.Distance(low, lf); d < bestDist {
			best, bestDist = f, d
		}
		if len(low) >= 4 && bestDist > 0 && (strings.HasPrefix(lf, low) || strings.HasPrefix(low, lf)) {
			best, bestDist = f, 0
		}
	}
	switch strings.ToLower(k) {
	case "expr", "expression", "condition", "assert", "assertion":
		best = "threshold"
	}
	if best != "" {
		return fmt.Errorf("unknown field %q in threshold object; did you mean %q? (fields: %s)",
			k, best, strings.Join(objectFields, ", "))
	}
	return fmt.Errorf("unknown field %q in threshold object (fields: %s)", k, strings.Join(objectFields, ", "))
}

// describe names the type and value of a decoded YAML or JSON value.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case float32, float64, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprintf("number %v", x)
	case []any, []string, []map[string]any:
		return "a list"
	case map[string]any, map[any]any:
		return "an object"
	}
	return fmt.Sprintf("a value of type %T", v)
}
