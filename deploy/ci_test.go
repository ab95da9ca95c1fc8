package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	checkreport "github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/gotool"
	"github.com/taskready/taskready/internal/testbin"
	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/rundir"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// actionlintModule is the actionlint the tests and `make lint-ci` run.
const actionlintModule = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// The CI files, relative to this package.
const (
	githubWorkflow = "../.github/workflows/gate.yml"
	gitlabCI       = "../.gitlab-ci.yml"
	makefile       = "../Makefile"
)

// The load job's directories, as the CI files pass them to the make
// targets: the run, and the baseline a cache or artifact restores.
const (
	loadOut      = "out/load"
	loadBaseline = "baseline"
)

// Every workflow is actionlint clean (with shellcheck over the run:
// scripts when it is installed), and the check can fail: the same
// workflow with a misspelt step id is a finding.
func TestCIActionlint(t *testing.T) {
	t.Parallel()
	bin := gotool.Binary(t, actionlintModule, "ACTIONLINT")
	workflows, err := filepath.Glob("../.github/workflows/*.y*ml")
	if err != nil || len(workflows) == 0 {
		t.Fatalf("no workflow in ../.github/workflows (%v)", err)
	}
	if out, err := actionlint(t, bin, workflows...); err != nil || len(out) > 0 {
		t.Errorf("actionlint: %v\n%s", err, out)
	}

	raw, err := os.ReadFile(githubWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), ".github", "workflows", "broken.yml")
	if err := os.MkdirAll(filepath.Dir(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, bytes.ReplaceAll(raw, []byte("steps.key.outputs"), []byte("steps.kye.outputs")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := actionlint(t, bin, broken); err == nil || !bytes.Contains(out, []byte(`"kye"`)) {
		t.Errorf("actionlint found nothing in a workflow naming a step that does not exist (%v):\n%s", err, out)
	}

	mk, err := os.ReadFile(makefile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mk, []byte("ACTIONLINT ?= $(GO) run "+actionlintModule+"\n")) {
		t.Errorf("make lint-ci does not run %s, which the tests run", actionlintModule)
	}
}

// actionlint runs bin over files, one finding a line.
func actionlint(t *testing.T, bin string, files ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, bin, append([]string{"-no-color", "-oneline"}, files...)...).CombinedOutput()
}

// workflow is the part of a GitHub Actions workflow the tests read.
type workflow struct {
	On   map[string]any    `yaml:"on"`
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		Steps []struct {
			ID   string            `yaml:"id"`
			Name string            `yaml:"name"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// gitlabJob is the part of a GitLab CI job the tests read.
type gitlabJob struct {
	BeforeScript []string `yaml:"before_script"`
	Script       []string `yaml:"script"`
	Artifacts    struct {
		Paths   []string          `yaml:"paths"`
		Reports map[string]string `yaml:"reports"`
	} `yaml:"artifacts"`
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// ciText is the shell and the paths of one CI file: every script, and
// every value handed to an action or naming an artifact.
type ciText struct {
	file    string
	scripts []string // in the order they run
	values  []string
	// loadJob is the job that runs the load gate.
	loadJob []string
	// scenarios are the LOAD_SCENARIO values the file sets.
	scenarios []string
}

func readCI(t *testing.T) []ciText {
	t.Helper()
	var gh workflow
	readYAML(t, githubWorkflow, &gh)
	if _, ok := gh.On["pull_request"]; !ok {
		t.Error("the workflow does not run on pull requests")
	}
	if _, ok := gh.On["push"]; !ok {
		t.Error("the workflow does not run on pushes (nothing would store a baseline)")
	}
	g := ciText{file: githubWorkflow, scenarios: []string{gh.Env["LOAD_SCENARIO"]}}
	for name, job := range gh.Jobs {
		for _, st := range job.Steps {
			g.scripts = append(g.scripts, st.Run)
			if name == "load" {
				g.loadJob = append(g.loadJob, st.Run)
			}
			for _, v := range st.With {
				g.values = append(g.values, v)
			}
		}
	}
	if g.loadJob == nil {
		t.Errorf("%s has no job named load", githubWorkflow)
	}

	var gl map[string]any
	readYAML(t, gitlabCI, &gl)
	l := ciText{file: gitlabCI}
	if vars, ok := gl["variables"].(map[string]any); ok {
		l.scenarios = append(l.scenarios, vars["LOAD_SCENARIO"].(string))
	}
	raw, err := yaml.Marshal(gl["load"])
	if err != nil {
		t.Fatal(err)
	}
	var job gitlabJob
	if err := yaml.Unmarshal(raw, &job); err != nil || len(job.Script) == 0 {
		t.Fatalf("%s: no job named load with a script (%v)", gitlabCI, err)
	}
	l.scripts = append(job.BeforeScript, job.Script...)
	l.loadJob = job.Script
	l.values = job.Artifacts.Paths
	for _, p := range job.Artifacts.Reports {
		l.values = append(l.values, p)
	}
	for kind, want := range map[string]string{"load_performance": loadOut + "/load-performance.json", "junit": loadOut + "/junit.xml"} {
		if job.Artifacts.Reports[kind] != want {
			t.Errorf("%s publishes %q as its %s report; want %s", gitlabCI, job.Artifacts.Reports[kind], kind, want)
		}
	}
	return []ciText{g, l}
}

// makeTargets are the Makefile's targets: their prerequisites and their
// recipes, each with its continued lines joined.
type makeTarget struct {
	prereqs []string
	recipe  string
}

func readMakefile(t *testing.T) map[string]makeTarget {
	t.Helper()
	raw, err := os.ReadFile(makefile)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	targets := map[string]makeTarget{}
	var cur string
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, "\t"); ok && cur != "" {
			tg := targets[cur]
			tg.recipe += rest
			targets[cur] = tg
			continue
		}
		cur = ""
		if m := regexp.MustCompile(`^([a-z][\w-]*):(?:[^=]|$)(.*)`).FindStringSubmatch(line); m != nil {
			cur = m[1]
			targets[cur] = makeTarget{prereqs: strings.Fields(m[2])}
		}
	}
	return targets
}

// makeCalls are the make targets a script runs, in order, with the
// variables each call sets: `make ci-load LOAD_OUT=out/load` or, in a
// recipe, `$(MAKE) --no-print-directory ci-gate ...`.
type makeCall struct {
	target string
	vars   map[string]string
}

var makeCallRE = regexp.MustCompile(`(?:\bmake|\$\(MAKE\))((?:[ \t]+[^\s;&|]+)+)`)

func makeCalls(script string) []makeCall {
	var calls []makeCall
	for _, m := range makeCallRE.FindAllStringSubmatch(script, -1) {
		vars := map[string]string{}
		var targets []string
		for _, w := range strings.Fields(m[1]) {
			switch k, v, ok := strings.Cut(w, "="); {
			case ok:
				vars[k] = strings.Trim(v, `"`)
			case !strings.HasPrefix(w, "-"):
				targets = append(targets, w)
			}
		}
		for _, tg := range targets {
			calls = append(calls, makeCall{tg, vars})
		}
	}
	return calls
}

