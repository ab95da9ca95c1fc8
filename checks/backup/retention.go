package backup

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// SlotState is what a retention slot (a day or an ISO week) holds.
type SlotState string

// The slot states.
const (
	// SlotPresent: at least one archive was made in the slot.
	SlotPresent SlotState = "present"
	// SlotMissing: no archive, though the history reaches back past the
	// slot: a gap, which fails retention.
	SlotMissing SlotState = "missing"
	// SlotBeforeOldest: the slot ended before the oldest archive, so a
	// young deployment could not have filled it yet: a warning.
	SlotBeforeOldest SlotState = "before-oldest"
	// SlotInProgress: today or this week, still empty; not required
	// (backup.recent judges freshness).
	SlotInProgress SlotState = "in-progress"
)

// Slot is one day or ISO week of the retention window, in UTC.
type Slot struct {
	// Label is "2026-11-27" for a day, "2026-W48" for a week.
	Label      string
	Start, End time.Time // [Start, End) in UTC
	State      SlotState // what the slot holds
	// Archives is how many archives fall in the slot; Newest names the
	// one pruning keeps.
	Archives int
	Newest   string // the name of the slot's newest archive
}

// RetentionStatus is the verdict of a retention check.
type RetentionStatus string

// The verdicts.
const (
	RetentionOK   RetentionStatus = "ok"
	RetentionWarn RetentionStatus = "warn"
	RetentionFail RetentionStatus = "fail"
)

// RetentionReport says whether a backup directory holds the history a
// GFS policy asks for.
type RetentionReport struct {
	Dir                   string          // the directory checked
	Now                   time.Time       // the time checked at, UTC
	KeepDaily, KeepWeekly int             // the policy
	Status                RetentionStatus // the verdict
	// Databases has one entry per database with archives in Dir.
	Databases []DatabaseRetention
	// Problems make the status fail; Warnings make it warn.
	Problems, Warnings []string
	// Err is set when Dir could not be read (then the status is fail).
	Err error
}

// DatabaseRetention is the retention of one database's archives.
type DatabaseRetention struct {
	Database       string    // the database of the archives
	Archives       int       // archives not dated in the future
	Oldest, Newest time.Time // the oldest and newest of them
	// Days are today and the KeepDaily days before it, newest first;
	// Weeks this ISO week and the KeepWeekly weeks before it.
	Days, Weeks []Slot
	// Keep are the archives Prune keeps, Prunable those it removes;
	// FutureDated are named after now (clock skew?) and never pruned.
	Keep, Prunable, FutureDated []Archive
}

// Retention checks that dir holds, for each database, an archive on each
// of the keepDaily complete UTC days before today and in each of the
// keepWeekly complete ISO weeks before this one.
//
// Today and the current week are in progress: an archive there counts
// but none is required, so a check at 01:00 before a 02:00 backup does
// not fail (how old the newest archive may be is backup.recent's
// question). A slot that ends before the oldest archive is not a gap
// but a history that does not reach back that far yet: a new deployment
// with two days of backups warns, it does not fail. A slot after the
// oldest archive with no archive in it is a gap and fails. Archives that
// Prune would remove also warn: the policy says old archives go.
//
// Times come from archive names, not mtimes. The report cannot see
// copies kept off this host.
func Retention(dir string, now time.Time, keepDaily, keepWeekly int) RetentionReport {
	keepDaily, keepWeekly = max(keepDaily, 0), max(keepWeekly, 0)
	now = now.UTC()
	r := RetentionReport{Dir: dir, Now: now, KeepDaily: keepDaily, KeepWeekly: keepWeekly, Status: RetentionOK}
	all, err := List(dir)
	if err != nil {
		r.Err, r.Status = err, RetentionFail
		r.Problems = append(r.Problems, err.Error())
		return r
	}
	if len(all) == 0 {
		r.Status = RetentionFail
		r.Problems = append(r.Problems, "no archive in "+dir)
		return r
	}
	for _, db := range databases(all) {
		d := retain(db, byDatabase(all, db), now, keepDaily, keepWeekly)
		r.Databases = append(r.Databases, d)
		var missing, early []string
		for _, s := range append(slices.Clone(d.Days), d.Weeks...) {
			switch s.State {
			case SlotMissing:
				missing = append(missing, s.Label)
			case SlotBeforeOldest:
				early = append(early, s.Label)
			}
		}
		if len(missing) > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: no archive in %s (UTC) although older archives exist: gaps in the backup history", db, strings.Join(missing, ", ")))
		}
		if len(early) > 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: history starts %s: %s predate the oldest archive (a young deployment, or older archives were lost)",
				db, d.Oldest.Format(time.RFC3339), strings.Join(early, ", ")))
		}
		if len(d.Prunable) > 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d archive(s) outside the policy (%d daily, %d weekly) are still here: prune them", db, len(d.Prunable), keepDaily, keepWeekly))
		}
		if len(d.FutureDated) > 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d archive(s) are named after now (%s): clock skew on the backup host?", db, len(d.FutureDated), d.FutureDated[0].Name))
		}
		if d.Archives == 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: every archive is dated in the future", db))
		}
	}
	switch {
	case len(r.Problems) > 0:
		r.Status = RetentionFail
	case len(r.Warnings) > 0:
		r.Status = RetentionWarn
	}
	return r
}

