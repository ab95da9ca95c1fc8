package main_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/testbin"
)

// harnessPkg is the harness's import path, for testbin.
const harnessPkg = "github.com/taskready/taskready/cmd/harness"

// buildHarness returns the harness binary, built once per test process.
func buildHarness(t *testing.T) string {
	t.Helper()
	return testbin.Path(t, harnessPkg)
}

// closedPort returns a loopback base URL where nothing listens: a port the
// kernel handed out a moment ago, closed again.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// TestGatesNeverPassOnNoData drives the gates from the command line with
// runs that measured nothing, or not all they were meant to: none may exit
// 0 or say PASSED, and each says what happened.
func TestGatesNeverPassOnNoData(t *testing.T) {
	t.Parallel()
	harness := buildHarness(t)

	t.Run("interrupted run", func(t *testing.T) {
		for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
			t.Run(sig.String(), func(t *testing.T) { interruptRun(t, harness, sig) })
		}
	})

	t.Run("interrupted smoke", func(t *testing.T) {
		// A target that accepts and never answers: the contract smoke
		// waits on it until the interrupt.
		asked := make(chan struct{}, 1)
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" {
				return // Reach's probe: an answer
			}
			select {
			case asked <- struct{}{}:
			default:
			}
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) }) // before srv.Close: its handlers return
		code, text := interrupt(t, harness, asked, os.Interrupt,
			"run", "-target", srv.URL, "-scenario", "testdata/interrupt.yaml", "-seed-users", "0", "-out", t.TempDir())
		if code != 105 || !strings.Contains(text, "interrupted (exit 105)") || strings.Contains(text, "PASSED") {
			t.Errorf("Ctrl-C during the smoke exited %d; want 105 and the word interrupted:\n%s", code, text)
		}
	})

	t.Run("unreachable target", func(t *testing.T) {
		for _, contract := range []string{"-contract=true", "-contract=false"} {
			t.Run(contract, func(t *testing.T) {
				target := closedPort(t)
				code, text := harnessRun(t, harness, "run", "-target", target, contract, "-seed-users", "0",
					"-scenario", "testdata/interrupt.yaml", "-out", t.TempDir())
				if code != 1 {
					t.Errorf("exited %d, want 1:\n%s", code, text)
				}
				for _, want := range []string{"target " + target + " could not be reached", "connection refused", "check that the API is running"} {
					if !strings.Contains(text, want) {
						t.Errorf("output lacks %q:\n%s", want, text)
					}
				}
			})
		}
		code, text := harnessRun(t, harness, "run", "-target", "127.0.0.1:8080", "-scenario", "testdata/interrupt.yaml")
		if code != 2 || !strings.Contains(text, "not a base URL") {
			t.Errorf("a target without a scheme exited %d; want 2 and what a target looks like:\n%s", code, text)
		}
	})

	t.Run("k6 import", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			says string
		}{
			{"no metrics", []string{"-summary", "testdata/k6-bad/no-metrics.json"}, `"metrics" object is empty`},
			{"negative counts", []string{"-summary", "testdata/k6-bad/negative-counts.json"}, "negative count -501"},
			{"no requests", []string{"-summary", "testdata/k6-bad/no-requests.json"}, "no HTTP request"},
			{"an empty stream", []string{"-stream", "testdata/k6-bad/empty.ndjson"}, "no HTTP request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "import")
				code, text := harnessRun(t, harness, append(append([]string{"k6", "import"}, tc.args...), "-out", out)...)
				if code != 1 || !strings.Contains(text, tc.says) || !strings.Contains(text, tc.args[1]) || strings.Contains(text, "PASSED") {
					t.Errorf("exited %d; want 1 naming the file and saying %q:\n%s", code, tc.says, text)
				}
				if _, err := os.Stat(filepath.Join(out, "summary.json")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a refused import wrote a summary: %v", err)
				}
			})
		}
	})
}

// interruptRun runs a scenario against a target that answers at once,
// interrupts it with sig once requests flow, and checks the verdict: 105,
// aborted, nothing judged, and the reports of the run so far written.
func interruptRun(t *testing.T, harness string, sig os.Signal) {
	var served atomic.Int64
	flowing := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
		if served.Add(1) == 5 { // the probe and a few of the run's
			flowing <- struct{}{}
		}
	}))
	t.Cleanup(srv.Close)
	out := t.TempDir()
	code, text := interrupt(t, harness, flowing, sig,
		"run", "-target", srv.URL, "-scenario", "testdata/interrupt.yaml", "-seed-users", "0", "-contract=false",
		"-max-send-lag", "1s", "-max-cpu", "1", "-out", out)
	if code != 105 {
		t.Fatalf("exited %d, want 105:\n%s", code, text)
	}
	for _, want := range []string{"ABORTED (exit 105)", "aborted by the user", "not judged", "reports: " + out} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "PASSED") {
		t.Errorf("an interrupted run says PASSED:\n%s", text)
	}
	s := readSummary(t, out)
	if s.Run.Outcome.Status != "aborted" || s.Run.Outcome.ExitCode != 105 {
		t.Errorf("summary outcome %+v; want aborted, 105", s.Run.Outcome)
	}
	if n, _ := s.Metrics["http_reqs"]["count"].(float64); n < 3 {
		t.Errorf("the summary holds %v requests; want the run so far", s.Metrics["http_reqs"])
	}
	for _, f := range []string{"report.html", "report.md", "junit.xml", "histograms/run.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// interrupt starts the harness with args, sends it sig once ready is
// signalled (something the test's server saw), and returns its exit code
// and output.
func interrupt(t *testing.T, harness string, ready <-chan struct{}, sig os.Signal, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var wg sync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			text.WriteString(sc.Text() + "\n")
		}
	})
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); _ = pw.Close() }()
	select {
	case <-ready:
	case err := <-exited:
		wg.Wait()
		t.Fatalf("harness %v ended before the interrupt (%v):\n%s", args, err, text.String())
	case <-ctx.Done():
		t.Fatalf("harness %v: nothing reached the target", args)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("harness %v did not stop after %s:\n%s", args, sig, text.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("harness %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), text.String()
}
