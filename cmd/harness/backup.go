package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/backup"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/internal/loadavg"
)

// Where backups go unless -dir says otherwise, and how long one store
// operation of a backup or a drill may take (a collection's whole dump).
const (
	defaultBackupDir = "out/backups"
	backupTimeout    = 5 * time.Minute
)

// backupOptions are the flags of harness backup.
type backupOptions struct {
	store                 storeFlags
	dir                   string
	keepDaily, keepWeekly int
}

func backupCmd() command {
	var o backupOptions
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	o.store.register(fs)
	fs.StringVar(&o.dir, "dir", defaultBackupDir, "backup directory")
	fs.IntVar(&o.keepDaily, "keep-daily", 7, "after the backup, keep one archive a day for this many days (0: prune nothing)")
	fs.IntVar(&o.keepWeekly, "keep-weekly", 4, "and one a week for this many weeks")
	return command{fs: fs, help: "write a compressed, checksummed archive of the database; prune by retention", run: o.run}
}

func (o *backupOptions) run(ctx context.Context, out io.Writer) error {
	client, err := o.store.connect(backupTimeout)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	start := time.Now()
	m, err := backup.Backup(ctx, client.Database(o.store.db), o.dir, backup.WithProgress(func(p backup.Progress) {
		if p.Done {
			fmt.Fprintf(out, "  %-12s %9d docs %10s  (%d/%d)\n", p.Collection, p.Docs, bytesText(p.Bytes), p.Index, p.Total)
		}
	}))
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(out, "harness: backed up %s: %d documents, %s of BSON into %s (%s) in %s\n",
		o.store.db, m.Documents, bytesText(m.Bytes), m.Path, bytesText(m.Size), took.Round(time.Millisecond))
	if o.keepDaily > 0 || o.keepWeekly > 0 {
		pr, err := backup.Prune(o.dir, time.Now(), o.keepDaily, o.keepWeekly)
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		if len(pr.Removed) > 0 {
			fmt.Fprintf(out, "harness: pruned %d archive(s) beyond %d daily and %d weekly\n", len(pr.Removed), o.keepDaily, o.keepWeekly)
		}
	}
	return nil
}

// restoreDrillOptions are the flags of harness restore-drill.
type restoreDrillOptions struct {
	store       storeFlags
	dir         string
	rpo, rto    time.Duration
	countWrites bool
	doc         string
	json        jsonOutput
}

func restoreDrillCmd() command {
	var o restoreDrillOptions
	fs := flag.NewFlagSet("restore-drill", flag.ContinueOnError)
	o.store.register(fs)
	fs.StringVar(&o.dir, "dir", defaultBackupDir, "backup directory")
	fs.DurationVar(&o.rpo, "rpo", check.DefaultPolicy.RPO, "recovery point objective: the newest backup that restores must be younger than this")
	fs.DurationVar(&o.rto, "rto", check.DefaultPolicy.RTO, "recovery time objective: restore, index build and verification must take less than this")
	fs.BoolVar(&o.countWrites, "count-writes", false, "also count the source's documents created or updated since the backup (scans each collection)")
	fs.StringVar(&o.doc, "doc", "", "write the measured RPO and RTO into this Markdown file, between its restore-drill markers (docs/disaster-recovery.md)")
	o.json.register(fs)
	usage := `usage: harness restore-drill [-mongo-uri URI] [-db NAME] [-dir DIR] [-rpo 26h] [-rto 15m] [flags]

Restores the newest archive of -db in -dir into a scratch database on the
same server, re-reads it and compares counts, SHA-256 checksums and
indexes with the archive, then drops it. It measures the recovery point
achieved (RPO: the age of the newest backup that restored) and the
recovery time (RTO: restore, index build and verification) and judges
them against -rpo and -rto. -json prints the measurement, -doc writes it
into a document. Exit 0 when the drill passes and neither objective
fails, 1 otherwise.`
	return command{fs: fs, help: "restore the newest archive into a scratch database, verify it, measure RPO and RTO", usage: usage, run: o.run, json: &o.json}
}

