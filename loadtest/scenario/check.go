package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/threshold"
)

// check validates what no single field can: references between sections.
func (d *decoder) check(f *File) {
	phases := map[string]bool{}
	for _, s := range f.Scenarios {
		if s.Phase != "" {
			phases[s.Phase] = true
		}
		for _, st := range s.Stages {
			if st.Phase != "" {
				phases[st.Phase] = true
			}
		}
		for _, wj := range s.Journeys {
			if _, ok := f.Journeys[wj.Name]; !ok {
				d.problemAt(s.Line, "scenarios."+s.Name+".journeys", "no journey %q%s", wj.Name, suggest(wj.Name, keys(f.Journeys)))
			}
		}
	}
	d.checkFaults(f, phases)
	// A recovery budget runs from the end of a phase or of a fault.
	afters := map[string]bool{}
	for p := range phases {
		afters[p] = true
	}
	for _, ft := range f.Faults {
		if ft.Name != "" {
			afters[ft.Name] = true
		}
	}
	neverUndone := map[string]bool{}
	for _, ft := range f.Faults {
		if ft.For == 0 && ft.Until == "" && !phases[ft.Name] {
			neverUndone[ft.Name] = true
		}
	}
	for _, r := range f.Recoveries {
		switch {
		case neverUndone[r.After]:
			d.problemAt(r.Line, "recovery", "after: fault %q is never undone, so nothing could recover from its end; give it for or until", r.After)
		case r.After == "" || afters[r.After]:
		case len(f.Faults) == 0:
			d.problemAt(r.Line, "recovery", "after: no phase %q in any scenario%s", r.After, suggest(r.After, keys(phases)))
		default:
			d.problemAt(r.Line, "recovery", "after: no phase %q in any scenario and no fault of that name%s", r.After, suggest(r.After, keys(afters)))
		}
	}
	for _, name := range keys(f.Users.Journeys) {
		if _, ok := f.Journeys[name]; !ok {
			d.problemAt(f.Users.Journeys[name].Line, "users.journeys."+name, "no journey %q%s", name, suggest(name, keys(f.Journeys)))
		}
	}
	for _, name := range keys(f.Journeys) {
		d.checkVariables(f, name, f.Journeys[name])
	}
	d.checkThresholdTags(f, phases)
}

// checkFaults checks what faults refer to elsewhere in the file: each
// fault's name is its own (recovery.after names faults as well as
// phases), its phase and until are phases of the scenarios, and until
// begins after the fault starts, as the run will resolve them
// (phaseStarts).
func (d *decoder) checkFaults(f *File, phases map[string]bool) {
	starts := phaseStarts(f)
	named := map[string]int{} // a fault's name → the line of its name
	for i, ft := range f.Faults {
		path := index("faults", i)
		var set map[string]*yaml.Node
		if i < len(d.faultFields) {
			set = d.faultFields[i]
		}
		line := func(key string) int {
			if v := set[key]; v != nil {
				return v.Line
			}
			return ft.Line
		}
		if ft.Name != "" {
			if first, ok := named[ft.Name]; ok {
				d.problemAt(line("name"), join(path, "name"), "%q is already the name of the fault at line %d; fault names must be unique", ft.Name, first)
			} else {
				named[ft.Name] = line("name")
			}
			if phases[ft.Name] {
				d.problemAt(line("name"), join(path, "name"), "%q is also a phase's name, and recovery.after could not tell which it means", ft.Name)
			}
		}
		for _, ref := range []struct{ key, phase string }{{"phase", ft.Phase}, {"until", ft.Until}} {
			if ref.phase != "" && !phases[ref.phase] {
				d.problemAt(line(ref.key), join(path, ref.key), "no phase %q in any scenario%s", ref.phase, suggest(ref.phase, keys(phases)))
			}
		}

		// When until begins, the fault must have started: it would
		// otherwise end before it starts.
		until, ok := starts[ft.Until]
		if !ok || set["for"] != nil {
			continue
		}
		var start time.Duration
		var from string
		switch {
		case set["at"] != nil && set["phase"] == nil:
			start, from = ft.At, fmt.Sprintf("at: %s", ft.At)
		case set["at"] == nil && ft.Phase != "":
			begins, ok := starts[ft.Phase]
			if !ok {
				continue
			}
			start, from = begins+ft.Offset, fmt.Sprintf("at %s: phase %q begins at %s, offset %s", begins+ft.Offset, ft.Phase, begins, ft.Offset)
		default:
			continue
		}
		if until <= start {
			d.problemAt(line("until"), join(path, "until"), "phase %q begins at %s, not after the fault starts (%s)", ft.Until, until, from)
		}
	}
}

// phaseStarts says when each phase of f first begins, from the run's
// start, as the executors schedule the scenarios (executor.Schedule's
// Spans, offset by each scenario's startTime): a scenario's own phase
// at its startTime, a stage's once the stages before it have run. It is
// what a run resolves a fault's phase and until to.
func phaseStarts(f *File) map[string]time.Duration {
	out := map[string]time.Duration{}
	begin := func(phase string, at time.Duration) {
		if t, ok := out[phase]; phase != "" && (!ok || at < t) {
			out[phase] = at
		}
	}
	for _, s := range f.Scenarios {
		begin(s.Phase, s.StartTime)
		at := s.StartTime
		for _, st := range s.Stages {
			begin(st.Phase, at)
			at += st.Duration
		}
	}
	return out
}

