package threshold_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/threshold"
)

// fakeStats maps a statistic, written as in an expression ("avg",
// "p(95)"), to its value. A missing entry means the metric has no data.
type fakeStats map[string]float64

func (f fakeStats) Value(stat threshold.Stat, pct float64) (float64, bool) {
	key := stat.String()
	if stat == threshold.StatPercentile {
		key = fmt.Sprintf("p(%g)", pct)
	}
	v, ok := f[key]
	return v, ok
}

var _ threshold.Stats = fakeStats(nil)

func TestHoldsOperatorBoundaries(t *testing.T) {
	t.Parallel()
	below, at, above := math.Nextafter(300, 0), 300.0, math.Nextafter(300, 1000)
	tests := []struct {
		expr             string
		below, at, above bool
	}{
		{"p(95)<300", true, false, false},
		{"p(95)<=300", true, true, false},
		{"p(95)>300", false, false, true},
		{"p(95)>=300", false, true, true},
		{"p(95)==300", false, true, false},
		{"p(95)===300", false, true, false},
		{"p(95)!=300", true, false, true},
	}
	for _, tt := range tests {
		e := mustExpr(t, tt.expr)
		for _, c := range []struct {
			observed float64
			want     bool
		}{{below, tt.below}, {at, tt.at}, {above, tt.above}} {
			holds, observed, err := e.Holds(fakeStats{"p(95)": c.observed})
			if err != nil || holds != c.want || observed != c.observed {
				t.Errorf("%s.Holds(p(95)=%v) = %t, %v, %v; want %t, %v, nil", e, c.observed, holds, observed, err, c.want, c.observed)
			}
		}
	}
}

func TestHoldsPicksTheStatistic(t *testing.T) {
	t.Parallel()
	s := fakeStats{"avg": 100, "min": 1, "med": 90, "max": 2000, "p(99.9)": 1500, "count": 120, "rate": 0.005, "value": 7}
	tests := []struct {
		expr     string
		holds    bool
		observed float64
	}{
		{"avg<200", true, 100},
		{"min>0", true, 1},
		{"med<150", true, 90},
		{"max<2000", false, 2000},
		{"p(99.9)<=1000", false, 1500},
		{"count>100", true, 120},
		{"rate<0.01", true, 0.005},
		{"value>0", true, 7},
	}
	for _, tt := range tests {
		holds, observed, err := mustExpr(t, tt.expr).Holds(s)
		if err != nil || holds != tt.holds || observed != tt.observed {
			t.Errorf("%s.Holds = %t, %v, %v; want %t, %v, nil", tt.expr, holds, observed, err, tt.holds, tt.observed)
		}
	}
}

func TestHoldsMissingDataPassesAsInK6(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"p(95)<300", "count>100", "rate<0.01", "value>0"} {
		holds, observed, err := mustExpr(t, expr).Holds(fakeStats{})
		if err != nil || !holds || !math.IsNaN(observed) {
			t.Errorf("%s.Holds(no data) = %t, %v, %v; want true, NaN, nil", expr, holds, observed, err)
		}
	}
}

