package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/taskready/taskready/env/link"
	"github.com/taskready/taskready/loadtest/threshold"
)

// Defaults of a file that does not set them.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultTimeUnit = time.Second
)

// ErrInvalid is wrapped by every error Load returns for a bad file, so a
// CLI can exit 2 (a usage error) rather than 1.
var ErrInvalid = errors.New("invalid scenario")

// Load reads and validates the scenario file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return Parse(path, data)
}

// Parse validates data as the scenario file named name. The error, when
// there is one, lists every problem, one per line.
func Parse(name string, data []byte) (*File, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
	}
	d := &decoder{file: name}
	f := &File{Path: name, Journeys: map[string]*Journey{}, Defaults: Defaults{Timeout: DefaultTimeout}}
	if len(root.Content) == 0 {
		d.fail(&root, "", "the file is empty")
	} else {
		d.file1(root.Content[0], f)
		d.check(f)
	}
	if len(d.problems) > 0 {
		errs := make([]error, len(d.problems))
		for i, p := range d.problems {
			errs[i] = p
		}
		return nil, fmt.Errorf("%w: %d problem(s):\n%w", ErrInvalid, len(errs), errors.Join(errs...))
	}
	return f, nil
}

func (d *decoder) file1(n *yaml.Node, f *File) {
	var journeysNode *yaml.Node
	d.fields(n, "", map[string]func(*yaml.Node, string){
		"name":        func(v *yaml.Node, p string) { f.Name = d.str(v, p) },
		"description": func(v *yaml.Node, p string) { f.Description = d.str(v, p) },
		"users":       func(v *yaml.Node, p string) { d.users(v, p, &f.Users) },
		"defaults":    func(v *yaml.Node, p string) { d.defaults(v, p, &f.Defaults) },
		"scenarios": func(v *yaml.Node, p string) {
			ks, vs := d.entries(v, p)
			for i, k := range ks {
				f.Scenarios = append(f.Scenarios, d.scenario(vs[i], join(p, k.Value), k.Value))
			}
		},
		"journeys":   func(v *yaml.Node, p string) { journeysNode = v; d.journeys(v, p, f) },
		"thresholds": func(v *yaml.Node, p string) { f.Thresholds = d.thresholds(v, p) },
		"recovery": func(v *yaml.Node, p string) {
			for i, item := range d.seq(v, p) {
				f.Recoveries = append(f.Recoveries, d.recovery(item, index(p, i)))
			}
		},
		"faults": func(v *yaml.Node, p string) {
			for i, item := range d.seq(v, p) {
				f.Faults = append(f.Faults, d.fault(item, index(p, i)))
			}
		},
	})
	if f.Name == "" {
		d.fail(n, "name", "is required")
	}
	if len(f.Scenarios) == 0 {
		d.fail(n, "scenarios", "at least one scenario is required")
	}
	if journeysNode == nil {
		d.fail(n, "journeys", "at least one journey is required")
	}
}

func (d *decoder) users(n *yaml.Node, path string, u *Users) {
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"prefix":   func(v *yaml.Node, p string) { u.Prefix = d.str(v, p) },
		"count":    func(v *yaml.Node, p string) { u.Count = d.integer(v, p, 1) },
		"password": func(v *yaml.Node, p string) { u.Password = d.str(v, p) },
		"journeys": func(v *yaml.Node, p string) {
			ks, vs := d.entries(v, p)
			u.Journeys = make(map[string]UserRange, len(ks))
			for i, k := range ks {
				u.Journeys[k.Value] = d.userRange(vs[i], join(p, k.Value))
			}
		},
	})
	if u.Prefix == "" || u.Count == 0 || u.Password == "" {
		d.fail(n, path, "needs prefix, count and password (the seeded users: harness seed)")
	}
	for _, name := range keys(u.Journeys) {
		if r := u.Journeys[name]; r.From > 0 && r.To >= r.From && u.Count > 0 && r.To > u.Count {
			d.problemAt(r.Line, join(join(path, "journeys"), name), "to: %d is beyond the %d seeded users (count)", r.To, u.Count)
		}
	}
}

