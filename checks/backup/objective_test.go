package backup_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/taskready/taskready/checks/backup"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/internal/golden"
)

var defaults = backup.Objectives{RPO: check.DefaultPolicy.RPO, RTO: check.DefaultPolicy.RTO}

// TestDrillMeasuresRPOAndRTO: the RPO a drill reports is the age of the
// archive it restored, bounded by times the test took around the backup
// and the measurement (never by how fast this machine is), and the RTO
// is the restore and the verification, greater than zero.
func TestDrillMeasuresRPOAndRTO(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 20, 5)
	dir := t.TempDir()

	for _, tc := range []struct {
		name    string
		backAge time.Duration // how far the backup's clock is set back
	}{
		{"fresh backup", 0},
		{"backup three hours old", 3 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(dir, fmt.Sprint(tc.backAge))
			beforeBackup := time.Now()
			if _, err := backup.Backup(ctx, db, dir, backup.WithClock(func() time.Time { return time.Now().Add(-tc.backAge) })); err != nil {
				t.Fatal(err)
			}
			afterBackup := time.Now()
			r, err := backup.Drill(ctx, client, dir, db.Name())
			if err != nil || !r.Passed {
				t.Fatalf("drill: %v %v", err, r.Reasons)
			}
			archives, err := backup.List(dir)
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now()
			rec := backup.Measure(r, archives, at, defaults)
			t.Logf("RPO %+v\nRTO %+v", rec.RPO, rec.RTO)

			// The archive's time is when the dump started, truncated to
			// the second, with the clock set back by backAge.
			low := at.Sub(afterBackup) + tc.backAge
			high := at.Sub(beforeBackup) + tc.backAge + time.Second
			if got := time.Duration(rec.RPO.AchievedSeconds * float64(time.Second)); got < low || got > high {
				t.Errorf("RPO achieved %v, want within [%v, %v]", got, low, high)
			}
			if rec.RPO.Verdict != backup.VerdictPass || rec.RPO.ObjectiveSeconds != check.DefaultPolicy.RPO.Seconds() {
				t.Errorf("RPO verdict %s (%s), objective %v s", rec.RPO.Verdict, rec.RPO.Why, rec.RPO.ObjectiveSeconds)
			}
			if rec.RPO.SourceGrowthDocuments != 0 || rec.RPO.IntervalSeconds != 0 {
				t.Errorf("growth %d, interval %v: want 0 and 0 (nothing written since, one archive)", rec.RPO.SourceGrowthDocuments, rec.RPO.IntervalSeconds)
			}

			rto := rec.RTO
			if rto.AchievedSeconds <= 0 || rto.RestoreSeconds <= 0 || rto.VerifySeconds <= 0 || rto.IndexSeconds <= 0 ||
				rto.AchievedSeconds != (r.RestoreDuration+r.VerifyDuration).Seconds() || rto.IndexSeconds > rto.RestoreSeconds {
				t.Errorf("RTO parts %+v; drill restore %v (indexes %v) verify %v", rto, r.RestoreDuration, r.IndexDuration, r.VerifyDuration)
			}
			if rto.Documents != 120 || rto.SourceDocuments != 120 || rto.ProjectedSeconds != rto.AchievedSeconds || rto.DataBytes <= 0 ||
				rto.SecondsPerMillionDocuments != rto.AchievedSeconds/120*1e6 {
				t.Errorf("RTO sizes %+v", rto)
			}
			if rec.Archive != r.Archive.Name || rec.ScratchDatabase != r.ScratchDatabase || !rec.BackupAt.Equal(r.Manifest.CreatedAt) || len(rec.Collections) != 2 {
				t.Errorf("recovery %+v", rec)
			}
		})
	}
}