func (o *restoreDrillOptions) run(ctx context.Context, stdout io.Writer) error {
	if o.rpo <= 0 || o.rto <= 0 {
		return fmt.Errorf("%w: -rpo and -rto must be positive", errUsage)
	}
	var doc []byte
	if o.doc != "" {
		// Read first: a wrong -doc is reported before a drill is run for nothing.
		var err error
		if doc, err = os.ReadFile(o.doc); err != nil {
			return fmt.Errorf("%w: -doc: %w", errUsage, err)
		}
		if !bytes.Contains(doc, []byte(backup.DocBegin)) || !bytes.Contains(doc, []byte(backup.DocEnd)) {
			return fmt.Errorf("%w: -doc %s has no lines %s and %s to write between", errUsage, o.doc, backup.DocBegin, backup.DocEnd)
		}
	}
	out := o.json.progress(stdout)
	client, err := o.store.connect(backupTimeout)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	r, err := backup.Drill(ctx, client, o.dir, o.store.db)
	if err != nil {
		return err
	}
	archives, err := backup.List(o.dir)
	if err != nil {
		return err
	}
	rec := backup.Measure(r, archives, time.Now(), backup.Objectives{RPO: o.rpo, RTO: o.rto})
	rec.Host = &backup.RecoveryHost{CPUs: runtime.NumCPU(), Load: loadAverage()}
	if o.countWrites && r.Passed {
		w, err := backup.CountWritesSince(ctx, client.Database(r.SourceDatabase), r.Manifest)
		if err != nil {
			return err
		}
		rec.Writes = &w
	}

	fmt.Fprintf(out, "harness: restore drill of %s into %s\n", r.Archive.Path, r.ScratchDatabase)
	for _, c := range r.Collections {
		mark := "✓"
		if !c.Matches() {
			mark = "✗"
		}
		fmt.Fprintf(out, "  %s %-12s archive %d, restored %d, source now %d; sha256 %.12s…\n",
			mark, c.Name, c.ArchiveCount, c.RestoredCount, c.SourceCount, c.RestoredSHA256)
	}
	fmt.Fprintf(out, "  archive %s, %d documents (%s of BSON); restore %s (%.0f docs/s, indexes %s), verify %s, total %s; scratch dropped: %v\n",
		bytesText(r.ArchiveBytes), r.Documents, bytesText(r.DataBytes), r.RestoreDuration.Round(time.Millisecond),
		r.RestoreDocsPerSecond(), r.IndexDuration.Round(time.Millisecond), r.VerifyDuration.Round(time.Millisecond), r.Total.Round(time.Millisecond), r.ScratchDropped)
	for _, n := range r.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	if r.Passed {
		fmt.Fprintln(out, "  ✓ counts, checksums and indexes match the archive")
	}
	for _, why := range r.Reasons {
		fmt.Fprintf(out, "  ✗ %s\n", why)
	}
	fmt.Fprintf(out, "  RPO %s: %s\n", rec.RPO.Verdict, rec.RPO.Why)
	fmt.Fprintf(out, "  RTO %s: %s\n", rec.RTO.Verdict, rec.RTO.Why)
	if rec.Writes != nil {
		fmt.Fprintf(out, "  writes since the backup: %d documents created or updated (%v)\n", rec.Writes.Documents, rec.Writes.Collections)
	}

	if o.doc != "" {
		updated, err := backup.SpliceDoc(doc, rec)
		if err != nil {
			return fmt.Errorf("-doc %s: %w", o.doc, err)
		}
		if err := os.WriteFile(o.doc, updated, 0o644); err != nil {
			return fmt.Errorf("-doc: %w", err)
		}
		fmt.Fprintf(out, "harness: wrote the measurement into %s\n", o.doc)
	}
	if o.json.on {
		if err := o.json.write(stdout, rec); err != nil {
			return err
		}
	}
	switch {
	case !r.Passed:
		return &exitError{code: exitFail, msg: fmt.Sprintf("the restore drill failed: %d problem(s)", len(r.Reasons))}
	case rec.RPO.Verdict == backup.VerdictFail || rec.RTO.Verdict == backup.VerdictFail:
		return &exitError{code: exitFail, msg: "the drill restored, but an objective was missed"}
	}
	return nil
}

