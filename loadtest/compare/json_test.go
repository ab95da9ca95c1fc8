package compare_test

import (
	"encoding/json"
	"testing"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/loadtest/compare"
)

// The JSON form of two reports: a regression with keys only one run has,
// and runs too short to give an interval (null, not 0).
func TestDocumentGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		old, cur run
	}{
		{"regression.json",
			with(steady, func(r *run) { r.endpoints = []string{"list", "delete"} }),
			with(steady, func(r *run) { r.scale, r.endpoints = 1.3, []string{"list", "search"} })},
		{"too-short.json",
			with(steady, func(r *run) { r.seconds, r.failure = 3, 0 }),
			with(steady, func(r *run) { r.seconds, r.failure = 3, 0 })},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			rep, err := compare.Compare(recorder(t, 1, tt.old), recorder(t, 2, tt.cur), fast, compare.Seed(3))
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tt.file, append(data, '\n'))
		})
	}
}
