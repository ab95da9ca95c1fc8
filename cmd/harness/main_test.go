package main

import (
	"bytes"
	"context"
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
