package backup

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrNotEmpty is returned when the database to restore into already has
// collections: a restore never mixes archived data with live data.
var ErrNotEmpty = errors.New("target database is not empty")

// ErrIndex wraps index builds that failed during a restore; the data was
// restored all the same.
var ErrIndex = errors.New("index not rebuilt")

// Insert batches: small enough to bound memory, large enough that round
// trips do not dominate.
const (
	batchDocs  = 1000
	batchBytes = 8 << 20
)

// Stats says what a restore did.
type Stats struct {
	Archive  string // the archive restored
	Database string // the database restored into
	// Manifest is the archive's manifest.
	Manifest    Manifest
	Collections []CollectionStats // in archive order
	// Documents and Bytes (raw BSON) over all collections.
	Documents, Bytes int64
	// DataTook is the time inserting documents, IndexTook building
	// indexes, Took the whole restore.
	DataTook, IndexTook, Took time.Duration
}

// CollectionStats is one restored collection.
type CollectionStats struct {
	Name             string // the collection
	Documents, Bytes int64  // inserted documents and their raw BSON bytes
	// Indexes is how many indexes besides _id were built.
	Indexes int
	Took    time.Duration // creating and filling the collection
}

// DocsPerSecond is the restore's throughput, indexes included.
func (s Stats) DocsPerSecond() float64 {
	if s.Took <= 0 {
		return 0
	}
	return float64(s.Documents) / s.Took.Seconds()
}

// insertError marks a failed insert inside readDocs, which is a store
// problem, not a damaged archive.
type insertError struct{ err error }

// Error implements error.
func (e insertError) Error() string { return e.err.Error() }

// Unwrap returns the store's error.
func (e insertError) Unwrap() error { return e.err }

// Restore loads the archive at archivePath into the database scratchDB,
// which must not have any collection yet (ErrNotEmpty): a restore is for
// drills and for recovering into a fresh database, never on top of data.
//
// It creates each collection with its archived options, streams its
// documents in batches while checking count and SHA-256 against the
// manifest (a mismatch stops the restore with ErrCorrupt, leaving a
// partial scratchDB for the caller to drop), and then builds the
// archived indexes, after the data as mongorestore does because that is
// faster. Index builds the server refuses are reported with ErrIndex
// after everything else is done.
func Restore(ctx context.Context, client *mongo.Client, archivePath, scratchDB string) (Stats, error) {
	began := time.Now()
	st := Stats{Archive: archivePath, Database: scratchDB}
	if scratchDB == "" {
		return st, errors.New("restore: no target database")
	}
	db := client.Database(scratchDB)
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return st, fmt.Errorf("restore: list collections of %s: %w", scratchDB, err)
	}
	if len(names) > 0 {
		return st, fmt.Errorf("restore: %s has collections %v: %w", scratchDB, names, ErrNotEmpty)
	}
	ar, err := openArchive(archivePath)
	if err != nil {
		return st, err
	}
	defer ar.close()
	st.Manifest = ar.manifest
	m := &st.Manifest

	restored := map[string]bool{}
	for {
		hdr, err := ar.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, err
		}
		c, ok := m.collectionFor(hdr.Name)
		if !ok {
			if m.metadataFor(hdr.Name) {
				continue // for mongorestore users; the manifest has the same
			}
			return st, fmt.Errorf("%w: %s: entry %s is not in the manifest", ErrCorrupt, archivePath, hdr.Name)
		}
		if restored[c.Name] {
			return st, fmt.Errorf("%w: %s: entry %s appears twice", ErrCorrupt, archivePath, hdr.Name)
		}
		restored[c.Name] = true
		cs, err := restoreCollection(ctx, db, c, ar.tr)
		st.Collections = append(st.Collections, cs)
		st.Documents += cs.Documents
		st.Bytes += cs.Bytes
		if err != nil {
			var ie insertError
			if errors.As(err, &ie) {
				return st, fmt.Errorf("restore: %s.%s: %w", scratchDB, c.Name, ie.err)
			}
			return st, ar.streamErr(hdr.Name, err)
		}
	}
	for _, c := range m.Collections {
		if !restored[c.Name] {
			return st, fmt.Errorf("%w: %s: collection %s: %s is missing", ErrCorrupt, archivePath, c.Name, c.File)
		}
	}
	if err := ar.finish(); err != nil {
		return st, err
	}
	st.DataTook = time.Since(began)

	indexStart := time.Now()
	var indexErrs []error
	for _, c := range m.Collections {
		n, err := createIndexes(ctx, db, c)
		if i := slices.IndexFunc(st.Collections, func(s CollectionStats) bool { return s.Name == c.Name }); i >= 0 {
			st.Collections[i].Indexes = n
		}
		if err != nil {
			if ctx.Err() != nil {
				return st, fmt.Errorf("restore: indexes of %s: %w", c.Name, err)
			}
			indexErrs = append(indexErrs, err)
		}
	}
	st.IndexTook = time.Since(indexStart)
	st.Took = time.Since(began)
	if len(indexErrs) > 0 {
		return st, fmt.Errorf("restore: %w: %w", ErrIndex, errors.Join(indexErrs...))
	}
	return st, nil
}

