package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/taskready/taskready/loadtest/scenario"
)

// ErrStale is returned by Check when a committed file differs from what
// the code generates.
var ErrStale = errors.New("dashboards differ from the generator")

// Build builds d and numbers its panels in order, so the JSON is the same
// on every run (Grafana would otherwise assign ids at import).
func Build(d *dashboard.DashboardBuilder) (dashboard.Dashboard, error) {
	out, err := d.Build()
	if err != nil {
		return out, fmt.Errorf("build dashboard: %w", err)
	}
	id := uint32(1)
	for _, p := range out.Panels {
		switch {
		case p.Panel != nil:
			p.Panel.Id = cog.ToPtr(id)
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
		id++
	}
	return out, nil
}

// Encode is the committed form of d: indented JSON ending in a newline.
func Encode(d dashboard.Dashboard) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode dashboard: %w", err)
	}
	return append(b, '\n'), nil
}

// Boards are every dashboard by file name: the service's, the readiness
// report's, and one load-test dashboard per scenario of loads (the
// harness passes its shipped ones, so this package needs no scenario files
// of its own).
func Boards(loads []*scenario.File) map[string]*dashboard.DashboardBuilder {
	out := map[string]*dashboard.DashboardBuilder{
		"service.json":   Service(),
		"readiness.json": Readiness(),
	}
	for _, f := range loads {
		out[LoadFile(f)] = Load(f)
	}
	return out
}

// LoadFile is the file name of the load-test dashboard of f.
func LoadFile(f *scenario.File) string { return "load-" + f.Name + ".json" }

// Files are the encoded dashboards of Boards(loads) by file name.
func Files(loads []*scenario.File) (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, b := range Boards(loads) {
		var err error
		if out[name], err = JSON(b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

// Write writes every dashboard of Boards(loads) into dir and returns the
// names written.
func Write(dir string, loads []*scenario.File) ([]string, error) {
	files, err := Files(loads)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// Check compares dir with what Write would write: the names of the files
// that differ or are missing, wrapped in ErrStale, or nil.
func Check(dir string, loads []*scenario.File) error {
	files, err := Files(loads)
	if err != nil {
		return err
	}
	var stale []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, files[name]) {
			stale = append(stale, name)
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("%w: %v (run harness dashboards generate)", ErrStale, stale)
	}
	return nil
}

// JSON builds d and encodes it as committed.
func JSON(d *dashboard.DashboardBuilder) ([]byte, error) {
	built, err := Build(d)
	if err != nil {
		return nil, err
	}
	return Encode(built)
}
