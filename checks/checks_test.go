package checks_test

import (
	"testing"

	"github.com/taskready/taskready/checks"
	"github.com/taskready/taskready/checks/readiness"
)

// The registry is a valid run (unique ids, known severities) whose every
// category is one check.Categories declares.
func TestAllIsAValidRun(t *testing.T) {
	all := checks.All()
	if _, err := readiness.New(all); err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if m := c.Meta(); m.Category.Order() == 0 {
			t.Errorf("%s: category %q is not one check.Categories declares", m.ID, m.Category)
		}
	}
	if len(all) < 50 {
		t.Errorf("%d checks; want the whole registry (over 50)", len(all))
	}
}