// restoreCollection creates c in db and inserts the documents read from r.
func restoreCollection(ctx context.Context, db *mongo.Database, c *Collection, r io.Reader) (CollectionStats, error) {
	began := time.Now()
	cs := CollectionStats{Name: c.Name}
	if err := createCollection(ctx, db, c); err != nil {
		return cs, insertError{err}
	}
	coll := db.Collection(c.Name)
	batch := make([]any, 0, batchDocs)
	var size int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := coll.InsertMany(ctx, batch); err != nil {
			return insertError{fmt.Errorf("insert: %w", err)}
		}
		batch, size = batch[:0], 0
		return nil
	}
	st, err := readDocs(r, func(doc []byte) error {
		batch = append(batch, bson.Raw(slices.Clone(doc)))
		size += len(doc)
		if len(batch) >= batchDocs || size >= batchBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	cs.Documents, cs.Bytes, cs.Took = st.count, st.bytes, time.Since(began)
	if err != nil {
		return cs, err
	}
	if err := c.matches(st); err != nil {
		return cs, err
	}
	return cs, nil
}

// createCollection creates c with its archived options, so that a capped
// collection or a validator comes back as it was.
func createCollection(ctx context.Context, db *mongo.Database, c *Collection) error {
	var opts bson.D
	if len(c.Options) > 0 {
		if err := bson.UnmarshalExtJSON(c.Options, true, &opts); err != nil {
			return fmt.Errorf("%w: collection %s: options: %v", ErrCorrupt, c.Name, err)
		}
	}
	cmd := append(bson.D{{Key: "create", Value: c.Name}}, opts...)
	if err := db.RunCommand(ctx, cmd).Err(); err != nil {
		return fmt.Errorf("create collection: %w", err)
	}
	return nil
}

// createIndexes builds c's archived indexes except _id's, which the
// server makes with the collection, and returns how many it built.
func createIndexes(ctx context.Context, db *mongo.Database, c Collection) (int, error) {
	var specs bson.A
	var names []string
	for _, ix := range c.Indexes {
		if ix.Name == "_id_" {
			continue
		}
		d, err := ix.specDoc()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", c.Name, err)
		}
		specs = append(specs, d)
		names = append(names, ix.Name+" "+ix.Key)
	}
	if len(specs) == 0 {
		return 0, nil
	}
	cmd := bson.D{{Key: "createIndexes", Value: c.Name}, {Key: "indexes", Value: specs}}
	if err := db.RunCommand(ctx, cmd).Err(); err != nil {
		// One refused spec fails the whole command: retry one by one so
		// that the others are built and the refused one is named.
		built := 0
		var errs []error
		for i, s := range specs {
			one := bson.D{{Key: "createIndexes", Value: c.Name}, {Key: "indexes", Value: bson.A{s}}}
			if err := db.RunCommand(ctx, one).Err(); err != nil {
				errs = append(errs, fmt.Errorf("%s index %s: %w", c.Name, names[i], err))
				continue
			}
			built++
		}
		return built, errors.Join(errs...)
	}
	return len(specs), nil
}