// harnessCallRE is a harness invocation in a script or recipe: the
// command, then the rest of its shell statement.
var harnessCallRE = regexp.MustCompile(`(?:\./bin/harness|\$\(LOAD_HARNESS\))[ \t]+([a-z][\w-]*)([^;&|\n]*)`)

// flagRE is a flag in a statement, also inside ${v:+-flag "$v"}.
var flagRE = regexp.MustCompile(`(?:^|[\s+])(-[a-z][\w-]*)`)

// Everything the CI files run exists: each make target (and those the
// targets run in turn), each harness command with each flag it is given
// and each -format it is asked for; each path they read is one the
// repository has or the commands write; and the scenario they run is a
// shipped one.
func TestCIFilesUseWhatExists(t *testing.T) {
	t.Parallel()
	targets := readMakefile(t)
	harness := testbin.Path(t, "github.com/taskready/taskready/cmd/harness")

	// The run directory's files, what ci-reports and ci-load add to it,
	// the compact baseline's files, and the readiness reports.
	loadFiles := strings.Split(rundir.Files(), ", ")
	loadFiles = append(loadFiles, rundir.HistogramsDir+"/"+rundir.RecorderFile, "exit-code")
	for _, m := range regexp.MustCompile(`-o \$\(LOAD_OUT\)/(\S+)`).FindAllStringSubmatch(targets["ci-reports"].recipe, -1) {
		loadFiles = append(loadFiles, m[1])
	}
	// ci-calibrate's result and the runs it keeps.
	for _, m := range regexp.MustCompile(`-(?:out|runs-dir) \$\(LOAD_OUT\)/(\S+)`).FindAllStringSubmatch(targets["ci-calibrate"].recipe, -1) {
		loadFiles = append(loadFiles, m[1])
	}
	baselineFiles := []string{rundir.SummaryFile, rundir.HistogramsDir + "/" + rundir.RecorderFile, "*"}
	readinessFiles := []string{checkreport.JSONFile, checkreport.MarkdownFile, checkreport.JUnitFile, checkreport.SARIFFile, checkreport.HTMLFile}
	if !strings.Contains(targets["check"].recipe, "-out out/readiness") {
		t.Error("make check no longer writes out/readiness/")
	}

	helps := map[string]string{}
	help := func(cmd string) string {
		if h, ok := helps[cmd]; ok {
			return h
		}
		out, err := exec.Command(harness, cmd, "-h").Output()
		if err != nil {
			out = nil
		}
		helps[cmd] = string(out)
		return helps[cmd]
	}

	for _, ci := range readCI(t) {
		// The scripts, and the recipes of the targets they run, and of the
		// targets those run.
		texts := slices.Clone(ci.scripts)
		seen := map[string]bool{}
		var queue []makeCall
		for _, s := range ci.scripts {
			queue = append(queue, makeCalls(s)...)
		}
		for len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			tg, ok := targets[c.target]
			if !ok {
				t.Errorf("%s runs make %s, which the Makefile lacks", ci.file, c.target)
				continue
			}
			if c.vars["LOAD_OUT"] != "" && !strings.HasPrefix(c.vars["LOAD_OUT"], "out/ci-dry-run/") && c.vars["LOAD_OUT"] != loadOut {
				t.Errorf("%s: make %s LOAD_OUT=%s; the paths it reads are under %s", ci.file, c.target, c.vars["LOAD_OUT"], loadOut)
			}
			if b := c.vars["LOAD_BASELINE"]; b != "" && !strings.HasPrefix(b, "out/ci-dry-run/") && !strings.Contains(b, "$") && b != loadBaseline {
				t.Errorf("%s: make %s LOAD_BASELINE=%s; the cache or artifact restores %s", ci.file, c.target, b, loadBaseline)
			}
			if seen[c.target] {
				continue
			}
			seen[c.target] = true
			texts = append(texts, tg.recipe)
			queue = append(queue, makeCalls(tg.recipe)...)
			for _, p := range tg.prereqs {
				queue = append(queue, makeCall{target: p})
			}
		}

		for _, text := range texts {
			for _, m := range harnessCallRE.FindAllStringSubmatch(text, -1) {
				cmd, rest := m[1], m[2]
				h := help(cmd)
				if h == "" {
					t.Errorf("%s runs harness %s, which the harness does not have", ci.file, cmd)
					continue
				}
				for _, f := range flagRE.FindAllStringSubmatch(rest, -1) {
					if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(f[1]) + `( |$)`).MatchString(h) {
						t.Errorf("%s runs harness %s %s, a flag harness %s -h does not list", ci.file, cmd, f[1], cmd)
					}
				}
				for _, f := range regexp.MustCompile(`-format ([\w-]+)`).FindAllStringSubmatch(rest, -1) {
					if !regexp.MustCompile(`\b` + regexp.QuoteMeta(f[1]) + `\b`).MatchString(h) {
						t.Errorf("%s asks harness %s for -format %s, which its help does not list", ci.file, cmd, f[1])
					}
				}
			}
		}

		for _, text := range append(slices.Clone(texts), ci.values...) {
			for _, m := range regexp.MustCompile(`\b(out/load|out/readiness|baseline)/([\w.*/-]+)`).FindAllStringSubmatch(text, -1) {
				known := map[string][]string{loadOut: loadFiles, "out/readiness": readinessFiles, loadBaseline: baselineFiles}[m[1]]
				if file := strings.TrimSuffix(m[2], "'"); !slices.Contains(known, file) {
					t.Errorf("%s reads %s/%s, which nothing writes (%s holds %s)", ci.file, m[1], file, m[1], strings.Join(known, ", "))
				}
			}
		}
		for _, v := range ci.values {
			if v == "go.mod" {
				if _, err := os.Stat("../go.mod"); err != nil {
					t.Error(err)
				}
			}
		}
		for _, s := range append(ci.scenarios, makeDefault(t, "LOAD_SCENARIO")) {
			if _, err := os.Stat(path.Join("../scenarios", s+".yaml")); s == "" || err != nil {
				t.Errorf("%s runs LOAD_SCENARIO %q, not a shipped scenario (%v)", ci.file, s, err)
			}
		}
	}
}

