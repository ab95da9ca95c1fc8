package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, exitUsage, "usage: harness"},
		{"unknown command", []string{"launch"}, exitUsage, `unknown command "launch"`},
		{"smoke without target", []string{"smoke"}, exitUsage, "-target is required"},
		{"smoke with a bad target", []string{"smoke", "-target", "://x"}, exitUsage, "target"},
		{"bad flag", []string{"run", "-nope"}, exitUsage, "flag provided but not defined"},
		{"zero instances", []string{"run", "-api-instances", "0"}, exitUsage, "at least 1"},
		{"validate without files", []string{"validate"}, exitUsage, "at least one scenario file"},
		{"validate a broken file", []string{"validate", "testdata/broken.yaml"}, exitUsage, "testdata/broken.yaml:4: scenarios.s.executor: unknown executor"},
		{"validate the shipped scenarios", []string{"validate", "../../scenarios/smoke.yaml", "../../scenarios/spike.yaml"}, exitPass, ""},
		{"missing API binary", []string{"run", "-api-bin", "/nonexistent/taskapi"}, exitFail, "make build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), tt.args, &stdout, &stderr); got != tt.code {
				t.Errorf("harness %v = %d; want %d (stderr %q)", tt.args, got, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr = %q; want it to mention %q", stderr.String(), tt.stderr)
			}
		})
	}
}

// VUs no memory here can hold are refused before any is made, by validate
// and by run, with the estimate.
func TestVUsBeyondMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("available memory is read on Linux only; elsewhere nothing is checked")
	}
	for _, args := range [][]string{
		{"validate", "testdata/huge-vus.yaml"},
		{"run", "-scenario", "testdata/huge-vus.yaml", "-provider", "embedded"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr)
		want := "testdata/huge-vus.yaml:6: scenarios.burst.preAllocatedVUs: 50000000 VUs need about 6.0 TiB at 128 KiB per VU, more than the "
		if code != exitUsage || !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), " fit here") {
			t.Errorf("harness %v = %d, %q; want %d and %q", args, code, stderr.String(), exitUsage, want)
		}
		if strings.Contains(stdout.String(), "bringing up") {
			t.Errorf("harness %v brought up an environment before refusing: %s", args, stdout.String())
		}
	}
}
