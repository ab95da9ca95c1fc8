package dashboards_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/taskready/taskready/dashboards"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/scenarios"
)

// TestCommittedMatchGenerator fails when someone edits a dashboard's JSON
// by hand or changes the code without `harness dashboards generate`.
func TestCommittedMatchGenerator(t *testing.T) {
	loads, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	if err := dashboards.Check(".", loads); err != nil {
		t.Fatal(err)
	}
	files, err := dashboards.Files(loads)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range files {
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "service.json"), []byte("{}\n"), 0o644)
	os.Remove(filepath.Join(dir, "readiness.json"))
	err = dashboards.Check(dir, loads)
	if !errors.Is(err, dashboards.ErrStale) || !strings.Contains(err.Error(), "service.json") || !strings.Contains(err.Error(), "readiness.json") {
		t.Errorf("Check of an edited and a missing file: %v; want ErrStale naming both", err)
	}
}

// TestImportIntoGrafanaSchema decodes every committed dashboard strictly
// into the SDK's Grafana types and encodes it again: nothing may be lost
// or unknown on the way.
func TestImportIntoGrafanaSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	names, _ := filepath.Glob("*.json")
	if len(names) < 3 {
		t.Fatalf("committed dashboards %v; want service, readiness and the load tests", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			// The strict decoder finds unknown, missing and mistyped
			// fields but (SDK v0.0.22) leaves panels empty; the plain one
			// fills every field, and must lose none on the way back.
			var checked, d dashboard.Dashboard
			if err := strict(&checked, raw); err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			again, err := dashboards.Encode(d)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			json.Unmarshal(raw, &a)
			json.Unmarshal(again, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("decoded and encoded again, %s differs:\n%s", name, firstDiff(raw, again))
			}
			qs, err := dashboards.Queries(raw)
			if err != nil || len(qs) == 0 {
				t.Fatalf("queries: %v, %d", err, len(qs))
			}
			ids := map[float64]bool{}
			for _, p := range a.(map[string]any)["panels"].([]any) {
				id := p.(map[string]any)["id"].(float64)
				if ids[id] {
					t.Errorf("panel id %v used twice", id)
				}
				ids[id] = true
			}
		})
	}
}

// strict decodes raw into d with the SDK's strict decoder, which reports
// success as a nil cog.BuildErrors inside a non-nil error.
func strict(d *dashboard.Dashboard, raw []byte) error {
	err := d.UnmarshalJSONStrict(raw)
	if errs, ok := err.(cog.BuildErrors); ok && len(errs) == 0 {
		return nil
	}
	return err
}

func firstDiff(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			lo := max(0, i-80)
			return "…" + string(a[lo:min(len(a), i+80)]) + "\n  vs\n…" + string(b[lo:min(len(b), i+80)])
		}
	}
	return "lengths differ"
}