// makeDefault is the Makefile's default of variable name.
func makeDefault(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(makefile)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + `\s*\?=[ \t]*(.*)$`).FindSubmatch(raw)
	if m == nil {
		t.Fatalf("the Makefile sets no default for %s", name)
	}
	return strings.TrimSpace(string(m[1]))
}

// The pull request's job, GitLab's job and `make ci-dry-run` run the
// load gate's steps in the same order: what the dry run shows is what CI
// does. The comment the workflow posts is the one ci-reports writes, found
// again by the marker the comment starts with.
func TestCIDryRunIsTheJob(t *testing.T) {
	t.Parallel()
	targets := readMakefile(t)
	steps := []string{"ci-load", "ci-reports", "ci-gate"}
	inOrder := func(calls []makeCall) bool {
		i := 0
		for _, c := range calls {
			if i < len(steps) && c.target == steps[i] {
				i++
			}
		}
		return i == len(steps)
	}
	dry := targets["ci-dry-run"].recipe
	_, pr, ok := strings.Cut(dry, "the pull request's job")
	if !ok || !inOrder(makeCalls(pr)) {
		t.Errorf("make ci-dry-run does not run %v in that order for the pull request:\n%s", steps, dry)
	}
	for _, ci := range readCI(t) {
		var calls []makeCall
		for _, s := range ci.loadJob {
			calls = append(calls, makeCalls(s)...)
		}
		if !inOrder(calls) {
			t.Errorf("%s's load job runs %v; want %v in that order", ci.file, calls, steps)
		}
	}

	raw, err := os.ReadFile(githubWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"'" + report.CommentMarker + "'", "c.body.startsWith(marker)",
		"readFileSync('" + loadOut + "/comment.md'", "path: " + loadBaseline + "\n", "$GITHUB_STEP_SUMMARY",
	} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("%s lacks %q", githubWorkflow, want)
		}
	}
}