// PruneReport says what Prune kept and removed.
type PruneReport struct {
	Kept, Removed []Archive // what stays and what went
	// Errors are removals that failed; those archives remain.
	Errors []error
}

// Prune removes the archives in dir that the GFS policy does not keep,
// per database: it keeps the newest archive of today and of each of the
// keepDaily days before, the newest of this ISO week and of each of the
// keepWeekly weeks before, the newest archive overall, and archives named
// after now. So that a stalled backup job does not let pruning eat the
// history, it also keeps the newest archive of each of the keepDaily+1
// most recent days that have one, and likewise for weeks. Files that are
// not archive names are never touched. Everything Retention requires is
// kept, so a directory that passed Retention still passes after Prune.
func Prune(dir string, now time.Time, keepDaily, keepWeekly int) (PruneReport, error) {
	keepDaily, keepWeekly = max(keepDaily, 0), max(keepWeekly, 0)
	all, err := List(dir)
	if err != nil {
		return PruneReport{}, err
	}
	var r PruneReport
	for _, db := range databases(all) {
		d := retain(db, byDatabase(all, db), now.UTC(), keepDaily, keepWeekly)
		r.Kept = append(r.Kept, d.Keep...)
		r.Kept = append(r.Kept, d.FutureDated...)
		for _, a := range d.Prunable {
			if err := os.Remove(a.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
				r.Errors = append(r.Errors, fmt.Errorf("prune %s: %w", a.Path, err))
				r.Kept = append(r.Kept, a)
				continue
			}
			r.Removed = append(r.Removed, a)
		}
	}
	return r, errors.Join(r.Errors...)
}

// retain computes the slots and the keep set of one database's archives
// (newest first).
func retain(db string, archives []Archive, now time.Time, keepDaily, keepWeekly int) DatabaseRetention {
	d := DatabaseRetention{Database: db}
	var past []Archive
	for _, a := range archives {
		if a.Time.After(now) {
			d.FutureDated = append(d.FutureDated, a)
		} else {
			past = append(past, a)
		}
	}
	d.Archives = len(past)
	if len(past) == 0 {
		return d
	}
	d.Newest, d.Oldest = past[0].Time, past[len(past)-1].Time
	keep := map[string]bool{past[0].Path: true}

	today := dayStart(now)
	if keepDaily > 0 {
		for i := range keepDaily + 1 {
			start := today.AddDate(0, 0, -i)
			d.Days = append(d.Days, slot(start.Format("2006-01-02"), start, start.AddDate(0, 0, 1), i == 0, past, d.Oldest, keep))
		}
	}
	if keepWeekly > 0 {
		week := weekStart(now)
		for i := range keepWeekly + 1 {
			start := week.AddDate(0, 0, -7*i)
			y, w := start.ISOWeek()
			d.Weeks = append(d.Weeks, slot(fmt.Sprintf("%04d-W%02d", y, w), start, start.AddDate(0, 0, 7), i == 0, past, d.Oldest, keep))
		}
	}
	keepRecent(past, keepDaily, dayStart, keep)
	keepRecent(past, keepWeekly, weekStart, keep)

	for _, a := range past {
		if keep[a.Path] {
			d.Keep = append(d.Keep, a)
		} else {
			d.Prunable = append(d.Prunable, a)
		}
	}
	return d
}

// slot fills one slot from the archives (newest first) and marks its
// newest archive to keep.
func slot(label string, start, end time.Time, current bool, past []Archive, oldest time.Time, keep map[string]bool) Slot {
	s := Slot{Label: label, Start: start, End: end}
	for _, a := range past {
		if !a.Time.Before(start) && a.Time.Before(end) {
			if s.Archives == 0 {
				s.Newest = a.Name
				keep[a.Path] = true
			}
			s.Archives++
		}
	}
	switch {
	case s.Archives > 0:
		s.State = SlotPresent
	case current:
		s.State = SlotInProgress
	case !end.After(oldest):
		s.State = SlotBeforeOldest
	default:
		s.State = SlotMissing
	}
	return s
}

// keepRecent keeps the newest archive of each of the n+1 most recent
// periods (as period gives their start) that have an archive at all.
func keepRecent(past []Archive, n int, period func(time.Time) time.Time, keep map[string]bool) {
	if n <= 0 {
		return
	}
	var last time.Time
	seen := 0
	for _, a := range past {
		p := period(a.Time)
		if seen > 0 && p.Equal(last) {
			continue
		}
		if seen == n+1 {
			return
		}
		keep[a.Path] = true
		last = p
		seen++
	}
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// weekStart is the Monday 00:00 UTC that starts t's ISO week.
func weekStart(t time.Time) time.Time {
	d := dayStart(t)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

func databases(all []Archive) []string {
	var out []string
	for _, a := range all {
		if !slices.Contains(out, a.Database) {
			out = append(out, a.Database)
		}
	}
	slices.Sort(out)
	return out
}

func byDatabase(all []Archive, db string) []Archive {
	var out []Archive
	for _, a := range all {
		if a.Database == db {
			out = append(out, a)
		}
	}
	return out
}
