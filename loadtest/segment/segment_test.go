package segment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/segment"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want segment.Segment
	}{
		{"0/1", segment.Segment{Index: 0, Count: 1}},
		{"0/4", segment.Segment{Index: 0, Count: 4}},
		{"3/4", segment.Segment{Index: 3, Count: 4}},
		{"999/1000", segment.Segment{Index: 999, Count: 1000}},
		{"007/8", segment.Segment{Index: 7, Count: 8}},
	} {
		got, err := segment.Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if back, err := segment.Parse(got.String()); err != nil || back != got {
			t.Errorf("Parse(%q.String()) = %+v, %v", tc.in, back, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "no '/'"},
		{"4", "no '/'"},
		{"1/4/2", `count: "4/2" is not a whole number`},
		{"/4", "index: empty"},
		{"1/", "count: empty"},
		{"4/4", "index 4 is not within 0 to 3 (indexes are 0-based)"},
		{"5/4", "index 5 is not within 0 to 3"},
		{"-1/4", `index: "-1" is not a whole number`},
		{"+1/4", `index: "+1" is not a whole number`},
		{"1/+4", `count: "+4" is not a whole number`},
		{" 1/4", `index: " 1" is not a whole number`},
		{"0/0", "count 0 is not within 1 to 1000"},
		{"0/1001", "count 1001 is not within 1 to 1000"},
		{"0/99999999999999999999", "is too large"},
		{"0x1/4", "is not a whole number"},
		{"1.0/4", "is not a whole number"},
		{"a/b", "is not a whole number"},
	} {
		_, err := segment.Parse(tc.in)
		if !errors.Is(err, segment.ErrSyntax) {
			t.Errorf("Parse(%q) = %v; want ErrSyntax", tc.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %q; want it to say %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "-1/4", "1/0", "999/1000", "+1/2", "1/2/3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := segment.Parse(in)
		if err != nil {
			if !errors.Is(err, segment.ErrSyntax) {
				t.Fatalf("Parse(%q) = %v, which does not wrap ErrSyntax", in, err)
			}
			return
		}
		if s.Count < 1 || s.Count > segment.MaxCount || s.Index < 0 || s.Index >= s.Count {
			t.Fatalf("Parse(%q) accepted %+v", in, s)
		}
		if back, err := segment.Parse(s.String()); err != nil || back != s {
			t.Fatalf("Parse(%q) = %+v, whose String %q reads back as %+v, %v", in, s, s.String(), back, err)
		}
	})
}

// TestShareSumsToTheWhole: whatever N and v, the N shares add up to v and
// differ by at most one.
func TestShareSumsToTheWhole(t *testing.T) {
	for n := 1; n <= 7; n++ {
		for _, v := range []int{0, 1, 2, 3, 5, 7, 10, 13, 50, 99, 100, 1001} {
			sum, lo, hi := 0, v, 0
			for i := range n {
				got := segment.Segment{Index: i, Count: n}.Share(v)
				sum += got
				lo, hi = min(lo, got), max(hi, got)
			}
			if sum != v || hi-lo > 1 {
				t.Errorf("N=%d v=%d: shares sum to %d (want %d), spread %d..%d", n, v, sum, v, lo, hi)
			}
		}
	}
}