// runMake runs `make target vars...` in the repository with harness as
// the harness and env added to the environment, without GitHub's
// variables, returning its exit code and output.
func runMake(t *testing.T, harness string, env []string, target string, vars ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	args := append([]string{"--no-print-directory", target, "LOAD_HARNESS=" + harness}, vars...)
	cmd := exec.CommandContext(ctx, "make", args...)
	cmd.Dir = ".."
	cmd.Env = slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "GITHUB_") || strings.HasPrefix(e, "MAKE") })
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("make %s: %v\n%s", target, err, out)
	return 0, ""
}

// Each exit code of the load run ends the job with its own message: an
// ::error:: annotation on GitHub, a plain line elsewhere; only 0 passes.
func TestCIGate(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed")
	}
	titles := map[string]string{}
	for _, tc := range []struct {
		code  string
		title string
	}{
		{"0", "load gate passed"},
		{"99", "Load gate: threshold crossed (exit 99)"},
		{"100", "Load gate: regression (exit 100)"},
		{"101", "Load gate: invalid run (exit 101)"},
		{"105", "Load gate: interrupted (exit 105)"},
		{"2", "Load gate: the run failed (exit 2)"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "exit-code"), []byte(tc.code+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out := runMake(t, "unused", []string{"GITHUB_ACTIONS=true"}, "ci-gate", "LOAD_OUT="+dir)
		if (code == 0) != (tc.code == "0") {
			t.Errorf("ci-gate after exit %s: make exited %d; want %s", tc.code, code, map[bool]string{true: "0", false: "a failure"}[tc.code == "0"])
		}
		want := "::error title=" + tc.title + "::"
		if tc.code == "0" {
			want = tc.title + ": "
		}
		if !strings.Contains(out, want) {
			t.Errorf("ci-gate after exit %s says:\n%s\nwant a line with %q", tc.code, out, want)
		}
		if prev, ok := titles[tc.title]; ok {
			t.Errorf("exit %s and %s share the message %q", tc.code, prev, tc.title)
		}
		titles[tc.title] = tc.code
		if tc.code == "100" {
			if _, out := runMake(t, "unused", nil, "ci-gate", "LOAD_OUT="+dir); strings.Contains(out, "::error") || !strings.Contains(out, tc.title+": ") {
				t.Errorf("outside GitHub, ci-gate says:\n%s\nwant a plain line", out)
			}
		}
	}
	// No exit code at all: the run never finished.
	if code, out := runMake(t, "unused", nil, "ci-gate", "LOAD_OUT="+t.TempDir()); code == 0 || !strings.Contains(out, "the run failed (exit 1)") {
		t.Errorf("ci-gate without an exit code = %d:\n%s", code, out)
	}
}

