package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/link"
)

// harness fault refuses a wrong command line before it looks for an
// environment, with what is wrong.
func TestFaultCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "want an action and a name"},
		{[]string{"latency", "mongo"}, "latency is required: the delay added each way"},
		{[]string{"latency", "mongo", "200"}, `latency "200" is not a duration such as 200ms`},
		{[]string{"latncy", "mongo"}, `unknown action "latncy" (did you mean "latency"?)`},
		{[]string{"jitter", "mongo", "50ms"}, "jitter is a parameter of latency: harness fault latency mongo 200ms jitter=50ms"},
		{[]string{"down", "mongo", "1s"}, "down takes a link and nothing more"},
		{[]string{"slicer", "api", "64", "16"}, `"16": want PARAM=VALUE, e.g. variation=...`},
		{[]string{"stop", "mongo-0", "now"}, "stop takes a component and nothing more"},
		{[]string{"bandwidth", "api", "rate=16", "rate=8"}, "rate given twice"},
		{[]string{"bandwidth", "api", "0"}, "rate: must be at least 1 (got 0)"},
		{[]string{"limit_data", "api", "bytes=1k"}, `bytes "1k" is not a whole number`},
		{[]string{"slicer", "api", "size=8", "variation=8"}, "variation: must be less than size (8)"},
		{[]string{"timeout", "api", "timout=1s"}, `timout does not apply to timeout, which takes only timeout (did you mean "timeout"?)`},
		{[]string{"heal", "api", "latency", "bandwidth"}, "heal takes a link and at most one action"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"fault", "-state", "/nonexistent"}, tt.args...), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("harness fault %v = %d, %q; want %d saying %q", tt.args, code, stderr.String(), exitUsage, tt.want)
		}
	}
}

// The help names every action on a link, so a new one is documented.
func TestFaultCommandHelpNamesEveryAction(t *testing.T) {
	usage := faultCmd().usage
	for _, a := range append(slices.Clone(link.Actions), "heal", "reset") {
		if !strings.Contains(usage, "\n  "+a+" ") && !strings.Contains(usage, "|"+a+" ") && !strings.Contains(usage, "\n  "+a+"|") {
			t.Errorf("harness fault -h does not show %s:\n%s", a, usage)
		}
	}
}

// harness fault drives a real link of an environment through its
// control endpoint, in front of a real HTTP server: a latency with
// jitter, a down, the reset alias, heal of one fault and of all.
func TestFaultCommandDrivesALink(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ok":true}`)) }))
	t.Cleanup(api.Close)
	l, err := link.Start("api", api.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	control, err := env.ServeControl(ctx, &env.Env{Links: map[string]*link.Link{"api": l}})
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "env.json")
	data, _ := json.Marshal(env.Endpoints{Control: control})
	if err := os.WriteFile(state, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fault := func(args ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(ctx, append([]string{"fault", "-state", state}, args...), &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	// Each request on a connection of its own, so that one opened
	// before a fault does not hide it.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	roundTrip := func() (time.Duration, error) {
		start := time.Now()
		res, err := client.Get("http://" + l.Addr() + "/")
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		_, err = io.ReadAll(res.Body)
		return time.Since(start), err
	}
	if code, out := fault("latency", "api", "200ms", "jitter=50ms"); code != exitPass || !strings.Contains(out, "harness: latency 200ms ± 50ms on link api: done") {
		t.Fatalf("latency: %d\n%s", code, out)
	}
	if d, err := roundTrip(); err != nil || d < 300*time.Millisecond {
		t.Errorf("round trip with 200ms ± 50ms each way = %s, %v; want at least 300ms", d, err)
	}
	if code, out := fault("down", "api"); code != exitPass || !strings.Contains(out, "harness: down link api: done") {
		t.Fatalf("down: %d\n%s", code, out)
	}
	if _, err := roundTrip(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial while down = %v; want refused", err)
	}
	if code, out := fault("heal", "api", "down"); code != exitPass {
		t.Fatalf("heal down: %d\n%s", code, out)
	}
	if code, out := fault("reset", "api"); code != exitPass || !strings.Contains(out, "harness: reset_peer link api: done") {
		t.Fatalf("reset: %d\n%s", code, out)
	}
	if got := l.Faults(); !slices.Equal(got, []string{"latency", "reset_peer"}) {
		t.Errorf("faults in force %v; want the latency and the reset", got)
	}
	if code, out := fault("heal", "api"); code != exitPass || !strings.Contains(out, "harness: heal api: done") {
		t.Fatalf("heal: %d\n%s", code, out)
	}
	if d, err := roundTrip(); err != nil || d >= 5*time.Second {
		t.Errorf("after heal: %s, %v", d, err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"heal", "api", "latency"}, `no such fault "latency"`},
		{[]string{"bandwidth", "nope", "16"}, `no link "nope" (have: [api])`},
	} {
		if code, out := fault(tt.args...); code != exitFail || !strings.Contains(out, tt.want) {
			t.Errorf("harness fault %v = %d\n%s; want %d saying %q", tt.args, code, out, exitFail, tt.want)
		}
	}
}
