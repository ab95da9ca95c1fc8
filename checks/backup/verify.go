package backup

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// ErrCorrupt wraps every way an archive can fail to be what its manifest
// says: unreadable compression, a truncated file, a missing or unknown
// entry, a count or checksum that does not match.
var ErrCorrupt = errors.New("backup archive is corrupt")

// ErrNoManifest is returned (wrapped with ErrCorrupt) when the archive
// does not start with manifest.json.
var ErrNoManifest = errors.New("manifest.json missing")

// maxDocSize bounds one document in a BSON stream: MongoDB's 16 MiB plus
// the 16 KiB of slack mongodump allows. A corrupt length field is caught
// here instead of becoming a huge allocation.
const maxDocSize = 16<<20 + 16<<10

// maxManifestSize bounds the manifest and metadata entries read into memory.
const maxManifestSize = 64 << 20

// archiveReader reads an archive entry by entry, the manifest first.
type archiveReader struct {
	path     string
	f        *os.File
	gz       *gzip.Reader
	tr       *tar.Reader
	manifest Manifest
}

// openArchive opens path and reads its manifest.
func openArchive(path string) (*archiveReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("backup: %w", err)
	}
	ar := &archiveReader{path: path, f: f}
	if ar.gz, err = gzip.NewReader(bufio.NewReaderSize(f, 1<<20)); err != nil {
		_ = f.Close()
		return nil, ar.corrupt("not a gzip stream", err)
	}
	ar.tr = tar.NewReader(ar.gz)
	hdr, err := ar.tr.Next()
	if err != nil {
		_ = ar.close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s: %w: the archive is empty", ErrCorrupt, path, ErrNoManifest)
		}
		return nil, ar.corrupt("read first entry", err)
	}
	if hdr.Name != ManifestFile || hdr.Typeflag != tar.TypeReg {
		_ = ar.close()
		return nil, fmt.Errorf("%w: %s: %w: the first entry is %q", ErrCorrupt, path, ErrNoManifest, hdr.Name)
	}
	if hdr.Size > maxManifestSize {
		_ = ar.close()
		return nil, fmt.Errorf("%w: %s: manifest.json is %d bytes", ErrCorrupt, path, hdr.Size)
	}
	raw, err := io.ReadAll(ar.tr)
	if err != nil {
		_ = ar.close()
		return nil, ar.corrupt("read manifest.json", err)
	}
	if err := json.Unmarshal(raw, &ar.manifest); err != nil {
		_ = ar.close()
		return nil, fmt.Errorf("%w: %s: manifest.json: %v", ErrCorrupt, path, err)
	}
	if err := ar.manifest.check(); err != nil {
		_ = ar.close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ar.manifest.Path, ar.manifest.Size = path, info.Size()
	return ar, nil
}

// corrupt wraps a read error as ErrCorrupt, naming truncation, the
// commonest damage, explicitly.
func (ar *archiveReader) corrupt(what string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s: %s: the file is truncated (unexpected end of data)", ErrCorrupt, ar.path, what)
	}
	return fmt.Errorf("%w: %s: %s: %v", ErrCorrupt, ar.path, what, err)
}

// next returns the next entry's header, io.EOF after the last.
func (ar *archiveReader) next() (*tar.Header, error) {
	hdr, err := ar.tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, ar.corrupt("read entry", err)
	}
	return hdr, nil
}

// finish reads the gzip stream to its end, which is where gzip checks its
// CRC-32 and length: damage after the last tar entry is found here.
func (ar *archiveReader) finish() error {
	if _, err := io.Copy(io.Discard, ar.gz); err != nil {
		return ar.corrupt("read to end", err)
	}
	return nil
}

func (ar *archiveReader) close() error {
	if ar.gz != nil {
		_ = ar.gz.Close()
	}
	return ar.f.Close()
}

// collectionFor returns the manifest entry whose File is name.
func (m *Manifest) collectionFor(name string) (*Collection, bool) {
	for i := range m.Collections {
		if m.Collections[i].File == name {
			return &m.Collections[i], true
		}
	}
	return nil, false
}

// metadataFor reports whether name is a collection's metadata entry.
func (m *Manifest) metadataFor(name string) bool {
	for i := range m.Collections {
		if m.Collections[i].MetadataFile == name {
			return true
		}
	}
	return false
}