// DrillReport is the outcome of a restore drill.
type DrillReport struct {
	Archive Archive // the archive drilled: the newest
	// Manifest is the archive's manifest, when it could be read.
	Manifest Manifest
	// SourceDatabase is the live database compared with; ScratchDatabase
	// the throw-away one restored into.
	SourceDatabase, ScratchDatabase string
	// Passed is true when the restored data matches the archive exactly:
	// every collection's count and checksum, and every index.
	Passed bool
	// Reasons say why the drill did not pass.
	Reasons []string
	// Notes are observations that do not fail a drill: the live source
	// has moved on since the backup (counts, new collections, indexes).
	Notes       []string
	Collections []DrillCollection // one per archived collection
	// BackupDuration is the dump time the archive records; Restore the
	// restore's (indexes included), Verify the time spent re-reading and
	// comparing, Total the whole drill (drop included).
	BackupDuration, RestoreDuration, VerifyDuration, Total time.Duration
	// IndexDuration is the part of RestoreDuration spent building indexes.
	IndexDuration time.Duration
	// ArchiveBytes is the archive's size on disk, DataBytes the raw BSON
	// restored, Documents the documents restored.
	ArchiveBytes, DataBytes, Documents int64
	// ScratchDropped says the scratch database was dropped afterwards.
	ScratchDropped bool
}

// RestoreDocsPerSecond is the measured restore throughput.
func (r DrillReport) RestoreDocsPerSecond() float64 {
	if r.RestoreDuration <= 0 {
		return 0
	}
	return float64(r.Documents) / r.RestoreDuration.Seconds()
}

// DrillCollection compares one collection across archive, restore and source.
type DrillCollection struct {
	Name                        string // the collection
	ArchiveCount, RestoredCount int64  // documents in the archive and read back from the restore
	// SourceCount is the live count now (the server's estimate, which
	// MongoDB reads from metadata instead of scanning the live
	// collection), -1 when it could not be had.
	SourceCount                   int64
	ArchiveSHA256, RestoredSHA256 string // the manifest's and the restored data's checksums
	// MissingIndexes and ExtraIndexes compare the restored indexes with
	// the archive's ("name {key}").
	MissingIndexes, ExtraIndexes []string
	// SourceOnlyIndexes and ArchiveOnlyIndexes compare the archive's
	// indexes with the live source's.
	SourceOnlyIndexes, ArchiveOnlyIndexes []string
}

// Matches says the restored collection equals the archive's: count,
// checksum and indexes.
func (c DrillCollection) Matches() bool {
	return c.ArchiveSHA256 == c.RestoredSHA256 && c.ArchiveCount == c.RestoredCount && len(c.MissingIndexes)+len(c.ExtraIndexes) == 0
}

// Drill restores the newest archive of sourceDB in dir (of any database
// when sourceDB is "") into a new scratch database named
// "drill_<source>_<random>", compares it with the archive's manifest and
// with the live source, drops it, and says what it found. An error means
// the drill could not start (no archive, unreadable directory, scratch
// name taken); anything
// that goes wrong after that is a Reason in a report that did not pass.
//
// The comparison with the archive must be exact: counts, SHA-256 of the
// documents re-read in _id order, and index specs. The comparison with
// the source is informational (Notes): a live database moves on after a
// backup, so both counts are reported.
func Drill(ctx context.Context, client *mongo.Client, dir, sourceDB string) (r DrillReport, err error) {
	began := time.Now()
	a, err := Newest(dir, sourceDB)
	if err != nil {
		return DrillReport{}, err
	}
	if sourceDB == "" {
		sourceDB = a.Database
	}
	r = DrillReport{Archive: a, SourceDatabase: sourceDB, ScratchDatabase: scratchName(sourceDB), ArchiveBytes: a.Size}
	// Only a database this drill created may be dropped: a name that is
	// somehow taken is left alone.
	if names, err := client.Database(r.ScratchDatabase).ListCollectionNames(ctx, bson.D{}); err != nil {
		return r, fmt.Errorf("drill: %s: %w", r.ScratchDatabase, err)
	} else if len(names) > 0 {
		return r, fmt.Errorf("drill: scratch database %s already exists: %w", r.ScratchDatabase, ErrNotEmpty)
	}
	var restoreErr error
	defer func() {
		r.Total = time.Since(began)
		if errors.Is(restoreErr, ErrNotEmpty) {
			return // created by someone else between the check and the restore
		}
		// The drop must happen even when ctx has ended: a scratch copy of
		// production data must not be left behind.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := client.Database(r.ScratchDatabase).Drop(dctx); err != nil {
			r.Reasons = append(r.Reasons, fmt.Sprintf("could not drop scratch database %s: %v", r.ScratchDatabase, err))
			r.Passed = false
		} else {
			r.ScratchDropped = true
		}
		r.Total = time.Since(began)
	}()

	rep, err := Recover(ctx, client, a.Path, r.ScratchDatabase)
	restoreErr = err
	st := rep.Stats
	r.RestoreDuration, r.IndexDuration = rep.RestoreDuration, st.IndexTook
	r.Manifest = st.Manifest
	r.BackupDuration = time.Duration(st.Manifest.DumpMillis) * time.Millisecond
	r.DataBytes, r.Documents = st.Bytes, st.Documents
	if err != nil {
		r.Reasons = append(r.Reasons, "restore failed: "+err.Error())
		return r, nil
	}
	r.Reasons = append(r.Reasons, rep.Reasons...)
	if !rep.Restored {
		return r, nil
	}

	compareStart := time.Now()
	source := client.Database(sourceDB)
	for i, c := range st.Manifest.Collections {
		dc := rep.Collections[i]
		r.Notes = append(r.Notes, compareSource(ctx, source, c, st.Manifest.CreatedAt, &dc)...)
		r.Collections = append(r.Collections, dc)
	}
	if names, err := source.ListCollectionNames(ctx, bson.D{}); err == nil {
		slices.Sort(names)
		for _, n := range names {
			if _, ok := st.Manifest.Collection(n); !ok && !strings.HasPrefix(n, "system.") && !skipped(st.Manifest, n) {
				r.Notes = append(r.Notes, fmt.Sprintf("%s: exists in the source but not in the archive (created since the backup?)", n))
			}
		}
	}
	r.VerifyDuration = rep.VerifyDuration + time.Since(compareStart)
	r.Passed = len(r.Reasons) == 0
	return r, nil
}

