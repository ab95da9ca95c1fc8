package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/testbin"
	"github.com/taskready/taskready/internal/testserver"
)

// TestMain removes the API binary the tests built, once for all.
func TestMain(m *testing.M) { testbin.Main(m) }

// build returns the API binary, compiled once per test binary run.
func build(t *testing.T) string {
	t.Helper()
	return testbin.Path(t, "github.com/taskready/taskready/cmd/taskapi")
}

func TestRefusesUnsafeProductionConfig(t *testing.T) {
	bin := build(t)
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"short secret", []string{"JWT_SECRET=short"}, "JWT_SECRET"},
		{"tutorial secret", []string{"JWT_SECRET=your_jwt_secret_key_here"}, "published example"},
		{"no secret", nil, "JWT_SECRET is required in production"},
		{"wildcard CORS", []string{"JWT_SECRET=" + strings.Repeat("k", 40), "FRONTEND_URL=*"}, "FRONTEND_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "APP_ENV=production", "MONGODB_URI=mongodb://127.0.0.1:1", "REDIS_URL=redis://127.0.0.1:1"}, tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit = %v; want code 2 (bad configuration)", err)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr = %q; want it to mention %q", stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), "your_jwt_secret_key_here") {
				t.Error("stderr repeats the secret")
			}
		})
	}
}

// TestServesWithNoSetupAndStopsOnSIGTERM is `make api` on a fresh
// machine: no store URIs, embedded stores, then a clean SIGTERM.
func TestServesWithNoSetupAndStopsOnSIGTERM(t *testing.T) {
	bin := build(t)
	port, metricsPort := testserver.FreePort(t), testserver.FreePort(t)
	for metricsPort == port {
		metricsPort = testserver.FreePort(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORT=" + strconv.Itoa(port), "DATA_DIR=" + t.TempDir(), "BCRYPT_COST=4",
		"METRICS_ADDR=127.0.0.1:" + strconv.Itoa(metricsPort)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan map[string]any, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) == nil {
				lines <- l
			}
		}
	}()
	var seen []string
	for l := range lines {
		seen = append(seen, l["msg"].(string))
		if l["msg"] == "listening" {
			// Development's JWT secret is public: loopback only.
			if addr, _ := l["addr"].(string); !strings.HasPrefix(addr, "127.0.0.1:") {
				t.Errorf("development listens on %q; want 127.0.0.1", addr)
			}
			break
		}
	}
	joined := strings.Join(seen, "\n")
	if !strings.Contains(joined, "started embedded FerretDB") || !strings.Contains(joined, "REDIS_URL unset, started") ||
		!strings.Contains(joined, "open file limit") {
		t.Errorf("start-up did not say which stores it chose and its open file limit:\n%s", joined)
	}

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	res, err := http.Get(base + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("/readyz = %v, %v; the process logged:\n%s", res, err, joined)
	}
	res.Body.Close()

	// /metrics is served on METRICS_ADDR only; the API port answers it
	// 404 like any unknown route.
	for _, tt := range []struct {
		url    string
		status int
		has    string
	}{
		{base + "/metrics", http.StatusNotFound, `"message"`},
		{"http://127.0.0.1:" + strconv.Itoa(metricsPort) + "/metrics", http.StatusOK, "go_goroutines"},
	} {
		res, err := http.Get(tt.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.url, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || !bytes.Contains(body, []byte(tt.has)) {
			t.Errorf("GET %s = %d %.80q; want %d with %s", tt.url, res.StatusCode, body, tt.status, tt.has)
		}
	}

	check := exec.CommandContext(ctx, bin, "healthcheck")
	check.Env = []string{"PORT=" + strconv.Itoa(port)}
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("taskapi healthcheck on a ready API = %v %s; want exit 0", err, out)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var last string
	for l := range lines {
		last = l["msg"].(string)
		if last == "shutting down" && l["grace"] != "10s" {
			// A duration people read, not nanoseconds.
			t.Errorf("shutting down with grace %#v; want \"10s\"", l["grace"])
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM = %v; want 0", err)
	}
	if last != "stopped" {
		t.Errorf("last log line = %q; want \"stopped\"", last)
	}
	check = exec.CommandContext(ctx, bin, "healthcheck")
	check.Env = []string{"PORT=" + strconv.Itoa(port)}
	if err := check.Run(); err == nil {
		t.Error("taskapi healthcheck with no API running = exit 0; want 1")
	}
}

// TestMetricsAddrTakenExitsOne: a METRICS_ADDR another process holds
// stops the API at start-up with exit code 1, saying which variable.
func TestMetricsAddrTakenExitsOne(t *testing.T) {
	bin := build(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = taken.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORT=" + strconv.Itoa(testserver.FreePort(t)), "DATA_DIR=" + t.TempDir(), "BCRYPT_COST=4",
		"METRICS_ADDR=" + taken.Addr().String()}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v; want 1\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("METRICS_ADDR")) || !bytes.Contains(out, []byte(taken.Addr().String())) {
		t.Errorf("output does not name METRICS_ADDR and the address:\n%s", out)
	}
}
