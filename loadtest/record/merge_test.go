package record_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

// TestMergeEqualsOneRecorder splits samples between workers in several
// ways; merging the workers' recorders must give exactly the recorder that
// got every sample: the same encoding, histogram for histogram.
func TestMergeEqualsOneRecorder(t *testing.T) {
	t.Parallel()
	// 20 one-second intervals: every way of splitting below crosses
	// several, and each one costs an encoding per key per worker.
	const n = 10000
	samples := gen(10, n, 20*time.Second)
	one := record1(base, samples)
	want, wantSnapshot := encode(t, one), snapshotJSON(t, one)
	tests := []struct {
		name    string
		workers int
		pick    func(i int, s record.Sample) int // worker of sample i
		starts  func(w int) time.Time            // each worker's start
		into    time.Time                        // the merging recorder's start
	}{
		{"round robin", 4, func(i int, _ record.Sample) int { return i % 4 },
			func(int) time.Time { return base }, base},
		{"by endpoint", 3, func(_ int, s record.Sample) int {
			return map[string]int{"list": 0, "create": 1, "login": 2}[s.Endpoint]
		}, func(int) time.Time { return base }, base},
		{"in time slices", 4, func(i int, _ record.Sample) int { return i * 4 / n },
			func(int) time.Time { return base }, base},
		{"one worker has it all", 3, func(int, record.Sample) int { return 1 },
			func(int) time.Time { return base }, base},
		// Workers that joined late start their series later, on the same
		// one-second grid.
		{"late joiners", 3, func(i int, s record.Sample) int {
			if s.Start.Sub(base) < 10*time.Second {
				return 0
			}
			return 1 + i%2
		}, func(w int) time.Time {
			if w == 0 {
				return base
			}
			return base.Add(10 * time.Second)
		}, base},
		// The merging recorder starts after the workers: its start moves
		// back to the earliest.
		{"merging into a later start", 2, func(i int, _ record.Sample) int { return i % 2 },
			func(int) time.Time { return base }, base.Add(5 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			workers := make([]*record.Recorder, tt.workers)
			for w := range workers {
				workers[w] = record.MustNew(tt.starts(w))
			}
			for i, s := range samples {
				workers[tt.pick(i, s)].Add(s)
			}
			merged := record.MustNew(tt.into)
			for _, w := range workers {
				before := encode(t, w)
				if err := merged.Merge(w); err != nil {
					t.Fatalf("Merge: %v", err)
				}
				if !bytes.Equal(encode(t, w), before) {
					t.Errorf("Merge changed its argument")
				}
			}
			if got := encode(t, merged); !bytes.Equal(got, want) {
				t.Errorf("merged recorder differs from one recorder:\n%s", firstDiff(got, want))
			}
			if got := snapshotJSON(t, merged); !bytes.Equal(got, wantSnapshot) {
				t.Errorf("merged snapshot differs:\n%s", firstDiff(got, wantSnapshot))
			}
		})
	}
}

// TestMergeOffGrid merges a worker whose start is off the merging
// recorder's grid: the run-wide numbers stay exact, and its intervals move
// to the nearest interval of the grid.
func TestMergeOffGrid(t *testing.T) {
	t.Parallel()
	samples := gen(12, 3000, 3*time.Second)
	for _, tt := range []struct {
		offset time.Duration
		shift  int // intervals the worker's series moves
	}{{300 * time.Millisecond, 0}, {700 * time.Millisecond, 1}, {-700 * time.Millisecond, -1}} {
		w := record1(base.Add(tt.offset), samples)
		merged := record.MustNew(base)
		if err := merged.Merge(w); err != nil {
			t.Fatal(err)
		}
		got, want := merged.Snapshot(), w.Snapshot()
		if g, w := got.Total, want.Total; g.Count != w.Count || g.Corrected.P99 != w.Corrected.P99 || g.RPS != w.RPS {
			t.Errorf("offset %s: total %d, p99 %s, %v/s; want %d, %s, %v/s", tt.offset, g.Count, g.Corrected.P99, g.RPS, w.Count, w.Corrected.P99, w.RPS)
		}
		if wantStart := base.Add(min(time.Duration(tt.shift), 0) * time.Second); !got.Start.Equal(wantStart) {
			t.Errorf("offset %s: start %s; want %s", tt.offset, got.Start, wantStart)
		}
		for i, p := range want.Intervals {
			j := i + max(tt.shift, 0)
			if got.Intervals[j].Requests != p.Requests {
				t.Errorf("offset %s: interval %d has %d requests; want the worker's interval %d, %d", tt.offset, j, got.Intervals[j].Requests, i, p.Requests)
			}
		}
	}
}

// TestMergeThenAdd checks that a recorder goes on recording after a merge,
// including into intervals the merge filled.
func TestMergeThenAdd(t *testing.T) {
	t.Parallel()
	samples := gen(11, 6000, 6*time.Second)
	a, b := record.MustNew(base), record.MustNew(base)
	for i, s := range samples[:4000] {
		if i%2 == 0 {
			a.Add(s)
		} else {
			b.Add(s)
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples[4000:] {
		a.Add(s)
	}
	if got, want := encode(t, a), encode(t, record1(base, samples)); !bytes.Equal(got, want) {
		t.Errorf("merge then add differs from adding all:\n%s", firstDiff(got, want))
	}
}

func TestMergeErrors(t *testing.T) {
	t.Parallel()
	r := record.MustNew(base)
	if err := r.Merge(r); err == nil {
		t.Errorf("Merge(self) = nil; want an error")
	}
	for _, opt := range []record.Option{
		// Whole multiples merge (a longer run's coarser series); others not.
		record.Interval(1500 * time.Millisecond),
		record.HighestTrackable(10 * time.Second),
		record.SignificantFigures(2),
		record.IntervalSignificantFigures(3),
	} {
		if err := r.Merge(record.MustNew(base, opt)); !errors.Is(err, record.ErrIncompatible) {
			t.Errorf("Merge(other options) = %v; want ErrIncompatible", err)
		}
	}
	// The Failed rule is not part of the shape: it was applied on Add.
	if err := r.Merge(record.MustNew(base, record.Failed(func(record.Sample) bool { return false }))); err != nil {
		t.Errorf("Merge(other Failed rule) = %v; want nil", err)
	}
}

func snapshotJSON(tb testing.TB, r *record.Recorder) []byte {
	tb.Helper()
	b, err := json.Marshal(r.Snapshot())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// firstDiff shows where two encodings first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(i-80, 0)
	return "got:  ..." + string(got[from:min(i+80, len(got))]) + "\nwant: ..." + string(want[from:min(i+80, len(want))])
}