func TestHoldsErrors(t *testing.T) {
	t.Parallel()
	e := mustExpr(t, "avg<200")
	if holds, _, err := e.Holds(nil); holds || !errors.Is(err, threshold.ErrNilStats) {
		t.Errorf("Holds(nil) = %t, %v; want false, ErrNilStats", holds, err)
	}
	if holds, _, err := (threshold.Expression{}).Holds(fakeStats{}); holds || err == nil {
		t.Errorf("zero Expression Holds = %t, %v; want false and an error", holds, err)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		bad := threshold.StatsFunc(func(threshold.Stat, float64) (float64, bool) { return v, true })
		holds, _, err := e.Holds(bad)
		if holds || err == nil || !strings.Contains(err.Error(), "threshold avg<200: observed avg is") {
			t.Errorf("Holds(observed %v) = %t, %v; want false and an error", v, holds, err)
		}
	}
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, expr string
		stats     threshold.Stats
		passed    bool
		reason    string
		line      string
	}{
		{"http_req_duration{endpoint:list}", "p(95)<300", fakeStats{"p(95)": 212.41}, true,
			"212.4 < 300", "✓ http_req_duration{endpoint:list} p(95)<300  observed 212.4"},
		{"http_req_duration{endpoint:list}", "p(95) < 300", fakeStats{"p(95)": 412.96}, false,
			"413 is not < 300", "✗ http_req_duration{endpoint:list} p(95)<300  observed 413"},
		{"http_req_failed", "rate<0.01", fakeStats{"rate": 0.03125}, false,
			"0.03125 is not < 0.01", "✗ http_req_failed rate<0.01  observed 0.03125"},
		{"iterations", "count>100", fakeStats{"count": 5000}, true,
			"5000 > 100", "✓ iterations count>100  observed 5000"},
		{"vus", "value>0", fakeStats{"value": 1.5}, true, "1.5 > 0", "✓ vus value>0  observed 1.5"},
		{"checks", "rate>0.99", fakeStats{}, true, "no data", "✓ checks rate>0.99  no data"},
		{"checks", "rate>0.99", nil, false, "error: threshold: nil Stats", "✗ checks rate>0.99  error: threshold: nil Stats"},
	}
	for _, tt := range tests {
		th, err := threshold.Parse(tt.key, tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		var s threshold.Stats
		if tt.stats != nil {
			s = tt.stats
		}
		v := threshold.Evaluate(th, s)
		if v.Passed != tt.passed || v.Reason != tt.reason || v.String() != tt.line {
			t.Errorf("Evaluate(%s) = %t, %q, %q; want %t, %q, %q", th, v.Passed, v.Reason, v.String(), tt.passed, tt.reason, tt.line)
		}
	}
}

func TestVerdictNoData(t *testing.T) {
	t.Parallel()
	th, _ := threshold.Parse("checks", "rate>0.99")
	if v := threshold.Evaluate(th, fakeStats{}); !v.NoData() || !v.Passed {
		t.Errorf("Evaluate without data = %+v; want passed with NoData", v)
	}
	if v := threshold.Evaluate(th, fakeStats{"rate": 0.5}); v.NoData() {
		t.Errorf("Evaluate with data reports NoData: %+v", v)
	}
}

func TestVerdictAborts(t *testing.T) {
	t.Parallel()
	item := func(abort bool, delay string) any {
		m := map[string]any{"threshold": "p(95)<300", "abortOnFail": abort}
		if delay != "" {
			m["delayAbortEval"] = delay
		}
		return m
	}
	failing, passing := fakeStats{"p(95)": 500}, fakeStats{"p(95)": 100}
	tests := []struct {
		item    any
		stats   fakeStats
		elapsed time.Duration
		want    bool
	}{
		{"p(95)<300", failing, time.Minute, false},
		{item(false, ""), failing, time.Minute, false},
		{item(true, ""), failing, time.Second, true},
		{item(true, ""), passing, time.Minute, false},
		{item(true, ""), fakeStats{}, time.Minute, false},
		{item(true, "10s"), failing, 9 * time.Second, false},
		{item(true, "10s"), failing, 10 * time.Second, false},
		{item(true, "10s"), failing, 11 * time.Second, true},
	}
	for _, tt := range tests {
		th, err := threshold.Parse("http_req_duration", tt.item)
		if err != nil {
			t.Fatal(err)
		}
		if got := threshold.Evaluate(th, tt.stats).Aborts(tt.elapsed); got != tt.want {
			t.Errorf("Aborts(%v) for %v with %v = %t; want %t", tt.elapsed, tt.item, tt.stats, got, tt.want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	th, err := threshold.Parse("http_req_duration{endpoint:list}", "p(95)<300")
	if err != nil {
		t.Fatal(err)
	}
	s := fakeStats{"p(95)": 200}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				if v := threshold.Evaluate(th, s); !v.Passed {
					t.Error("threshold failed")
					return
				}
				if _, err := threshold.Parse("http_req_duration{endpoint:list,phase:spike}", "p(99.9)<=1000"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func posInf() float64 { return math.Inf(1) }