// Verify reads the archive at path end to end and checks it: a gzip
// stream with a valid trailer, a tar whose first entry is a manifest this
// package understands, every collection file present once, made of valid
// BSON documents, with the count, length and SHA-256 the manifest
// records, and no entry the manifest does not list. It returns the
// manifest (Path and Size set) and an error wrapping ErrCorrupt on the
// first problem found. It needs no database.
func Verify(path string) (Manifest, error) {
	ar, err := openArchive(path)
	if err != nil {
		return Manifest{}, err
	}
	defer ar.close()
	m := ar.manifest
	seen := map[string]bool{}
	for {
		hdr, err := ar.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, err
		}
		if seen[hdr.Name] {
			return m, fmt.Errorf("%w: %s: entry %s appears twice", ErrCorrupt, path, hdr.Name)
		}
		seen[hdr.Name] = true
		switch c, isColl := m.collectionFor(hdr.Name); {
		case isColl:
			st, err := readDocs(ar.tr, nil)
			if err != nil {
				return m, ar.streamErr(hdr.Name, err)
			}
			if err := c.matches(st); err != nil {
				return m, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
			}
		case m.metadataFor(hdr.Name):
			raw, err := io.ReadAll(io.LimitReader(ar.tr, maxManifestSize+1))
			if err != nil {
				return m, ar.corrupt("read "+hdr.Name, err)
			}
			if !json.Valid(raw) {
				return m, fmt.Errorf("%w: %s: %s is not valid JSON", ErrCorrupt, path, hdr.Name)
			}
		default:
			return m, fmt.Errorf("%w: %s: entry %s is not in the manifest", ErrCorrupt, path, hdr.Name)
		}
	}
	for _, c := range m.Collections {
		if !seen[c.File] {
			return m, fmt.Errorf("%w: %s: collection %s: %s is missing", ErrCorrupt, path, c.Name, c.File)
		}
	}
	if err := ar.finish(); err != nil {
		return m, err
	}
	return m, nil
}

// streamErr describes a failure inside a collection file.
func (ar *archiveReader) streamErr(entry string, err error) error {
	return ar.corrupt(entry, err)
}

// streamStats is what readDocs found in a BSON stream.
type streamStats struct {
	count, bytes int64
	sha256       string
}

// matches compares a stream with its manifest entry.
func (c *Collection) matches(st streamStats) error {
	switch {
	case st.count != c.Count:
		return fmt.Errorf("collection %s: %s holds %d documents, the manifest says %d", c.Name, c.File, st.count, c.Count)
	case st.bytes != c.Bytes:
		return fmt.Errorf("collection %s: %s is %d bytes, the manifest says %d", c.Name, c.File, st.bytes, c.Bytes)
	case st.sha256 != c.SHA256:
		return fmt.Errorf("collection %s: %s has SHA-256 %s, the manifest says %s", c.Name, c.File, st.sha256, c.SHA256)
	}
	return nil
}

// readDocs reads a BSON stream (documents one after another) from r,
// validating each and hashing the bytes, and hands each document to fn
// when fn is not nil. The slice fn gets is reused: fn must copy what it
// keeps.
func readDocs(r io.Reader, fn func(doc []byte) error) (streamStats, error) {
	var st streamStats
	h := sha256.New()
	br := bufio.NewReaderSize(r, 1<<20)
	buf := make([]byte, 0, 64<<10)
	var head [4]byte
	for {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return st, fmt.Errorf("document %d: %w", st.count+1, err)
		}
		n := int64(binary.LittleEndian.Uint32(head[:]))
		if n < 5 || n > maxDocSize {
			return st, fmt.Errorf("document %d at byte %d has length %d", st.count+1, st.bytes, n)
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		copy(buf, head[:])
		if _, err := io.ReadFull(br, buf[4:]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return st, fmt.Errorf("document %d: %w", st.count+1, err)
		}
		if err := bsoncore.Document(buf).Validate(); err != nil {
			return st, fmt.Errorf("document %d at byte %d is not valid BSON: %v", st.count+1, st.bytes, err)
		}
		h.Write(buf)
		st.count++
		st.bytes += n
		if fn != nil {
			if err := fn(buf); err != nil {
				return st, err
			}
		}
	}
	st.sha256 = hex.EncodeToString(h.Sum(nil))
	return st, nil
}
