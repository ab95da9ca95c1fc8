package buildinfo_test

import (
	"runtime/debug"
	"testing"

	"github.com/taskready/taskready/internal/buildinfo"
)

func TestFrom(t *testing.T) {
	t.Parallel()
	const rev = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
	settings := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		bi          *debug.BuildInfo
		short, long string
		revision    string
	}{
		{"nil", nil, "", "(unknown version)", ""},
		{"release", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}, Settings: settings("vcs.revision", rev)},
			"v1.2.0 1a2b3c4d5e6f", "v1.2.0 1a2b3c4d5e6f, go1.26.0", rev},
		{"working tree, modified", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", rev, "vcs.modified", "true")},
			"(devel) 1a2b3c4d5e6f", "(devel) 1a2b3c4d5e6f (modified), go1.26.0", rev},
		{"pseudo-version carries the revision", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261207120000-1a2b3c4d5e6f+dirty"}, Settings: settings("vcs.revision", rev, "vcs.modified", "true")},
			"v0.0.0-20261207120000-1a2b3c4d5e6f+dirty", "v0.0.0-20261207120000-1a2b3c4d5e6f+dirty", rev},
		{"no vcs", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}, "(devel)", "(devel), go1.26.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			i := buildinfo.From(tc.bi)
			if got := i.Short(); got != tc.short {
				t.Errorf("Short() = %q; want %q", got, tc.short)
			}
			if got := i.String(); got != tc.long {
				t.Errorf("String() = %q; want %q", got, tc.long)
			}
			if i.Revision != tc.revision {
				t.Errorf("Revision = %q; want %q", i.Revision, tc.revision)
			}
		})
	}
}

// TestRead reads the test binary's own build: it always has a Go release.
func TestRead(t *testing.T) {
	t.Parallel()
	if i := buildinfo.Read(); i.GoVersion == "" {
		t.Errorf("Read() = %+v; want at least the Go release", i)
	}
}
