package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		target  string
		hold    time.Duration
		apiEnv  []string
		wantErr string
	}{
		{name: "defaults", target: "", hold: time.Second},
		{name: "global variable", env: map[string]string{"HARNESS_TARGET": "http://a"}, target: "http://a", hold: time.Second},
		{name: "duration", env: map[string]string{"HARNESS_HOLD": "2s"}, hold: 2 * time.Second},
		{name: "a command's name is no part of it", env: map[string]string{"HARNESS_CAPACITY_HOLD": "3s"}, hold: time.Second},
		{name: "command line wins", args: []string{"-target", "http://cli", "-hold", "5s"},
			env: map[string]string{"HARNESS_TARGET": "http://env", "HARNESS_HOLD": "3s"}, target: "http://cli", hold: 5 * time.Second},
		{name: "set to empty", args: []string{}, env: map[string]string{"HARNESS_TARGET": ""}, hold: time.Second},
		{name: "repeatable flag takes one value", env: map[string]string{"HARNESS_API_ENV": "A=1"}, hold: time.Second, apiEnv: []string{"A=1"}},
		{name: "repeatable flag on the command line", args: []string{"-api-env", "B=2"}, env: map[string]string{"HARNESS_API_ENV": "A=1"}, hold: time.Second, apiEnv: []string{"B=2"}},
		{name: "bad value", env: map[string]string{"HARNESS_HOLD": "soon"}, wantErr: `HARNESS_HOLD="soon": invalid value for -hold: parse error`},
		{name: "bad bool", env: map[string]string{"HARNESS_VERBOSE": "maybe"}, wantErr: `HARNESS_VERBOSE="maybe": invalid value for -verbose`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			target := fs.String("target", "", "")
			hold := fs.Duration("hold", time.Second, "")
			fs.Bool("verbose", false, "")
			var apiEnv listFlag
			fs.Var(&apiEnv, "api-env", "")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := applyEnv(fs, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("applyEnv = %v; want a usage error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *target != tt.target || *hold != tt.hold || strings.Join(apiEnv, ",") != strings.Join(tt.apiEnv, ",") {
				t.Errorf("target %q, hold %s, api-env %v; want %q, %s, %v", *target, *hold, apiEnv, tt.target, tt.hold, tt.apiEnv)
			}
		})
	}
}

// A flag name is one variable for every command, so the flags of that
// name must take the same values: HARNESS_HOLD=30s cannot be a duration to
// one command and a number to another.
func TestSharedFlagsShareAType(t *testing.T) {
	seen := map[string]string{}
	for _, c := range commands() {
		c.fs.VisitAll(func(f *flag.Flag) {
			typ := fmt.Sprintf("%T", f.Value)
			if other, ok := seen[f.Name]; ok && other != typ {
				t.Errorf("-%s is a %s in harness %s and a %s elsewhere: %s cannot set both", f.Name, typ, c.name(), other, envName(f.Name))
			}
			seen[f.Name] = typ
		})
	}
}

// Through the whole command line: the environment sets a flag, a bad
// value is one line naming the variable, and every command's help says so.
func TestEnvThroughTheCommandLine(t *testing.T) {
	t.Setenv("HARNESS_TARGET", "://nonsense")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"smoke"}, &stdout, &stderr); code != exitUsage || strings.Contains(stderr.String(), "-target is required") {
		t.Errorf("smoke with HARNESS_TARGET = %d, %q; want the variable's target used (and refused)", code, stderr.String())
	}

	t.Setenv("HARNESS_API_INSTANCES", "many")
	stdout.Reset()
	stderr.Reset()
	code := run(context.Background(), []string{"run"}, &stdout, &stderr)
	want := "harness run: HARNESS_API_INSTANCES=\"many\": invalid value for -api-instances: parse error\nrun 'harness run -h'"
	if code != exitUsage || !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("run with a bad HARNESS_API_INSTANCES = %d, %q; want %d and %q", code, stderr.String(), exitUsage, want)
	}

	for _, c := range commands() {
		var help strings.Builder
		c.printHelp(&help)
		if !strings.Contains(help.String(), "\nflags:\n") {
			continue // nothing to set
		}
		if want := "read from HARNESS_<FLAG>"; !strings.Contains(help.String(), want) {
			t.Errorf("harness %s -h does not say %q:\n%s", c.name(), want, help.String())
		}
	}
}
