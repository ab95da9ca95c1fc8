package bench

import (
	"strings"
	"testing"
	"time"
)

// closedOf is a closed table with one turn per tool at these rates.
func closedOf(rates map[string]float64, order ...string) closedTable {
	var t closedTable
	for _, name := range order {
		t.rows = append(t.rows, closedRow{name: name, engine: strings.HasPrefix(name, "harness"), turns: []turn{{rps: rates[name], requests: 1}}})
	}
	return t
}

func TestClosedGoals(t *testing.T) {
	tb := closedOf(map[string]float64{"wrk": 60000, "bombardier": 36000, "harness fast": 55000, "harness std": 30000},
		"wrk", "bombardier", "harness fast", "harness std")
	fast, _ := tb.find("harness fast")
	std, _ := tb.find("harness std")
	for _, tc := range []struct {
		goal closedGoal
		row  closedRow
		want string
	}{
		{closedGoalQuiet, fast, "met: ≥ 0.90× wrk"},      // 0.92
		{closedGoalQuiet, std, "missed: ≥ 0.90× wrk"},    // 0.50
		{closedGoalCrowded, fast, "met: ≥ bombardier's"}, // 0.92 ≥ 0.60
		{closedGoalCrowded, std, "missed: ≥ bombardier's 0.60×"},
	} {
		if got := tc.goal(tb, tc.row); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.row.name, got, tc.want)
		}
	}
	if got := tb.engineMax(); got != 55000 {
		t.Errorf("engineMax %v, want the best transport's 55000", got)
	}
}

func TestClosedMedianAndCost(t *testing.T) {
	r := closedRow{turns: []turn{
		{rps: 50000, requests: 500000, cpu: 10 * time.Second, wall: 10 * time.Second, server: 9 * time.Second},
		{rps: 20000, requests: 200000, cpu: 5 * time.Second, wall: 10 * time.Second, server: 4 * time.Second},
		{rps: 55000, requests: 550000, cpu: 10 * time.Second, wall: 10 * time.Second, server: 10 * time.Second},
	}}
	// The median ignores the one slow round a neighbour caused.
	if got := r.median(); got != 50000 {
		t.Errorf("median %v, want 50000", got)
	}
	if got := r.cpuPerRequest(); got != 20 {
		t.Errorf("CPU %v µs a request, want 25 s over 1,250,000 = 20", got)
	}
	if got := r.serverShare(); got < 0.766 || got > 0.767 {
		t.Errorf("nginx share %v, want 23/30", got)
	}
}

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

func TestOpenGoals(t *testing.T) {
	ms := time.Millisecond
	tb := openTable{half: 27000, bias: 1000, rows: []openRow{
		{tool: "vegeta", rate: 1000, achieved: 1000, p50: 190 * time.Microsecond, p99: 3 * ms, sentP50: 190 * time.Microsecond},
		{tool: "harness", engine: true, rate: 1000, achieved: 1000, valid: yes(), p50: 630 * time.Microsecond, sentP50: 110 * time.Microsecond, p99: 1 * ms},
		{tool: "vegeta", rate: 5000, achieved: 4998, p99: 3 * ms},
		{tool: "harness", engine: true, rate: 5000, achieved: 4696, valid: no(), vusMax: 1000, p99: 779 * ms},
		{tool: "harness", engine: true, rate: 12000, achieved: 11950, valid: yes(), p99: 9 * ms},
		{tool: "vegeta", rate: 12000, achieved: 12000, p99: 4 * ms},
		{tool: "harness", engine: true, rate: 27000, achieved: 26600, valid: no(), p99: 18 * ms},
		{tool: "harness", engine: true, rate: 40000, achieved: 20000, valid: no()},
	}}
	for _, tc := range []struct {
		rate    int
		crowded bool
		want    string
	}{
		{1000, false, "met: within 1% and valid"},
		{5000, false, "missed"},
		{12000, false, "met"},
		{27000, false, "missed"},                          // 1.5% short and invalid
		{40000, false, "— (above half the max)"},          // no goal
		{1000, true, "met: within 1%, p99 ≤ 2× vegeta's"}, // p99 1 ms, vegeta 3 ms
		{5000, true, "said so: invalid, VUs up to 1000"},  // the collapse, declared
		{12000, true, "missed: p99 2.2× vegeta's"},        // kept the rate, not the latency
		{27000, true, "said so"},
	} {
		r, _ := tb.find("harness", tc.rate)
		if got := tb.goal(r, tc.crowded); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%d/s crowded=%v: %q, want %q", tc.rate, tc.crowded, got, tc.want)
		}
	}
	if v, _ := tb.find("vegeta", 1000); tb.goal(v, false) != "" {
		t.Error("a peer's row has a goal")
	}

	line := tb.biasLine()
	for _, want := range []string{"0.63 ms − as sent 0.11 ms = **0.52 ms**", "goal ≤ 0.10 ms: missed", "vegeta's p50 at that rate 0.19 ms"} {
		if !strings.Contains(line, want) {
			t.Errorf("bias line %q lacks %q", line, want)
		}
	}
}

func TestWriteGoals(t *testing.T) {
	tb := closedOf(map[string]float64{"wrk": 60000, "bombardier": 36000, "harness fast": 55000}, "wrk", "bombardier", "harness fast")
	quiet := condition{name: "quiet", closed: tb, load: "uptime: 10:00 up 1 day, load average: 0.50, 0.40, 0.30", open: openTable{half: 27500, bias: 1000, rows: []openRow{
		{tool: "harness", engine: true, rate: 1000, achieved: 1000, valid: yes(), p50: 150 * time.Microsecond, sentP50: 100 * time.Microsecond},
		{tool: "harness", engine: true, rate: 27500, achieved: 27000, valid: no()},
	}}}
	crowded := condition{name: "crowded", crowded: true, closed: tb, load: "load average unknown", open: openTable{half: 10000, bias: 1000}}
	var b strings.Builder
	writeGoals(&b, []condition{quiet, crowded})
	for _, want := range []string{
		"| goal", "quiet", "crowded",
		"0.92× wrk, harness fast: met: ≥ 0.90× wrk",
		"0.92× wrk, harness fast: met: ≥ bombardier's 0.60×",
		"missed at 27,500/s",
		"0.05 ms at 1,000/s: met",
		"0.50, 0.40, 0.30",
		"not measured", // the crowded condition has no bias run
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("goals lack %q:\n%s", want, b.String())
		}
	}
}
