package backup

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Format and FormatVersion identify the archive format (FORMAT.md). A
// reader refuses a newer version rather than half-understanding it.
const (
	Format        = "taskready-backup"
	FormatVersion = 1
)

// ManifestFile is the archive's first entry.
const ManifestFile = "manifest.json"

// Manifest describes an archive: what was dumped and how to check it.
type Manifest struct {
	Format   string `json:"format"`   // always Format
	Version  int    `json:"version"`  // FormatVersion when written
	Database string `json:"database"` // the database dumped
	// CreatedAt is when the dump started (the time in the file name);
	// FinishedAt when the last collection was read.
	CreatedAt  time.Time `json:"createdAt"`
	FinishedAt time.Time `json:"finishedAt"` // when the last collection was read
	// DumpMillis is how long reading the database took, the part of a
	// backup that loads the server.
	DumpMillis int64 `json:"dumpMillis"`
	// Server is the source's buildInfo version; FerretDB is its FerretDB
	// version when the source was FerretDB.
	Server   string `json:"server,omitempty"`
	FerretDB string `json:"ferretdb,omitempty"` // FerretDB's version, if the source was FerretDB
	// Consistency says what the dump guarantees: "per-collection" (each
	// collection read once in _id order; not a point-in-time snapshot
	// across collections, like mongodump without --oplog).
	Consistency string       `json:"consistency"`
	Collections []Collection `json:"collections"` // sorted by name
	// Skipped are namespaces that were not dumped, with the reason
	// (views, system collections).
	Skipped []Skipped `json:"skipped,omitempty"`
	// Documents and Bytes are the totals over Collections.
	Documents int64 `json:"documents"`
	Bytes     int64 `json:"bytes"` // raw BSON bytes

	// Path and Size are the archive file and its size, filled when the
	// manifest was read from or written to a file; not stored.
	Path string `json:"-"`
	Size int64  `json:"-"` // bytes of the archive file
}

// Collection is one dumped collection.
type Collection struct {
	Name string `json:"name"` // the collection's name
	// File is the BSON stream's entry, "<db>/<collection>.bson";
	// MetadataFile its mongodump-style metadata, "<db>/<collection>.metadata.json".
	File         string `json:"file"`
	MetadataFile string `json:"metadataFile"` // see File
	// Count, Bytes and SHA256 describe File: the number of documents,
	// its length, and the SHA-256 of its bytes (the documents' raw BSON
	// one after another in _id order), hex.
	Count  int64  `json:"count"`
	Bytes  int64  `json:"bytes"`  // see Count
	SHA256 string `json:"sha256"` // see Count
	// Options are the listCollections options (capped, validator,
	// collation...) in canonical extended JSON; {} for none.
	Options json.RawMessage `json:"options"`
	Indexes []Index         `json:"indexes"` // sorted by name, _id_ included
}

// Index is one index of a collection as listIndexes gave it.
type Index struct {
	Name string `json:"name"` // the index's name
	// Key is the key pattern, for people: "{user: 1, createdAt: -1}".
	Key    string `json:"key"`
	Unique bool   `json:"unique,omitempty"` // a unique index
	// Spec is the whole listIndexes document without "v" and "ns", in
	// canonical extended JSON; restore sends it to createIndexes as is.
	Spec json.RawMessage `json:"spec"`
}

// Skipped is a namespace the dump left out.
type Skipped struct {
	Name   string `json:"name"`   // the namespace in the database
	Reason string `json:"reason"` // why it was left out
}

// Collection returns the manifest's collection called name.
func (m *Manifest) Collection(name string) (*Collection, bool) {
	for i := range m.Collections {
		if m.Collections[i].Name == name {
			return &m.Collections[i], true
		}
	}
	return nil, false
}

