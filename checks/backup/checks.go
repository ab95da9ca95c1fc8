package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/taskready/taskready/checks/check"
)

// now is the checks' clock; tests replace it.
var now = time.Now

// futureSkew is how far in the future an archive name may be before the
// backup host's clock is suspected.
const futureSkew = 5 * time.Minute

var references = []string{
	"https://www.mongodb.com/docs/manual/tutorial/backup-and-restore-tools/",
	"https://www.mongodb.com/docs/manual/administration/production-checklist-operations/",
	"https://sre.google/sre-book/data-integrity/",
}

// Checks returns the backup checks: backup.recent, backup.intact,
// backup.restores, backup.rpo, backup.rto and backup.retention. Each is
// NotApplicable when the target has no BackupDir; the three that need a
// restore share one drill per run (Target.Shared).
func Checks() []check.Check {
	return []check.Check{
		check.Func{M: check.Meta{
			ID: "backup.recent", Title: "A recent backup exists", Category: check.Backup, Severity: check.Critical,
			Remediation: "Schedule `harness backup` (or mongodump --archive --gzip) at least as often as the RPO and alert when it fails; " +
				"the newest archive must be younger than the policy's max_backup_age.",
			References: append([]string{"BKP-01"}, references...),
		}, F: recent},
		check.Func{M: check.Meta{
			ID: "backup.intact", Title: "The newest backup is intact", Category: check.Backup, Severity: check.Critical,
			Remediation: "Re-run the backup and find what damaged the archive (disk full, interrupted copy, bit rot); " +
				"verify archives after every copy to off-host storage.",
			References: append([]string{"BKP-01"}, references...),
		}, F: intact},
		check.Func{M: check.Meta{
			ID: "backup.restores", Title: "The newest backup restores", Category: check.Backup, Severity: check.Critical,
			Remediation: "Fix what the drill reports (a server that cannot build an archived index, data that does not round-trip) " +
				"and run the drill on a schedule; it needs a user that may create and drop drill_* databases.",
			References: append([]string{"BKP-02"}, references...),
		}, F: restores},
		check.Func{M: check.Meta{
			ID: "backup.rpo", Title: "The recovery point objective is met", Category: check.Backup, Severity: check.Critical,
			Remediation: "Back up more often than the policy's rpo (the newest backup that restores must be younger than it) and keep the schedule's " +
				"interval plus the dump time within it; see docs/disaster-recovery.md.",
			References: append([]string{"BKP-01", "BKP-02"}, references...),
		}, F: rpo},
		check.Func{M: check.Meta{
			ID: "backup.rto", Title: "The recovery time objective is met", Category: check.Backup, Severity: check.High,
			Remediation: "Make the restore fit the policy's rto: restore onto faster storage or a larger server, keep fewer or smaller indexes, " +
				"or split the data; re-measure with harness restore-drill (docs/disaster-recovery.md).",
			References: append([]string{"BKP-02"}, references...),
		}, F: rto},
		check.Func{M: check.Meta{
			ID: "backup.retention", Title: "Backups are kept per the retention policy", Category: check.Backup, Severity: check.Medium,
			Remediation: "Keep one archive per day for keep_daily days and one per ISO week for keep_weekly weeks (Prune after each backup), " +
				"and copy them off this host: this check cannot see off-host copies.",
			References: append([]string{"BKP-03"}, references...),
		}, F: retention},
	}
}

// newest returns the newest archive of the target's database, or of any
// when the target names none or none of its database exist. A Result is
// returned when the check cannot go on.
func newest(t *check.Target) (Archive, *check.Result) {
	if t.BackupDir == "" {
		r := check.NotApplicablef("no backup directory given (Target.BackupDir): backups cannot be checked")
		return Archive{}, &r
	}
	if _, err := os.Stat(t.BackupDir); err != nil {
		r := check.Errorf("backup directory: " + err.Error())
		return Archive{}, &r
	}
	a, err := Newest(t.BackupDir, t.Database)
	if errors.Is(err, ErrNoArchive) {
		name := "<database>"
		if t.Database != "" {
			name = t.Database
		}
		observed := "none"
		if others, _ := List(t.BackupDir); len(others) > 0 {
			observed = fmt.Sprintf("none of %s; %d archive(s) of other databases, newest %s", name, len(others), others[0].Name)
		}
		r := check.Failf(err.Error(), check.Evidence{
			Expected: "at least one archive named " + name + "-" + TimeLayout + Extension,
			Observed: observed,
		})
		return Archive{}, &r
	}
	if err != nil {
		r := check.Errorf(err.Error())
		return Archive{}, &r
	}
	return a, nil
}

