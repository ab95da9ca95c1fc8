package ops

import (
	"fmt"
	"slices"
	"strings"

	"github.com/taskready/taskready/internal/promql"
)

// maxDepth bounds how many recording rules deep an alert is read: rules
// that record from rules that record from... stop somewhere, and a cycle
// stops at once.
const maxDepth = 8

// covered is what coverage found, each as a line a report can show.
type covered struct {
	covering  []string // "availability of taskapi: A, B"
	missing   []string // "availability of job taskapi (5xx of ...)"
	broken    []string // rules that would cover but fail to evaluate, with their error
	noRunbook []string // covering alerts without a runbook_url
}

// read is a selector an alert reads, directly or through recording rules:
// refs are the references to those rules on the way (whose matchers, a
// job="..." above all, narrow what is read), broken the first of them
// that fails to evaluate.
type read struct {
	sel    promql.Selector
	refs   []promql.Selector
	broken string
}

// coverage says, for each objective and job, which alerting rules of
// rules watch it; an alert or recording rule that fails to evaluate
// watches nothing.
func coverage(rules []rule, jobs []string) covered {
	recorded := map[string][]rule{}
	for _, r := range rules {
		if r.Type == "recording" {
			recorded[r.Name] = append(recorded[r.Name], r)
		}
	}
	var c covered
	runbookless := map[string]bool{}
	for _, o := range objectives {
		for _, job := range jobs {
			var names, broken []string
			for _, r := range rules {
				if r.Type != "alerting" {
					continue
				}
				for _, rd := range reads(r.Query, recorded, 0, nil) {
					if rd.sel.Metric != o.metric || !o.selects(rd.sel) || !forJob(rd, job) {
						continue
					}
					switch {
					case r.Health == "err":
						broken = append(broken, fmt.Sprintf("%s: %s", r.Name, r.LastError))
					case rd.broken != "":
						broken = append(broken, fmt.Sprintf("%s reads %s", r.Name, rd.broken))
					default:
						names = append(names, r.Name)
						if r.Annotations["runbook_url"] == "" {
							runbookless[r.Name] = true
						}
					}
				}
			}
			names, broken = unique(names), unique(broken)
			if len(names) == 0 {
				c.missing = append(c.missing, fmt.Sprintf("%s of job %s (%s)", o.name, job, o.what))
				c.broken = append(c.broken, broken...)
				continue
			}
			c.covering = append(c.covering, fmt.Sprintf("%s of %s: %s", o.name, job, strings.Join(names, ", ")))
		}
	}
	for name := range runbookless {
		c.noRunbook = append(c.noRunbook, name)
	}
	slices.Sort(c.noRunbook)
	c.broken = unique(c.broken)
	return c
}

// forJob is whether rd reads series of job: its selector and every
// reference on the way accept the job.
func forJob(rd read, job string) bool {
	if !rd.sel.Accepts("job", job) {
		return false
	}
	for _, ref := range rd.refs {
		if !ref.Accepts("job", job) {
			return false
		}
	}
	return true
}

// reads lists what expr reads: a selector of a series some recording rule
// writes is read through each such rule whose own labels it accepts. An
// expression that does not parse reads nothing.
func reads(expr string, recorded map[string][]rule, depth int, via []promql.Selector) []read {
	sels, err := promql.Selectors(expr)
	if err != nil {
		return nil
	}
	var out []read
	for _, s := range sels {
		rs, ok := recorded[s.Metric]
		if !ok || depth >= maxDepth {
			out = append(out, read{sel: s, refs: via})
			continue
		}
		refs := append(slices.Clip(via), s)
		for _, r := range rs {
			if !acceptsLabels(s, r.Labels) {
				continue // a reference to the same name with other labels: another objective's
			}
			for _, rd := range reads(r.Query, recorded, depth+1, refs) {
				if rd.broken == "" && r.Health == "err" {
					rd.broken = fmt.Sprintf("%s: %s", r.Name, r.LastError)
				}
				out = append(out, rd)
			}
		}
	}
	return out
}

// acceptsLabels is whether the series a recording rule writes with these
// static labels pass s's matchers on them.
func acceptsLabels(s promql.Selector, labels map[string]string) bool {
	for k, v := range labels {
		if !s.Accepts(k, v) {
			return false
		}
	}
	return true
}

// unique sorts s and drops repeats.
func unique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