// check says whether m is a manifest this package can read.
func (m *Manifest) check() error {
	if m.Format != Format {
		return fmt.Errorf("%w: manifest format %q, want %q", ErrCorrupt, m.Format, Format)
	}
	if m.Version < 1 || m.Version > FormatVersion {
		return fmt.Errorf("%w: manifest version %d; this reader knows up to %d", ErrCorrupt, m.Version, FormatVersion)
	}
	if m.Database == "" {
		return fmt.Errorf("%w: manifest names no database", ErrCorrupt)
	}
	seen := map[string]bool{}
	for _, c := range m.Collections {
		if c.Name == "" || c.File == "" || len(c.SHA256) != 64 || c.Count < 0 || c.Bytes < 0 {
			return fmt.Errorf("%w: manifest entry for collection %q is incomplete", ErrCorrupt, c.Name)
		}
		if seen[c.File] {
			return fmt.Errorf("%w: manifest lists %s twice", ErrCorrupt, c.File)
		}
		seen[c.File] = true
	}
	return nil
}

// indexFromSpec turns a listIndexes document into an Index.
func indexFromSpec(raw bson.Raw) (Index, error) {
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return Index{}, fmt.Errorf("index spec: %w", err)
	}
	spec := slices.DeleteFunc(d, func(e bson.E) bool { return e.Key == "v" || e.Key == "ns" })
	ix := Index{}
	for _, e := range spec {
		switch e.Key {
		case "name":
			ix.Name, _ = e.Value.(string)
		case "key":
			if k, ok := e.Value.(bson.D); ok {
				ix.Key = keyString(k)
			}
		case "unique":
			ix.Unique, _ = e.Value.(bool)
		}
	}
	js, err := bson.MarshalExtJSON(spec, true, false)
	if err != nil {
		return Index{}, fmt.Errorf("index %s: %w", ix.Name, err)
	}
	ix.Spec = js
	return ix, nil
}

// specDoc returns the index spec as a document for createIndexes.
func (ix Index) specDoc() (bson.D, error) {
	var d bson.D
	if err := bson.UnmarshalExtJSON(ix.Spec, true, &d); err != nil {
		return nil, fmt.Errorf("index %s: spec: %w", ix.Name, err)
	}
	return d, nil
}

// signature is a canonical form of the index for comparisons: the key
// pattern in order with numbers normalised (1, 1.0 and int64 1 are the
// same direction), then every other option sorted by name. Two servers
// that round-trip an index differently (int32 vs double) still compare
// equal; a changed key, uniqueness or option does not.
func (ix Index) signature() string {
	d, err := ix.specDoc()
	if err != nil {
		return "unparseable:" + string(ix.Spec)
	}
	var key string
	var opts []string
	for _, e := range d {
		switch e.Key {
		case "key":
			if k, ok := e.Value.(bson.D); ok {
				key = keyString(k)
			}
		case "v", "ns":
		default:
			js, err := bson.MarshalExtJSON(bson.D{{Key: "x", Value: normalise(e.Value)}}, false, false)
			if err != nil {
				js = []byte(fmt.Sprint(e.Value))
			}
			opts = append(opts, e.Key+"="+string(js))
		}
	}
	slices.Sort(opts)
	return key + " " + strings.Join(opts, " ")
}

// normalise turns every number into a float64, recursively, so that
// comparisons ignore the numeric BSON type a server chose.
func normalise(v any) any {
	switch x := v.(type) {
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case bson.D:
		out := make(bson.D, len(x))
		for i, e := range x {
			out[i] = bson.E{Key: e.Key, Value: normalise(e.Value)}
		}
		return out
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = normalise(e)
		}
		return out
	}
	return v
}

// keyString renders a key pattern as "{user: 1, createdAt: -1}".
func keyString(k bson.D) string {
	parts := make([]string, len(k))
	for i, e := range k {
		parts[i] = e.Key + ": " + valueString(e.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// compareIndexes returns the names (with keys) of the indexes in want but
// not in got, and in got but not in want, by signature.
func compareIndexes(want, got []Index) (missing, extra []string) {
	have := map[string]int{}
	for _, ix := range got {
		have[ix.signature()]++
	}
	for _, ix := range want {
		s := ix.signature()
		if have[s] > 0 {
			have[s]--
			continue
		}
		missing = append(missing, ix.Name+" "+ix.Key)
	}
	need := map[string]int{}
	for _, ix := range want {
		need[ix.signature()]++
	}
	for _, ix := range got {
		s := ix.signature()
		if need[s] > 0 {
			need[s]--
			continue
		}
		extra = append(extra, ix.Name+" "+ix.Key)
	}
	return missing, extra
}