// userRange reads {from: N, to: M}, seeded users N to M.
func (d *decoder) userRange(n *yaml.Node, path string) UserRange {
	r := UserRange{Line: n.Line}
	var from, to bool
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"from": func(v *yaml.Node, p string) { r.From, from = d.integer(v, p, 1), true },
		"to":   func(v *yaml.Node, p string) { r.To, to = d.integer(v, p, 1), true },
	})
	switch {
	case n.Kind != yaml.MappingNode:
	case !from || !to:
		d.fail(n, path, "needs from and to: the first and last of the seeded users this journey logs in as")
	case r.From >= 1 && r.To < r.From:
		d.fail(n, path, "to (%d) is below from (%d)", r.To, r.From)
	}
	return r
}

func (d *decoder) defaults(n *yaml.Node, path string, df *Defaults) {
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"timeout": func(v *yaml.Node, p string) { df.Timeout = d.duration(v, p, false) },
		"think":   func(v *yaml.Node, p string) { df.Think = d.duration(v, p, true) },
	})
}

func (d *decoder) scenario(n *yaml.Node, path, name string) Scenario {
	s := Scenario{Name: name, TimeUnit: DefaultTimeUnit, Line: n.Line}
	set := map[string]*yaml.Node{}
	field := func(f func(*yaml.Node, string)) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) { set[p[strings.LastIndex(p, ".")+1:]] = v; f(v, p) }
	}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"executor": field(func(v *yaml.Node, p string) {
			s.Executor = Executor(d.str(v, p))
			if _, ok := s.Executor.Spec(); !ok {
				d.fail(v, p, "unknown executor %q%s", s.Executor, suggest(string(s.Executor), executorNames()))
			}
		}),
		"startTime":       field(func(v *yaml.Node, p string) { s.StartTime = d.duration(v, p, true) }),
		"rate":            field(func(v *yaml.Node, p string) { s.Rate = d.integer(v, p, 1) }),
		"timeUnit":        field(func(v *yaml.Node, p string) { s.TimeUnit = d.duration(v, p, false) }),
		"startRate":       field(func(v *yaml.Node, p string) { s.StartRate = d.integer(v, p, 0) }),
		"preAllocatedVUs": field(func(v *yaml.Node, p string) { s.PreAllocatedVUs = d.integer(v, p, 1) }),
		"maxVUs":          field(func(v *yaml.Node, p string) { s.MaxVUs = d.integer(v, p, 1) }),
		"vus":             field(func(v *yaml.Node, p string) { s.VUs = d.integer(v, p, 1) }),
		"startVUs":        field(func(v *yaml.Node, p string) { s.StartVUs = d.integer(v, p, 0) }),
		"iterations":      field(func(v *yaml.Node, p string) { s.Iterations = d.integer(v, p, 1) }),
		"maxDuration":     field(func(v *yaml.Node, p string) { s.MaxDuration = d.duration(v, p, false) }),
		"duration":        field(func(v *yaml.Node, p string) { s.Duration = d.duration(v, p, false) }),
		"phase":           field(func(v *yaml.Node, p string) { s.Phase = d.str(v, p) }),
		"stages": field(func(v *yaml.Node, p string) {
			for i, st := range d.seq(v, p) {
				s.Stages = append(s.Stages, d.stage(st, index(p, i)))
			}
		}),
		"journeys": field(func(v *yaml.Node, p string) { s.Journeys = d.weighted(v, p) }),
	})
	d.executorFields(n, path, &s, set)
	return s
}

func (d *decoder) executorFields(n *yaml.Node, path string, s *Scenario, set map[string]*yaml.Node) {
	spec, ok := s.Executor.Spec()
	if !ok {
		if set["executor"] == nil {
			d.fail(n, join(path, "executor"), "is required (one of %s)", strings.Join(executorNames(), ", "))
		}
		return
	}
	for _, f := range spec.Required {
		if set[f] == nil {
			d.fail(n, join(path, f), "is required by the %s executor", s.Executor)
		}
	}
	for f, v := range set {
		if !slices.Contains(spec.Required, f) && !slices.Contains(spec.Allowed, f) && !slices.Contains(commonFields, f) {
			d.fail(v, join(path, f), "does not apply to the %s executor", s.Executor)
		}
	}
	if len(s.Journeys) == 0 && set["journeys"] == nil {
		d.fail(n, join(path, "journeys"), "is required: which journeys this scenario's users take")
	}
	if s.MaxVUs > 0 && s.MaxVUs < s.PreAllocatedVUs {
		d.fail(set["maxVUs"], join(path, "maxVUs"), "must be at least preAllocatedVUs (%d)", s.PreAllocatedVUs)
	}
}