// TestLoadFollowsTheScenario: an endpoint or threshold added to a file
// appears in its dashboard without a hand edit.
func TestLoadFollowsTheScenario(t *testing.T) {
	f, err := scenario.Parse("t.yaml", []byte(`
name: grow
scenarios:
  open:
    executor: constant-arrival-rate
    rate: 10
    duration: 5s
    preAllocatedVUs: 2
    maxVUs: 5
    journeys: [j]
  closed:
    executor: constant-vus
    vus: 1
    duration: 5s
    journeys: [j]
journeys:
  j:
    - name: archive
      request: {method: POST, path: /api/tasks/archive}
    - name: export
      endpoint: bulk-export
      request: {method: GET, path: /api/export}
thresholds:
  "http_req_duration{endpoint:bulk-export}": ["p(99)<1500", "med<200"]
  "http_req_failed{scenario:open}": ["rate<0.02"]
  "http_reqs": ["count>10"]
  checks: ["rate>0.9"]
`))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := dashboards.JSON(dashboards.Load(f))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title       string `json:"title"`
			FieldConfig struct {
				Defaults struct {
					Unit       string `json:"unit"`
					Thresholds struct {
						Steps []struct {
							Value *float64 `json:"value"`
							Color string   `json:"color"`
						} `json:"steps"`
					} `json:"thresholds"`
				} `json:"defaults"`
			} `json:"fieldConfig"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID != "taskready-load-grow" {
		t.Errorf("uid %q", d.UID)
	}
	vars := map[string]any{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Query
	}
	if vars["endpoint"] != "archive,bulk-export" || vars["scenario"] != "open,closed" {
		t.Errorf("variables %v; want the file's endpoints and scenarios", vars)
	}
	panels := map[string]int{}
	for i, p := range d.Panels {
		panels[p.Title] = i
	}
	// One panel per selector Prometheus can draw; checks has no series.
	for _, title := range []string{"Target vs achieved rate", "Dropped iterations",
		"Threshold http_req_duration{endpoint:bulk-export}", "Threshold http_req_failed{scenario:open}", "Threshold http_reqs"} {
		if _, ok := panels[title]; !ok {
			t.Errorf("no panel %q in %v", title, panels)
		}
	}
	if _, ok := panels["Threshold checks"]; ok {
		t.Error("a panel for checks, which the harness does not export")
	}
	p := d.Panels[panels["Threshold http_req_duration{endpoint:bulk-export}"]]
	if len(p.Targets) != 2 || !strings.Contains(p.Targets[0].Expr, `histogram_quantile(0.99,`) || !strings.Contains(p.Targets[0].Expr, `endpoint="bulk-export"`) ||
		!strings.Contains(p.Targets[1].Expr, "histogram_quantile(0.5,") {
		t.Errorf("threshold targets %+v", p.Targets)
	}
	steps := p.FieldConfig.Defaults.Thresholds.Steps
	if p.FieldConfig.Defaults.Unit != "s" || len(steps) != 3 || *steps[1].Value != 0.2 || *steps[2].Value != 1.5 || steps[0].Color != "green" {
		t.Errorf("bounds %+v in %s; want 0.2 s and 1.5 s over green", steps, p.FieldConfig.Defaults.Unit)
	}
	// A lower bound flips the colors: under the line is the bad side.
	if st := d.Panels[panels["Threshold http_reqs"]].FieldConfig.Defaults.Thresholds.Steps; len(st) != 2 || st[0].Color != "red" || *st[1].Value != 10 {
		t.Errorf("count>10 steps %+v; want red under 10", st)
	}
}

func TestExpand(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`rate(x{a=~"$instance"}[$__rate_interval])`, `rate(x{a=~".*"}[5s])`},
		{`x{a=~"${route}", b=~"${route:regex}"}`, `x{a=~".*", b=~".*"}`},
		{`sum(x) / $__range_s`, `sum(x) / 5`},
		{`no variables`, `no variables`},
	} {
		if got := dashboards.Expand(tc.in, 5e9); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQueriesRefuseAPanelWithoutQuery(t *testing.T) {
	_, err := dashboards.Queries([]byte(`{"title":"b","panels":[{"type":"row","title":"r"},{"type":"timeseries","title":"empty"}]}`))
	if err == nil || !strings.Contains(err.Error(), `"empty"`) {
		t.Errorf("err %v; want the panel named", err)
	}
	if _, err := dashboards.Queries([]byte(`not json`)); err == nil {
		t.Error("no error for bad JSON")
	}
	qs, err := dashboards.Queries(bytes.TrimSpace([]byte(`{"title":"b","panels":[{"type":"stat","title":"s","targets":[{"expr":"up","legendFormat":"l"}]}],"annotations":{"list":[{"name":"a","expr":"x == 1"},{"name":"builtin"}]}}`)))
	if err != nil || len(qs) != 2 || qs[1].Panel != "annotation: a" {
		t.Errorf("queries %+v, %v", qs, err)
	}
}
