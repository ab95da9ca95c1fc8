package engine_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/scenario"
)

// TestPlanOfShippedScenarios holds the execution plan of every shipped
// scenario to its golden file (testdata/plan/<name>.txt).
func TestPlanOfShippedScenarios(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("scenarios/*.yaml = %v, %v", files, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := scenario.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := engine.WritePlan(&b, f, "http://127.0.0.1:5000"); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("plan", f.Name+".txt"), b.Bytes())
		})
	}
}

// TestPlanOfEveryExecutor covers what the shipped scenarios do not: a
// start time, a schedule with no set end, a custom time unit.
func TestPlanOfEveryExecutor(t *testing.T) {
	f, err := scenario.Load("../../cmd/harness/testdata/executors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f.Scenarios = append(f.Scenarios, scenario.Scenario{Name: "once", Executor: scenario.PerVUIterations, VUs: 2, Iterations: 3,
		StartTime: 5e9, Journeys: f.Scenarios[0].Journeys})
	var b bytes.Buffer
	if err := engine.WritePlan(&b, f, "http://127.0.0.1:5000"); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "plan/executors.txt", b.Bytes())
}

func TestPlanRefusesWhatCannotRun(t *testing.T) {
	var b bytes.Buffer
	if err := engine.WritePlan(&b, &scenario.File{Name: "empty"}, "http://x"); err == nil {
		t.Error("a file without scenarios: no error")
	}
	f := &scenario.File{Name: "odd", Scenarios: []scenario.Scenario{{Name: "x", Executor: "warp"}}}
	err := engine.WritePlan(&b, f, "http://x")
	if err == nil || !strings.Contains(err.Error(), `"warp"`) {
		t.Errorf("an unknown executor: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q before failing", b.String())
	}
	var failing failingWriter
	if err := engine.WritePlan(failing, parse(t, pingFile), "http://x"); !errors.Is(err, errFull) {
		t.Errorf("a failing writer: %v", err)
	}
}

var errFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errFull }
