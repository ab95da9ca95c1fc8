package scenario_test

import (
	"path/filepath"
	"testing"

	"github.com/taskready/taskready/loadtest/scenario"
)

func TestShippedScenariosLoad(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) != 10 {
		t.Fatalf("scenarios/*.yaml = %v, %v; want the 10 shipped scenarios", files, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := scenario.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if f.Name+".yaml" != filepath.Base(path) {
				t.Errorf("name %q does not match the file name", f.Name)
			}
		})
	}
}
