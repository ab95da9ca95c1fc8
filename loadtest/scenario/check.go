package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/taskready/taskready/loadtest/record"
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
	for _, r := range f.Recoveries {
		if r.After != "" && !phases[r.After] {
			d.problemAt(r.Line, "recovery", "after: no phase %q in any scenario%s", r.After, suggest(r.After, keys(phases)))
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
		if !slices.Contains(record.Measured, t.Selector.Metric) {
			// It would have no data in every run, and pass every time.
			d.problemAt(t.Line, field, "the harness does not measure %s, so this threshold could never fail%s",
				t.Selector.Metric, suggest(t.Selector.Metric, record.Measured))
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
