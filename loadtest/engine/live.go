package engine

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// tally counts each scenario's iterations as they start, end or are
// dropped (executor.Events), for the live line's active VUs, dropped
// iterations and per-scenario progress, and passes the starts and drops
// on to the run's metrics.
type tally struct {
	// byName is filled before the run starts and only read after, by
	// the VUs' goroutines and the watcher at once.
	byName  map[string]*scenarioTally
	metrics *Metrics
}

type scenarioTally struct{ started, active, dropped atomic.Int64 }

func newTally(names []string, m *Metrics) *tally {
	t := &tally{byName: make(map[string]*scenarioTally, len(names)), metrics: m}
	for _, n := range names {
		t.byName[n] = &scenarioTally{}
	}
	return t
}

// Started counts an iteration and its VU as busy.
func (t *tally) Started(scenario string) {
	if c := t.byName[scenario]; c != nil {
		c.started.Add(1)
		c.active.Add(1)
	}
	if t.metrics != nil {
		t.metrics.Started(scenario)
	}
}

// Finished counts the VU of an iteration as free again.
func (t *tally) Finished(scenario string) {
	if c := t.byName[scenario]; c != nil {
		c.active.Add(-1)
	}
}

// Dropped counts an open-model iteration that found no VU.
func (t *tally) Dropped(scenario string) {
	if c := t.byName[scenario]; c != nil {
		c.dropped.Add(1)
	}
	if t.metrics != nil {
		t.metrics.Dropped(scenario)
	}
}

// status is a run at one tick: what the live line shows.
type status struct {
	elapsed, length time.Duration
	// rate and p95 are of the last tick; requests and failures of the
	// run so far.
	rate               float64
	p95                time.Duration
	requests, failures int64
	// active is the VUs in an iteration now, maxVUs the most the plan
	// may hold at once.
	active, maxVUs int64
	// dropped counts the open-model iterations dropped so far; open says
	// whether any scenario can drop one, and so whether to show it.
	dropped   int64
	open      bool
	scenarios []scenarioStatus
}

// scenarioStatus is where one scenario is in its schedule.
type scenarioStatus struct {
	name  string
	state scenarioState
	phase string  // the phase it is in now, "" if none is named
	done  float64 // the share of its schedule behind it, 0 to 1
}

type scenarioState int

const (
	waiting  scenarioState = iota // its startTime is still ahead
	running                       // within its schedule
	stopping                      // its schedule ended, iterations still in flight
	finished                      // its schedule ended, and its last iteration
)

// field is one part of the live line, and how much it matters: a line
// too wide for the terminal loses its least important fields first.
type field struct {
	text string
	rank int // 0 matters most
}

// fields are the live line's parts, in the order it shows them. The
// ranks follow what a watcher of a run asks first: how far it is, how
// fast and how well it goes, and whether the generator keeps up.
func (s status) fields() []field {
	out := []field{
		{fmt.Sprintf("%s/%s", s.elapsed.Truncate(time.Second), s.length.Truncate(time.Second)), 0},
		{rate(s.rate), 1},
		{"p95 " + millis(s.p95), 2},
		{fmt.Sprintf("err %.2f%%", s.errorShare()), 3},
		{fmt.Sprintf("VUs %d/%d", s.active, s.maxVUs), 4},
	}
	if s.open {
		out = append(out, field{fmt.Sprintf("dropped %d", s.dropped), 5})
	}
	for i, sc := range s.scenarios {
		text := sc.String()
		if len(s.scenarios) == 1 {
			// One scenario: its name is the run's, and its room is
			// better spent on what it does.
			text = strings.TrimPrefix(strings.TrimPrefix(text, sc.name), ":")
		}
		out = append(out, field{text, 6 + i})
	}
	return append(out, field{fmt.Sprintf("%d requests", s.requests), 6 + len(s.scenarios)})
}

// doneFields are the parts of the line that ends the run.
func (s status) doneFields() []field {
	out := []field{
		{"done in " + s.elapsed.Truncate(time.Second).String(), 0},
		{fmt.Sprintf("%d requests", s.requests), 1},
		{fmt.Sprintf("errors %.2f%%", s.errorShare()), 2},
	}
	if s.open {
		out = append(out, field{fmt.Sprintf("dropped %d", s.dropped), 3})
	}
	return out
}

func (s status) errorShare() float64 {
	if s.requests == 0 {
		return 0
	}
	return float64(s.failures) / float64(s.requests) * 100
}

// String is the scenario's part of the live line: "traffic:spike 62%".
func (sc scenarioStatus) String() string {
	switch sc.state {
	case waiting:
		return sc.name + ":waiting"
	case stopping:
		return sc.name + ":stopping"
	case finished:
		return sc.name + ":done"
	}
	name := sc.name
	if sc.phase != "" {
		name += ":" + sc.phase
	}
	return fmt.Sprintf("%s %d%%", name, int(min(max(sc.done, 0), 1)*100))
}

// fit joins the fields that fit in width columns, in their order,
// leaving out the least important ones first: a field is shown whole or
// not at all. Only when the most important one alone is too wide is it
// cut.
func fit(fields []field, width int) string {
	const sep = "  "
	keep := slices.Clone(fields)
	for {
		parts := make([]string, len(keep))
		for i, f := range keep {
			parts[i] = f.text
		}
		line := strings.Join(parts, sep)
		if utf8.RuneCountInString(line) <= width {
			return line
		}
		if len(keep) == 1 {
			return string([]rune(line)[:max(width, 0)])
		}
		least := 0
		for i, f := range keep {
			if f.rank > keep[least].rank {
				least = i
			}
		}
		keep = slices.Delete(keep, least, least+1)
	}
}

// rate is requests per second, with a decimal only where it tells
// something: "2.5 req/s", "180 req/s".
func rate(perSecond float64) string {
	if perSecond < 10 {
		return fmt.Sprintf("%.1f req/s", perSecond)
	}
	return fmt.Sprintf("%.0f req/s", perSecond)
}

// millis is a latency in milliseconds, as the summary gives them, with
// no more digits than a glance reads.
func millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 10000:
		return fmt.Sprintf("%.1fs", ms/1000)
	case ms >= 100:
		return fmt.Sprintf("%.0fms", ms)
	}
	return fmt.Sprintf("%.1fms", ms)
}