func recent(_ context.Context, t *check.Target) check.Result {
	a, res := newest(t)
	if res != nil {
		return *res
	}
	p := t.Policy.WithDefaults()
	at := now()
	age := a.Age(at)
	ev := check.Evidence{
		Request:  "newest archive in " + t.BackupDir,
		Response: fmt.Sprintf("%s (%d bytes), made %s", a.Name, a.Size, a.Time.Format(time.RFC3339)),
		Expected: fmt.Sprintf("age <= %s and size > 0", p.MaxBackupAge),
		Observed: fmt.Sprintf("age %s", age.Round(time.Second)),
	}
	switch {
	case age > p.MaxBackupAge:
		return check.Failf(fmt.Sprintf("the newest backup %s is %s old, older than the policy's %s", a.Name, human(age), p.MaxBackupAge), ev)
	case a.Size == 0:
		return check.Failf(fmt.Sprintf("the newest backup %s is empty (0 bytes)", a.Name), ev)
	case -age > futureSkew:
		ev.Note = "the name's time is after this host's clock"
		return check.Warnf(fmt.Sprintf("the newest backup %s is dated %s in the future: clock skew on the backup host?", a.Name, human(-age)), ev)
	}
	return check.Passf(fmt.Sprintf("the newest backup %s is %s old (max %s)", a.Name, human(age), p.MaxBackupAge), ev)
}

func intact(_ context.Context, t *check.Target) check.Result {
	a, res := newest(t)
	if res != nil {
		return *res
	}
	start := now()
	m, err := Verify(a.Path)
	ev := check.Evidence{Request: "verify " + a.Path, Expected: "gzip and tar readable to the end, manifest present, every collection's count and SHA-256 as recorded"}
	if err != nil {
		ev.Observed = err.Error()
		return check.Failf("the newest backup "+a.Name+" is damaged: "+err.Error(), ev)
	}
	var parts []string
	for _, c := range m.Collections {
		parts = append(parts, fmt.Sprintf("%s: %d documents, sha256 %s", c.Name, c.Count, short(c.SHA256)))
	}
	ev.Response = strings.Join(parts, "\n")
	ev.Observed = fmt.Sprintf("%d collections, %d documents, %d bytes of BSON in %d bytes, verified in %s",
		len(m.Collections), m.Documents, m.Bytes, m.Size, now().Sub(start).Round(time.Millisecond))
	if info, err := os.Stat(a.Path); err == nil && info.Mode().Perm()&0o077 != 0 {
		ev.Note = fmt.Sprintf("the archive is readable by group or others (%s); it holds password hashes", info.Mode().Perm())
	}
	if m.Documents == 0 {
		return check.Warnf(fmt.Sprintf("the newest backup %s is intact but holds no documents (%d empty collections): is it the right database?", a.Name, len(m.Collections)), ev)
	}
	return check.Passf(fmt.Sprintf("the newest backup %s is intact: %d collections, %d documents", a.Name, len(m.Collections), m.Documents), ev)
}

func restores(ctx context.Context, t *check.Target) check.Result {
	if t.BackupDir == "" {
		return check.NotApplicablef("no backup directory given (Target.BackupDir): backups cannot be checked")
	}
	if t.Mongo == nil {
		return check.NotApplicablef("no MongoDB connection (Target.Mongo): the restore drill needs a server to restore into")
	}
	a, res := newest(t)
	if res != nil {
		return *res
	}
	r, _, err := sharedDrill(ctx, t, a)
	if err != nil {
		return check.Errorf("restore drill: " + err.Error())
	}
	ev := []check.Evidence{{
		Request: fmt.Sprintf("restore %s into scratch database %s, compare with the archive and with %s", a.Name, r.ScratchDatabase, r.SourceDatabase),
		Response: fmt.Sprintf("backup (dump) %s; restore %s (%d documents, %d bytes BSON from %d bytes archive, %.0f docs/s); verify %s; total %s; scratch dropped: %t",
			r.BackupDuration.Round(time.Millisecond), r.RestoreDuration.Round(time.Millisecond), r.Documents, r.DataBytes, r.ArchiveBytes,
			r.RestoreDocsPerSecond(), r.VerifyDuration.Round(time.Millisecond), r.Total.Round(time.Millisecond), r.ScratchDropped),
		Expected: "restored counts, SHA-256 (re-read in _id order) and indexes equal the archive's",
		Observed: drillTable(r),
	}}
	if len(r.Notes) > 0 {
		ev = append(ev, check.Evidence{Note: strings.Join(r.Notes, "\n")})
	}
	if !r.Passed {
		return check.Failf(fmt.Sprintf("restoring %s failed the drill: %s", a.Name, strings.Join(r.Reasons, "; ")), ev...)
	}
	return check.Passf(fmt.Sprintf("%s restores: %d documents in %s (RTO measured on this server), counts, checksums and indexes match",
		a.Name, r.Documents, r.RestoreDuration.Round(time.Millisecond)), ev...)
}

