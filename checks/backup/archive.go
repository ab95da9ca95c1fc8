package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Extension ends every archive name.
const Extension = ".tar.gz"

// TimeLayout is the UTC timestamp in archive names, "20261128T184500Z":
// it sorts as text in time order and has no ':' (which Windows and some
// object stores refuse in names).
const TimeLayout = "20060102T150405Z"

// ErrNoArchive is returned when a directory holds no archive to work on.
var ErrNoArchive = errors.New("no backup archive")

// archiveName matches "<database>-<timestamp>.tar.gz". Database names
// may contain '-', so the timestamp is matched from the end.
var archiveName = regexp.MustCompile(`^(.+)-(\d{8}T\d{6}Z)\.tar\.gz$`)

// Archive is one archive file found in a backup directory.
type Archive struct {
	Path     string // the file, dir joined with Name
	Name     string // "<database>-<time>.tar.gz"
	Database string // the database the name says was dumped
	// Time is the time in the name, when the backup started. It, not the
	// file's mtime, is what retention counts: copies and restores from
	// off-host storage rewrite mtimes.
	Time time.Time
	Size int64 // bytes on disk
}

// Age returns how old the archive is at now.
func (a Archive) Age(now time.Time) time.Duration { return now.Sub(a.Time) }

// FileName returns the archive name of a backup of database started at t.
func FileName(database string, t time.Time) string {
	return database + "-" + t.UTC().Format(TimeLayout) + Extension
}

// ParseName returns the database and time in an archive name, or false
// when name is not an archive name (other files in the directory are
// ignored, never pruned).
func ParseName(name string) (database string, t time.Time, ok bool) {
	m := archiveName.FindStringSubmatch(name)
	if m == nil {
		return "", time.Time{}, false
	}
	t, err := time.Parse(TimeLayout, m[2])
	if err != nil {
		return "", time.Time{}, false
	}
	return m[1], t, true
}

// List returns the archives in dir, newest first. Files whose names are
// not archive names, directories and temporary files of a running
// backup are skipped.
func List(dir string) ([]Archive, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: list %s: %w", dir, err)
	}
	var out []Archive
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		db, t, ok := ParseName(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed while listing
		}
		out = append(out, Archive{Path: filepath.Join(dir, e.Name()), Name: e.Name(), Database: db, Time: t, Size: info.Size()})
	}
	slices.SortFunc(out, func(a, b Archive) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Newest returns the newest archive in dir of database, or of any
// database when database is "". ErrNoArchive when there is none.
func Newest(dir, database string) (Archive, error) {
	all, err := List(dir)
	if err != nil {
		return Archive{}, err
	}
	for _, a := range all {
		if database == "" || a.Database == database {
			return a, nil
		}
	}
	if database != "" {
		return Archive{}, fmt.Errorf("%w of database %q in %s", ErrNoArchive, database, dir)
	}
	return Archive{}, fmt.Errorf("%w in %s", ErrNoArchive, dir)
}
