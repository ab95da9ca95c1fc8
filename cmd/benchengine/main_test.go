package main

import (
	"context"
	"testing"
)

// Bad settings exit 2 before anything starts; a child that cannot run
// exits 1.
func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"unknown argument", []string{"-fast"}, nil, 2},
		{"bad setting", nil, map[string]string{"BENCH_VUS": "0"}, 2},
		{"engine turn without a target", []string{"engine-turn", "-vus", "1", "-duration", "1s"}, nil, 1},
		{"hog without a limit", []string{"hog", "cpu"}, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if got := run(context.Background(), tc.args); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}