// TestRecoveryChecks runs backup.rpo and backup.rto as a readiness run
// does, against real archives: one stale by its name and manifest, one
// fresh judged against an RTO of 1ns, a schedule whose interval exceeds
// the RPO, and a damaged archive.
func TestRecoveryChecks(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 10, 3)
	backupAt := func(dir string, age time.Duration) {
		t.Helper()
		if _, err := backup.Backup(ctx, db, dir, backup.WithClock(func() time.Time { return time.Now().Add(-age) })); err != nil {
			t.Fatal(err)
		}
	}
	stale, fresh, schedule, damaged := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	backupAt(stale, 72*time.Hour)
	backupAt(fresh, 0)
	backupAt(schedule, 31*time.Hour)
	backupAt(schedule, time.Hour)
	backupAt(damaged, 0)
	archives, _ := backup.List(damaged)
	good, _ := os.ReadFile(archives[0].Path)
	if err := os.WriteFile(archives[0].Path, good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, id, dir string
		policy        check.Policy
		status        check.Status
		want          []string // in the message, then in the evidence
	}{
		{"stale backup fails the RPO", "backup.rpo", stale, check.Policy{}, check.Fail,
			[]string{"a restore now would lose 3d0h of writes", "more than the RPO of 26h0m0s", "<= 26h0m0s", "RPO achieved 3d0h"}},
		{"stale backup still restores within the RTO", "backup.rto", stale, check.Policy{}, check.Pass,
			[]string{"within the RTO of 15m0s", "<= 15m0s", "RTO achieved"}},
		{"fresh backup meets the RPO", "backup.rpo", fresh, check.Policy{}, check.Pass,
			[]string{"within the RPO of 26h0m0s", "RPO achieved", "schedule: unknown: one archive"}},
		{"an RTO of 1ns fails", "backup.rto", fresh, check.Policy{RTO: time.Nanosecond}, check.Fail,
			[]string{"to a verified database took", "more than the RTO of 1ns", "<= 1ns", "RTO achieved", "s per million documents"}},
		{"a one-second RPO fails", "backup.rpo", stale, check.Policy{RPO: time.Second}, check.Fail,
			[]string{"more than the RPO of 1s"}},
		{"a schedule wider than the RPO warns", "backup.rpo", schedule, check.Policy{}, check.Warn,
			[]string{"a restore now would lose 1h0m0s of writes", "30h0m0s between the newest two archives", "more than the RPO of 26h0m0s",
				"schedule: 30h0m0s between the newest two archives"}},
		{"a damaged archive is no recovery point", "backup.rpo", damaged, check.Policy{}, check.Fail,
			[]string{"no verified recovery point", "passed: false"}},
		{"a damaged archive has no recovery time", "backup.rto", damaged, check.Policy{}, check.Fail,
			[]string{"finished verified"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := findCheck(t, tc.id).Run(ctx, &check.Target{BackupDir: tc.dir, Database: db.Name(), Mongo: client, Policy: tc.policy})
			text := r.Message
			for _, ev := range r.Evidence {
				text += "\n" + ev.Request + "\n" + ev.Response + "\n" + ev.Expected + "\n" + ev.Observed + "\n" + ev.Note
			}
			t.Logf("%s: %s\n%s", r.Status, r.Message, text)
			if r.Status != tc.status {
				t.Errorf("%s = %s, want %s", tc.id, r.Status, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s does not say %q", tc.id, w)
				}
			}
		})
	}

	t.Run("not applicable without a server", func(t *testing.T) {
		for _, id := range []string{"backup.rpo", "backup.rto"} {
			if r := findCheck(t, id).Run(ctx, &check.Target{BackupDir: fresh}); r.Status != check.NotApplicable || !strings.Contains(r.Message, "Target.Mongo") {
				t.Errorf("%s without Mongo: %s %s", id, r.Status, r.Message)
			}
		}
	})
}

// TestRecoveryChecksShareOneDrill: in one run (one Shared) the three
// checks that need a restore judge the same drill, so the run restores
// once; without Shared each drills on its own.
func TestRecoveryChecksShareOneDrill(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 5, 2)
	dir := t.TempDir()
	if _, err := backup.Backup(ctx, db, dir); err != nil {
		t.Fatal(err)
	}
	scratches := func(shared *check.Shared) map[string]bool {
		seen := map[string]bool{}
		for _, id := range []string{"backup.restores", "backup.rpo", "backup.rto"} {
			r := findCheck(t, id).Run(ctx, &check.Target{BackupDir: dir, Database: db.Name(), Mongo: client, Shared: shared})
			if r.Status != check.Pass || len(r.Evidence) == 0 {
				t.Fatalf("%s: %s %s", id, r.Status, r.Message)
			}
			i := strings.Index(r.Evidence[0].Request, "drill_")
			if i < 0 {
				t.Fatalf("%s names no scratch database: %q", id, r.Evidence[0].Request)
			}
			seen[strings.TrimRight(strings.Fields(r.Evidence[0].Request[i:])[0], ",")] = true
		}
		return seen
	}
	if got := scratches(&check.Shared{}); len(got) != 1 {
		t.Errorf("one run drilled into %v, want one scratch database", got)
	}
	if got := scratches(nil); len(got) != 3 {
		t.Errorf("without Shared the checks drilled into %v, want three", got)
	}
}

