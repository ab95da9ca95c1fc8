package record_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []record.Option
		samples []record.Sample
	}{
		{"empty", nil, nil},
		{"one", nil, gen(20, 1, time.Second)},
		{"a run", nil, gen(21, 20000, 30*time.Second)},
		{"custom shape", []record.Option{record.Interval(250 * time.Millisecond), record.HighestTrackable(10 * time.Second),
			record.SignificantFigures(2), record.IntervalSignificantFigures(1)}, gen(22, 5000, 5*time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := record1(base, tt.samples, tt.opts...)
			enc := encode(t, r)
			d, err := record.Decode(bytes.NewReader(enc))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := encode(t, d); !bytes.Equal(got, enc) {
				t.Errorf("Encode(Decode(x)) != x:\n%s", firstDiff(got, enc))
			}
			if got, want := snapshotJSON(t, d), snapshotJSON(t, r); !bytes.Equal(got, want) {
				t.Errorf("decoded snapshot differs:\n%s", firstDiff(got, want))
			}
			// Percentiles at any q survive, not only the precomputed ones.
			for _, q := range []float64{12.5, 66.6, 99.99} {
				if got, want := d.Snapshot().Total.Corrected.Percentile(q), r.Snapshot().Total.Corrected.Percentile(q); got != want {
					t.Errorf("decoded p(%v) = %s; want %s", q, got, want)
				}
			}
		})
	}
}

// TestDecodeMergeDistributed is the distributed path: workers encode, a
// coordinator decodes and merges, and gets the single-recorder result.
func TestDecodeMergeDistributed(t *testing.T) {
	t.Parallel()
	samples := gen(23, 9000, 9*time.Second)
	var files [][]byte
	for w := range 3 {
		r := record.MustNew(base)
		for i := w; i < len(samples); i += 3 {
			r.Add(samples[i])
		}
		files = append(files, encode(t, r))
	}
	total := record.MustNew(base)
	for _, f := range files {
		r, err := record.Decode(bytes.NewReader(f))
		if err != nil {
			t.Fatal(err)
		}
		if err := total.Merge(r); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := encode(t, total), encode(t, record1(base, samples)); !bytes.Equal(got, want) {
		t.Errorf("decoded and merged differs from one recorder:\n%s", firstDiff(got, want))
	}
	// A decoded recorder records on.
	d, _ := record.Decode(bytes.NewReader(files[0]))
	d.Add(samples[1])
	if got := d.Snapshot().Total.Count; got != 3001 {
		t.Errorf("Count after Add = %d; want 3001", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	good := string(encode(t, record1(base, gen(24, 200, 2*time.Second))))
	other := string(encode(t, record1(base, gen(24, 200, 2*time.Second), record.SignificantFigures(2))))
	hdrOf := func(doc string) string { // the first key's latency histogram
		i := strings.Index(doc, `"hdr": "`) + len(`"hdr": "`)
		return doc[i : i+strings.Index(doc[i:], `"`)]
	}
	tests := []struct {
		name, doc, want string
	}{
		{"not json", "HISTFAAA", "invalid"},
		{"other format", strings.Replace(good, record.EncodingFormat, "k6.summary", 1), "format"},
		{"future version", strings.Replace(good, `"version": 1`, `"version": 2`, 1), "version 2"},
		{"unknown field", strings.Replace(good, `"version": 1`, `"version": 1, "extra": true`, 1), "extra"},
		{"bad interval", strings.Replace(good, `"interval_ns": 1000000000`, `"interval_ns": 0`, 1), "interval"},
		{"corrupt histogram", strings.Replace(good, hdrOf(good), "AAAA", 1), "latency"},
		{"histogram of another precision", strings.Replace(good, hdrOf(good), hdrOf(other), 1), "geometry"},
		{"count mismatch", strings.Replace(good, `"count": `, `"count": 9`, 1), "holds"},
	}
	for _, tt := range tests {
		_, err := record.Decode(strings.NewReader(tt.doc))
		if !errors.Is(err, record.ErrFormat) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Decode = %v; want ErrFormat mentioning %q", tt.name, err, tt.want)
		}
	}
}
