package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/checks/backup"
	"github.com/taskready/taskready/service/config"
)

// storeFlags locate a database: a URI, or the state file of `harness up`.
type storeFlags struct {
	uri, state, db, dir string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.uri, "mongo-uri", "", "MongoDB URI (default: the running `harness up` environment's, from -state)")
	fs.StringVar(&s.state, "state", DefaultState, "endpoints file of a running `harness up`")
	fs.StringVar(&s.db, "db", config.DefaultDatabase, "database name (the API's MONGODB_DB)")
	fs.StringVar(&s.dir, "dir", "out/backups", "backup directory")
}

func (s *storeFlags) connect(ctx context.Context) (*mongo.Client, error) {
	uri := s.uri
	if uri == "" {
		ep, err := readState(s.state)
		if err != nil {
			return nil, fmt.Errorf("%w: no -mongo-uri and no environment: %v", errUsage, err)
		}
		uri = ep.MongoURI
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(5 * time.Minute))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", uri, err)
	}
	return client, nil
}

func backupCmd() command {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	keepDaily := fs.Int("keep-daily", 7, "after the backup, keep one archive a day for this many days (0: prune nothing)")
	keepWeekly := fs.Int("keep-weekly", 4, "and one a week for this many weeks")
	return command{fs: fs, help: "write a compressed, checksummed archive of the database; prune by retention", run: func(ctx context.Context, out io.Writer) error {
		client, err := sf.connect(ctx)
		if err != nil {
			return err
		}
		defer client.Disconnect(context.WithoutCancel(ctx))
		start := time.Now()
		m, err := backup.Backup(ctx, client.Database(sf.db), sf.dir, backup.WithProgress(func(p backup.Progress) {
			if p.Done {
				fmt.Fprintf(out, "  %-12s %9d docs %10s  (%d/%d)\n", p.Collection, p.Docs, bytesText(p.Bytes), p.Index, p.Total)
			}
		}))
		if err != nil {
			return err
		}
		took := time.Since(start)
		fmt.Fprintf(out, "harness: backed up %s: %d documents, %s of BSON into %s (%s) in %s\n",
			sf.db, m.Documents, bytesText(m.Bytes), m.Path, bytesText(m.Size), took.Round(time.Millisecond))
		if *keepDaily > 0 || *keepWeekly > 0 {
			pr, err := backup.Prune(sf.dir, time.Now(), *keepDaily, *keepWeekly)
			if err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			if len(pr.Removed) > 0 {
				fmt.Fprintf(out, "harness: pruned %d archive(s) beyond %d daily and %d weekly\n", len(pr.Removed), *keepDaily, *keepWeekly)
			}
		}
		return nil
	}}
}

func restoreDrillCmd() command {
	fs := flag.NewFlagSet("restore-drill", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	return command{fs: fs, help: "restore the newest archive into a scratch database and compare it with the source", run: func(ctx context.Context, out io.Writer) error {
		client, err := sf.connect(ctx)
		if err != nil {
			return err
		}
		defer client.Disconnect(context.WithoutCancel(ctx))
		r, err := backup.Drill(ctx, client, sf.dir, sf.db)
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
	}}
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