// checkThresholdTags makes sure a threshold selects tags the run will
// have: a misspelt {endpoint:lsit} would select nothing, and a threshold
// with no data passes, as in k6, so the typo would hide a failure.
// Requests are tagged by scenario, endpoint and phase; whole iterations
// (iteration_duration, iterations) by scenario, journey and phase. A
// threshold on a metric the harness does not measure would never have
// data either, so it is refused too.
func (d *decoder) checkThresholdTags(f *File, phases map[string]bool) {
	values := map[string]map[string]bool{"scenario": {}, "endpoint": {}, "journey": {}, "phase": phases}
	for _, s := range f.Scenarios {
		values["scenario"][s.Name] = true
	}
	for name, j := range f.Journeys {
		values["journey"][name] = true
		for _, st := range j.Steps {
			values["endpoint"][st.Endpoint] = true
		}
	}
	for _, t := range f.Thresholds {
		field := "thresholds." + t.Selector.String()
		if slices.Contains(record.WriteMetrics, t.Selector.Metric) {
			d.checkWriteThreshold(t, field)
			continue
		}
		if !slices.Contains(record.Measured, t.Selector.Metric) {
			// It would have no data in every run, and pass every time.
			known := slices.Concat(record.Measured, record.WriteMetrics)
			d.problemAt(t.Line, field, "the harness does not measure %s, so this threshold could never fail%s",
				t.Selector.Metric, suggest(t.Selector.Metric, known))
			continue
		}
		tagKeys := record.TagsOf(t.Selector.Metric)
		for _, tag := range t.Selector.Tags {
			known := values[tag.Key]
			switch {
			case !slices.Contains(tagKeys, tag.Key) && tag.Key == "journey":
				d.problemAt(t.Line, field, "requests are not tagged by journey (only iteration_duration and iterations are); use scenario, endpoint or phase, "+
					"or iteration_duration{journey:%s} for the whole journey", tag.Value)
			case !slices.Contains(tagKeys, tag.Key):
				d.problemAt(t.Line, field, "tag %q is not one the run records for %s (%s)", tag.Key, t.Selector.Metric, strings.Join(tagKeys, ", "))
			case !known[tag.Value]:
				d.problemAt(t.Line, field, "no %s %q in this file%s", tag.Key, tag.Value, suggest(tag.Value, keys(known)))
			}
		}
	}
}

// checkWriteThreshold checks a threshold on one of the write ledger's
// counters, which are counted once, after the load, over the whole run.
func (d *decoder) checkWriteThreshold(t Threshold, field string) {
	switch {
	case len(t.Selector.Tags) > 0:
		d.problemAt(t.Line, field, "%s is counted over the whole run after the load stops and has no tags; write %s", t.Selector.Metric, t.Selector.Metric)
	case t.Expr.Stat != threshold.StatCount:
		d.problemAt(t.Line, field, "%s is counted once, after the load: use count (for example count==0)", t.Selector.Metric)
	case t.AbortOnFail:
		d.problemAt(t.Line, field, "%s is counted after the load stops, so abortOnFail cannot act on it", t.Selector.Metric)
	}
}

// checkVariables makes sure every {{variable}} a step uses is a builtin
// or was extracted by an earlier step of the same journey.
func (d *decoder) checkVariables(f *File, name string, j *Journey) {
	defined := map[string]bool{}
	for _, b := range Builtins {
		defined[b] = true
	}
	for i, st := range j.Steps {
		path := fmt.Sprintf("journeys.%s[%d]", name, i)
		for _, v := range stepVariables(st) {
			switch {
			case strings.HasPrefix(v, "user.") && f.Users.Prefix == "":
				d.problemAt(st.Line, path, "uses {{%s}} but the file has no users section (the seeded users)", v)
			case !defined[v]:
				d.problemAt(st.Line, path, "uses {{%s}}, which no earlier step extracts%s", v, suggest(v, keys(defined)))
			}
		}
		for v := range st.Extract {
			defined[v] = true
		}
	}
}

// stepVariables lists the variables a step refers to, in a stable order.
func stepVariables(st Step) []string {
	var out []string
	add := func(s string) {
		for _, m := range variable.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
	}
	add(st.Path)
	for _, k := range keys(st.Headers) {
		add(st.Headers[k])
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			add(t)
		case map[string]any:
			for _, k := range keys(t) {
				walk(t[k])
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(st.Body)
	slices.Sort(out)
	return slices.Compact(out)
}

func (d *decoder) problemAt(line int, field, format string, args ...any) {
	d.fail(&yaml.Node{Line: line}, field, format, args...)
}

// CheckName names the check of step st of journey in results (k6's
// checks and root_group): the journey, the step, and what is checked, as
// in "browse list: status 200, body contains \"pagination\"". The engine
// and the k6 export use it, so a run and its k6 twin name checks alike.
func CheckName(journey string, st *Step) string {
	what := "status 2xx"
	if st.Check.Status != 0 {
		what = "status " + strconv.Itoa(st.Check.Status)
	}
	if st.Check.BodyContains != "" {
		what += ", body contains " + strconv.Quote(st.Check.BodyContains)
	}
	return journey + " " + st.Name + ": " + what
}