// ci-reports writes the comment and GitLab's report of a finished run
// and says why it writes none for a run without a summary; ci-baseline
// keeps a passed run's two files and nothing of a run that crossed a
// threshold.
func TestCIReportsAndBaseline(t *testing.T) {
	t.Parallel()
	harness := testbin.Path(t, "github.com/taskready/taskready/cmd/harness")
	fixture, err := os.ReadFile("../loadtest/report/testdata/full.summary.json")
	if err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	for file, data := range map[string][]byte{"summary.json": fixture, "histograms/run.json": []byte("{}"), "report.html": []byte("<html>")} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(run, file)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(run, file), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if code, out := runMake(t, harness, nil, "ci-reports", "LOAD_OUT="+run); code != 0 {
		t.Fatalf("ci-reports = %d:\n%s", code, out)
	}
	comment, err := os.ReadFile(filepath.Join(run, "comment.md"))
	if err != nil || !bytes.HasPrefix(comment, []byte(report.CommentMarker+"\n")) {
		t.Errorf("comment.md (%v) does not open with the marker:\n%.200s", err, comment)
	}
	perf, err := os.ReadFile(filepath.Join(run, "load-performance.json"))
	if err != nil || !bytes.Contains(perf, []byte(`"http_req_waiting"`)) {
		t.Errorf("load-performance.json (%v) has no http_req_waiting:\n%.200s", err, perf)
	}
	if code, out := runMake(t, harness, nil, "ci-reports", "LOAD_OUT="+t.TempDir()); code != 0 || !strings.Contains(out, "holds no summary.json") {
		t.Errorf("ci-reports without a run = %d:\n%s", code, out)
	}

	for _, tc := range []struct {
		code string
		kept bool
	}{{"0", true}, {"99", false}, {"101", false}} {
		if err := os.WriteFile(filepath.Join(run, "exit-code"), []byte(tc.code+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(t.TempDir(), "baseline")
		code, out := runMake(t, harness, nil, "ci-baseline", "LOAD_OUT="+run, "LOAD_BASELINE="+base)
		var files []string
		_ = filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(base, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		want := []string(nil)
		if tc.kept {
			want = []string{"histograms/run.json", "summary.json"}
		}
		if code != 0 || !slices.Equal(files, want) {
			t.Errorf("ci-baseline after exit %s = %d, kept %v; want %v:\n%s", tc.code, code, files, want, out)
		}
	}
}
