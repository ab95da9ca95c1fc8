package bench

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is what the benchmark runs. Every field has a default
// (DefaultConfig) and an environment variable (FromEnv).
type Config struct {
	// Conns is the connections of wrk and bombardier, the VUs of the
	// engine's and k6's closed model, vegeta's workers, and the
	// pre-allocated VUs of the open model. BENCH_VUS.
	Conns int
	// MaxVUs bounds the open model's VUs (engine and k6). BENCH_MAX_VUS.
	MaxVUs int
	// Duration is one closed-model turn. BENCH_DURATION.
	Duration time.Duration
	// Rounds is how many turns each tool takes in the closed model; the
	// median is reported. BENCH_ROUNDS.
	Rounds int
	// OpenDuration is one open-model turn. BENCH_OPEN_DURATION.
	OpenDuration time.Duration
	// Rates are the open model's rates per second; half the engine's
	// closed-model maximum is added. BENCH_RATES, comma-separated.
	Rates []int
	// BiasRate is the rate whose dispatch bias is reported; it is run
	// whether or not Rates has it. BENCH_BIAS_RATE.
	BiasRate int
	// Crowded also measures everything again beside the crowding.
	// BENCH_CROWDED=0 measures the quiet machine only.
	Crowded bool
	// Pin runs nginx on one CPU and every tool on the others (see
	// pinning); by default they all share every CPU, as they would on a
	// user's machine. BENCH_PIN=1.
	Pin bool
	// WrkThreads is wrk's -t; 0, the default, is one per CPU the tools
	// may use, as the Go tools run (their GOMAXPROCS follows the CPUs
	// they are given). One thread gets one share of a busy machine's
	// CPU where a Go tool gets one per core; on a shared 2-core machine
	// that made wrk -t1 0.6× as fast as wrk -t2. BENCH_WRK_THREADS.
	WrkThreads int
	// Nginx is the nginx executable; "" finds it. BENCH_NGINX.
	Nginx string
	// Go is the go command that builds the peers. GO.
	Go string
}

// The peers built from the module proxy, at fixed versions so every run
// measures the same code.
const (
	VegetaModule     = "github.com/tsenart/vegeta/v12@v12.13.0"
	BombardierModule = "github.com/codesenberg/bombardier@v1.2.6"
)

// DefaultConfig is the benchmark as issue 12 of the project asks for it:
// 64 connections, 10 s turns, three rounds.
func DefaultConfig() Config {
	return Config{
		Conns: 64, MaxVUs: 1000, Duration: 10 * time.Second, Rounds: 3, OpenDuration: 10 * time.Second,
		Rates: []int{1000, 5000, 12000}, BiasRate: 1000, Crowded: true, Go: "go",
	}
}

// FromEnv is DefaultConfig with what the environment variables named in
// Config's fields set; getenv is os.Getenv outside tests.
func FromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	positive := func(name string, dst *int) {
		if s := getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a whole number above 0", name, s))
				return
			}
			*dst = n
		}
	}
	duration := func(name string, dst *time.Duration) {
		if s := getenv(name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < time.Second {
				errs = append(errs, fmt.Errorf("%s=%q: want a duration of at least 1s, such as 10s", name, s))
				return
			}
			*dst = d
		}
	}
	onOff := func(name string, dst *bool) {
		switch s := getenv(name); s {
		case "":
		case "1", "true":
			*dst = true
		case "0", "false":
			*dst = false
		default:
			errs = append(errs, fmt.Errorf("%s=%q: want 1 or 0", name, s))
		}
	}
	positive("BENCH_VUS", &c.Conns)
	positive("BENCH_MAX_VUS", &c.MaxVUs)
	positive("BENCH_ROUNDS", &c.Rounds)
	positive("BENCH_BIAS_RATE", &c.BiasRate)
	positive("BENCH_WRK_THREADS", &c.WrkThreads)
	duration("BENCH_DURATION", &c.Duration)
	duration("BENCH_OPEN_DURATION", &c.OpenDuration)
	if s := getenv("BENCH_RATES"); s != "" {
		c.Rates = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("BENCH_RATES=%q: want rates per second above 0, comma-separated, such as 1000,5000", s))
				break
			}
			c.Rates = append(c.Rates, n)
		}
	}
	onOff("BENCH_CROWDED", &c.Crowded)
	onOff("BENCH_PIN", &c.Pin)
	if s := getenv("BENCH_NGINX"); s != "" {
		c.Nginx = s
	}
	if s := getenv("GO"); s != "" {
		c.Go = s
	}
	if len(errs) == 0 && c.MaxVUs < c.Conns {
		errs = append(errs, fmt.Errorf("BENCH_MAX_VUS=%d is below BENCH_VUS=%d", c.MaxVUs, c.Conns))
	}
	return c, errors.Join(errs...)
}

// openRates are the open model's rates in increasing order, each once:
// Rates, BiasRate and half (half the engine's closed-model maximum; 0 for
// none).
func (c Config) openRates(half int) []int {
	rates := append([]int{c.BiasRate, half}, c.Rates...)
	slices.Sort(rates)
	rates = slices.Compact(rates)
	if rates[0] == 0 {
		rates = rates[1:]
	}
	return rates
}

// estimate is how long c's turns take in all, for the line printed first.
func (c Config) estimate(closedTools, openTools int) time.Duration {
	open := len(c.openRates(-1)) // -1 stands for half the maximum, unknown yet
	total := time.Duration(closedTools*c.Rounds)*c.Duration + time.Duration(openTools*open)*c.OpenDuration
	if c.Crowded {
		total *= 2
	}
	return total
}
