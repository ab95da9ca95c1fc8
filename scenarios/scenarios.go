// Package scenarios holds the scenario files shipped with the harness,
// embedded so that `harness run -scenario smoke` works from any directory.
package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/taskready/taskready/internal/spelling"
	"github.com/taskready/taskready/loadtest/scenario"
)

//go:embed *.yaml
var files embed.FS

// ErrUnknown is returned by Load for a name that is neither a file nor a
// shipped scenario.
var ErrUnknown = errors.New("no such scenario")

// Names lists the shipped scenarios, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// All loads every shipped scenario, in the order of Names.
func All() ([]*scenario.File, error) {
	var out []*scenario.File
	for _, name := range Names() {
		f, err := Load(name)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// Load reads a scenario: a path to a file when one exists there, else the
// shipped scenario of that name ("smoke").
func Load(nameOrPath string) (*scenario.File, error) {
	if _, err := os.Stat(nameOrPath); err == nil {
		return scenario.Load(nameOrPath)
	}
	name := strings.TrimSuffix(path.Base(nameOrPath), ".yaml")
	data, err := files.ReadFile(name + ".yaml")
	if err != nil || strings.ContainsAny(nameOrPath, `/\`) {
		hint := ""
		if best := closest(name); best != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", best)
		}
		return nil, fmt.Errorf("%w: %q is not a file nor one of %s%s", ErrUnknown, nameOrPath, strings.Join(Names(), ", "), hint)
	}
	return scenario.Parse("scenarios/"+name+".yaml", data)
}

// closest is the shipped name within two edits of name, "" if none.
func closest(name string) string { return spelling.Closest(name, Names(), 2) }
