package backup_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/backup"
)

// now is Saturday 2026-11-28 12:00 UTC, in ISO week 2026-W48 (Monday
// 23 November to Sunday 29 November).
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// at returns the time days days before now's day, at hh:00 UTC.
func at(days, hh int) time.Time {
	d := time.Date(now.Year(), now.Month(), now.Day(), hh, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -days)
}

// touch creates empty archive files of db at times ts: retention reads
// names, not contents or mtimes. Their mtimes are all now-ish, on
// purpose.
func touch(t *testing.T, dir, db string, ts ...time.Time) {
	t.Helper()
	for _, ts := range ts {
		if err := os.WriteFile(filepath.Join(dir, backup.FileName(db, ts)), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// daily returns one time per day at hh:00 for days from..to days ago.
func daily(from, to, hh int) []time.Time {
	var out []time.Time
	for d := from; d <= to; d++ {
		out = append(out, at(d, hh))
	}
	return out
}

func names(as []backup.Archive) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

func TestParseName(t *testing.T) {
	for name, want := range map[string]bool{
		"taskmanager-20261128T184500Z.tar.gz":      true,
		"task-manager-v2-20261128T184500Z.tar.gz":  true,
		"taskmanager-20261128T184500Z.tar.gz.part": false,
		"taskmanager-20261128T1845Z.tar.gz":        false,
		"taskmanager-20261328T184500Z.tar.gz":      false, // month 13
		"README":                                   false,
		"-20261128T184500Z.tar.gz":                 false,
	} {
		db, ts, ok := backup.ParseName(name)
		if ok != want {
			t.Errorf("ParseName(%q) ok = %t", name, ok)
		}
		if ok && (backup.FileName(db, ts) != name || ts.Location() != time.UTC) {
			t.Errorf("ParseName(%q) = %q %v does not round-trip", name, db, ts)
		}
	}
}

func TestRetention(t *testing.T) {
	// The minimum history a 7-daily/4-weekly policy needs: the 7 days
	// before today, and the 4 ISO weeks before this one (W44..W47).
	complete := append(daily(1, 7, 2), at(14, 2), at(21, 2), at(28, 2))

	cases := []struct {
		name       string
		db         map[string][]time.Time
		extra      []string // other files in the directory
		now        time.Time
		status     backup.RetentionStatus
		mention    []string // in problems or warnings
		notMention []string
	}{
		{name: "exactly the required history", db: map[string][]time.Time{"tm": complete}, status: backup.RetentionOK},
		{name: "with today's archive too", db: map[string][]time.Time{"tm": append(slices.Clone(complete), at(0, 2))}, status: backup.RetentionOK},
		{name: "today not yet backed up (01:00, backup at 02:00)", db: map[string][]time.Time{"tm": complete},
			now: at(0, 1), status: backup.RetentionOK},
		{name: "a missing day after the oldest archive fails", db: map[string][]time.Time{"tm": slices.DeleteFunc(slices.Clone(complete), func(t time.Time) bool { return t.Equal(at(3, 2)) })},
			status: backup.RetentionFail, mention: []string{"tm: no archive in 2026-11-25"}},
		{name: "a missing week fails", db: map[string][]time.Time{"tm": slices.DeleteFunc(slices.Clone(complete), func(t time.Time) bool { return t.Equal(at(21, 2)) })},
			status: backup.RetentionFail, mention: []string{"2026-W45"}, notMention: []string{"2026-W44"}},
		{name: "a new deployment with two days warns", db: map[string][]time.Time{"tm": {at(1, 2), at(0, 2)}},
			status: backup.RetentionWarn, mention: []string{"history starts 2026-11-27", "2026-11-26", "2026-W47"}, notMention: []string{"gaps"}},
		{name: "young with a gap still fails", db: map[string][]time.Time{"tm": {at(3, 2), at(1, 2)}},
			status: backup.RetentionFail, mention: []string{"no archive in 2026-11-26"}},
		{name: "archives beyond the policy warn (prune them)", db: map[string][]time.Time{"tm": append(slices.Clone(complete), at(2, 14), at(40, 2))},
			status: backup.RetentionWarn, mention: []string{"2 archive(s) outside the policy"}},
		{name: "a future-dated archive warns", db: map[string][]time.Time{"tm": append(slices.Clone(complete), now.Add(48*time.Hour))},
			status: backup.RetentionWarn, mention: []string{"named after now"}},
		{name: "each database is judged on its own", db: map[string][]time.Time{"tm": complete, "other": {at(1, 2), at(5, 2)}},
			status: backup.RetentionFail, mention: []string{"other: no archive in 2026-11-26, 2026-11-25, 2026-11-24"}, notMention: []string{"tm:"}},
		{name: "other files are ignored", db: map[string][]time.Time{"tm": complete}, extra: []string{"README", "tm-notatime.tar.gz", ".tm-20261128T010000Z.tar.gz.partial-1"},
			status: backup.RetentionOK},
		{name: "an empty directory fails", status: backup.RetentionFail, mention: []string{"no archive"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for db, ts := range tc.db {
				touch(t, dir, db, ts...)
			}
			for _, name := range tc.extra {
				if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			n := now
			if !tc.now.IsZero() {
				n = tc.now
			}
			r := backup.Retention(dir, n, 7, 4)
			all := strings.Join(append(slices.Clone(r.Problems), r.Warnings...), "\n")
			if r.Status != tc.status {
				t.Errorf("status %s, want %s:\n%s", r.Status, tc.status, all)
			}
			for _, m := range tc.mention {
				if !strings.Contains(all, m) {
					t.Errorf("report does not mention %q:\n%s", m, all)
				}
			}
			for _, m := range tc.notMention {
				if strings.Contains(all, m) {
					t.Errorf("report mentions %q:\n%s", m, all)
				}
			}
		})
	}

	t.Run("unreadable directory fails", func(t *testing.T) {
		r := backup.Retention(filepath.Join(t.TempDir(), "nope"), now, 7, 4)
		if r.Status != backup.RetentionFail || r.Err == nil {
			t.Errorf("%+v", r)
		}
	})
}

func TestPrune(t *testing.T) {
	t.Run("GFS over two months of twice-daily backups", func(t *testing.T) {
		dir := t.TempDir()
		ts := append(daily(1, 60, 2), daily(1, 60, 14)...)
		ts = append(ts, at(0, 2)) // today's, before now (12:00)
		touch(t, dir, "tm", ts...)
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		before := backup.Retention(dir, now, 7, 4)
		if before.Status != backup.RetentionWarn || len(before.Databases[0].Prunable) != len(ts)-11 {
			t.Fatalf("before prune: %s, %d prunable", before.Status, len(before.Databases[0].Prunable))
		}

		r, err := backup.Prune(dir, now, 7, 4)
		if err != nil {
			t.Fatal(err)
		}
		// Kept: the newest of today and of each of the 7 days before;
		// the newest of this ISO week (today's, already kept) and of
		// each of the 4 weeks before (W47's is Sunday 22nd, already a
		// daily; W46..W44 end on Sundays 15th, 8th and 1st).
		want := []string{
			"tm-20261101T140000Z.tar.gz", "tm-20261108T140000Z.tar.gz", "tm-20261115T140000Z.tar.gz",
			"tm-20261121T140000Z.tar.gz", "tm-20261122T140000Z.tar.gz", "tm-20261123T140000Z.tar.gz",
			"tm-20261124T140000Z.tar.gz", "tm-20261125T140000Z.tar.gz", "tm-20261126T140000Z.tar.gz",
			"tm-20261127T140000Z.tar.gz", "tm-20261128T020000Z.tar.gz",
		}
		if got := names(r.Kept); !slices.Equal(got, want) {
			t.Errorf("kept %v\nwant %v", got, want)
		}
		if len(r.Removed) != len(ts)-len(want) {
			t.Errorf("removed %d, want %d", len(r.Removed), len(ts)-len(want))
		}
		left, _ := backup.List(dir)
		if got := names(left); !slices.Equal(got, want) {
			t.Errorf("left on disk %v", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
			t.Errorf("prune touched a file that is not an archive: %v", err)
		}
		if after := backup.Retention(dir, now, 7, 4); after.Status != backup.RetentionOK {
			t.Errorf("after prune: %s %v %v", after.Status, after.Problems, after.Warnings)
		}
		// Idempotent.
		if r, _ := backup.Prune(dir, now, 7, 4); len(r.Removed) != 0 {
			t.Errorf("second prune removed %v", names(r.Removed))
		}
	})

	t.Run("a stalled backup job does not lose the history", func(t *testing.T) {
		dir := t.TempDir()
		touch(t, dir, "tm", daily(40, 100, 2)...) // the job stopped 40 days ago
		r, err := backup.Prune(dir, now, 7, 4)
		if err != nil {
			t.Fatal(err)
		}
		kept := names(r.Kept)
		// The 8 most recent days with archives, and the newest of the 5
		// most recent weeks with archives.
		for _, d := range []int{40, 41, 42, 43, 44, 45, 46, 47} {
			if n := backup.FileName("tm", at(d, 2)); !slices.Contains(kept, n) {
				t.Errorf("%s removed; kept %v", n, kept)
			}
		}
		if len(kept) < 8+3 {
			t.Errorf("kept only %v", kept)
		}
		if ret := backup.Retention(dir, now, 7, 4); ret.Status != backup.RetentionFail {
			t.Errorf("retention of a stalled job: %s", ret.Status)
		}
	})

	t.Run("databases are pruned separately and future archives stay", func(t *testing.T) {
		dir := t.TempDir()
		touch(t, dir, "a", at(1, 2), at(1, 3))
		touch(t, dir, "b", at(1, 1), now.Add(time.Hour))
		r, err := backup.Prune(dir, now, 7, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(r.Removed); !slices.Equal(got, []string{"a-20261127T020000Z.tar.gz"}) {
			t.Errorf("removed %v", got)
		}
		if len(r.Kept) != 3 {
			t.Errorf("kept %v", names(r.Kept))
		}
	})
}
