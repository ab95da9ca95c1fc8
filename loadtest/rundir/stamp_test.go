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
