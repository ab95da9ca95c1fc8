package scenario_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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
