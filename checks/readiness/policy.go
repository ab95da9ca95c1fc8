package readiness

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/internal/spelling"
)

// Action is what a policy override does to a check's result.
type Action string

// The override actions, as ZAP's rules file has IGNORE and WARN.
const (
	// ActionIgnore keeps the check running and its result visible, but
	// out of the score and the gates.
	ActionIgnore Action = "ignore"
	// ActionWarn reports a failure as a warning (half credit) that never
	// gates; errors stay errors but do not gate either.
	ActionWarn Action = "warn"
	// ActionDowngrade scores and gates the check at a lower severity.
	ActionDowngrade Action = "downgrade"
)

// Policy is a policy file: thresholds for the checks, a minimum score,
// and overrides of single checks, each with its reason.
type Policy struct {
	// File is where the policy was read from, for messages and reports.
	File string `json:"file,omitempty"`
	// Thresholds are what the checks compare against; a zero field
	// keeps the target's value, or the default.
	Thresholds check.Policy `json:"-"`
	// MinScore, when above 0, gates the run on the score.
	MinScore int `json:"min_score,omitempty"`
	// Overrides are in file order; at most one per check id.
	Overrides []Override `json:"overrides,omitempty"`
}

// Override changes how one check's result counts.
type Override struct {
	ID     string `json:"id"`     // the check's id, "headers.hsts"
	Action Action `json:"action"` // ignore, warn or downgrade
	// Severity is the severity a downgrade counts the check at.
	Severity check.Severity `json:"severity,omitempty"`
	// Reason is required: an exemption nobody can explain is a finding
	// nobody fixed.
	Reason string `json:"reason"`
	// Owner answers for the waiver (a person or a team), and Expires is
	// the day (YYYY-MM-DD, UTC) from which it no longer waives: both are
	// required, so that every exemption is someone's and is looked at
	// again.
	Owner   string `json:"owner"`
	Expires string `json:"expires"`
	// Source is "file:line" of the override, so a reader can find it.
	Source string `json:"source,omitempty"`
}

// PolicyError is a mistake in a policy file, at a line of it.
type PolicyError struct {
	File string // the policy file, "" when parsed from bytes without a name
	Line int    // 1-based; 0 when the mistake has no line
	Msg  string // what is wrong and, when it can, how to fix it
}

// Error implements error as "file:line: message", which editors jump to.
func (e *PolicyError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.Msg
}

// LoadPolicy reads and parses the policy file at path.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePolicy(data, path)
}

// policyKeys are the top-level keys of a policy file.
var policyKeys = []string{"version", "thresholds", "min_score", "overrides"}

// overrideKeys are the keys of one override.
var overrideKeys = []string{"id", "action", "severity", "reason", "owner", "expires"}

// DateLayout is how a waiver's expiry is written: a day, "2027-03-31".
const DateLayout = "2006-01-02"

var actions = []string{string(ActionIgnore), string(ActionWarn), string(ActionDowngrade)}

var severities = []string{string(check.Critical), string(check.High), string(check.Medium), string(check.Low), string(check.Info)}

// ParsePolicy parses a policy file's contents; name is the file's name in
// error messages. It checks everything that needs no list of checks;
// [Policy.Validate] checks the override ids against the checks.
func ParsePolicy(data []byte, name string) (*Policy, error) {
	p := &Policy{File: name}
	fail := func(n *yaml.Node, format string, args ...any) error {
		line := 0
		if n != nil {
			line = n.Line
		}
		return &PolicyError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml's own errors carry "line N"; keep them, prefixed with
		// the file.
		return nil, &PolicyError{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) == 0 {
		return p, nil // an empty file is the empty policy
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return p, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail(root, "a policy is a mapping with %s", strings.Join(policyKeys, ", "))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if prev, dup := seen[k.Value]; dup {
			return nil, fail(k, "%s is set twice (first at line %d)", k.Value, prev)
		}
		seen[k.Value] = k.Line
		switch k.Value {
		case "version":
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				return nil, fail(v, "version %q is not supported: this harness reads policy version 1", v.Value)
			}
		case "thresholds":
			th, err := parseThresholds(v, fail)
			if err != nil {
				return nil, err
			}
			p.Thresholds = th
		case "min_score":
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || n < 0 || n > 100 {
				return nil, fail(v, "min_score must be a whole number from 0 to 100, not %q", v.Value)
			}
			p.MinScore = n
		case "overrides":
			ov, err := parseOverrides(v, name, fail)
			if err != nil {
				return nil, err
			}
			p.Overrides = ov
		default:
			return nil, fail(k, "unknown key %q%s", k.Value, suggest(k.Value, policyKeys))
		}
	}
	return p, nil
}

type failFunc func(n *yaml.Node, format string, args ...any) error

