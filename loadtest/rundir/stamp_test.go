package rundir

import (
	"testing"

	"github.com/taskready/taskready/internal/buildinfo"
	"github.com/taskready/taskready/loadtest/summary"
)

// TestStampRevision: summary.json names the full revision of the build
// that made the run, and never stamps this build's onto another's run.
func TestStampRevision(t *testing.T) {
	t.Parallel()
	const rev = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
	this := buildinfo.Info{Version: "v1.2.0", Revision: rev}
	for _, tc := range []struct {
		name  string
		env   summary.Environment
		build buildinfo.Info
		want  string
	}{
		{"this build's run", summary.Environment{Harness: "v1.2.0 1a2b3c4d5e6f"}, this, rev},
		{"another build's run", summary.Environment{Harness: "v1.1.0 0f0f0f0f0f0f"}, this, ""},
		{"already stamped", summary.Environment{Harness: "v1.2.0 1a2b3c4d5e6f", HarnessRevision: "abc"}, this, "abc"},
		{"a build without VCS information", summary.Environment{Harness: "(devel)"}, buildinfo.Info{Version: "(devel)"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := tc.env
			stampRevision(&e, tc.build)
			if e.HarnessRevision != tc.want {
				t.Errorf("revision %q; want %q", e.HarnessRevision, tc.want)
			}
		})
	}
}

// TestStampCommit: the commit CI says is under test goes into the
// summary (GitHub's name first, then GitLab's); one already there stays.
func TestStampCommit(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		vars map[string]string
		had  string
		want string
	}{
		{map[string]string{}, "", ""},
		{map[string]string{"GITHUB_SHA": "abc123"}, "", "abc123"},
		{map[string]string{"CI_COMMIT_SHA": " def456 "}, "", "def456"},
		{map[string]string{"GITHUB_SHA": "abc123", "CI_COMMIT_SHA": "def456"}, "", "abc123"},
		{map[string]string{"GITHUB_SHA": "abc123"}, "old", "old"},
	}
	for _, tt := range tests {
		e := summary.Environment{Commit: tt.had}
		stampCommit(&e, env(tt.vars))
		if e.Commit != tt.want {
			t.Errorf("vars %v, had %q: commit %q; want %q", tt.vars, tt.had, e.Commit, tt.want)
		}
	}
}
