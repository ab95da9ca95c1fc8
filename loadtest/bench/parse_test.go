package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return data
}

// The wrk fixtures are wrk 4.1.0's real output against nginx: a clean
// run, and one where nginx's worker_connections (40) was below wrk's 64
// connections and every answer was a 404.
func TestParseWrk(t *testing.T) {
	for _, tc := range []struct {
		file         string
		want         turn
		wantRPSAbout float64
	}{
		{"wrk.txt", turn{requests: 43877, errors: 0, p50: 2670 * time.Microsecond, p99: 23030 * time.Microsecond}, 14228.73},
		{"wrk-errors.txt", turn{requests: 8832, errors: 9040 + 8832, p50: 6190 * time.Microsecond, p99: 19200 * time.Microsecond}, 4240.51},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := parseWrk(string(readFixture(t, tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if got.rps != tc.wantRPSAbout {
				t.Errorf("rps %v, want %v", got.rps, tc.wantRPSAbout)
			}
			got.rps = 0
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseWrkRejects(t *testing.T) {
	for name, out := range map[string]string{
		// What wrk prints when nothing listens (it exits 1).
		"refused":  string(readFixture(t, "wrk-refused.txt")),
		"empty":    "",
		"no rate":  "  10 requests in 1.00s, 1KB read\n",
		"bad unit": strings.Replace(string(readFixture(t, "wrk.txt")), "2.67ms", "2.67fortnights", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseWrk(out); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestParseWrkDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"837.00us", 837 * time.Microsecond},
		{"2.67ms", 2670 * time.Microsecond},
		{"1.02s", 1020 * time.Millisecond},
		{"1.50m", 90 * time.Second},
		{"1.00h", time.Hour},
	} {
		got, err := parseWrkDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "ms", "1.2", "1.2.3ms", "5d"} {
		if _, err := parseWrkDuration(in); err == nil {
			t.Errorf("parseWrkDuration(%q): no error", in)
		}
	}
}

// bombardier.json is bombardier 1.2.6's real -o json -p r output.
func TestParseBombardier(t *testing.T) {
	got, err := parseBombardier(readFixture(t, "bombardier.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.requests != 35334 || got.errors != 0 {
		t.Errorf("requests %d, errors %d; want 35334, 0", got.requests, got.errors)
	}
	if want := 35334 / 2.9975016820000002; got.rps != want {
		t.Errorf("rps %v, want %v", got.rps, want)
	}
	for name, in := range map[string]string{
		"not json":  "Bombarding http://127.0.0.1 ...",
		"no result": `{"spec":{}}`,
		"no time":   `{"result":{"req2xx":5,"timeTakenSeconds":0}}`,
	} {
		if _, err := parseBombardier([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseBombardierCountsFailures(t *testing.T) {
	got, err := parseBombardier([]byte(`{"result":{"timeTakenSeconds":2,"req2xx":90,"req4xx":6,"req5xx":4,"others":3}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Transport errors ("others") got no answer: not in the rate.
	if got.requests != 100 || got.errors != 13 || got.rps != 50 {
		t.Errorf("got %+v; want 100 answers, 13 errors, 50/s", got)
	}
}

// The vegeta fixtures are vegeta 12.13.0's real report -type json of a
// closed-model attack (-rate 0 -max-workers 64) and of one at 1,000/s.
func TestParseVegeta(t *testing.T) {
	closed, err := parseVegeta(readFixture(t, "vegeta-closed.json"))
	if err != nil {
		t.Fatal(err)
	}
	ct := closed.closed()
	if ct.requests != 20616 || ct.errors != 0 || ct.p50 != 2497425 || ct.p99 != 43217079 {
		t.Errorf("closed: %+v", ct)
	}
	if want := 20616 / (time.Duration(3001127358 + 1733356)).Seconds(); ct.rps != want {
		t.Errorf("closed rps %v, want %v", ct.rps, want)
	}
	open, err := parseVegeta(readFixture(t, "vegeta-open.json"))
	if err != nil {
		t.Fatal(err)
	}
	if open.Requests != 3000 || open.Success != 1 || open.Rate < 1000 || open.Rate > 1002 || open.Latencies.P50 != 278427 {
		t.Errorf("open: %+v", open)
	}
	for name, in := range map[string]string{
		"not json":    "Requests [total, rate] 3000, 1000.00",
		"no requests": `{"requests":0}`,
		"bad success": `{"requests":5,"success":2}`,
	} {
		if _, err := parseVegeta([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestVegetaClosedCountsFailures(t *testing.T) {
	r := vegetaReport{Requests: 1000, Success: 0.75, Duration: time.Second}
	if got := r.closed(); got.errors != 250 || got.rps != 1000 {
		t.Errorf("got %+v; want 250 errors, 1000/s", got)
	}
}

// k6's export is the repository's own real one (package k6's fixtures).
func TestParseK6(t *testing.T) {
	data, err := os.ReadFile("../k6/testdata/k6/passing/summary-export.json")
	if err != nil {
		t.Fatalf("k6 fixture: %v", err)
	}
	got, err := parseK6(data)
	if err != nil {
		t.Fatal(err)
	}
	want := k6Result{requests: 522, failed: 0, rps: 95.0941248324219, p50: 44466292 * time.Nanosecond, vusMax: 14} // med 44.4662925 ms
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for name, in := range map[string]string{
		"not json":   "running (10.0s)",
		"no metrics": `{"root_group":{}}`,
		"no reqs":    `{"metrics":{"iterations":{"count":0}}}`,
	} {
		if _, err := parseK6([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestK6Script(t *testing.T) {
	closed := k6Script("http://127.0.0.1:1/ping", 64, 1000, 0, 10*time.Second)
	open := k6Script("http://127.0.0.1:1/ping", 64, 1000, 5000, 10*time.Second)
	for _, want := range []string{"executor: 'constant-vus', vus: 64, duration: '10s'", `http.get("http://127.0.0.1:1/ping")`, "'p(99)'"} {
		if !strings.Contains(closed, want) {
			t.Errorf("closed script lacks %q:\n%s", want, closed)
		}
	}
	if want := "rate: 5000, timeUnit: '1s', duration: '10s', preAllocatedVUs: 64, maxVUs: 1000"; !strings.Contains(open, want) {
		t.Errorf("open script lacks %q:\n%s", want, open)
	}
}

func TestParseProcStatCPU(t *testing.T) {
	// utime 250 and stime 50 ticks: 3 s. The second has a command name
	// with spaces and a parenthesis, which a split on spaces misreads.
	for _, line := range []string{
		"9759 (nginx) S 9750 9750 848 0 -1 4194304 96 0 0 0 250 50 0 0 20 0 1 0 1489486 3133440 359",
		"9759 (a) b (c) S 9750 9750 848 0 -1 4194304 96 0 0 0 250 50 0 0 20 0 1 0 1489486 3133440 359",
	} {
		got, err := parseProcStatCPU(line)
		if err != nil || got != 3*time.Second {
			t.Errorf("parseProcStatCPU(%q) = %v, %v; want 3s", line, got, err)
		}
	}
	for _, line := range []string{"", "9759 nginx S 1 2", "9759 (nginx) S 1 2 3", "9759 (nginx) S 1 2 3 4 5 6 7 8 9 10 x 0"} {
		if _, err := parseProcStatCPU(line); err == nil {
			t.Errorf("parseProcStatCPU(%q): no error", line)
		}
	}
}