// drillTable is one line per collection: archive, restored and source counts.
func drillTable(r DrillReport) string {
	var b strings.Builder
	for _, c := range r.Collections {
		src := "n/a"
		if c.SourceCount >= 0 {
			src = fmt.Sprint(c.SourceCount)
		}
		fmt.Fprintf(&b, "%s: archive %d, restored %d, source now %s; sha256 archive %s restored %s\n",
			c.Name, c.ArchiveCount, c.RestoredCount, src, short(c.ArchiveSHA256), short(c.RestoredSHA256))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func retention(_ context.Context, t *check.Target) check.Result {
	if t.BackupDir == "" {
		return check.NotApplicablef("no backup directory given (Target.BackupDir): backups cannot be checked")
	}
	p := t.Policy.WithDefaults()
	r := Retention(t.BackupDir, now(), p.KeepDaily, p.KeepWeekly)
	if r.Err != nil {
		return check.Errorf("retention: " + r.Err.Error())
	}
	ev := check.Evidence{
		Request:  "list archives in " + t.BackupDir,
		Expected: fmt.Sprintf("an archive on each of the %d UTC days before today and in each of the %d ISO weeks before this one", p.KeepDaily, p.KeepWeekly),
		Observed: slotTable(r),
		Note:     "off-host copies are not visible to this check",
	}
	switch r.Status {
	case RetentionFail:
		return check.Failf(strings.Join(r.Problems, "; "), ev)
	case RetentionWarn:
		return check.Warnf(strings.Join(r.Warnings, "; "), ev)
	}
	return check.Passf(fmt.Sprintf("retention holds: %d daily and %d weekly archives present", p.KeepDaily, p.KeepWeekly), ev)
}

// slotTable shows each database's slots compactly: "2026-11-27 present".
func slotTable(r RetentionReport) string {
	var b strings.Builder
	for _, d := range r.Databases {
		fmt.Fprintf(&b, "%s: %d archives, oldest %s, newest %s, %d prunable\n", d.Database, d.Archives,
			d.Oldest.Format(time.RFC3339), d.Newest.Format(time.RFC3339), len(d.Prunable))
		for _, s := range slices.Concat(d.Days, d.Weeks) {
			fmt.Fprintf(&b, "  %s %s (%d)\n", s.Label, s.State, s.Archives)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// human rounds a duration for messages: "3d2h", "5h12m", "40s".
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 48*time.Hour:
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

// drillKey keeps a run's drills apart in Target.Shared: one per archive.
type drillKey struct{ path string }

// drillRun is one drill shared by the checks of a run: the first check to
// need it starts it, the others wait for it within their own deadlines.
type drillRun struct {
	once sync.Once
	done chan struct{}
	r    DrillReport
	err  error
	at   time.Time // when it finished
}

// sharedDrill restores a (the newest archive) once per run: backup.restores,
// backup.rpo and backup.rto judge the same drill instead of three. Without
// Target.Shared each call drills on its own.
func sharedDrill(ctx context.Context, t *check.Target, a Archive) (DrillReport, time.Time, error) {
	d := t.Shared.Value(drillKey{a.Path}, func() any { return &drillRun{done: make(chan struct{})} }).(*drillRun)
	d.once.Do(func() {
		go func() {
			defer close(d.done)
			d.r, d.err = Drill(ctx, t.Mongo, t.BackupDir, a.Database)
			d.at = now()
		}()
	})
	select {
	case <-d.done:
		return d.r, d.at, d.err
	case <-ctx.Done():
		return DrillReport{}, time.Time{}, fmt.Errorf("waiting for the restore drill: %w", ctx.Err())
	}
}

// objectives are the target policy's RPO and RTO.
func objectives(t *check.Target) Objectives {
	p := t.Policy.WithDefaults()
	return Objectives{RPO: p.RPO, RTO: p.RTO}
}

// recovery drills the target's newest archive (shared) and measures it;
// a Result is returned when the check cannot go on.
func recovery(ctx context.Context, t *check.Target) (Recovery, *check.Result) {
	if t.BackupDir == "" {
		r := check.NotApplicablef("no backup directory given (Target.BackupDir): backups cannot be checked")
		return Recovery{}, &r
	}
	if t.Mongo == nil {
		r := check.NotApplicablef("no MongoDB connection (Target.Mongo): RPO and RTO are measured by a restore drill, which needs a server to restore into")
		return Recovery{}, &r
	}
	a, res := newest(t)
	if res != nil {
		return Recovery{}, res
	}
	r, at, err := sharedDrill(ctx, t, a)
	if err != nil {
		res := check.Errorf("restore drill: " + err.Error())
		return Recovery{}, &res
	}
	archives, _ := List(t.BackupDir)
	return Measure(r, archives, at, objectives(t)), nil
}

// verdict turns a Recovery verdict into a Result.
func verdict(v, why string, ev ...check.Evidence) check.Result {
	switch v {
	case VerdictPass:
		return check.Passf(why, ev...)
	case VerdictWarn:
		return check.Warnf(why, ev...)
	}
	return check.Failf(why, ev...)
}

func rpo(ctx context.Context, t *check.Target) check.Result {
	rec, res := recovery(ctx, t)
	if res != nil {
		return *res
	}
	p := rec.RPO
	schedule := "unknown: one archive in the directory"
	if p.IntervalSeconds > 0 {
		schedule = fmt.Sprintf("%s between the newest two archives + %s of dump = up to %s lost just before the next backup lands",
			human(dur(p.IntervalSeconds)), human(dur(p.DumpSeconds)), human(dur(p.WorstCaseSeconds)))
	}
	growth := "unknown"
	if p.SourceGrowthDocuments >= 0 {
		growth = fmt.Sprintf("at least %d documents inserted since (estimated counts; updates and deletes do not show)", p.SourceGrowthDocuments)
	}
	return verdict(p.Verdict, p.Why, check.Evidence{
		Request:  fmt.Sprintf("restore drill of %s, the newest archive of %s in %s, into scratch database %s", rec.Archive, rec.Database, t.BackupDir, rec.ScratchDatabase),
		Response: fmt.Sprintf("backup started %s; drill finished %s, passed: %t", rec.BackupAt.Format(time.RFC3339), rec.MeasuredAt.Format(time.RFC3339), rec.DrillPassed),
		Expected: fmt.Sprintf("RPO achieved (age of the newest verified backup) <= %s", dur(p.ObjectiveSeconds)),
		Observed: fmt.Sprintf("RPO achieved %s (%.0f s)\nschedule: %s\nwrites a restore now would lose: %s",
			human(dur(p.AchievedSeconds)), p.AchievedSeconds, schedule, growth),
	})
}

func rto(ctx context.Context, t *check.Target) check.Result {
	rec, res := recovery(ctx, t)
	if res != nil {
		return *res
	}
	m := rec.RTO
	projected := "the source is no larger than the archive"
	if m.SourceDocuments < 0 {
		projected = "unknown (the source could not be counted)"
	} else if m.ProjectedSeconds > m.AchievedSeconds {
		projected = fmt.Sprintf("about %s at the source's %d documents now", dur(m.ProjectedSeconds).Round(time.Second), m.SourceDocuments)
	}
	return verdict(m.Verdict, m.Why, check.Evidence{
		Request: fmt.Sprintf("restore drill of %s into scratch database %s", rec.Archive, rec.ScratchDatabase),
		Response: fmt.Sprintf("restore %s (indexes %s of it) + verify %s; %d documents, %d bytes of BSON from a %d-byte archive",
			dur(m.RestoreSeconds).Round(time.Millisecond), dur(m.IndexSeconds).Round(time.Millisecond), dur(m.VerifySeconds).Round(time.Millisecond),
			m.Documents, m.DataBytes, m.ArchiveBytes),
		Expected: fmt.Sprintf("RTO achieved (restore + index build + verification) <= %s", dur(m.ObjectiveSeconds)),
		Observed: fmt.Sprintf("RTO achieved %s (%.3f s): %.1f s per million documents, %.1f s per GiB of BSON\nprojected: %s",
			dur(m.AchievedSeconds).Round(time.Millisecond), m.AchievedSeconds, m.SecondsPerMillionDocuments, m.SecondsPerGiB, projected),
		Note: "not included: detecting the loss, deciding to restore, provisioning a server, copying the archive to it, and pointing the API at it",
	})
}
