package readiness

import "github.com/taskready/taskready/checks/check"

// ScoreVersion names the scoring algorithm (weights, formula, grade
// bands); it changes whenever any of them does, so that scores are only
// compared with scores of the same version, as Observatory's
// algorithm_version is used.
const ScoreVersion = "1"

// Weight is how much a check of severity s counts in the score: critical
// 10, high 5, medium 3, low 1, info 0 (informational checks never move
// the score).
func Weight(s check.Severity) int {
	switch s {
	case check.Critical:
		return 10
	case check.High:
		return 5
	case check.Medium:
		return 3
	case check.Low:
		return 1
	}
	return 0
}

// Score is a weighted pass ratio (see the package documentation).
type Score struct {
	// Value is 0 to 100, rounded down; meaningless when Possible is 0.
	Value int `json:"value"`
	// Grade is "A+" to "F", or "n/a" when nothing was scored.
	Grade string `json:"grade"`
	// Earned and Possible are the weights behind Value: Value is
	// floor(100 × Earned / Possible).
	Earned   float64 `json:"earned"`   // weight earned: passes in full, warnings half
	Possible float64 `json:"possible"` // weight of every scored result
}

// Defined says whether anything was scored; an undefined score is shown
// as "n/a", never as 0 or 100.
func (s Score) Defined() bool { return s.Possible > 0 }

// String is "71/100 (B)" or "n/a".
func (s Score) String() string {
	if !s.Defined() {
		return "n/a"
	}
	return itoa(s.Value) + "/100 (" + s.Grade + ")"
}

// gradeBands are MDN HTTP Observatory's grade bands, by lowest score.
var gradeBands = []struct {
	min   int
	grade string
}{
	{100, "A+"}, {90, "A"}, {85, "A-"}, {80, "B+"}, {70, "B"}, {65, "B-"},
	{60, "C+"}, {50, "C"}, {45, "C-"}, {40, "D+"}, {30, "D"}, {25, "D-"},
}

// Grade is the letter grade of a score from 0 to 100, Observatory's bands.
func Grade(score int) string {
	for _, b := range gradeBands {
		if score >= b.min {
			return b.grade
		}
	}
	return "F"
}

// scoreOf scores the counted results (not ignored, not N/A, not errors),
// in halves so that the arithmetic is exact.
func scoreOf(results []Result) Score {
	var earned2, possible2 int
	for _, r := range results {
		if r.Ignored {
			continue
		}
		w := Weight(r.EffectiveSeverity)
		switch r.EffectiveStatus {
		case check.Pass:
			earned2 += 2 * w
			possible2 += 2 * w
		case check.Warn:
			earned2 += w
			possible2 += 2 * w
		case check.Fail:
			possible2 += 2 * w
		}
	}
	s := Score{Earned: float64(earned2) / 2, Possible: float64(possible2) / 2, Grade: "n/a"}
	if possible2 > 0 {
		s.Value = 100 * earned2 / possible2
		s.Grade = Grade(s.Value)
	}
	return s
}
