package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrExists is returned when an archive of the same database and second
// is already in the directory: a backup never overwrites one.
var ErrExists = errors.New("backup archive already exists")

// ErrNoCollections is returned when the database has no collection to
// back up: usually a wrong database name, which would otherwise produce
// valid, verifiable and useless archives every night.
var ErrNoCollections = errors.New("no collections to back up")

// Progress is what a backup has done so far, reported after every
// progressEvery documents and at the end of each collection.
type Progress struct {
	Collection string // the collection being read
	// Index is the collection's position (1-based) among Total.
	Index, Total int
	// Docs and Bytes are what has been read of this collection so far.
	Docs, Bytes int64
	// Done is set on the last report of a collection.
	Done bool
}

// progressEvery bounds how often Progress is called: often enough for a
// progress bar, rarely enough to cost nothing.
const progressEvery = 10000

// Option configures Backup.
type Option func(*config)

type config struct {
	progress func(Progress)
	clock    func() time.Time
	level    int
}

// WithProgress calls f as the backup reads documents.
func WithProgress(f func(Progress)) Option { return func(c *config) { c.progress = f } }

// WithClock makes the backup take its name and CreatedAt from now instead
// of the wall clock: tests use it to make archives of the past.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithCompression sets the gzip level (gzip.BestSpeed to
// gzip.BestCompression); the default is gzip.DefaultCompression.
func WithCompression(level int) Option { return func(c *config) { c.level = level } }

// Backup writes every collection of db into one new archive in dir (see
// FORMAT.md) and returns its manifest, Path and Size set.
//
// Each collection is read once with a cursor in _id order and streamed
// to a spool file in dir while its SHA-256 is computed, so memory stays
// bounded whatever the collection size; the spool is then packed into a
// gzip'd tar whose first entry is the manifest. The archive appears
// under its final name only when complete (written as a hidden temporary
// file, synced, then linked), so a crashed backup never looks like the
// newest archive. Archives are created 0600: they hold password hashes.
//
// The dump is consistent per collection, not across collections (as
// mongodump without --oplog): writes during the backup may be in one
// collection's file and not in another's. Views and system collections
// are listed in Skipped, not dumped; a database with nothing to dump is
// refused (ErrNoCollections), as is an existing archive name (ErrExists).
func Backup(ctx context.Context, db *mongo.Database, dir string, opts ...Option) (m Manifest, err error) {
	o := config{progress: func(Progress) {}, clock: time.Now, level: gzip.DefaultCompression}
	for _, opt := range opts {
		opt(&o)
	}
	if o.progress == nil {
		o.progress = func(Progress) {}
	}
	start := o.clock().UTC().Truncate(time.Second)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	final := filepath.Join(dir, FileName(db.Name(), start))
	if _, err := os.Lstat(final); err == nil {
		return Manifest{}, fmt.Errorf("backup: %s: %w", final, ErrExists)
	}

	m = Manifest{Format: Format, Version: FormatVersion, Database: db.Name(), CreatedAt: start,
		Consistency: "per-collection", Collections: []Collection{}}
	m.Server, m.FerretDB = serverVersion(ctx, db.Client())
	specs, err := db.ListCollectionSpecifications(ctx, bson.D{})
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: list collections of %s: %w", db.Name(), err)
	}
	slices.SortFunc(specs, func(a, b mongo.CollectionSpecification) int { return strings.Compare(a.Name, b.Name) })
	var dump []mongo.CollectionSpecification
	for _, s := range specs {
		switch {
		case s.Type != "" && s.Type != "collection":
			m.Skipped = append(m.Skipped, Skipped{Name: s.Name, Reason: s.Type + ": not data (its definition is not backed up)"})
		case strings.HasPrefix(s.Name, "system."):
			m.Skipped = append(m.Skipped, Skipped{Name: s.Name, Reason: "system collection"})
		default:
			dump = append(dump, s)
		}
	}

	if len(dump) == 0 {
		return Manifest{}, fmt.Errorf("backup: database %q: %w", db.Name(), ErrNoCollections)
	}

	spool, err := os.MkdirTemp(dir, ".spool-")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(spool)

	began := time.Now()
	files := make([]string, len(dump))
	for i, s := range dump {
		files[i] = filepath.Join(spool, fmt.Sprintf("%04d.bson", i))
		c, err := dumpCollection(ctx, db, s, files[i], func(p Progress) {
			p.Index, p.Total = i+1, len(dump)
			o.progress(p)
		})
		if err != nil {
			return Manifest{}, fmt.Errorf("backup: %s.%s: %w", db.Name(), s.Name, err)
		}
		m.Collections = append(m.Collections, c)
		m.Documents += c.Count
		m.Bytes += c.Bytes
	}
	took := time.Since(began)
	m.DumpMillis = took.Milliseconds()
	m.FinishedAt = start.Add(took).Truncate(time.Millisecond)
	if err := ctx.Err(); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}

	size, err := writeArchive(dir, final, &m, files, o.level)
	if err != nil {
		return Manifest{}, err
	}
	m.Path, m.Size = final, size
	return m, nil
}

