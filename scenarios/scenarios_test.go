package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/scenarios"
)

func TestLoadShippedByName(t *testing.T) {
	names := scenarios.Names()
	for _, want := range []string{"breakpoint", "load", "smoke", "soak", "spike", "stress", "tour"} {
		f, err := scenarios.Load(want)
		if err != nil {
			t.Errorf("Load(%q): %v", want, err)
			continue
		}
		if f.Name != want || f.Path != "scenarios/"+want+".yaml" {
			t.Errorf("Load(%q) = %s from %s", want, f.Name, f.Path)
		}
	}
	if len(names) != 7 {
		t.Errorf("Names() = %v, want the seven shipped scenarios", names)
	}
}

func TestLoadPrefersAFile(t *testing.T) {
	data, err := os.ReadFile("smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "name: smoke", "name: mine", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := scenarios.Load(path)
	if err != nil || f.Name != "mine" {
		t.Fatalf("Load(%s) = %+v, %v", path, f, err)
	}
}

func TestLoadUnknownSuggests(t *testing.T) {
	_, err := scenarios.Load("smok")
	if !errors.Is(err, scenarios.ErrUnknown) || !strings.Contains(err.Error(), `did you mean "smoke"`) {
		t.Errorf("Load(smok) = %v; want ErrUnknown with a suggestion", err)
	}
	if _, err := scenarios.Load("nothing/like/it.yaml"); !errors.Is(err, scenarios.ErrUnknown) {
		t.Errorf("a missing path must not fall back to a shipped name: %v", err)
	}
}