// TestMeasureVerdicts: the verdicts from the numbers alone, on drills
// made up so that every branch is reached without timing anything.
func TestMeasureVerdicts(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	drill := func(age, restore time.Duration, archived, source int64) backup.DrillReport {
		return backup.DrillReport{
			Archive:  backup.Archive{Name: "db-x.tar.gz", Database: "db", Time: at.Add(-age)},
			Manifest: backup.Manifest{CreatedAt: at.Add(-age), Documents: archived},
			Passed:   true, RestoreDuration: restore, VerifyDuration: restore / 4, Documents: archived, DataBytes: archived * 1000,
			Collections: []backup.DrillCollection{{Name: "tasks", ArchiveCount: archived, SourceCount: source}},
		}
	}
	obj := backup.Objectives{RPO: 24 * time.Hour, RTO: 10 * time.Minute}
	cases := []struct {
		name     string
		r        backup.DrillReport
		rpo, rto string
		why      string
	}{
		{"within both", drill(time.Hour, time.Minute, 1000, 1000), backup.VerdictPass, backup.VerdictPass, "within the RTO of 10m0s"},
		{"RPO missed", drill(25*time.Hour, time.Minute, 1000, 1000), backup.VerdictFail, backup.VerdictPass, "more than the RPO of 24h0m0s"},
		{"clock skew", drill(-time.Hour, time.Minute, 1000, 1000), backup.VerdictWarn, backup.VerdictPass, "after this host's clock"},
		{"RTO missed", drill(time.Hour, 9*time.Minute, 1000, 1000), backup.VerdictPass, backup.VerdictFail, "took 11m15s, more than the RTO"},
		{"more than half the RTO", drill(time.Hour, 5*time.Minute, 1000, 1000), backup.VerdictPass, backup.VerdictWarn, "more than half the RTO"},
		{"source outgrew the RTO", drill(time.Hour, 2*time.Minute, 1000, 5000), backup.VerdictPass, backup.VerdictWarn, "about 5000) it would take about 12m30s"},
		{"drill failed", func() backup.DrillReport { r := drill(time.Hour, time.Minute, 1000, 1000); r.Passed = false; return r }(),
			backup.VerdictFail, backup.VerdictFail, "no verified recovery point"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := backup.Measure(tc.r, nil, at, obj)
			if rec.RPO.Verdict != tc.rpo || rec.RTO.Verdict != tc.rto || !strings.Contains(rec.RPO.Why+" "+rec.RTO.Why, tc.why) {
				t.Errorf("RPO %s (%s), RTO %s (%s); want %s, %s, %q", rec.RPO.Verdict, rec.RPO.Why, rec.RTO.Verdict, rec.RTO.Why, tc.rpo, tc.rto, tc.why)
			}
		})
	}
	rec := backup.Measure(drill(time.Hour, 2*time.Minute, 1000, 5000), nil, at, obj)
	if rec.RPO.SourceGrowthDocuments != 4000 || math.Abs(rec.RTO.ProjectedSeconds-750) > 1e-9 || math.Abs(rec.RTO.SecondsPerGiB-150*(1<<30)/1e6) > 1e-6 {
		t.Errorf("growth %d, projected %v s, per GiB %v", rec.RPO.SourceGrowthDocuments, rec.RTO.ProjectedSeconds, rec.RTO.SecondsPerGiB)
	}
}

// TestCountWritesSince: documents created or updated after the backup
// started are counted; untouched ones are not.
func TestCountWritesSince(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 10, 2)
	m, err := backup.Backup(ctx, db, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The seed may date a document within the backup's second; count
	// against what was there right after the backup.
	before, err := backup.CountWritesSince(ctx, db, m)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	if _, err := db.Collection("tasks").InsertMany(ctx, []any{
		bson.D{{Key: "title", Value: "new"}, {Key: "createdAt", Value: later}, {Key: "updatedAt", Value: later}},
		bson.D{{Key: "title", Value: "newer"}, {Key: "createdAt", Value: later}, {Key: "updatedAt", Value: later}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("users").UpdateOne(ctx, bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: m.CreatedAt}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: later}}}}); err != nil {
		t.Fatal(err)
	}
	w, err := backup.CountWritesSince(ctx, db, m)
	if err != nil {
		t.Fatal(err)
	}
	if w.Documents-before.Documents != 3 || w.Collections["tasks"]-before.Collections["tasks"] != 2 || w.Collections["users"]-before.Collections["users"] != 1 {
		t.Errorf("writes since the backup %+v (before the writes %+v); want 2 tasks and 1 user more", w, before)
	}
}