// dumpCollection streams s's documents in _id order into file and
// returns the collection's manifest entry.
func dumpCollection(ctx context.Context, db *mongo.Database, s mongo.CollectionSpecification, file string, progress func(Progress)) (c Collection, err error) {
	coll := db.Collection(s.Name)
	c = Collection{Name: s.Name, File: entryName(db.Name(), s.Name, ".bson"), MetadataFile: entryName(db.Name(), s.Name, ".metadata.json")}
	c.Options = json.RawMessage("{}")
	if len(s.Options) > 0 {
		js, err := bson.MarshalExtJSON(s.Options, true, false)
		if err != nil {
			return c, fmt.Errorf("options: %w", err)
		}
		c.Options = js
	}
	if c.Indexes, err = listIndexes(ctx, coll); err != nil {
		return c, err
	}
	if c.Indexes == nil {
		c.Indexes = []Index{}
	}

	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return c, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	h := sha256.New()
	w := io.MultiWriter(bw, h)

	// _id order makes the stream, and so its checksum, the same for the
	// same data whichever order the server keeps documents in; a restore
	// read back in _id order must hash the same.
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return c, fmt.Errorf("find: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		if _, err := w.Write(cur.Current); err != nil {
			return c, err
		}
		c.Count++
		c.Bytes += int64(len(cur.Current))
		if c.Count%progressEvery == 0 {
			progress(Progress{Collection: s.Name, Docs: c.Count, Bytes: c.Bytes})
		}
	}
	if err := cur.Err(); err != nil {
		return c, fmt.Errorf("read: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return c, err
	}
	c.SHA256 = hex.EncodeToString(h.Sum(nil))
	progress(Progress{Collection: s.Name, Docs: c.Count, Bytes: c.Bytes, Done: true})
	return c, nil
}

// listIndexes returns coll's indexes as listIndexes gives them; none for
// a collection that does not exist.
func listIndexes(ctx context.Context, coll *mongo.Collection) ([]Index, error) {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		if isNamespaceNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var out []Index
	for cur.Next(ctx) {
		ix, err := indexFromSpec(cur.Current)
		if err != nil {
			return nil, err
		}
		out = append(out, ix)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	slices.SortFunc(out, func(a, b Index) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// isNamespaceNotFound reports the server's "no such collection" (code 26).
func isNamespaceNotFound(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(26)
}

// serverVersion returns buildInfo's version and, on FerretDB, its own.
func serverVersion(ctx context.Context, c *mongo.Client) (version, ferret string) {
	var bi struct {
		Version  string `bson:"version"`
		FerretDB string `bson:"ferretdbVersion"`
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&bi); err != nil {
		return "", ""
	}
	return bi.Version, bi.FerretDB
}

// entryName is the tar path of a collection's file, mongodump's layout
// "<db>/<collection><ext>", with characters that are awkward in paths
// percent-escaped (the manifest keeps the real name).
func entryName(db, coll, ext string) string {
	return path.Join(escapeName(db), escapeName(coll)+ext)
}

func escapeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteString(strings.ReplaceAll(url.PathEscape(string(r)), "/", "%2F"))
		}
	}
	return b.String()
}

// writeArchive packs the manifest and the spooled collection files into
// a hidden temporary file in dir and then gives it its final name,
// refusing to replace an existing archive.
func writeArchive(dir, final string, m *Manifest, files []string, level int) (size int64, err error) {
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("backup: manifest: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(final)+".partial-")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			_ = tmp.Close()
		}
		_ = os.Remove(tmpName) // after a successful link, the final name remains
	}()

	bw := bufio.NewWriterSize(tmp, 1<<20)
	gz, err := gzip.NewWriterLevel(bw, level)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	gz.ModTime = m.CreatedAt
	tw := tar.NewWriter(gz)
	add := func(name string, size int64, r io.Reader) error {
		hdr := &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: m.CreatedAt, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := add(ManifestFile, int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return 0, fmt.Errorf("backup: write manifest: %w", err)
	}
	for i, c := range m.Collections {
		meta, err := metadataJSON(c)
		if err != nil {
			return 0, fmt.Errorf("backup: %s: %w", c.Name, err)
		}
		if err := add(c.MetadataFile, int64(len(meta)), bytes.NewReader(meta)); err != nil {
			return 0, fmt.Errorf("backup: write %s: %w", c.MetadataFile, err)
		}
		if err := addFile(add, c.File, files[i], c.Bytes); err != nil {
			return 0, fmt.Errorf("backup: write %s: %w", c.File, err)
		}
	}
	if err := tw.Close(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := gz.Close(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("backup: sync: %w", err)
	}
	info, err := tmp.Stat()
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	tmp = nil
	// A hard link fails if the name exists, where a rename would replace
	// it; fall back to a rename where links are not supported.
	if err := os.Link(tmpName, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, fmt.Errorf("backup: %s: %w", final, ErrExists)
		}
		if _, serr := os.Lstat(final); serr == nil {
			return 0, fmt.Errorf("backup: %s: %w", final, ErrExists)
		}
		if err := os.Rename(tmpName, final); err != nil {
			return 0, fmt.Errorf("backup: %w", err)
		}
	}
	syncDir(dir)
	return info.Size(), nil
}

// addFile copies a spool file into the tar, checking it still has the
// length the manifest records.
func addFile(add func(string, int64, io.Reader) error, name, file string, size int64) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() != size {
		return fmt.Errorf("spool file is %d bytes, manifest says %d", info.Size(), size)
	}
	return add(name, size, bufio.NewReaderSize(f, 1<<20))
}

// metadataJSON is mongodump's <collection>.metadata.json: the collection
// options and index specs in canonical extended JSON, so that an
// extracted archive reads like a mongodump directory.
func metadataJSON(c Collection) ([]byte, error) {
	indexes := make([]json.RawMessage, len(c.Indexes))
	for i, ix := range c.Indexes {
		indexes[i] = ix.Spec
	}
	return json.Marshal(struct {
		Options        json.RawMessage   `json:"options"`
		Indexes        []json.RawMessage `json:"indexes"`
		CollectionName string            `json:"collectionName"`
		Type           string            `json:"type"`
	}{c.Options, indexes, c.Name, "collection"})
}

// syncDir makes a rename durable where the platform allows; failure only
// costs durability across a power cut, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