// thresholdFields maps the yaml names of check.Policy's fields to their
// index, read from the struct so that a threshold added there is read
// here without a change.
func thresholdFields() (names []string, index map[string]int) {
	t := reflect.TypeFor[check.Policy]()
	index = map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

var durationType = reflect.TypeFor[time.Duration]()

func parseThresholds(n *yaml.Node, fail failFunc) (check.Policy, error) {
	var p check.Policy
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return p, nil
	}
	names, index := thresholdFields()
	if n.Kind != yaml.MappingNode {
		return p, fail(n, "thresholds is a mapping of %s", strings.Join(names, ", "))
	}
	pv := reflect.ValueOf(&p).Elem()
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fi, ok := index[k.Value]
		if !ok {
			return p, fail(k, "unknown threshold %q%s", k.Value, suggest(k.Value, names))
		}
		if prev, dup := seen[k.Value]; dup {
			return p, fail(k, "threshold %s is set twice (first at line %d)", k.Value, prev)
		}
		seen[k.Value] = k.Line
		if v.Kind != yaml.ScalarNode {
			return p, fail(v, "threshold %s must be a single value", k.Value)
		}
		f := pv.Field(fi)
		switch {
		case f.Type() == durationType:
			if _, err := strconv.ParseFloat(v.Value, 64); err == nil {
				return p, fail(v, "threshold %s: %s has no unit; write %ss, %sh or %sd", k.Value, v.Value, v.Value, v.Value, v.Value)
			}
			d, err := ParseDuration(v.Value)
			if err != nil {
				return p, fail(v, "threshold %s: %v", k.Value, err)
			}
			f.SetInt(int64(d))
		case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
			x, err := strconv.ParseInt(v.Value, 10, 64)
			if err != nil || x < 0 {
				return p, fail(v, "threshold %s must be a whole number of at least 0, not %q", k.Value, v.Value)
			}
			f.SetInt(x)
		default:
			return p, fail(k, "threshold %s has a type (%s) this policy reader cannot set", k.Value, f.Type())
		}
	}
	return p, nil
}

func parseOverrides(n *yaml.Node, file string, fail failFunc) ([]Override, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fail(n, "overrides is a list of {id, action, reason, owner, expires}")
	}
	var out []Override
	first := map[string]int{}
	for i, item := range n.Content {
		where := fmt.Sprintf("overrides[%d]", i)
		if item.Kind != yaml.MappingNode {
			return nil, fail(item, "%s must be a mapping with id, action, reason, owner and expires", where)
		}
		o := Override{Source: file + ":" + strconv.Itoa(item.Line)}
		if file == "" {
			o.Source = "line " + strconv.Itoa(item.Line)
		}
		seen := map[string]bool{}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			if seen[k.Value] {
				return nil, fail(k, "%s: %s is set twice", where, k.Value)
			}
			seen[k.Value] = true
			if v.Kind != yaml.ScalarNode {
				return nil, fail(v, "%s: %s must be a single value", where, k.Value)
			}
			switch k.Value {
			case "id":
				o.ID = strings.TrimSpace(v.Value)
			case "action":
				o.Action = Action(strings.ToLower(strings.TrimSpace(v.Value)))
				if !contains(actions, string(o.Action)) {
					return nil, fail(v, "%s: unknown action %q%s; the actions are %s", where, v.Value, suggest(v.Value, actions), strings.Join(actions, ", "))
				}
			case "severity":
				o.Severity = check.Severity(strings.ToLower(strings.TrimSpace(v.Value)))
				if o.Severity.Rank() == 0 {
					return nil, fail(v, "%s: unknown severity %q%s; the severities are %s", where, v.Value, suggest(v.Value, severities), strings.Join(severities, ", "))
				}
			case "reason":
				o.Reason = strings.TrimSpace(v.Value)
			case "owner":
				o.Owner = strings.TrimSpace(v.Value)
			case "expires":
				o.Expires = strings.TrimSpace(v.Value)
				if _, err := time.Parse(DateLayout, o.Expires); err != nil {
					return nil, fail(v, "%s: expires %q is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31", where, v.Value)
				}
			default:
				return nil, fail(k, "%s: unknown key %q%s", where, k.Value, suggest(k.Value, overrideKeys))
			}
		}
		if o.ID == "" {
			return nil, fail(item, "%s: id is required: the id of the check to override", where)
		}
		where += " (" + o.ID + ")"
		if o.Action == "" {
			return nil, fail(item, "%s: action is required: one of %s", where, strings.Join(actions, ", "))
		}
		if o.Reason == "" {
			return nil, fail(item, "%s: reason is required: say why %s is %s, for whoever reads the report", where, o.ID, actionPast(o.Action))
		}
		if o.Owner == "" {
			return nil, fail(item, "%s: owner is required: who answers for this waiver (a person or a team)", where)
		}
		if o.Expires == "" {
			return nil, fail(item, "%s: expires is required: the day (YYYY-MM-DD) from which %s is no longer %s, so that the waiver is looked at again", where, o.ID, actionPast(o.Action))
		}
		switch {
		case o.Action == ActionDowngrade && o.Severity == "":
			return nil, fail(item, "%s: a downgrade needs the severity to count the check at (severity: low)", where)
		case o.Action != ActionDowngrade && o.Severity != "":
			return nil, fail(item, "%s: severity applies only to action downgrade, not %s", where, o.Action)
		}
		if prev, dup := first[o.ID]; dup {
			return nil, fail(item, "%s: %s is overridden twice (first at line %d)", where, o.ID, prev)
		}
		first[o.ID] = item.Line
		out = append(out, o)
	}
	return out, nil
}

