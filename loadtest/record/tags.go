package record

import (
	"fmt"
	"sort"
)

// The tag keys a selection may use, one per field of Key.
const (
	TagScenario = "scenario"
	TagEndpoint = "endpoint"
	TagPhase    = "phase"
)

// Tag returns the value of tag key name ("scenario", "endpoint" or
// "phase") and whether k has such a tag.
func (k Key) Tag(name string) (string, bool) {
	switch name {
	case TagScenario:
		return k.Scenario, true
	case TagEndpoint:
		return k.Endpoint, true
	case TagPhase:
		return k.Phase, true
	}
	return "", false
}

// Match reports whether k has every tag of tags with the same value. A tag
// key that Key does not have never matches.
func (k Key) Match(tags map[string]string) bool {
	for name, want := range tags {
		if got, ok := k.Tag(name); !ok || got != want {
			return false
		}
	}
	return true
}

// CheckTags returns an error naming the first (in sorted order) tag key of
// tags that a selection cannot use, so that a threshold on an unknown tag
// is rejected when the scenario is read rather than passing for lack of
// data.
func CheckTags(tags map[string]string) error {
	names := make([]string, 0, len(tags))
	for name := range tags {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := (Key{}).Tag(name); !ok {
			return fmt.Errorf("record: results are not tagged by %q; use %s, %s or %s", name, TagScenario, TagEndpoint, TagPhase)
		}
	}
	return nil
}
