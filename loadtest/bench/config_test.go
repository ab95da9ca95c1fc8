package bench

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want func(*Config)
	}{
		{"defaults", nil, func(*Config) {}},
		{"everything", map[string]string{
			"BENCH_VUS": "32", "BENCH_MAX_VUS": "500", "BENCH_DURATION": "5s", "BENCH_ROUNDS": "5",
			"BENCH_OPEN_DURATION": "3s", "BENCH_RATES": "100, 200", "BENCH_BIAS_RATE": "100", "BENCH_CROWDED": "0",
			"BENCH_PIN": "1", "BENCH_WRK_THREADS": "2", "BENCH_NGINX": "/opt/nginx", "GO": "go1.26",
		}, func(c *Config) {
			c.Conns, c.MaxVUs, c.Duration, c.Rounds, c.OpenDuration = 32, 500, 5*time.Second, 5, 3*time.Second
			c.Rates, c.BiasRate, c.Crowded, c.Pin, c.WrkThreads, c.Nginx, c.Go = []int{100, 200}, 100, false, true, 2, "/opt/nginx", "go1.26"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromEnv(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultConfig()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestFromEnvRejects(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string // in the error
	}{
		{map[string]string{"BENCH_VUS": "0"}, "BENCH_VUS"},
		{map[string]string{"BENCH_VUS": "lots"}, "BENCH_VUS"},
		{map[string]string{"BENCH_DURATION": "10"}, "BENCH_DURATION"},
		{map[string]string{"BENCH_OPEN_DURATION": "500ms"}, "at least 1s"},
		{map[string]string{"BENCH_RATES": "1000,fast"}, "BENCH_RATES"},
		{map[string]string{"BENCH_RATES": "-5"}, "BENCH_RATES"},
		{map[string]string{"BENCH_CROWDED": "yes"}, "BENCH_CROWDED"},
		{map[string]string{"BENCH_PIN": "on"}, "BENCH_PIN"},
		{map[string]string{"BENCH_VUS": "100", "BENCH_MAX_VUS": "50"}, "below"},
		// Every problem at once, not the first alone.
		{map[string]string{"BENCH_VUS": "x", "BENCH_ROUNDS": "y"}, "BENCH_ROUNDS"},
	} {
		_, err := FromEnv(func(k string) string { return tc.env[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromEnv(%v) = %v; want an error about %s", tc.env, err, tc.want)
		}
	}
}

func TestOpenRates(t *testing.T) {
	c := DefaultConfig()
	for _, tc := range []struct {
		half int
		want []int
	}{
		{27000, []int{1000, 5000, 12000, 27000}},
		{3000, []int{1000, 3000, 5000, 12000}},
		{5000, []int{1000, 5000, 12000}}, // once
		{0, []int{1000, 5000, 12000}},    // no maximum measured
	} {
		if got := c.openRates(tc.half); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("openRates(%d) = %v, want %v", tc.half, got, tc.want)
		}
	}
	c.Rates, c.BiasRate = []int{5000}, 200
	if got, want := c.openRates(9000), []int{200, 5000, 9000}; !reflect.DeepEqual(got, want) {
		t.Errorf("with a bias rate not among the rates: %v, want %v", got, want)
	}
}

func TestEstimate(t *testing.T) {
	c := DefaultConfig()
	// 5 closed tools × 3 rounds × 10 s and 2 open tools × 4 rates × 10 s,
	// quiet and crowded.
	if got, want := c.estimate(5, 2), 2*(150+80)*time.Second; got != want {
		t.Errorf("estimate %s, want %s", got, want)
	}
	c.Crowded = false
	if got, want := c.estimate(5, 2), (150+80)*time.Second; got != want {
		t.Errorf("quiet only: estimate %s, want %s", got, want)
	}
}

func TestPinning(t *testing.T) {
	for _, tc := range []struct {
		name       string
		on         bool
		cpus       []int
		server     string
		tools      string
		why        string // in the reason it does not pin
		wrapsTools bool
	}{
		{"off", false, []int{0, 1}, "", "", "BENCH_PIN=1 pins", false},
		{"one CPU", true, []int{3}, "", "", "fewer than 2", false},
		{"two", true, []int{0, 1}, "0", "1", "", true},
		{"a container's", true, []int{4, 5, 7}, "4", "5,7", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, why := newPinning(tc.on, tc.cpus)
			if strings.Contains(why, "taskset not found") {
				t.Skip(why) // util-linux is missing: nothing to pin with
			}
			if p.server != tc.server || p.tools != tc.tools || !strings.Contains(why, tc.why) || (why == "") != tc.wrapsTools {
				t.Fatalf("newPinning(%v, %v) = %+v, %q; want server %q, tools %q, reason %q", tc.on, tc.cpus, p, why, tc.server, tc.tools, tc.why)
			}
			c := p.tool(child{path: "/usr/bin/wrk", args: []string{"-t1"}})
			if wrapped := strings.HasSuffix(c.path, "taskset") && reflect.DeepEqual(c.args, []string{"-c", tc.tools, "/usr/bin/wrk", "-t1"}); wrapped != tc.wrapsTools {
				t.Errorf("tool: %s %v; want it wrapped in taskset: %v", c.path, c.args, tc.wrapsTools)
			}
		})
	}
}
