package backup_test

import (
	"context"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/backup"
)

// BenchmarkBackupDrill measures a backup, a verify and a restore drill of
// 1,000 users × 100 tasks (101,000 documents) on the embedded FerretDB:
//
//	go test ./checks/backup -run '^$' -bench BackupDrill -benchtime 1x -v
//
// Seeding is outside the timed part. The numbers are FerretDB-on-SQLite
// numbers in this process: an indication of the RTO's order of magnitude,
// not MongoDB's.
func BenchmarkBackupDrill(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds 101,000 documents")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	seedStart := time.Now()
	db := seeded(b, 1000, 100)
	b.Logf("seeded 1000 users × 100 tasks in %v", time.Since(seedStart).Round(time.Millisecond))

	var m backup.Manifest
	var r backup.DrillReport
	var backupTook, verifyTook, drillTook time.Duration
	for b.Loop() {
		dir := b.TempDir()
		start := time.Now()
		var err error
		if m, err = backup.Backup(ctx, db, dir); err != nil {
			b.Fatal(err)
		}
		backupTook = time.Since(start)
		start = time.Now()
		if _, err := backup.Verify(m.Path); err != nil {
			b.Fatal(err)
		}
		verifyTook = time.Since(start)
		start = time.Now()
		if r, err = backup.Drill(ctx, client, dir, db.Name()); err != nil {
			b.Fatal(err)
		}
		drillTook = time.Since(start)
		if !r.Passed {
			b.Fatalf("drill failed: %v", r.Reasons)
		}
	}
	b.Logf("archive %s: %d documents, %.1f MiB BSON -> %.1f MiB gzip'd tar (%.1f%%)",
		m.Path, m.Documents, mib(m.Bytes), mib(m.Size), 100*float64(m.Size)/float64(m.Bytes))
	b.Logf("backup %v (dump %v, %.0f docs/s); verify %v; drill %v = restore %v (%.0f docs/s) + verify %v + drop",
		backupTook.Round(time.Millisecond), time.Duration(m.DumpMillis)*time.Millisecond, float64(m.Documents)/backupTook.Seconds(),
		verifyTook.Round(time.Millisecond), drillTook.Round(time.Millisecond), r.RestoreDuration.Round(time.Millisecond),
		r.RestoreDocsPerSecond(), r.VerifyDuration.Round(time.Millisecond))
	b.ReportMetric(mib(m.Size), "archive-MiB")
	b.ReportMetric(mib(m.Bytes), "bson-MiB")
	b.ReportMetric(backupTook.Seconds(), "backup-s")
	b.ReportMetric(verifyTook.Seconds(), "verify-s")
	b.ReportMetric(r.RestoreDuration.Seconds(), "restore-s")
	b.ReportMetric(drillTook.Seconds(), "drill-s")
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
