package scenarios_test

import (
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/scenarios"
)

func TestLoadShippedByName(t *testing.T) {
	names := scenarios.Names()
	for _, want := range []string{"breakpoint", "failover", "gate", "load", "network", "smoke", "soak", "spike", "stress", "tour"} {
		f, err := scenarios.Load(want)
		if err != nil {
			t.Errorf("Load(%q): %v", want, err)
			continue
		}
		if f.Name != want || f.Path != "scenarios/"+want+".yaml" {
			t.Errorf("Load(%q) = %s from %s", want, f.Name, f.Path)
		}
	}
	if len(names) != 10 {
		t.Errorf("Names() = %v, want the ten shipped scenarios", names)
	}
}

func TestAllLoadsEveryShippedInNameOrder(t *testing.T) {
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range all {
		got = append(got, f.Name)
	}
	if want := scenarios.Names(); !slices.Equal(got, want) {
		t.Errorf("All() names %v; want %v", got, want)
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

// TestShippedJourneysDoNotRace: a journey that deletes logs in as users
// no other journey of its file logs in as. A write deletes the task it
// created; a browse of the same user, listing newest first, would read
// that task next and, if the delete came between, get a 404: errors the
// system did not make, failing the file's own error threshold.
func TestShippedJourneysDoNotRace(t *testing.T) {
	for _, name := range scenarios.Names() {
		f, err := scenarios.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, del := range sortedNames(f.Journeys) {
			if !deletes(f.Journeys[del]) {
				continue
			}
			a := f.Users.Of(del)
			for _, other := range sortedNames(f.Journeys) {
				if b := f.Users.Of(other); other != del && a.From <= b.To && b.From <= a.To {
					t.Errorf("%s: journey %s deletes and logs in as users %d to %d, which %s (users %d to %d) shares: give each its own under users.journeys",
						f.Path, del, a.From, a.To, other, b.From, b.To)
				}
			}
		}
	}
}

func deletes(j *scenario.Journey) bool {
	for _, st := range j.Steps {
		if st.Method == http.MethodDelete {
			return true
		}
	}
	return false
}

func sortedNames(m map[string]*scenario.Journey) []string {
	return slices.Sorted(maps.Keys(m))
}
