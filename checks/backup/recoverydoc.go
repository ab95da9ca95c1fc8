package backup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The markers around the measured section of a document that quotes a
// drill (docs/disaster-recovery.md): SpliceDoc writes between them, and
// DocRecovery reads the drill back so that a test can tell the section
// was produced by a drill and not edited by hand.
const (
	DocBegin = "<!-- restore-drill:begin (written by harness restore-drill -doc; do not edit) -->"
	DocEnd   = "<!-- restore-drill:end -->"
)

// ErrNoDocSection is returned for a document without the markers.
var ErrNoDocSection = errors.New("no restore-drill section")

// Markdown renders r as the measured section of a document: a table of
// the RPO and RTO with their objectives and verdicts, what the RTO
// covers, and r itself as JSON, from which the table can be rendered
// again.
func (r Recovery) Markdown() (string, error) {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("recovery: %w", err)
	}
	var b strings.Builder
	load := "not known"
	if r.Host != nil && r.Host.Load != "" {
		load = fmt.Sprintf("%s (1, 5, 15 min) on %d CPUs", r.Host.Load, r.Host.CPUs)
	}
	fmt.Fprintf(&b, "Drill of `%s` (database `%s`, backup started %s), finished %s; load average %s.\n\n",
		r.Archive, r.Database, r.BackupAt.Format(time.RFC3339), r.MeasuredAt.Format(time.RFC3339), load)
	b.WriteString("| measure | achieved | objective | verdict |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| RPO: age of the newest verified backup | %s | %s | %s |\n",
		docDuration(r.RPO.AchievedSeconds), docDuration(r.RPO.ObjectiveSeconds), r.RPO.Verdict)
	worst := "unknown (one archive)"
	if r.RPO.IntervalSeconds > 0 {
		worst = fmt.Sprintf("%s (interval %s + dump %s)", docDuration(r.RPO.WorstCaseSeconds), docDuration(r.RPO.IntervalSeconds), docDuration(r.RPO.DumpSeconds))
	}
	fmt.Fprintf(&b, "| RPO worst case on this schedule | %s | %s | |\n", worst, docDuration(r.RPO.ObjectiveSeconds))
	fmt.Fprintf(&b, "| RTO: restore + indexes + verification | %s | %s | %s |\n",
		docDuration(r.RTO.AchievedSeconds), docDuration(r.RTO.ObjectiveSeconds), r.RTO.Verdict)
	fmt.Fprintf(&b, "| restore (of which indexes) | %s (%s) | | |\n", docDuration(r.RTO.RestoreSeconds), docDuration(r.RTO.IndexSeconds))
	fmt.Fprintf(&b, "| verification | %s | | |\n", docDuration(r.RTO.VerifySeconds))
	fmt.Fprintf(&b, "| size restored | %d documents, %.1f MiB of BSON, %.1f MiB archive | | |\n",
		r.RTO.Documents, float64(r.RTO.DataBytes)/(1<<20), float64(r.RTO.ArchiveBytes)/(1<<20))
	fmt.Fprintf(&b, "| RTO per size | %.1f s per million documents, %.1f s per GiB of BSON | | |\n",
		r.RTO.SecondsPerMillionDocuments, r.RTO.SecondsPerGiB)
	if r.RPO.SourceGrowthDocuments >= 0 {
		fmt.Fprintf(&b, "| inserts since the backup (estimated counts) | %d documents | | |\n", r.RPO.SourceGrowthDocuments)
	}
	if r.Writes != nil {
		fmt.Fprintf(&b, "| writes since the backup (createdAt/updatedAt) | %d documents | | |\n", r.Writes.Documents)
	}
	fmt.Fprintf(&b, "\nRPO: %s\n\nRTO: %s\n\n", r.RPO.Why, r.RTO.Why)
	fmt.Fprintf(&b, "```json\n%s\n```\n", js)
	return b.String(), nil
}

// docDuration is a duration of s seconds for the table: "41.2 s",
// "3 min 12 s", "26 h", "3 d 2 h".
func docDuration(s float64) string {
	d := dur(s)
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", s)
	}
	var big, small time.Duration
	var bigUnit, smallUnit string
	switch {
	case d < time.Hour:
		d = d.Round(time.Second)
		big, small, bigUnit, smallUnit = time.Minute, time.Second, "min", "s"
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		big, small, bigUnit, smallUnit = time.Hour, time.Minute, "h", "min"
	default:
		d = d.Round(time.Hour)
		big, small, bigUnit, smallUnit = 24*time.Hour, time.Hour, "d", "h"
	}
	text := fmt.Sprintf("%d %s", d/big, bigUnit)
	if rest := (d % big) / small; rest > 0 {
		text += fmt.Sprintf(" %d %s", rest, smallUnit)
	}
	return text
}

// SpliceDoc returns doc with its measured section (between DocBegin and
// DocEnd) replaced by r's Markdown.
func SpliceDoc(doc []byte, r Recovery) ([]byte, error) {
	i, j, err := docSection(doc)
	if err != nil {
		return nil, err
	}
	md, err := r.Markdown()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Write(doc[:i])
	out.WriteString("\n" + md)
	out.Write(doc[j:])
	return out.Bytes(), nil
}

// DocRecovery reads the drill back from doc's measured section and
// returns it with the section's text. A section produced by SpliceDoc
// equals "\n" + the drill's Markdown; the JSON must hold exactly the
// fields Recovery has.
func DocRecovery(doc []byte) (Recovery, string, error) {
	i, j, err := docSection(doc)
	if err != nil {
		return Recovery{}, "", err
	}
	section := string(doc[i:j])
	const open, fence = "```json\n", "\n```\n"
	a := strings.Index(section, open)
	if a < 0 {
		return Recovery{}, section, fmt.Errorf("%w: the section has no ```json block", ErrNoDocSection)
	}
	b := strings.Index(section[a+len(open):], fence)
	if b < 0 {
		return Recovery{}, section, fmt.Errorf("%w: the section's ```json block is not closed", ErrNoDocSection)
	}
	dec := json.NewDecoder(strings.NewReader(section[a+len(open) : a+len(open)+b]))
	dec.DisallowUnknownFields()
	var r Recovery
	if err := dec.Decode(&r); err != nil {
		return Recovery{}, section, fmt.Errorf("the section's drill JSON: %w", err)
	}
	return r, section, nil
}

// docSection returns where the text between the markers starts and ends.
func docSection(doc []byte) (int, int, error) {
	i := bytes.Index(doc, []byte(DocBegin))
	j := bytes.Index(doc, []byte(DocEnd))
	if i < 0 || j < 0 || j < i {
		return 0, 0, fmt.Errorf("%w: want the lines %s and %s", ErrNoDocSection, DocBegin, DocEnd)
	}
	return i + len(DocBegin), j, nil
}
