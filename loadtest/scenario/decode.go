package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/taskready/taskready/internal/spelling"
)

// Problem is one thing wrong with a scenario file. Its JSON form is an
// entry of Validation.Errors.
type Problem struct {
	File  string `json:"file"`
	Line  int    `json:"line,omitempty"`  // 0 when the problem has no one line
	Field string `json:"field,omitempty"` // "scenarios.browse.stages[1].duration"
	Msg   string `json:"message"`
}

// Error formats the problem as "file:line: field: message".
func (p Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Field == "" {
		return loc + ": " + p.Msg
	}
	return loc + ": " + p.Field + ": " + p.Msg
}

// decoder walks a YAML node tree, collecting problems with their lines
// instead of stopping at the first.
type decoder struct {
	file     string
	problems []Problem
	// faultFields holds, for each entry of faults in order, the value
	// node of each key it sets, so that check can place a problem on
	// the line of the field it is about.
	faultFields []map[string]*yaml.Node
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// fields decodes a mapping: each key must be one of handlers (an unknown
// key is a problem, with a suggestion when one is close), each handler
// gets the value node and its field path.
func (d *decoder) fields(n *yaml.Node, path string, handlers map[string]func(v *yaml.Node, field string)) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping of keys to values")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		h, ok := handlers[k.Value]
		switch {
		case !ok:
			d.fail(k, field, "unknown field%s", suggest(k.Value, keys(handlers)))
		case seen[k.Value]:
			d.fail(k, field, "given twice")
		default:
			seen[k.Value] = true
			h(v, field)
		}
	}
}

// entries returns a mapping's keys and values in file order.
func (d *decoder) entries(n *yaml.Node, path string) (keys []*yaml.Node, values []*yaml.Node) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping of names to definitions")
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys, values = append(keys, n.Content[i]), append(values, n.Content[i+1])
	}
	return keys, values
}

func (d *decoder) seq(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "must be a list")
		return nil
	}
	return n.Content
}

func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.fail(n, path, "must be a string")
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.fail(n, path, "must be true or false")
		return false
	}
	return n.Value == "true"
}

// integer reads a whole number no smaller than lo.
func (d *decoder) integer(n *yaml.Node, path string, lo int) int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
		d.fail(n, path, "must be a whole number")
		return 0
	}
	if v < lo {
		d.fail(n, path, "must be at least %d (got %d)", lo, v)
	}
	return v
}

func (d *decoder) number(n *yaml.Node, path string) float64 {
	v, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || err != nil {
		d.fail(n, path, "must be a number")
	}
	return v
}

// duration reads a Go duration ("30s", "1m30s", "250ms"); positive unless
// zero is allowed.
func (d *decoder) duration(n *yaml.Node, path string, zeroOK bool) time.Duration {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "must be a duration such as 30s, 2m or 250ms")
		return 0
	}
	v, err := time.ParseDuration(n.Value)
	switch {
	case err != nil && n.Tag == "!!int":
		d.fail(n, path, "needs a unit: %ss or %sms?", n.Value, n.Value)
	case err != nil:
		d.fail(n, path, "must be a duration such as 30s, 2m or 250ms (got %q)", n.Value)
	case v < 0 || v == 0 && !zeroOK:
		d.fail(n, path, "must be positive (got %s)", n.Value)
	}
	return v
}

// value decodes any YAML value into plain Go values (a request body).
func (d *decoder) value(n *yaml.Node, path string) any {
	var v any
	if err := n.Decode(&v); err != nil {
		d.fail(n, path, "%v", err)
	}
	return v
}

func (d *decoder) stringMap(n *yaml.Node, path string) map[string]string {
	ks, vs := d.entries(n, path)
	out := make(map[string]string, len(ks))
	for i, k := range ks {
		out[k.Value] = d.str(vs[i], join(path, k.Value))
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// suggest names the closest known word when it is a likely typo.
func suggest(got string, known []string) string {
	best, dist := "", 3
	for _, k := range known {
		if dd := spelling.Distance(strings.ToLower(got), strings.ToLower(k)); dd < dist {
			best, dist = k, dd
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(known) == 0 {
		return ""
	}
	return fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
}