// loadAverage is the machine's 1, 5 and 15 minute load averages as uptime
// prints them, or "" where /proc/loadavg does not exist.
func loadAverage() string {
	avg, ok := loadavg.Read()
	if !ok {
		return ""
	}
	return strings.Join(avg[:], " ")
}

// restoreOptions are the flags of harness restore.
type restoreOptions struct {
	store   storeFlags
	dir     string
	archive string
	into    string
}

func restoreCmd() command {
	var o restoreOptions
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	o.store.register(fs)
	fs.StringVar(&o.dir, "dir", defaultBackupDir, "backup directory: the newest archive of -db in it is restored")
	fs.StringVar(&o.archive, "archive", "", "the archive to restore, instead of the newest in -dir (an older one when the newest is damaged)")
	fs.StringVar(&o.into, "into", "", "the database to restore into, which must be empty (default: the archive's database)")
	usage := `usage: harness restore -mongo-uri URI [-db NAME | -archive FILE] [-dir DIR] [-into NAME]

Restores an archive for real: into an empty database (refused when it has
collections), building its indexes, then verifies counts, SHA-256
checksums and indexes exactly as restore-drill does, and keeps it. The
procedure around it is in docs/disaster-recovery.md. Exit 0 when the
restored database matches the archive, 1 otherwise.`
	return command{fs: fs, help: "restore an archive into an empty database and verify it (disaster recovery)", usage: usage, run: o.run}
}

func (o *restoreOptions) run(ctx context.Context, out io.Writer) error {
	path := o.archive
	if path == "" {
		a, err := backup.Newest(o.dir, o.store.db)
		if err != nil {
			return err
		}
		path = a.Path
	}
	m, err := backup.Verify(path)
	if err != nil {
		return fmt.Errorf("%s cannot be restored: %w", path, err)
	}
	into := o.into
	if into == "" {
		into = m.Database
	}
	client, err := o.store.connect(backupTimeout)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	fmt.Fprintf(out, "harness: restoring %s (%d documents, backup started %s) into %s\n", path, m.Documents, m.CreatedAt.Format(time.RFC3339), into)
	rep, err := backup.Recover(ctx, client, path, into)
	if err != nil {
		return err
	}
	for _, c := range rep.Collections {
		mark := "✓"
		if !c.Matches() {
			mark = "✗"
		}
		fmt.Fprintf(out, "  %s %-12s archive %d, restored %d; sha256 %.12s…\n", mark, c.Name, c.ArchiveCount, c.RestoredCount, c.RestoredSHA256)
	}
	fmt.Fprintf(out, "  restore %s (indexes %s), verify %s: %s to a verified database\n", rep.RestoreDuration.Round(time.Millisecond),
		rep.IndexTook.Round(time.Millisecond), rep.VerifyDuration.Round(time.Millisecond), (rep.RestoreDuration + rep.VerifyDuration).Round(time.Millisecond))
	if !rep.Passed {
		for _, why := range rep.Reasons {
			fmt.Fprintf(out, "  ✗ %s\n", why)
		}
		return fmt.Errorf("the restore into %s failed: %d problem(s); drop %s before trying again or an older archive", into, len(rep.Reasons), into)
	}
	fmt.Fprintf(out, "  ✓ counts, checksums and indexes match the archive; writes after %s are not in it\n", m.CreatedAt.Format(time.RFC3339))
	return nil
}

// bytesText is n in B, kB, MB or GB.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
