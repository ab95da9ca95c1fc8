package report

import (
	"fmt"
	"strconv"

	"github.com/taskready/taskready/loadtest/summary"
)

// writesRead says what the write ledger read back: "612 writes
// acknowledged, 3 uncertain; 205 of 205 tasks read back in 4.1s (231
// requests, at most 50/s)".
func writesRead(w *summary.Writes) string {
	s := fmt.Sprintf("%d writes acknowledged, %d uncertain; %d of %d tasks read back in %s (%d requests, at most %s/s)",
		w.Acknowledged, w.Uncertain, w.Checked, w.Checked+w.Unverified, seconds(w.Seconds), w.Requests, strconv.FormatFloat(w.Pace, 'f', -1, 64))
	if w.Untracked > 0 {
		s += fmt.Sprintf("; %d writes beyond the ledger's memory bound unchecked", w.Untracked)
	}
	return s
}

// writesFound counts the findings: "lost 0 · resurrected 0 · duplicated 0
// · ambiguous 2".
func writesFound(w *summary.Writes) string {
	return fmt.Sprintf("lost %d · resurrected %d · duplicated %d · ambiguous %d", w.Lost, w.Resurrected, w.Duplicated, w.Ambiguous)
}

// writesWhole reports whether the ledger found nothing lost, resurrected
// or duplicated and read everything back; an ambiguous write is the
// client's uncertainty, not the API's fault.
func writesWhole(w *summary.Writes) bool {
	return w.Lost+w.Resurrected+w.Duplicated == 0 && w.Unverified+w.Untracked == 0
}

// findingLine is one finding: "lost 65a1f0…: expected present, as
// acknowledged; the API answered absent (404) (owner seed812@…)".
func findingLine(f summary.Finding) string {
	return fmt.Sprintf("%s %s: expected %s; the API answered %s (owner %s)", f.Kind, f.ID, f.Want, f.Got, f.Owner)
}

// moreFindings says how many findings the list leaves out, "" if none.
func moreFindings(w *summary.Writes) string {
	n := w.Lost + w.Resurrected + w.Duplicated + w.Ambiguous - int64(len(w.Findings))
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("and %d more (summary.json lists the first %d)", n, len(w.Findings))
}
