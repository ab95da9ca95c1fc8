package rundir_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/summary"
)

// A baseline is compared only with a run of the same scenario file, on
// the same provider, API instances and CPUs, and only when it was valid
// and whole; otherwise the error says every difference.
func TestBaselineFor(t *testing.T) {
	planned := rundir.Planned{Scenario: "load", FileSHA256: "", Provider: "embedded", APIInstances: 2, CPUs: 2}
	tests := []struct {
		name string
		edit func(r *summary.Run)
		want []string // in the error; none: a match
	}{
		{"same", func(*summary.Run) {}, nil},
		{"another scenario", func(r *summary.Run) { r.Name = "smoke" }, []string{"scenario smoke, this run load"}},
		{"the file changed", func(r *summary.Run) { r.FileSHA256 = "abc" }, []string{"scenario file load changed since"}},
		{"provider, instances, CPUs", func(r *summary.Run) {
			r.Environment.Provider, r.Environment.APIInstances, r.Environment.CPUs = "docker", 3, 8
		}, []string{"provider docker, this run embedded", "API instances 3, this run 2", "CPUs 8, this run 2"}},
		{"invalid", func(r *summary.Run) { r.Validity.Valid = false }, []string{"it was invalid"}},
		{"a segment", func(r *summary.Run) { r.Segment = "0/4" }, []string{"run of segment 0/4, this run all the load"}},
		{"interrupted", func(r *summary.Run) { r.Interrupted = true }, []string{"it was interrupted"}},
		{"aborted", func(r *summary.Run) { r.Aborted = "threshold crossed" }, []string{"it was aborted (threshold crossed)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := &summary.Summary{Metrics: map[string]summary.Metric{}, RootGroup: summary.NewRootGroup(), Run: summary.Run{
				Format: summary.Format, Version: summary.Version, ID: "base", Name: "load",
				Environment: summary.Environment{Provider: "embedded", APIInstances: 2, CPUs: 2},
				Validity:    summary.Validity{Valid: true},
			}}
			tt.edit(&s.Run)
			if err := s.WriteFile(filepath.Join(dir, rundir.SummaryFile)); err != nil {
				t.Fatal(err)
			}
			got, err := rundir.BaselineFor(dir, planned)
			if tt.want == nil {
				if err != nil || got == nil || got.Run.ID != "base" {
					t.Fatalf("BaselineFor = %v, %v; want the baseline", got, err)
				}
				return
			}
			if !errors.Is(err, rundir.ErrBaselineMismatch) {
				t.Fatalf("BaselineFor error = %v; want ErrBaselineMismatch", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := rundir.BaselineFor(t.TempDir(), planned); err == nil || errors.Is(err, rundir.ErrBaselineMismatch) {
		t.Errorf("a directory without a run: %v; want an error that is not a mismatch", err)
	}
}
