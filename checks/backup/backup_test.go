package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/checks/backup"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/internal/testserver"
	"github.com/taskready/taskready/seed"
	svcmongo "github.com/taskready/taskready/service/mongo"
)

// client talks to one embedded FerretDB shared by the package's tests;
// each test has its own database in it.
var client *mongo.Client

func TestMain(m *testing.M) {
	testserver.MainWithMongo("backup-test-mongo-", func(db *testserver.Mongo) int {
		client = db.Client
		return m.Run()
	})
}

var dbSeq atomic.Int64

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seeded returns a new database with users×tasks seeded and the API's
// indexes, dropped when the test ends.
func seeded(t testing.TB, users, tasks int) *mongo.Database {
	t.Helper()
	ctx := testCtx(t)
	db := client.Database(fmt.Sprintf("bk_%d", dbSeq.Add(1)))
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	if _, err := seed.Run(ctx, db, seed.Options{Users: users, TasksPerUser: tasks, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := svcmongo.EnsureIndexes(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

func findCheck(t *testing.T, id string) check.Check {
	t.Helper()
	for _, c := range backup.Checks() {
		if c.Meta().ID == id {
			return c
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

func dbNames(t *testing.T) []string {
	t.Helper()
	names, err := client.ListDatabaseNames(testCtx(t), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestBackupVerifyDrill(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 50, 10)
	dir := t.TempDir()

	var reports []backup.Progress
	m, err := backup.Backup(ctx, db, dir, backup.WithProgress(func(p backup.Progress) { reports = append(reports, p) }))
	if err != nil {
		t.Fatal(err)
	}
	if name := filepath.Base(m.Path); !strings.HasPrefix(name, db.Name()+"-") || !strings.HasSuffix(name, ".tar.gz") {
		t.Errorf("archive name %s", name)
	}
	if gotDB, at, ok := backup.ParseName(filepath.Base(m.Path)); !ok || gotDB != db.Name() || time.Since(at) > time.Minute {
		t.Errorf("ParseName(%s) = %s %v %v", filepath.Base(m.Path), gotDB, at, ok)
	}
	counts := map[string]int64{}
	for _, c := range m.Collections {
		counts[c.Name] = c.Count
	}
	if counts["users"] != 50 || counts["tasks"] != 500 || len(m.Collections) != 2 || m.Documents != 550 {
		t.Fatalf("manifest counts %v, documents %d", counts, m.Documents)
	}
	users, _ := m.Collection("users")
	if !slices.ContainsFunc(users.Indexes, func(ix backup.Index) bool { return ix.Name == "email_unique" && ix.Unique && ix.Key == "{email: 1}" }) {
		t.Errorf("users indexes %+v", users.Indexes)
	}
	tasks, _ := m.Collection("tasks")
	if !slices.ContainsFunc(tasks.Indexes, func(ix backup.Index) bool { return ix.Key == "{user: 1, createdAt: -1}" }) {
		t.Errorf("tasks indexes %+v", tasks.Indexes)
	}
	if len(reports) == 0 || !reports[len(reports)-1].Done || reports[len(reports)-1].Total != 2 {
		t.Errorf("progress reports %+v", reports)
	}
	info, err := os.Stat(m.Path)
	if err != nil || info.Mode().Perm() != 0o600 || info.Size() != m.Size {
		t.Errorf("archive %v mode %v size %d (manifest %d)", err, info.Mode(), info.Size(), m.Size)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want the archive only (no spool or partial file left)", len(entries))
	}
	if _, err := backup.Backup(ctx, db, dir, backup.WithClock(func() time.Time { return m.CreatedAt })); !errors.Is(err, backup.ErrExists) {
		t.Errorf("second backup in the same second: %v, want ErrExists", err)
	}

	vm, err := backup.Verify(m.Path)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if vm.Documents != m.Documents || vm.Collections[0].SHA256 != m.Collections[0].SHA256 {
		t.Errorf("Verify manifest %+v differs from Backup's", vm)
	}

	r, err := backup.Drill(ctx, client, dir, db.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("drill: passed=%t restore=%v verify=%v total=%v docs=%d bytes=%d archive=%d reasons=%v notes=%v",
		r.Passed, r.RestoreDuration, r.VerifyDuration, r.Total, r.Documents, r.DataBytes, r.ArchiveBytes, r.Reasons, r.Notes)
	if !r.Passed || len(r.Reasons) > 0 || len(r.Notes) > 0 {
		t.Fatalf("drill did not pass cleanly: %v / %v", r.Reasons, r.Notes)
	}
	if !r.ScratchDropped || slices.Contains(dbNames(t), r.ScratchDatabase) || !strings.HasPrefix(r.ScratchDatabase, "drill_"+db.Name()+"_") {
		t.Errorf("scratch %s dropped=%t, databases %v", r.ScratchDatabase, r.ScratchDropped, dbNames(t))
	}
	for _, c := range r.Collections {
		if c.RestoredCount != c.ArchiveCount || c.SourceCount != c.ArchiveCount || c.RestoredSHA256 != c.ArchiveSHA256 {
			t.Errorf("collection %+v", c)
		}
	}

	// The source moves on: the drill still passes and reports both counts.
	if _, err := db.Collection("tasks").InsertOne(ctx, bson.D{{Key: "title", Value: "after the backup"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("late").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	r, err = backup.Drill(ctx, client, dir, db.Name())
	if err != nil || !r.Passed {
		t.Fatalf("drill after source writes: %v %v", err, r.Reasons)
	}
	notes := strings.Join(r.Notes, "\n")
	if !strings.Contains(notes, "tasks: the archive has 500 documents, the live source about 501") || !strings.Contains(notes, "late: exists in the source but not in the archive") {
		t.Errorf("notes do not report the drift:\n%s", notes)
	}
}

// TestBackupDeterministic: the same data gives the same checksums
// whenever it is backed up, which is what lets a drill compare bytes.
func TestBackupDeterministic(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 10, 5)
	dir := t.TempDir()
	base := time.Now().Add(-time.Hour)
	m1, err := backup.Backup(ctx, db, dir, backup.WithClock(func() time.Time { return base }))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := backup.Backup(ctx, db, dir, backup.WithClock(func() time.Time { return base.Add(time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m1.Collections {
		if m1.Collections[i].SHA256 != m2.Collections[i].SHA256 {
			t.Errorf("%s: %s then %s", m1.Collections[i].Name, m1.Collections[i].SHA256, m2.Collections[i].SHA256)
		}
	}
}

// TestBackupOptionsAndEmpty: a capped collection keeps its options and an
// empty collection still exists after a restore.
func TestBackupOptionsAndEmpty(t *testing.T) {
	ctx := testCtx(t)
	db := client.Database(fmt.Sprintf("bk_%d", dbSeq.Add(1)))
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	if err := db.CreateCollection(ctx, "events", options.CreateCollection().SetCapped(true).SetSizeInBytes(1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	docs := []any{
		bson.D{{Key: "_id", Value: int32(3)}, {Key: "n", Value: int64(1) << 40}, {Key: "f", Value: 1.5}, {Key: "nested", Value: bson.D{{Key: "a", Value: bson.A{"x", true, nil}}}}},
		bson.D{{Key: "_id", Value: int32(1)}, {Key: "when", Value: bson.DateTime(1700000000000)}, {Key: "bin", Value: bson.Binary{Data: []byte{0, 1, 2}}}},
	}
	if _, err := db.Collection("events").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := backup.Backup(ctx, db, dir)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := m.Collection("events")
	if !strings.Contains(string(ev.Options), `"capped":true`) {
		t.Errorf("events options %s", ev.Options)
	}
	r, err := backup.Drill(ctx, client, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Passed {
		t.Fatalf("drill: %v", r.Reasons)
	}
}

func TestBackupRefusesAnEmptyDatabase(t *testing.T) {
	dir := t.TempDir()
	_, err := backup.Backup(testCtx(t), client.Database("no_such_database"), dir)
	if !errors.Is(err, backup.ErrNoCollections) {
		t.Fatalf("backup of a database without collections: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d entries behind", len(entries))
	}
}

func TestRestoreRefusesNonEmptyDatabase(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 3, 1)
	m, err := backup.Backup(ctx, db, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Restore(ctx, client, m.Path, db.Name()); !errors.Is(err, backup.ErrNotEmpty) {
		t.Fatalf("restore over the source: %v, want ErrNotEmpty", err)
	}
}

// entry is one tar entry, for rebuilding damaged archives.
type entry struct {
	name string
	data []byte
}

func readEntries(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []entry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{hdr.Name, data})
	}
}

func writeEntries(t *testing.T, path string, es []entry) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range es {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsDamage(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 20, 5)
	m, err := backup.Backup(ctx, db, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(m.Path)
	if err != nil {
		t.Fatal(err)
	}
	entries := readEntries(t, m.Path)
	tasksFile := db.Name() + "/tasks.bson"

	cases := []struct {
		name   string
		damage func(path string)
		want   []string // substrings of the error
		is     error
	}{
		{"byte flipped in the compressed stream", func(p string) {
			b := slices.Clone(good)
			b[len(b)/2] ^= 0xff
			_ = os.WriteFile(p, b, 0o600)
		}, nil, backup.ErrCorrupt},
		{"byte flipped in a collection file", func(p string) {
			es := slices.Clone(entries)
			for i, e := range es {
				if e.name == tasksFile {
					d := slices.Clone(e.data)
					d[bytes.Index(d, []byte("pending"))] ^= 0x01 // inside a string value: still valid BSON
					es[i].data = d
				}
			}
			writeEntries(t, p, es)
		}, []string{"collection tasks", "SHA-256"}, backup.ErrCorrupt},
		{"truncated file", func(p string) { _ = os.WriteFile(p, good[:len(good)/2], 0o600) }, []string{"truncated"}, backup.ErrCorrupt},
		{"truncated to nothing", func(p string) { _ = os.WriteFile(p, nil, 0o600) }, []string{"not a gzip stream"}, backup.ErrCorrupt},
		{"manifest removed", func(p string) {
			writeEntries(t, p, slices.DeleteFunc(slices.Clone(entries), func(e entry) bool { return e.name == backup.ManifestFile }))
		}, []string{"manifest.json missing"}, backup.ErrNoManifest},
		{"collection file removed", func(p string) {
			writeEntries(t, p, slices.DeleteFunc(slices.Clone(entries), func(e entry) bool { return e.name == tasksFile }))
		}, []string{"collection tasks", "missing"}, backup.ErrCorrupt},
		{"documents removed from a collection file", func(p string) {
			es := slices.Clone(entries)
			for i, e := range es {
				if e.name == tasksFile {
					n := int(e.data[0]) | int(e.data[1])<<8 | int(e.data[2])<<16
					es[i].data = e.data[n:] // drop the first document
				}
			}
			writeEntries(t, p, es)
		}, []string{"collection tasks", "99 documents", "manifest says 100"}, backup.ErrCorrupt},
		{"unlisted entry added", func(p string) {
			writeEntries(t, p, append(slices.Clone(entries), entry{"extra.bin", []byte("x")}))
		}, []string{"extra.bin", "not in the manifest"}, backup.ErrCorrupt},
		{"garbage length in a collection file", func(p string) {
			es := slices.Clone(entries)
			for i, e := range es {
				if e.name == tasksFile {
					d := slices.Clone(e.data)
					d[3] = 0x7f // first document claims ~2 GB
					es[i].data = d
				}
			}
			writeEntries(t, p, es)
		}, []string{"document 1", "length"}, backup.ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, filepath.Base(m.Path))
			tc.damage(p)
			_, err := backup.Verify(p)
			if err == nil {
				t.Fatal("Verify passed a damaged archive")
			}
			t.Logf("Verify: %v", err)
			if !errors.Is(err, tc.is) || !errors.Is(err, backup.ErrCorrupt) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			res := findCheck(t, "backup.intact").Run(ctx, &check.Target{BackupDir: dir})
			if res.Status != check.Fail {
				t.Errorf("backup.intact = %s %s", res.Status, res.Message)
			}
			r, err := backup.Drill(ctx, client, dir, "")
			if err != nil {
				t.Fatal(err)
			}
			if r.Passed || len(r.Reasons) == 0 || !r.ScratchDropped {
				t.Errorf("drill of a damaged archive: passed=%t reasons=%v dropped=%t", r.Passed, r.Reasons, r.ScratchDropped)
			}
		})
	}
}

func TestChecks(t *testing.T) {
	ctx := testCtx(t)
	db := seeded(t, 10, 3)

	t.Run("not applicable without a directory", func(t *testing.T) {
		for _, c := range backup.Checks() {
			if r := c.Run(ctx, &check.Target{Mongo: client}); r.Status != check.NotApplicable || !strings.Contains(r.Message, "BackupDir") {
				t.Errorf("%s: %s %s", c.Meta().ID, r.Status, r.Message)
			}
		}
	})

	t.Run("empty directory fails", func(t *testing.T) {
		dir := t.TempDir()
		for _, id := range []string{"backup.recent", "backup.intact", "backup.restores", "backup.retention"} {
			if r := findCheck(t, id).Run(ctx, &check.Target{BackupDir: dir, Mongo: client}); r.Status != check.Fail {
				t.Errorf("%s: %s %s", id, r.Status, r.Message)
			}
		}
	})

	t.Run("stale backup fails backup.recent", func(t *testing.T) {
		dir := t.TempDir()
		threeDaysAgo := time.Now().Add(-72 * time.Hour)
		if _, err := backup.Backup(ctx, db, dir, backup.WithClock(func() time.Time { return threeDaysAgo })); err != nil {
			t.Fatal(err)
		}
		r := findCheck(t, "backup.recent").Run(ctx, &check.Target{BackupDir: dir, Database: db.Name()})
		t.Logf("%s: %s %+v", r.Status, r.Message, r.Evidence)
		if r.Status != check.Fail || !strings.Contains(r.Message, "3d0h old") || len(r.Evidence) != 1 ||
			!strings.Contains(r.Evidence[0].Observed, "age 72h") || !strings.Contains(r.Evidence[0].Expected, "26h0m0s") {
			t.Errorf("backup.recent on a 3-day-old archive: %s %q %+v", r.Status, r.Message, r.Evidence)
		}
		// The stale archive is still intact and restorable: only its age fails.
		if r := findCheck(t, "backup.intact").Run(ctx, &check.Target{BackupDir: dir}); r.Status != check.Pass {
			t.Errorf("backup.intact: %s %s", r.Status, r.Message)
		}
		// A history of one archive 3 days ago: days after it are gaps.
		if r := findCheck(t, "backup.retention").Run(ctx, &check.Target{BackupDir: dir}); r.Status != check.Fail {
			t.Errorf("backup.retention: %s %s", r.Status, r.Message)
		}
	})

	t.Run("fresh backup", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := backup.Backup(ctx, db, dir); err != nil {
			t.Fatal(err)
		}
		target := &check.Target{BackupDir: dir, Database: db.Name(), Mongo: client}
		want := map[string]check.Status{
			"backup.recent":    check.Pass,
			"backup.intact":    check.Pass,
			"backup.restores":  check.Pass,
			"backup.retention": check.Warn, // one day of history: young, not failing
		}
		for id, status := range want {
			r := findCheck(t, id).Run(ctx, target)
			t.Logf("%s: %s %s", id, r.Status, r.Message)
			if r.Status != status {
				t.Errorf("%s = %s (%s), want %s; evidence %+v", id, r.Status, r.Message, status, r.Evidence)
			}
		}
		if r := findCheck(t, "backup.restores").Run(ctx, &check.Target{BackupDir: dir}); r.Status != check.NotApplicable {
			t.Errorf("backup.restores without Mongo: %s", r.Status)
		}
		if r := findCheck(t, "backup.recent").Run(ctx, &check.Target{BackupDir: dir, Database: "other"}); r.Status != check.Fail ||
			!strings.Contains(r.Evidence[0].Observed, "other databases") {
			t.Errorf("backup.recent for a database without archives: %s %s %+v", r.Status, r.Message, r.Evidence)
		}
	})
}