func (d *decoder) stage(n *yaml.Node, path string) Stage {
	var st Stage
	var target bool
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"duration": func(v *yaml.Node, p string) { st.Duration = d.duration(v, p, false) },
		"target":   func(v *yaml.Node, p string) { st.Target = d.integer(v, p, 0); target = true },
		"phase":    func(v *yaml.Node, p string) { st.Phase = d.str(v, p) },
	})
	if st.Duration == 0 || !target {
		d.fail(n, path, "needs a duration and a target")
	}
	return st
}

// weighted reads journeys as a list of names or of {name: weight}.
func (d *decoder) weighted(n *yaml.Node, path string) []WeightedJourney {
	var out []WeightedJourney
	for i, item := range d.seq(n, path) {
		p := index(path, i)
		switch item.Kind {
		case yaml.ScalarNode:
			out = append(out, WeightedJourney{Name: d.str(item, p), Weight: 1})
		case yaml.MappingNode:
			ks, vs := d.entries(item, p)
			if len(ks) != 1 {
				d.fail(item, p, "must be a journey name or {name: weight}")
				continue
			}
			out = append(out, WeightedJourney{Name: ks[0].Value, Weight: d.integer(vs[0], join(p, ks[0].Value), 1)})
		default:
			d.fail(item, p, "must be a journey name or {name: weight}")
		}
	}
	return out
}

func (d *decoder) journeys(n *yaml.Node, path string, f *File) {
	ks, vs := d.entries(n, path)
	for i, k := range ks {
		jp := join(path, k.Value)
		j := &Journey{Name: k.Value}
		steps := vs[i]
		if vs[i].Kind == yaml.MappingNode {
			d.fields(vs[i], jp, map[string]func(*yaml.Node, string){
				"steps": func(v *yaml.Node, p string) { steps = v; jp = p },
			})
		}
		for si, st := range d.seq(steps, jp) {
			j.Steps = append(j.Steps, d.step(st, index(jp, si), f.Defaults))
		}
		if len(j.Steps) == 0 {
			d.fail(vs[i], jp, "needs at least one step")
		}
		f.Journeys[k.Value] = j
	}
}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

func (d *decoder) step(n *yaml.Node, path string, df Defaults) Step {
	st := Step{Think: df.Think, Timeout: df.Timeout, Line: n.Line}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"name":     func(v *yaml.Node, p string) { st.Name = d.str(v, p) },
		"endpoint": func(v *yaml.Node, p string) { st.Endpoint = d.str(v, p) },
		"request": func(v *yaml.Node, p string) {
			d.fields(v, p, map[string]func(*yaml.Node, string){
				"method": func(v *yaml.Node, p string) {
					st.Method = strings.ToUpper(d.str(v, p))
					if !slices.Contains(methods, st.Method) {
						d.fail(v, p, "unknown method %q", st.Method)
					}
				},
				"path": func(v *yaml.Node, p string) {
					st.Path = d.str(v, p)
					if !strings.HasPrefix(st.Path, "/") {
						d.fail(v, p, "must start with / (the target is given at run time)")
					}
				},
				"headers": func(v *yaml.Node, p string) { st.Headers = d.stringMap(v, p) },
				"json":    func(v *yaml.Node, p string) { st.Body = d.value(v, p) },
			})
		},
		"check": func(v *yaml.Node, p string) {
			d.fields(v, p, map[string]func(*yaml.Node, string){
				"status": func(v *yaml.Node, p string) {
					if st.Check.Status = d.integer(v, p, 100); st.Check.Status > 599 {
						d.fail(v, p, "must be an HTTP status (100-599)")
					}
				},
				"bodyContains": func(v *yaml.Node, p string) { st.Check.BodyContains = d.str(v, p) },
			})
		},
		"extract": func(v *yaml.Node, p string) { st.Extract = d.stringMap(v, p) },
		"think":   func(v *yaml.Node, p string) { st.Think = d.duration(v, p, true) },
		"timeout": func(v *yaml.Node, p string) { st.Timeout = d.duration(v, p, false) },
	})
	if st.Name == "" {
		d.fail(n, join(path, "name"), "is required")
	}
	if st.Method == "" || st.Path == "" {
		d.fail(n, join(path, "request"), "needs a method and a path")
	}
	if st.Endpoint == "" {
		st.Endpoint = st.Name
	}
	return st
}

