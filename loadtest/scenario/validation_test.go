package scenario_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/taskready/taskready/loadtest/scenario"
)

func TestProblems(t *testing.T) {
	_, parseErr := scenario.Parse("two.yaml", []byte("name: two\nscenarios: {}\njourneys: {}\nnope: 1\n"))
	if parseErr == nil {
		t.Fatal("Parse of a bad file succeeded")
	}
	tests := []struct {
		name string
		err  error
		want []scenario.Problem
	}{
		{"joined problems of a file", parseErr, nil},
		{"a plain error", fmt.Errorf("%w: open x.yaml: no such file", scenario.ErrInvalid),
			[]scenario.Problem{{File: "x.yaml", Msg: "open x.yaml: no such file"}}},
		{"a problem wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", scenario.Problem{File: "y.yaml", Line: 3, Msg: "m"})),
			[]scenario.Problem{{File: "y.yaml", Line: 3, Msg: "m"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scenario.Problems("x.yaml", tt.err)
			if tt.want == nil {
				// Every problem Parse found, each with its line.
				if len(got) < 2 {
					t.Fatalf("Problems = %+v; want each problem of %q", got, tt.err)
				}
				for _, p := range got {
					if p.File != "two.yaml" || p.Msg == "" || !errors.Is(tt.err, scenario.ErrInvalid) {
						t.Errorf("problem %+v", p)
					}
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Problems = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestValidationJSON(t *testing.T) {
	v := scenario.NewValidation()
	data, _ := json.Marshal(v)
	if string(data) != `{"valid":true,"files":[],"errors":[]}` {
		t.Errorf("no files: %s; want valid with empty lists", data)
	}
	v.Add("ok.yaml", &scenario.File{Scenarios: make([]scenario.Scenario, 2)}, nil)
	v.Add("bad.yaml", nil, scenario.Problem{File: "bad.yaml", Line: 2, Field: "name", Msg: "is required"})
	data, _ = json.Marshal(v)
	want := `{"valid":false,"files":[{"path":"ok.yaml","valid":true,"scenarios":2},{"path":"bad.yaml","valid":false}],` +
		`"errors":[{"file":"bad.yaml","line":2,"field":"name","message":"is required"}]}`
	if string(data) != want {
		t.Errorf("JSON\n%s\nwant\n%s", data, want)
	}
}