// verifyCollection re-reads the restored collection c in db and compares
// it with the archive: count, SHA-256 in _id order, and index specs. The
// reasons say what differs; none means the collection is as archived.
func verifyCollection(ctx context.Context, db *mongo.Database, c Collection) (DrillCollection, []string) {
	var reasons []string
	dc := DrillCollection{Name: c.Name, ArchiveCount: c.Count, ArchiveSHA256: c.SHA256, SourceCount: -1}
	count, sum, err := checksum(ctx, db.Collection(c.Name))
	if err != nil {
		reasons = append(reasons, fmt.Sprintf("%s: re-read restored data: %v", c.Name, err))
	}
	dc.RestoredCount, dc.RestoredSHA256 = count, sum
	if err == nil && count != c.Count {
		reasons = append(reasons, fmt.Sprintf("%s: %d documents restored, the archive has %d", c.Name, count, c.Count))
	}
	if err == nil && sum != c.SHA256 {
		reasons = append(reasons, fmt.Sprintf("%s: restored data has SHA-256 %s (%d documents), the archive %s (%d): the server did not give back the archived documents byte for byte",
			c.Name, short(sum), count, short(c.SHA256), c.Count))
	}
	restoredIx, err := listIndexes(ctx, db.Collection(c.Name))
	if err != nil {
		reasons = append(reasons, fmt.Sprintf("%s: list restored indexes: %v", c.Name, err))
	}
	dc.MissingIndexes, dc.ExtraIndexes = compareIndexes(c.Indexes, restoredIx)
	if len(dc.MissingIndexes) > 0 {
		reasons = append(reasons, fmt.Sprintf("%s: indexes not rebuilt: %s", c.Name, strings.Join(dc.MissingIndexes, "; ")))
	}
	if len(dc.ExtraIndexes) > 0 {
		reasons = append(reasons, fmt.Sprintf("%s: restored indexes not in the archive: %s", c.Name, strings.Join(dc.ExtraIndexes, "; ")))
	}
	return dc, reasons
}