// TestRecover: a real recovery restores into an empty database and keeps
// it, verified; it refuses a database that has data.
func TestRecover(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 10, 3)
	m, err := backup.Backup(ctx, db, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	into := client.Database(fmt.Sprintf("bk_%d", dbSeq.Add(1)))
	t.Cleanup(func() { _ = into.Drop(ctx) })
	rep, err := backup.Recover(ctx, client, m.Path, into.Name())
	if err != nil || !rep.Passed || rep.Documents != 40 || len(rep.Collections) != 2 || rep.RestoreDuration <= 0 || rep.VerifyDuration <= 0 {
		t.Fatalf("Recover: %v %+v", err, rep)
	}
	if n, err := into.Collection("tasks").CountDocuments(ctx, bson.D{}); err != nil || n != 30 {
		t.Errorf("the recovered database has %d tasks (%v), want 30: Recover must keep what it restored", n, err)
	}
	if _, err := backup.Recover(ctx, client, m.Path, into.Name()); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Recover over data: %v, want ErrNotEmpty", err)
	}
}

// TestRecoveryMarkdown: the measured section of a document is the drill
// rendered, and reads back to the same drill.
func TestRecoveryMarkdown(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	r := backup.DrillReport{
		Archive:         backup.Archive{Name: "taskmanager-20261201T110000Z.tar.gz", Database: "taskmanager", Time: at.Add(-time.Hour)},
		Manifest:        backup.Manifest{CreatedAt: at.Add(-time.Hour), Documents: 101000},
		ScratchDatabase: "drill_taskmanager_0123abcd",
		Passed:          true, RestoreDuration: 40 * time.Second, IndexDuration: 5 * time.Second, VerifyDuration: 6 * time.Second,
		BackupDuration: 8 * time.Second, Documents: 101000, DataBytes: 50 << 20, ArchiveBytes: 9 << 20,
		Collections: []backup.DrillCollection{{Name: "tasks", ArchiveCount: 100000, SourceCount: 100000}, {Name: "users", ArchiveCount: 1000, SourceCount: 1000}},
	}
	archives := []backup.Archive{{Database: "taskmanager", Time: at.Add(-time.Hour)}, {Database: "taskmanager", Time: at.Add(-25 * time.Hour)}}
	rec := backup.Measure(r, archives, at, defaults)
	rec.Host = &backup.RecoveryHost{CPUs: 2, Load: "1.50 1.20 0.90"}
	md, err := rec.Markdown()
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "recovery.md", []byte(md))

	doc := []byte("# DR\n\nbefore\n" + backup.DocBegin + "\nold numbers\n" + backup.DocEnd + "\nafter\n")
	out, err := backup.SpliceDoc(doc, rec)
	if err != nil {
		t.Fatal(err)
	}
	back, section, err := backup.DocRecovery(out)
	if err != nil {
		t.Fatal(err)
	}
	if section != "\n"+md || !strings.HasPrefix(string(out), "# DR\n\nbefore\n") || !strings.HasSuffix(string(out), backup.DocEnd+"\nafter\n") {
		t.Errorf("spliced document:\n%s", out)
	}
	if again, _ := back.Markdown(); again != md {
		t.Errorf("the section does not read back to the same drill:\n%s", again)
	}
	if _, err := backup.SpliceDoc([]byte("no markers"), rec); err == nil {
		t.Error("SpliceDoc of a document without markers succeeded")
	}
	edited := strings.Replace(string(out), `"achievedSeconds"`, `"achieved"`, 1)
	if _, _, err := backup.DocRecovery([]byte(edited)); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("a section whose JSON has a field Recovery lacks: %v", err)
	}
}

// FuzzDocRecovery: whatever a document holds, reading its measured
// section and writing one into it return an error or a result, never a
// panic, and a section that reads back renders again without error.
func FuzzDocRecovery(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "recovery.md"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(backup.DocBegin + "\n" + string(golden) + backup.DocEnd + "\n"))
	f.Add([]byte(backup.DocBegin + backup.DocEnd))
	f.Add([]byte(backup.DocEnd + backup.DocBegin))
	f.Add([]byte(backup.DocBegin + "\n```json\n{\"rpo\":{\"achievedSeconds\":1e400}}\n```\n" + backup.DocEnd))
	f.Add([]byte(backup.DocBegin + "\n```json\n{\"measuredAt\":\"not a time\"}" + backup.DocEnd))
	f.Add([]byte("no markers at all"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		rec, _, err := backup.DocRecovery(doc)
		if err == nil {
			if _, err := rec.Markdown(); err != nil {
				t.Errorf("a section that read back does not render: %v", err)
			}
		}
		if out, err := backup.SpliceDoc(doc, backup.Recovery{}); err == nil {
			if _, _, err := backup.DocRecovery(out); err != nil {
				t.Errorf("a spliced document does not read back: %v", err)
			}
		}
	})
}
