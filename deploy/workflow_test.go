package deploy_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestWorkflowExample keeps the GitHub Actions example honest: it parses,
// every make target it calls exists, the harness commands it runs exist,
// and the reports it posts are the files those commands write.
func TestWorkflowExample(t *testing.T) {
	raw, err := os.ReadFile("../.github/workflows/pull-request.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			Steps []struct {
				Name string            `yaml:"name"`
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if _, ok := wf.On["pull_request"]; !ok {
		t.Error("the workflow does not run on pull requests")
	}
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var runs strings.Builder
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			runs.WriteString(st.Run + "\n")
			for _, v := range st.With {
				runs.WriteString(v + "\n")
			}
		}
	}
	all := runs.String()
	for _, m := range regexp.MustCompile(`make (\w[\w-]*)`).FindAllStringSubmatch(all, -1) {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m[1]) + `:`).Match(makefile) {
			t.Errorf("the workflow runs make %s, which the Makefile lacks", m[1])
		}
	}
	for _, want := range []string{
		"./bin/harness run", "-scenario smoke", "-out out/smoke",
		"out/smoke/report.md", "out/readiness/readiness.md", "$GITHUB_STEP_SUMMARY", "out/readiness/readiness.sarif",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the workflow lacks %q", want)
		}
	}
	// make check writes its reports where the summary step reads them.
	if !strings.Contains(string(makefile), "-out out/readiness") {
		t.Error("make check no longer writes out/readiness/")
	}
}
