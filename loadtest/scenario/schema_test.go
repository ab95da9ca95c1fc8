package scenario_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

	// Faults: what the schema can see without cross-references (phases
	// that exist, unique names, until after the start are the loader's).
	brokenFaults := map[string][2]string{
		"fault's unknown field":  {"    until: recovery", "    untill: recovery"},
		"fault without a name":   {"  - name: mongo-down\n", "  -\n"},
		"unknown action":         {"action: stop", "action: stpo"},
		"at and phase":           {"    at: 30s\n", "    at: 30s\n    phase: steady\n"},
		"no start":               {"    at: 30s\n", ""},
		"offset without phase":   {"    at: 30s\n", "    at: 30s\n    offset: 5s\n"},
		"for and until":          {"    for: 10s\n", "    for: 10s\n    until: recovery\n"},
		"no end but for a kill":  {"    for: 10s\n", ""},
		"latency missing":        {"    latency: 200ms\n", ""},
		"latency on a stop":      {"    for: 10s\n", "    for: 10s\n    latency: 1s\n"},
		"latency on a component": {"    target: mongo\n", "    target: mongo-0\n"},
		"stop of a link":         {"target: mongo-0", "target: mongo"},
		"fault's unit-less at":   {"at: 30s", "at: 30"},
		"faults not a list":      {"faults:\n  - name: mongo-down", "faults: {name: mongo-down}\nx:\n  - name: mongo-down"},
	}
	if err := sch.Validate(asJSON(t, []byte(withFaults))); err != nil {
		t.Fatalf("the faults fixture fails the schema: %v", err)
	}
	for name, r := range brokenFaults {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(withFaults, r[0]) {
				t.Fatalf("fixture lacks %q", r[0])
			}
			data := []byte(strings.Replace(withFaults, r[0], r[1], 1))
			if sch.Validate(asJSON(t, data)) == nil {
				t.Error("the schema accepts it")
			}
			if _, err := scenario.Parse("f.yaml", data); err == nil {
				t.Error("the loader accepts it")
			}
		})
	}
}

// TestSchemaHasTheFaultsEntry: a fault's keys, actions and links are the
// same in the loader and in the JSON Schema, so a new one adds both.
func TestSchemaHasTheFaultsEntry(t *testing.T) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Properties struct {
			Faults struct {
				Items struct {
					Ref string `json:"$ref"`
				} `json:"items"`
			} `json:"faults"`
		} `json:"properties"`
		Defs struct {
			Fault struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
				AllOf []struct {
					Then struct {
						Properties struct {
							Target struct {
								Enum []string `json:"enum"`
							} `json:"target"`
						} `json:"properties"`
					} `json:"then"`
				} `json:"allOf"`
			} `json:"fault"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Properties.Faults.Items.Ref != "#/$defs/fault" {
		t.Fatalf("faults' items are %q; want #/$defs/fault", doc.Properties.Faults.Items.Ref)
	}
	fault := doc.Defs.Fault
	if got := fault.Properties["action"].Enum; !slices.Equal(got, scenario.FaultActions) {
		t.Errorf("the schema's actions %v, the loader's %v", got, scenario.FaultActions)
	}
	var links []string
	for _, entry := range fault.AllOf {
		links = append(links, entry.Then.Properties.Target.Enum...)
	}
	if !sameSet(links, scenario.FaultLinks) {
		t.Errorf("the schema's links %v, the loader's %v", links, scenario.FaultLinks)
	}

	// The loader lists the keys it knows when an unknown one is nothing
	// like any of them.
	_, err = scenario.Parse("f.yaml", []byte(strings.Replace(withFaults, "    for: 10s\n", "    for: 10s\n    zzzzzzzzzzzz: 1\n", 1)))
	msg := fmt.Sprint(err)
	_, known, ok := strings.Cut(msg, "faults[0].zzzzzzzzzzzz: unknown field (known: ")
	if !ok {
		t.Fatalf("the loader does not list a fault's keys: %v", err)
	}
	known, _, _ = strings.Cut(known, ")")
	var schemaKeys []string
	for k := range fault.Properties {
		schemaKeys = append(schemaKeys, k)
	}
	if loaderKeys := strings.Split(known, ", "); !sameSet(schemaKeys, loaderKeys) {
		t.Errorf("the schema's fault keys %v, the loader's %v", slices.Sorted(slices.Values(schemaKeys)), loaderKeys)
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

// TestSchemaAgreesOnLinkFaults: the JSON Schema accepts every valid fault
// on a link and refuses what it can see of the broken ones.
func TestSchemaAgreesOnLinkFaults(t *testing.T) {
	sch := compileSchema(t)
	for _, tt := range linkFaults {
		if err := sch.Validate(asJSON(t, []byte(linkFault(tt.lines)))); err != nil {
			t.Errorf("the schema refuses %q: %v", tt.lines, err)
		}
	}
	for _, tt := range linkFaultProblems {
		if err := sch.Validate(asJSON(t, []byte(linkFault(tt.lines)))); tt.schema && err == nil {
			t.Errorf("%s: the schema accepts it", tt.name)
		} else if !tt.schema && err != nil {
			t.Errorf("%s: the schema refuses it (%v); mark it as one the schema sees", tt.name, err)
		}
	}
}
