package report

import (
	"unicode/utf8"

	"github.com/taskready/taskready/loadtest/summary"
)

// lane is one scenario's phases.
type lane struct {
	scenario string
	spans    []summary.Span
}

// phaseLanes groups the timeline by scenario, in order of appearance; when
// every scenario went through the same phases at the same times, one lane
// says it all.
func phaseLanes(tl []summary.Span) []lane {
	var lanes []lane
	index := map[string]int{}
	for _, sp := range tl {
		if !finite(sp.From) || !finite(sp.To) || sp.To <= sp.From {
			continue
		}
		i, ok := index[sp.Scenario]
		if !ok {
			i = len(lanes)
			index[sp.Scenario] = i
			lanes = append(lanes, lane{scenario: sp.Scenario})
		}
		lanes[i].spans = append(lanes[i].spans, sp)
	}
	same := len(lanes) > 1
	for _, l := range lanes[min(1, len(lanes)):] {
		if !sameSchedule(l.spans, lanes[0].spans) {
			same = false
		}
	}
	if same {
		lanes = lanes[:1]
		lanes[0].scenario = ""
	}
	if len(lanes) == 1 {
		lanes[0].scenario = ""
	}
	return lanes
}

func sameSchedule(a, b []summary.Span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Phase != b[i].Phase || a[i].From != b[i].From || a[i].To != b[i].To {
			return false
		}
	}
	return true
}

// phaseBands lays out the lanes' labels and the shading behind the plot;
// a phase keeps one colour wherever it appears. Only the lane with the
// most phases is shaded: the shading of scenarios whose phases overlap
// would blend into colours that belong to no phase, and their lanes still
// say when each ran.
func phaseBands(lanes []lane, x func(float64) float64, y0, y1 float64) ([]laneView, []bandView, []float64) {
	colour := map[string]string{}
	fill := func(phase string) string {
		if c, ok := colour[phase]; ok {
			return c
		}
		c := bandFills[len(colour)%len(bandFills)]
		colour[phase] = c
		return c
	}
	shade := 0
	for i, l := range lanes {
		if len(l.spans) > len(lanes[shade].spans) {
			shade = i
		}
	}
	var views []laneView
	var bands []bandView
	var seps []float64
	for i, l := range lanes {
		ly := laneGap + float64(i)*laneH
		lv := laneView{Y: ly + laneH/2 + 4, Label: truncate(l.scenario, 9), Title: l.scenario}
		for _, sp := range l.spans {
			bx0, bx1 := x(sp.From), x(sp.To)
			if bx1-bx0 < 0.5 {
				continue
			}
			f := fill(sp.Phase)
			title := sp.Phase + ": " + clock(sp.From) + "–" + clock(sp.To)
			if l.scenario != "" {
				title = l.scenario + " · " + title
			}
			label := sp.Phase
			if room := int((bx1 - bx0 - 8) / 6.2); utf8.RuneCountInString(label) > room {
				label = truncate(label, room)
			}
			lv.Spans = append(lv.Spans, bandView{X: bx0, W: bx1 - bx0, Y: ly, H: laneH - 3, Fill: f, Label: label, Title: title, LabelX: (bx0 + bx1) / 2, LabelY: ly + laneH/2 + 2})
			if i == shade {
				bands = append(bands, bandView{X: bx0, W: bx1 - bx0, Y: y0, H: y1 - y0, Fill: f, Title: title})
				if sp.From > 0 {
					seps = append(seps, bx0)
				}
			}
		}
		views = append(views, lv)
	}
	return views, bands, seps
}

// truncate shortens s to n runes with an ellipsis; below 3 runes there is
// no room for a word, and the title says it instead.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 3 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