// compareSource fills dc's source count and index differences from the
// live source and returns notes on how it moved on since the backup made
// at backupAt; none of it fails a drill.
func compareSource(ctx context.Context, source *mongo.Database, c Collection, backupAt time.Time, dc *DrillCollection) []string {
	var notes []string
	// The estimate comes from collection metadata on MongoDB: a drill
	// must not scan the live database it protects.
	if n, err := source.Collection(c.Name).EstimatedDocumentCount(ctx); err == nil {
		dc.SourceCount = n
		if n != c.Count {
			notes = append(notes, fmt.Sprintf("%s: the archive has %d documents, the live source about %d now (writes since the backup at %s)",
				c.Name, c.Count, n, backupAt.Format(time.RFC3339)))
		}
	} else {
		notes = append(notes, fmt.Sprintf("%s: could not count the source: %v", c.Name, err))
	}
	if srcIx, err := listIndexes(ctx, source.Collection(c.Name)); err == nil {
		if len(srcIx) == 0 {
			notes = append(notes, fmt.Sprintf("%s: no longer exists in the source %s", c.Name, source.Name()))
		} else {
			dc.ArchiveOnlyIndexes, dc.SourceOnlyIndexes = compareIndexes(c.Indexes, srcIx)
			if len(dc.SourceOnlyIndexes) > 0 {
				notes = append(notes, fmt.Sprintf("%s: the source has indexes the archive lacks (created since the backup?): %s", c.Name, strings.Join(dc.SourceOnlyIndexes, "; ")))
			}
			if len(dc.ArchiveOnlyIndexes) > 0 {
				notes = append(notes, fmt.Sprintf("%s: the archive has indexes the source no longer has: %s", c.Name, strings.Join(dc.ArchiveOnlyIndexes, "; ")))
			}
		}
	}
	return notes
}

func skipped(m Manifest, name string) bool {
	return slices.ContainsFunc(m.Skipped, func(s Skipped) bool { return s.Name == name })
}

// checksum re-reads coll in _id order and returns its count and the
// SHA-256 of its documents' raw BSON, as Backup computed it.
func checksum(ctx context.Context, coll *mongo.Collection) (int64, string, error) {
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, "", err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	h := sha256.New()
	var n int64
	for cur.Next(ctx) {
		h.Write(cur.Current)
		n++
	}
	if err := cur.Err(); err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

var unsafeDBChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// scratchName returns "drill_<source>_<8 hex>", within MongoDB's 63
// bytes, so that concurrent drills never share a database and a leftover
// one is recognisable.
func scratchName(source string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := unsafeDBChars.ReplaceAllString(source, "_")
	if len(s) > 40 {
		s = s[:40]
	}
	return "drill_" + s + "_" + hex.EncodeToString(b[:])
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

// RecoverReport is the outcome of Recover: a restore kept as the new
// database, verified as a drill verifies.
type RecoverReport struct {
	Stats // what the restore did
	// Collections compare each restored collection with the archive
	// (the source columns are unused: there is no live source).
	Collections []DrillCollection
	// Restored says the documents were restored and verification ran
	// (indexes may still have failed); false means the restore stopped
	// part way and Reasons says why.
	Restored bool
	// Passed is true when every collection's count, checksum and indexes
	// equal the archive's; Reasons say what did not.
	Passed  bool
	Reasons []string
	// RestoreDuration and VerifyDuration are the two parts of the
	// recovery time; their sum is the RTO achieved.
	RestoreDuration, VerifyDuration time.Duration
}

// Recover restores the archive at archivePath into database, which must
// be empty (ErrNotEmpty: a recovery never mixes an archive with live
// data), and verifies it exactly as Drill does: counts, SHA-256 re-read
// in _id order, and indexes. Unlike Drill it keeps the result: it is the
// restore of a real recovery (docs/disaster-recovery.md). A restore that
// fails part way leaves a partial database for the operator to drop
// before trying again or trying an older archive.
func Recover(ctx context.Context, client *mongo.Client, archivePath, database string) (RecoverReport, error) {
	start := time.Now()
	st, err := Restore(ctx, client, archivePath, database)
	rep := RecoverReport{Stats: st, RestoreDuration: time.Since(start)}
	if errors.Is(err, ErrNotEmpty) || (err != nil && st.Manifest.Format == "") {
		return rep, err // nothing was written: the target was in use, or the archive unreadable
	}
	if err != nil && !errors.Is(err, ErrIndex) {
		rep.Reasons = append(rep.Reasons, "restore failed: "+err.Error())
		return rep, nil
	}
	if err != nil {
		rep.Reasons = append(rep.Reasons, err.Error())
	}
	rep.Restored = true
	verifyStart := time.Now()
	for _, c := range st.Manifest.Collections {
		dc, reasons := verifyCollection(ctx, client.Database(database), c)
		rep.Reasons = append(rep.Reasons, reasons...)
		rep.Collections = append(rep.Collections, dc)
	}
	rep.VerifyDuration = time.Since(verifyStart)
	rep.Passed = len(rep.Reasons) == 0
	return rep, nil
}