// thresholds reads the thresholds map; each item is parsed and checked by
// the threshold package (k6 syntax), its errors placed at the item's line.
func (d *decoder) thresholds(n *yaml.Node, path string) []Threshold {
	var out []Threshold
	ks, vs := d.entries(n, path)
	for i, k := range ks {
		p := join(path, k.Value)
		if _, err := threshold.ParseSelector(k.Value); err != nil {
			d.fail(k, p, "%v", err)
			continue
		}
		for j, item := range d.seq(vs[i], p) {
			ip := index(p, j)
			if item.Kind == yaml.ScalarNode && item.Tag != "!!str" {
				d.fail(item, ip, `must be an expression such as "p(95)<300" or {threshold: ..., abortOnFail: true}`)
				continue
			}
			t, err := threshold.Parse(k.Value, d.value(item, ip))
			if err != nil {
				d.fail(item, ip, "%v", err)
				continue
			}
			out = append(out, Threshold{Threshold: t, Line: item.Line})
		}
	}
	return out
}

func (d *decoder) recovery(n *yaml.Node, path string) Recovery {
	r := Recovery{Metric: "http_req_duration", Stat: "p(95)", Line: n.Line}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"after":  func(v *yaml.Node, p string) { r.After = d.str(v, p) },
		"metric": func(v *yaml.Node, p string) { r.Metric = d.str(v, p) },
		"stat":   func(v *yaml.Node, p string) { r.Stat = d.str(v, p) },
		"below":  func(v *yaml.Node, p string) { r.Below = d.number(v, p) },
		"within": func(v *yaml.Node, p string) { r.Within = d.duration(v, p, false) },
	})
	if r.After == "" || r.Below <= 0 || r.Within == 0 {
		d.fail(n, path, "needs after (a phase or a fault), below (a positive bound) and within (a duration)")
	}
	return r
}

