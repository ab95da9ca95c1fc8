package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"unicode"

	"github.com/taskready/taskready/internal/testbin"
)

// TestMain removes the binaries the end-to-end tests built, once for all.
func TestMain(m *testing.M) { testbin.Main(m) }

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

// Help is asked for, not a mistake: it goes to stdout and exits 0, once,
// in one format; a mistake is one line on stderr and a pointer to the help.
func TestHelpAndErrors(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string // what each must contain
		notStderr      string // what stderr must not contain: the help dumped on a mistake
	}{
		{"-h", []string{"-h"}, exitPass, "commands:\n  run ", "", ""},
		{"--help", []string{"--help"}, exitPass, "  version ", "", ""},
		{"help", []string{"help"}, exitPass, "exit codes:", "", ""},
		{"help of a command", []string{"help", "seed"}, exitPass, "usage: harness seed [flags]\n\nBulk-insert", "", ""},
		{"help of a mistyped command", []string{"help", "sede"}, exitUsage, "", `unknown command "sede" (did you mean "seed"?)`, ""},
		{"a command's -h", []string{"run", "-h"}, exitPass, "usage: harness run [flags]", "", ""},
		{"-h after a subcommand", []string{"k6", "export", "-h"}, exitPass, "harness k6 export", "", "help requested"},
		{"version", []string{"version"}, exitPass, "harness ", "", ""},
		{"--version", []string{"--version"}, exitPass, "harness ", "", ""},
		{"mistyped command", []string{"rnu"}, exitUsage, "", `unknown command "rnu" (did you mean "run"?)` + "\nrun 'harness -h'", "commands:"},
		{"bad flag", []string{"run", "-nope"}, exitUsage, "", "flag provided but not defined: -nope\nrun 'harness run -h'", "-scenario"},
		{"usage error", []string{"validate"}, exitUsage, "", "name at least one scenario file\nrun 'harness validate -h'", "usage: harness validate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(context.Background(), tt.args, &stdout, &stderr); got != tt.code {
				t.Errorf("harness %v = %d; want %d (stderr %q)", tt.args, got, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout = %q; want it to contain %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr = %q; want it to contain %q", stderr.String(), tt.stderr)
			}
			if tt.notStderr != "" && strings.Contains(stderr.String(), tt.notStderr) {
				t.Errorf("stderr = %q; want no %q in it", stderr.String(), tt.notStderr)
			}
			if tt.code == exitPass && tt.args[0] != "version" && tt.args[0] != "--version" && strings.Count(stdout.String(), "usage:") != 1 {
				t.Errorf("help printed %d times:\n%s", strings.Count(stdout.String(), "usage:"), stdout.String())
			}
		})
	}
}

// Every command's help has the same shape: a usage line naming the
// command, a blank line, a summary sentence, then its flags or subcommands.
func TestEveryCommandHasHelp(t *testing.T) {
	names := []string{"version"}
	for _, c := range commands() {
		names = append(names, c.name())
	}
	for _, name := range names {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{name, "-h"}, &stdout, &stderr); code != exitPass {
			t.Errorf("harness %s -h = %d (stderr %q)", name, code, stderr.String())
		}
		h := stdout.String()
		lines := strings.Split(h, "\n")
		for len(lines) > 1 && strings.HasPrefix(lines[1], "       harness "+name) {
			lines = append(lines[:1], lines[2:]...) // a second form of the usage line
		}
		if len(lines) < 3 || !strings.HasPrefix(lines[0], "usage: harness "+name) || lines[1] != "" ||
			lines[2] == "" || !unicode.IsUpper([]rune(lines[2])[0]) || strings.Contains(h, "Usage of") {
			t.Errorf("harness %s -h is not usage line, blank, summary:\n%s", name, h)
		}
		if strings.Contains(h, "\n\n\n") {
			t.Errorf("harness %s -h has a blank gap:\n%q", name, h)
		}
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