func actionPast(a Action) string {
	switch a {
	case ActionIgnore:
		return "ignored"
	case ActionWarn:
		return "only a warning"
	}
	return "downgraded"
}

// Validate checks the overrides against the checks that exist: every id
// must name one (the error names the nearest known id), and a downgrade
// must lower the check's severity. A Meta without a severity (a check
// known by id only) is checked for its id alone.
func (p *Policy) Validate(known []check.Meta) error {
	if p == nil {
		return nil
	}
	byID := map[string]check.Meta{}
	var ids []string
	for _, m := range known {
		if _, dup := byID[m.ID]; !dup {
			ids = append(ids, m.ID)
		}
		byID[m.ID] = m
	}
	sort.Strings(ids)
	var errs []error
	for _, o := range p.Overrides {
		file, line := p.File, sourceLine(o.Source)
		m, ok := byID[o.ID]
		if !ok {
			msg := fmt.Sprintf("override for unknown check %q", o.ID)
			if near, _ := nearest(o.ID, ids); near != "" {
				if close := suggest(o.ID, ids); close != "" {
					msg += close
				} else {
					msg += fmt.Sprintf("; the nearest known id is %q", near)
				}
			} else {
				msg += "; no checks are known"
			}
			errs = append(errs, &PolicyError{File: file, Line: line, Msg: msg})
			continue
		}
		if o.Action == ActionDowngrade && m.Severity.Rank() > 0 && o.Severity.Rank() >= m.Severity.Rank() {
			errs = append(errs, &PolicyError{File: file, Line: line,
				Msg: fmt.Sprintf("override for %s: %s is not below the check's severity %s, so this is not a downgrade", o.ID, o.Severity, m.Severity)})
		}
	}
	return errors.Join(errs...)
}

func sourceLine(src string) int {
	i := strings.LastIndexAny(src, ": ")
	n, _ := strconv.Atoi(src[i+1:])
	return n
}

// nearest is the candidate closest to word by edit distance; ties go to
// the one first in order.
func nearest(word string, candidates []string) (string, int) {
	best, bestD := "", -1
	for _, c := range candidates {
		d := spelling.Distance(word, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD
}

// suggest is `; did you mean "x"?` when a candidate is close enough to be
// a typo of word (at most a third of its letters off), else "".
func suggest(word string, candidates []string) string {
	near, d := nearest(word, candidates)
	if near == "" || d > max(2, len(word)/3) {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", near)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// override is the override for id, or nil.
func (p *Policy) override(id string) *Override {
	if p == nil {
		return nil
	}
	for i := range p.Overrides {
		if p.Overrides[i].ID == id {
			o := p.Overrides[i]
			return &o
		}
	}
	return nil
}

// mergeThresholds is base with every non-zero field of over set over it,
// by reflection so that new check.Policy fields merge without a change.
func mergeThresholds(base, over check.Policy) check.Policy {
	bv, ov := reflect.ValueOf(&base).Elem(), reflect.ValueOf(over)
	for i := range ov.NumField() {
		if f := ov.Field(i); !f.IsZero() && bv.Field(i).CanSet() {
			bv.Field(i).Set(f)
		}
	}
	return base
}

// Threshold is one threshold as a run used it, by its policy-file name.
type Threshold struct {
	Name  string `json:"name"`  // as in the policy file, "hsts_min_age"
	Value string `json:"value"` // as a policy would write it, "180d"
}

// thresholdList is p as policy-file names and values, in struct order.
func thresholdList(p check.Policy) []Threshold {
	names, index := thresholdFields()
	pv := reflect.ValueOf(p)
	var out []Threshold
	for _, name := range names {
		f := pv.Field(index[name])
		v := fmt.Sprint(f.Interface())
		if f.Type() == durationType {
			v = FormatDuration(time.Duration(f.Int()))
		}
		out = append(out, Threshold{Name: name, Value: v})
	}
	return out
}
