package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
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
// backup.restores and backup.retention. Each is NotApplicable when the
// target has no BackupDir.
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
	r, err := Drill(ctx, t.Mongo, t.BackupDir, a.Database)
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
