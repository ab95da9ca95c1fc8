// Package buildinfo reads what a binary recorded about its own build: the
// module version and the VCS revision it was built from. The harness
// prints it (harness version) and stamps it into its reports, and the API
// exports it as taskapi_build_info, so that a report names exactly which
// code produced it and which code it judged.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Unknown is what a report says when a build recorded no version or
// revision, or a target did not tell its own.
const Unknown = "unknown"

// Info is a binary's build: its module version, VCS revision and Go
// release.
type Info struct {
	// Version is the main module's version: a release ("v1.2.0"), a
	// pseudo-version, or "(devel)" for a build from a working tree.
	Version string `json:"version"`
	// Revision is the full VCS revision, "" when the build recorded none
	// (go run, a build outside a repository, -buildvcs=false).
	Revision string `json:"revision,omitempty"`
	// Modified is true when the working tree had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the Go release that built the binary.
	GoVersion string `json:"go_version,omitempty"`
}

// Read is the running binary's build information; the zero Info when the
// binary carries none.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{}
	}
	return From(bi)
}

// From extracts Info from a binary's build information.
func From(bi *debug.BuildInfo) Info {
	if bi == nil {
		return Info{}
	}
	i := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// ShortRevision is the revision's first 12 characters, as git abbreviates
// it in logs; "" without a revision.
func (i Info) ShortRevision() string {
	if len(i.Revision) > 12 {
		return i.Revision[:12]
	}
	return i.Revision
}

// Short is the version and short revision in one word pair, for report
// headers: "v1.2.0 1a2b3c4d5e6f". A pseudo-version already carries the
// revision, so it stands alone.
func (i Info) Short() string {
	rev := i.ShortRevision()
	if rev == "" || strings.Contains(i.Version, rev) {
		return i.Version
	}
	if i.Version == "" {
		return rev
	}
	return i.Version + " " + rev
}

// String is the long form harness version prints: the short form, whether
// the tree was modified, and the Go release: "v1.2.0 1a2b3c4d5e6f
// (modified), go1.26.0".
func (i Info) String() string {
	v := i.Short()
	if v == "" {
		v = "(unknown version)"
	}
	if i.Modified && !strings.Contains(v, "+dirty") {
		// A pseudo-version of a modified tree already ends in +dirty.
		v += " (modified)"
	}
	if i.GoVersion != "" {
		v += ", " + i.GoVersion
	}
	return v
}