// fault reads one entry of faults. What it refers to elsewhere in the
// file (phases, the other faults' names) is checked by check, which finds
// the lines of its fields in d.faultFields.
func (d *decoder) fault(n *yaml.Node, path string) Fault {
	f := Fault{Line: n.Line}
	set := map[string]*yaml.Node{}
	field := func(h func(*yaml.Node, string)) func(*yaml.Node, string) {
		return func(v *yaml.Node, p string) { set[p[strings.LastIndex(p, ".")+1:]] = v; h(v, p) }
	}
	name := func(v *yaml.Node, p string) string {
		s := d.str(v, p)
		if s == "" && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			d.fail(v, p, "must not be empty")
		}
		return s
	}
	handlers := map[string]func(*yaml.Node, string){
		"name":   field(func(v *yaml.Node, p string) { f.Name = name(v, p) }),
		"target": field(func(v *yaml.Node, p string) { f.Target = name(v, p) }),
		"action": field(func(v *yaml.Node, p string) {
			if f.Action = name(v, p); f.Action != "" && !slices.Contains(FaultActions, f.Action) {
				d.fail(v, p, "unknown action %q%s", f.Action, suggest(f.Action, FaultActions))
			}
		}),
		"at":     field(func(v *yaml.Node, p string) { f.At = d.duration(v, p, true) }),
		"phase":  field(func(v *yaml.Node, p string) { f.Phase = name(v, p) }),
		"offset": field(func(v *yaml.Node, p string) { f.Offset = d.duration(v, p, true) }),
		"for":    field(func(v *yaml.Node, p string) { f.For = d.duration(v, p, false) }),
		"until":  field(func(v *yaml.Node, p string) { f.Until = name(v, p) }),
	}
	// The parameters of actions on links; their ranges are
	// link.Fault.Check's, once the action is known.
	undecodable := map[string]bool{}
	param := func(decode func(*yaml.Node, string)) func(*yaml.Node, string) {
		return field(func(v *yaml.Node, p string) {
			before := len(d.problems)
			decode(v, p)
			undecodable[p[strings.LastIndex(p, ".")+1:]] = len(d.problems) > before
		})
	}
	durationParam := func(to *time.Duration) func(*yaml.Node, string) {
		return param(func(v *yaml.Node, p string) { *to = d.duration(v, p, true) })
	}
	countParam := func(to *int64) func(*yaml.Node, string) {
		return param(func(v *yaml.Node, p string) { *to = int64(d.integer(v, p, math.MinInt)) })
	}
	for name, to := range f.Link.Durations() {
		handlers[name] = durationParam(to)
	}
	for name, to := range f.Link.Counts() {
		handlers[name] = countParam(to)
	}
	d.fields(n, path, handlers)
	d.faultFields = append(d.faultFields, set)
	if n.Kind != yaml.MappingNode {
		return f
	}
	if set["name"] == nil {
		d.fail(n, join(path, "name"), "is required: reports and recovery budgets name the fault")
	}
	if set["target"] == nil {
		d.fail(n, join(path, "target"), "is required: a component (mongo-0, redis-primary, api-2, ...) or a link (%s)", strings.Join(FaultLinks, ", "))
	}
	if set["action"] == nil {
		d.fail(n, join(path, "action"), "is required (one of %s)", strings.Join(FaultActions, ", "))
	}

	switch {
	case set["at"] != nil && set["phase"] != nil:
		d.fail(set["phase"], join(path, "phase"), "cannot be given with at: a fault starts at a time from the run's start or in a phase, not both")
	case set["at"] == nil && set["phase"] == nil:
		d.fail(n, path, "needs a start: at (a time from the run's start) or phase (and an offset into it)")
	}
	if set["offset"] != nil && set["phase"] == nil {
		d.fail(set["offset"], join(path, "offset"), "applies only with phase (it is counted from the phase's start); from the run's start, use at")
	}
	known := slices.Contains(FaultActions, f.Action)
	switch {
	case set["for"] != nil && set["until"] != nil:
		d.fail(set["until"], join(path, "until"), "cannot be given with for: a fault ends after a time or when a phase begins, not both")
	case set["for"] == nil && set["until"] == nil && known && f.Action != FaultKill:
		d.fail(n, path, "needs an end: for (a duration) or until (a phase); only a kill may have neither, and is then never undone")
	}
	if !known {
		return f
	}

	d.linkParams(f.Action, &f.Link, path, n, set, undecodable)
	if f.Target != "" {
		switch isLink := slices.Contains(FaultLinks, f.Target); {
		case f.OnLink() && !isLink:
			d.fail(set["target"], join(path, "target"), "the %s action acts on a link, and %q is not one%s", f.Action, f.Target, suggest(f.Target, FaultLinks))
		case !f.OnLink() && isLink:
			d.fail(set["target"], join(path, "target"), "the %s action acts on a component, and %q is a link (did you mean %q?)", f.Action, f.Target, linkComponent[f.Target])
		}
	}
	return f
}

// linkParams checks the parameters of a fault's action on a link: each
// given applies to the action, each the action requires is given, and
// their values are in range (link.Fault.Check). It sets lf.Action to the
// link's name of action; a component's action takes no parameter.
func (d *decoder) linkParams(action string, lf *link.Fault, path string, n *yaml.Node, set map[string]*yaml.Node, undecodable map[string]bool) {
	lf.Action = linkAction(action)
	params := link.Params(lf.Action)
	takes := func(name string) bool {
		return slices.ContainsFunc(params, func(p link.Param) bool { return p.Name == name })
	}
	missing := false
	for _, p := range params {
		if p.Required && set[p.Name] == nil {
			d.fail(n, join(path, p.Name), "is required by the %s action: %s", action, p.Doc)
			missing = true
		}
	}
	for _, name := range link.ParamNames {
		if v := set[name]; v != nil && !takes(name) {
			d.fail(v, join(path, name), "does not apply to the %s action%s", action, paramsOf(params))
		}
	}
	if lf.Action == "" || missing {
		return
	}
	for _, p := range lf.Check() {
		if v := set[p.Param]; v != nil && !undecodable[p.Param] {
			d.fail(v, join(path, p.Param), "%s", p.Msg)
		}
	}
}

// paramsOf says which parameters an action takes, for the message about
// one it does not.
func paramsOf(params []link.Param) string {
	if len(params) == 0 {
		return ""
	}
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return " (it takes " + strings.Join(names, ", ") + ")"
}

// variable matches {{name}} references in paths, headers and bodies.
var variable = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}`)

// Builtins are the variables every step may use.
var Builtins = []string{"user.email", "user.password", "user.index", "vu", "iteration", "uuid"}
