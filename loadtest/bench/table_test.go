package bench

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 59812.6: "59,813", 1234567: "1,234,567", -4200: "-4,200", math.NaN(): "n/a"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestMs(t *testing.T) {
	for in, want := range map[time.Duration]string{
		110 * time.Microsecond: "0.11", 9990 * time.Microsecond: "9.99", 18600 * time.Microsecond: "18.6",
		779 * time.Millisecond: "779.0", 1500 * time.Millisecond: "1,500", -520 * time.Microsecond: "-0.52",
	} {
		if got := ms(in); got != want {
			t.Errorf("ms(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{9, 1, 5}, 5}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median reordered its argument: %v", tc.in)
			}
		}
	}
}

func TestTableAligns(t *testing.T) {
	tb := table{header: []string{"tool", "µs"}}
	tb.add("wrk", "12.4")
	tb.add("**harness**", "3")
	var b strings.Builder
	tb.write(&b)
	want := "| tool        | µs   |\n" +
		"| ----------- | ---- |\n" +
		"| wrk         | 12.4 |\n" +
		"| **harness** | 3    |\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
