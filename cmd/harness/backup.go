package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/taskready/taskready/checks/backup"
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
	store storeFlags
	dir   string
}

func restoreDrillCmd() command {
	var o restoreDrillOptions
	fs := flag.NewFlagSet("restore-drill", flag.ContinueOnError)
	o.store.register(fs)
	fs.StringVar(&o.dir, "dir", defaultBackupDir, "backup directory")
	return command{fs: fs, help: "restore the newest archive into a scratch database and compare it with the source", run: o.run}
}

func (o *restoreDrillOptions) run(ctx context.Context, out io.Writer) error {
	client, err := o.store.connect(backupTimeout)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	r, err := backup.Drill(ctx, client, o.dir, o.store.db)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "harness: restore drill of %s into %s\n", r.Archive.Path, r.ScratchDatabase)
	for _, c := range r.Collections {
		mark := "✓"
		if c.ArchiveSHA256 != c.RestoredSHA256 || c.ArchiveCount != c.RestoredCount || len(c.MissingIndexes)+len(c.ExtraIndexes) > 0 {
			mark = "✗"
		}
		fmt.Fprintf(out, "  %s %-12s archive %d, restored %d, source now %d; sha256 %.12s…\n",
			mark, c.Name, c.ArchiveCount, c.RestoredCount, c.SourceCount, c.RestoredSHA256)
	}
	fmt.Fprintf(out, "  archive %s, %d documents (%s of BSON); restore %s (%.0f docs/s), verify %s, total %s; scratch dropped: %v\n",
		bytesText(r.ArchiveBytes), r.Documents, bytesText(r.DataBytes), r.RestoreDuration.Round(time.Millisecond),
		r.RestoreDocsPerSecond(), r.VerifyDuration.Round(time.Millisecond), r.Total.Round(time.Millisecond), r.ScratchDropped)
	for _, n := range r.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	if !r.Passed {
		for _, why := range r.Reasons {
			fmt.Fprintf(out, "  ✗ %s\n", why)
		}
		return fmt.Errorf("the restore drill failed: %d problem(s)", len(r.Reasons))
	}
	fmt.Fprintln(out, "  ✓ counts, checksums and indexes match the archive")
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
