package scenario_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/taskready/taskready/loadtest/scenario"
)

const schemaPath = "../../scenarios/scenario.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("scenario.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("scenario.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return sch
}

// asJSON turns a YAML document into the JSON value editors validate.
func asJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestShippedScenariosMatchTheSchema(t *testing.T) {
	sch := compileSchema(t)
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(asJSON(t, data)); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// TestSchemaAndLoaderAgree feeds the same broken files to both: what the
// schema refuses in an editor, the loader refuses at run time.
func TestSchemaAndLoaderAgree(t *testing.T) {
	sch := compileSchema(t)
	broken := map[string][2]string{
		"unknown executor":       {"executor: constant-vus", "executor: constant-vu"},
		"executor's wrong field": {"    vus: 2\n", "    vus: 2\n    rate: 5\n"},
		"missing required":       {"    duration: 30s\n    phase: steady", "    phase: steady"},
		"unit-less duration":     {"duration: 30s", "duration: 30"},
		"relative path":          {"path: /api/health", "path: api/health"},
		"status out of range":    {"check: {status: 200}", "check: {status: 700}"},
		"unknown top-level":      {"name: t\n", "name: t\nnmae: x\n"},
		"threshold not a string": {`["p(95)<300"]`, `[300]`},
		"stage without target":   {"{duration: 20s, target: 5, phase: spike}", "{duration: 20s, phase: spike}"},
	}
	if err := sch.Validate(asJSON(t, []byte(valid))); err != nil {
		t.Fatalf("the valid fixture fails the schema: %v", err)
	}
	for name, r := range broken {
		t.Run(name, func(t *testing.T) {
			data := []byte(strings.Replace(valid, r[0], r[1], 1))
			if sch.Validate(asJSON(t, data)) == nil {
				t.Error("the schema accepts it")
			}
			if _, err := scenario.Parse("t.yaml", data); err == nil {
				t.Error("the loader accepts it")
			}
		})
	}
}

// TestSchemaHasEveryExecutorsEntry: each executor's schema entry in the
// loader (scenario.ExecutorSpec) and in the JSON Schema editors read must
// name the same fields, so a new executor adds both.
func TestSchemaHasEveryExecutorsEntry(t *testing.T) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs struct {
			Scenario struct {
				Properties struct {
					Executor struct {
						Enum []string `json:"enum"`
					} `json:"executor"`
				} `json:"properties"`
				AllOf []struct {
					If struct {
						Properties struct {
							Executor struct {
								Const string `json:"const"`
							} `json:"executor"`
						} `json:"properties"`
					} `json:"if"`
					Then struct {
						Required      []string `json:"required"`
						PropertyNames struct {
							Enum []string `json:"enum"`
						} `json:"propertyNames"`
					} `json:"then"`
				} `json:"allOf"`
			} `json:"scenario"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	sc := doc.Defs.Scenario
	var names []string
	for _, e := range scenario.Executors {
		names = append(names, string(e))
	}
	if !sameSet(sc.Properties.Executor.Enum, names) {
		t.Errorf("the schema's executors %v, the loader's %v", sc.Properties.Executor.Enum, names)
	}
	for _, e := range scenario.Executors {
		spec, ok := e.Spec()
		if !ok {
			t.Fatalf("%s has no schema entry", e)
		}
		found := false
		for _, entry := range sc.AllOf {
			if entry.If.Properties.Executor.Const != string(e) {
				continue
			}
			found = true
			if !sameSet(entry.Then.Required, spec.Required) {
				t.Errorf("%s: the schema requires %v, the loader %v", e, entry.Then.Required, spec.Required)
			}
			fields := append([]string{"executor", "startTime", "journeys"}, spec.Required...)
			if !sameSet(entry.Then.PropertyNames.Enum, append(fields, spec.Allowed...)) {
				t.Errorf("%s: the schema allows %v, the loader %v and %v", e, entry.Then.PropertyNames.Enum, fields, spec.Allowed)
			}
		}
		if !found {
			t.Errorf("%s: no entry in the schema's allOf", e)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}

// TestRegisterExecutorRefusesATakenName: a registration never replaces a
// schema entry, built in or registered.
func TestRegisterExecutorRefusesATakenName(t *testing.T) {
	err := scenario.RegisterExecutor(scenario.ConstantVUs, scenario.ExecutorSpec{Required: []string{"rate"}, Open: true})
	if !errors.Is(err, scenario.ErrExecutorTaken) {
		t.Errorf("registering constant-vus again: %v, want ErrExecutorTaken", err)
	}
	if spec, _ := scenario.ConstantVUs.Spec(); spec.Open || !slices.Equal(spec.Required, []string{"vus", "duration"}) {
		t.Errorf("constant-vus's entry changed: %+v", spec)
	}
	if err := scenario.RegisterExecutor("", scenario.ExecutorSpec{}); err == nil {
		t.Error("an empty name registered")
	}
}
