package k6

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/loadtest/scenario"
)

// shipped returns the scenario files of scenarios/.
func shipped(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped scenarios: %v", err)
	}
	return files
}

func export(t *testing.T, path string, opts ...ExportOption) []byte {
	t.Helper()
	f, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Export(&b, f, opts...); err != nil {
		t.Fatalf("Export(%s): %v", path, err)
	}
	return b.Bytes()
}

// node returns the path of node, skipping the test when there is none,
// unless REQUIRE_NODE is set (as CI sets it), which makes that a failure.
func node(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("REQUIRE_NODE") != "" {
			t.Fatalf("node not found and REQUIRE_NODE is set: %v", err)
		}
		t.Skip("node not found: cannot check the scripts' syntax (set REQUIRE_NODE=1 to make this a failure)")
	}
	return p
}

// TestExportShipped exports every shipped scenario and has node check the
// script's syntax as an ES module (k6 scripts are; hence .mjs).
func TestExportShipped(t *testing.T) {
	nodePath := node(t)
	dir := t.TempDir()
	for _, path := range shipped(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			script := export(t, path)
			if again := export(t, path); !bytes.Equal(script, again) {
				t.Error("two exports of the same file differ")
			}
			js := filepath.Join(dir, name+".mjs")
			if err := os.WriteFile(js, script, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(nodePath, "--check", js).CombinedOutput(); err != nil {
				t.Errorf("node --check %s: %v\n%s", name, err, out)
			}
		})
	}
}

func TestExportGolden(t *testing.T) {
	got := export(t, filepath.Join("..", "..", "scenarios", "smoke.yaml"))
	golden.Assert(t, "smoke.js", got)
	if !regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`).Match(got) {
		t.Error("no generated-code header")
	}
}

// The k6 modules a script imports, stubbed for node: requests are logged
// and answered from a few canned answers.
var stubs = map[string]string{
	"k6-http.mjs": `
const answers = {
  "POST /api/auth/login": [200, { token: "T0K" }],
  "GET /api/tasks?page=1&limit=10": [200, { tasks: [{ _id: "A1", n: 7 }], pagination: {} }],
  "POST /api/tasks": [201, { task: { _id: "B2" } }],
};
function get(doc, path) {
  for (const part of path.split(".")) {
    if (doc === null || typeof doc !== "object" || !(part in doc)) return undefined;
    doc = doc[part];
  }
  return doc;
}
export default {
  request(method, url, body, params) {
    const path = url.replace(/^http:\/\/[^/]*/, "");
    globalThis.__log.push({ kind: "request", method, url, body, params });
    let [status, doc] = answers[method + " " + path.replace(/\/api\/tasks\/.*/, "/api/tasks/ID")] || [200, {}];
    if (globalThis.__emptyList && path.startsWith("/api/tasks?page")) doc = { tasks: [], pagination: {} };
    const text = JSON.stringify(doc);
    return {
      status, body: text,
      json(p) { const d = JSON.parse(text); return p === undefined ? d : get(d, p); },
    };
  },
  setResponseCallback(cb) { globalThis.__log.push({ kind: "responseCallback", cb }); },
  expectedStatuses(...r) { return r; },
};
`,
	"k6.mjs": `
export function check(val, sets, tags) {
  let all = true;
  for (const [name, f] of Object.entries(sets)) {
    const ok = !!f(val);
    globalThis.__log.push({ kind: "check", name, ok, tags });
    all = all && ok;
  }
  return all;
}
export function sleep(s) { globalThis.__log.push({ kind: "sleep", s }); }
`,
	"k6-execution.mjs": `export default { vu: { idInTest: 1, iterationInScenario: 0, metrics: { tags: {} } }, scenario: { iterationInTest: 0, startTime: Date.now() } };`,
	"k6-metrics.mjs":   `export class Counter { constructor(name) { this.name = name; } add(v, tags) { globalThis.__log.push({ kind: "counter", name: this.name, v, tags }); } }`,
}

// run loads script in node with the stubs and has driver (a module body
// with exec, m the script module and log) run it; it returns what the
// driver prints.
func run(t *testing.T, script []byte, driver string) []byte {
	t.Helper()
	nodePath := node(t)
	dir := t.TempDir()
	for name, src := range stubs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := string(script)
	for _, mod := range []string{"k6/http", "k6/execution", "k6/metrics", "k6"} {
		s = strings.ReplaceAll(s, `from "`+mod+`"`, `from "./`+strings.ReplaceAll(mod, "/", "-")+`.mjs"`)
	}
	if err := os.WriteFile(filepath.Join(dir, "script.mjs"), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	main := `globalThis.__log = [];
globalThis.__ENV = { BASE_URL: "http://api.test/" };
const exec = (await import("./k6-execution.mjs")).default;
const m = await import("./script.mjs");
const log = globalThis.__log;
` + driver
	if err := os.WriteFile(filepath.Join(dir, "main.mjs"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nodePath, filepath.Join(dir, "main.mjs")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	return out
}

type logEntry struct {
	Kind   string  `json:"kind"`
	Method string  `json:"method"`
	URL    string  `json:"url"`
	Body   *string `json:"body"`
	Params struct {
		Headers map[string]string `json:"headers"`
		Tags    map[string]string `json:"tags"`
		Timeout string            `json:"timeout"`
	} `json:"params"`
	Name string            `json:"name"`
	OK   bool              `json:"ok"`
	Tags map[string]string `json:"tags"`
	S    float64           `json:"s"`
	V    float64           `json:"v"`
}

// TestExportRuns runs the smoke script's iterations in node against stubs
// of k6's modules: the requests, tags, checks, variables and think time
// the harness would have.
func TestExportRuns(t *testing.T) {
	script := export(t, filepath.Join("..", "..", "scenarios", "smoke.yaml"))
	out := run(t, script, `
const iterations = [];
const vuTags = [];
for (let i = 0; i < 3; i++) {
  exec.scenario.iterationInTest = i;
  exec.vu.iterationInScenario = i;
  globalThis.__emptyList = i === 2;
  log.length = 0;
  m.scenario_smoke();
  iterations.push(log.slice().filter((e) => e.kind !== "responseCallback"));
  vuTags.push(Object.assign({}, exec.vu.metrics.tags));
}
console.log(JSON.stringify({ options: m.options, iterations, vuTags }));
`)
	var res struct {
		Options struct {
			Scenarios  map[string]map[string]any `json:"scenarios"`
			Thresholds map[string][]any          `json:"thresholds"`
		} `json:"options"`
		Iterations [][]logEntry        `json:"iterations"`
		VUTags     []map[string]string `json:"vuTags"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sc := res.Options.Scenarios["smoke"]
	if sc["executor"] != "per-vu-iterations" || sc["vus"] != 2.0 || sc["iterations"] != 3.0 || sc["maxDuration"] != "1m" || sc["exec"] != "scenario_smoke" {
		t.Errorf("options.scenarios.smoke = %v", sc)
	}
	if th := res.Options.Thresholds; len(th) != 3 || th["http_req_duration"][0] != "p(95)<1000" {
		t.Errorf("options.thresholds = %v", th)
	}

	// Each iteration tags the VU, and so its iteration_duration, with its
	// journey and phase.
	for i, want := range []string{"browse", "write", "browse"} {
		if got := res.VUTags[i]; !mapsEqual(got, map[string]string{"journey": want, "phase": "smoke"}) {
			t.Errorf("iteration %d: VU tags %v; want journey %s, phase smoke", i, got, want)
		}
	}

	// Iteration 0 takes browse: its five steps, as the harness sends them.
	browse := requests(res.Iterations[0])
	urls := []string{
		"POST http://api.test/api/auth/login",
		"GET http://api.test/api/tasks?page=1&limit=10",
		"GET http://api.test/api/tasks?search=report&status=pending",
		"GET http://api.test/api/tasks/A1",
		"GET http://api.test/api/auth/profile",
	}
	if got := methodURLs(browse); !slices.Equal(got, urls) {
		t.Errorf("browse requests:\n%q\nwant\n%q", got, urls)
	}
	login := browse[0]
	// VU 1, iteration 0 of browse, which has users 1 to 80 of its own:
	// user 1 + (1*7919 + 0) mod 80 = 80.
	if login.Body == nil || *login.Body != `{"email":"seed-000080@example.com","password":"seed-password-1"}` {
		t.Errorf("login body = %v", login.Body)
	}
	if login.Params.Headers["Content-Type"] != "application/json" || login.Params.Timeout != "10s" {
		t.Errorf("login params = %+v", login.Params)
	}
	wantTags := map[string]string{"name": "/api/tasks/{{task}}", "endpoint": "get", "phase": "smoke", "journey": "browse", "step": "get"}
	if get := browse[3]; !mapsEqual(get.Params.Tags, wantTags) || get.Params.Headers["Authorization"] != "Bearer T0K" || get.Body != nil {
		t.Errorf("get: tags %v, headers %v, body %v", get.Params.Tags, get.Params.Headers, get.Body)
	}
	var checks []string
	sleeps := 0
	for _, e := range res.Iterations[0] {
		switch e.Kind {
		case "check":
			checks = append(checks, e.Name)
			if !e.OK || e.Tags["endpoint"] == "" || e.Tags["phase"] != "smoke" || e.Tags["name"] != "" {
				t.Errorf("check %s: ok %v, tags %v", e.Name, e.OK, e.Tags)
			}
		case "sleep":
			sleeps++
			if e.S != 0.1 {
				t.Errorf("sleep(%v), want 0.1", e.S)
			}
		}
	}
	if len(checks) != 5 || checks[1] != `browse list: status 200, body contains "pagination"` || sleeps != 5 {
		t.Errorf("checks %q, %d sleeps", checks, sleeps)
	}

	// Iteration 1 takes write (weights 1:1): {{uuid}}, {{vu}} and the
	// created task's id.
	write := requests(res.Iterations[1])
	if got := methodURLs(write); len(got) != 4 || got[3] != "DELETE http://api.test/api/tasks/B2" || got[2] != "PUT http://api.test/api/tasks/B2" {
		t.Errorf("write requests = %q", got)
	}
	create := write[1]
	var body map[string]string
	if create.Body == nil || json.Unmarshal([]byte(*create.Body), &body) != nil {
		t.Fatalf("create body = %v", create.Body)
	}
	if !regexp.MustCompile(`^Load test task [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(body["title"]) ||
		body["description"] != "written by vu 1" || body["status"] != "pending" {
		t.Errorf("create body = %v", body)
	}
	// Iteration 1, of write (users 81 to 100): 81 + (1*7919 + 1) mod 20.
	if login := write[0]; login.Body == nil || !strings.Contains(*login.Body, "seed-000081@example.com") {
		t.Errorf("iteration 1 logs in as %v, want user 81", login.Body)
	}

	// Iteration 2 (browse again) finds no task to extract: the journey
	// stops after list's think time, and extract_failures counts it.
	broken := res.Iterations[2]
	if got := methodURLs(requests(broken)); len(got) != 2 {
		t.Errorf("after a failed extraction: requests %q, want login and list only", got)
	}
	if last := broken[len(broken)-1]; last.Kind != "sleep" {
		t.Errorf("the journey did not sleep after the failed step: %+v", last)
	}
	var counted bool
	for _, e := range broken {
		if e.Kind == "counter" && e.Name == "extract_failures" && e.V == 1 && e.Tags["endpoint"] == "list" {
			counted = true
		}
	}
	if !counted {
		t.Error("extract_failures not counted")
	}
}

// TestExportPhases runs load.yaml's exec function at several times into
// its ramping-arrival-rate scenario: the tag phase follows the stages.
func TestExportPhases(t *testing.T) {
	script := export(t, filepath.Join("..", "..", "scenarios", "load.yaml"))
	// The clock stands still, so a descheduled test cannot push 29,999ms
	// past the 30s stage boundary between setting and reading it.
	out := run(t, script, `
const phases = [];
const now = Date.now();
Date.now = () => now;
for (const ago of [0, 29999, 30001, 200000, 239999, 240001, 3600000]) {
  exec.scenario.startTime = now - ago;
  log.length = 0;
  m.scenario_traffic();
  phases.push(log.find((e) => e.kind === "request").params.tags.phase || "");
}
console.log(JSON.stringify(phases));
`)
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// An arrival-rate iteration after the end belongs to the last stage.
	want := []string{"warm-up", "warm-up", "steady", "steady", "ramp-down", "ramp-down", "ramp-down"}
	if !slices.Equal(got, want) {
		t.Errorf("phases = %q, want %q", got, want)
	}
}

// TestExportJourneyUsers: a journey with users of its own (the tour's
// readers and writers) logs in as the same user in the script as in the
// harness, From + (v*7919 + k) mod (To-From+1).
func TestExportJourneyUsers(t *testing.T) {
	path := filepath.Join("..", "..", "scenarios", "tour.yaml")
	f, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Users.Journeys) != 2 {
		t.Fatalf("the tour gives %d journeys users of their own; want browse and write", len(f.Users.Journeys))
	}
	out := run(t, export(t, path), `
const out = [];
for (const [vu, k] of [[1, 0], [2, 3], [7, 5], [13, 11]]) {
  exec.vu.idInTest = vu;
  exec.vu.iterationInScenario = k;
  for (let n = 0; n < 5; n++) { // one cycle of browse 4, write 1
    exec.scenario.iterationInTest = n;
    log.length = 0;
    m.scenario_traffic();
    const reqs = log.filter((e) => e.kind === "request");
    const write = reqs.some((e) => e.method === "POST" && e.url.endsWith("/api/tasks"));
    out.push({ vu, k, journey: write ? "write" : "browse", login: JSON.parse(reqs[0].body).email });
  }
}
console.log(JSON.stringify(out));
`)
	var got []struct {
		VU, K          int
		Journey, Login string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, g := range got {
		seen[g.Journey] = true
		r := f.Users.Of(g.Journey)
		want := fmt.Sprintf("seed-%06d@example.com", r.From+(g.VU*7919+g.K)%(r.To-r.From+1))
		if g.Login != want {
			t.Errorf("VU %d iteration %d, %s: logs in as %s; want %s (users %d to %d)", g.VU, g.K, g.Journey, g.Login, want, r.From, r.To)
		}
	}
	if !seen["browse"] || !seen["write"] {
		t.Errorf("journeys run: %v; want browse and write", seen)
	}
}

func requests(log []logEntry) []logEntry {
	var out []logEntry
	for _, e := range log {
		if e.Kind == "request" {
			out = append(out, e)
		}
	}
	return out
}

func methodURLs(log []logEntry) []string {
	var out []string
	for _, e := range log {
		out = append(out, e.Method+" "+e.URL)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// edgeYAML exercises what the shipped scenarios do not: the other
// executors, start times, odd names, a GJSON-unsafe path, a long weight
// cycle, headers the harness treats specially, every kind of body value.
const edgeYAML = `
name: edge
description: "first line\u2028second */ line"
users: {prefix: u, count: 5, password: "p\"w"}
defaults: {timeout: 2s}
scenarios:
  closed-1:
    executor: ramping-vus
    startTime: 90s
    stages: [{duration: 1m30s, target: 3, phase: up}, {duration: 1h, target: 0}]
    journeys: [{"read-only ✓": 1000}, {write: 1}]
  steady:
    executor: constant-vus
    vus: 2
    duration: 1m
    journeys: ["read-only ✓"]
  open:
    executor: constant-arrival-rate
    rate: 3
    timeUnit: 1m
    duration: 10s
    preAllocatedVUs: 1
    phase: p
    journeys: [{write: 2}, {"read-only ✓": 4}]
journeys:
  "read-only ✓":
    - name: "weird \"step\"\u2028"
      endpoint: ep
      request:
        method: GET
        path: "/api/x?i={{iteration}}&u={{user.index}}"
        headers: {Host: example.test, X-Trace: "{{uuid}}-{{vu}}"}
      check: {bodyContains: "ok'\"\u2028"}
      extract: {"a.b": "items.*.id", z: "k"}
      think: 1500ms
    - name: use
      request: {method: POST, path: "/api/{{a.b}}/{{z}}", headers: {content-type: text/plain}, json: ["{{a.b}}", 1, 2.5, true, null, {k: [x]}, {}]}
  write:
    - name: w
      request: {method: DELETE, path: /api/w}
thresholds:
  "http_req_duration{endpoint:ep}": ["p(99.9)<5000", {threshold: "max<9000", abortOnFail: true}]
faults:
  - {name: "mongo */ down", target: mongo-0, action: stop, phase: up, for: 10s}
`

func TestExportEdgeCases(t *testing.T) {
	f, err := scenario.Parse("edge.yaml", []byte(edgeYAML))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Export(&b, f, BaseURL("http://api:8080")); err != nil {
		t.Fatal(err)
	}
	script := b.String()
	for _, want := range []string{
		`__ENV.BASE_URL || "http://api:8080"`,
		`startTime: "1m30s"`,
		`startVUs: 0,`,
		`{ duration: "1h", target: 0 },`,
		`timeUnit: "1m",`,
		`maxVUs: 1,`,
		`"closed-1": {`,
		`exec: "scenario_closed_1",`,
		`phaseAt(scenario_closed_1_phases, false)`,
		`const scenario_closed_1_phases = [[90000, "up"], [3690000, ""]];`,
		// 1000:1 is too long a cycle to interleave: blocks.
		`const scenario_closed_1_journeys = [[1000, journey_read_only__], [1001, journey_write]];`,
		// 2:4 is 1:2, interleaved as the harness's picker does.
		`const scenario_open_journeys = [[1, journey_read_only__], [2, journey_write], [3, journey_read_only__]];`,
		`iteration("p")`,
		`iteration("")`,
		`walk(res, "items.*.id")`,
		`extract(it, tags, "a.b", walk(res, "items.*.id"));` + "\n  ok = ok && extract(it, tags, \"z\", json(res, \"k\"));",
		`"/api/x?i=" + String(exec.vu.iterationInScenario) + "&u=" + String(it.user.index)`,
		`"Host": "example.test", "X-Trace": uuidv4() + "-" + String(exec.vu.idInTest)`,
		`headers: { "content-type": "text/plain" },`, // no second Content-Type
		`JSON.stringify([it.vars["a.b"], 1, 2.5, true, null, { "k": ["x"] }, {}])`,
		`BASE_URL + "/api/" + it.vars["a.b"] + "/" + it.vars["z"]`,
		`const USERS = { prefix: "u", count: 5, password: "p\"w" };`,
		`r.body.includes("ok'\"\u2028")`,
		`sleep(1.5);`,
		`"http_req_duration{endpoint:ep}": ["p(99.9)<5000", { threshold: "max<9000", abortOnFail: true }],`,
		"// edge: first line\n// second */ line",
		"// Not exported: faults, which k6 cannot play on the environment (harness\n// run plays them); this script makes the load alone:\n//   mongo */ down: stop mongo-0\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %s", want)
		}
	}
	if strings.ContainsAny(script, "\u2028\u2029\r") {
		t.Error("a raw line separator in the script: it would end a comment or a string")
	}
	nodePath := node(t)
	js := filepath.Join(t.TempDir(), "edge.mjs")
	if err := os.WriteFile(js, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nodePath, "--check", js).CombinedOutput(); err != nil {
		t.Errorf("node --check: %v\n%s\n%s", err, out, script)
	}
}

func TestSmoothRoundRobin(t *testing.T) {
	// The harness's picker (loadtest/executor) with weights 4:1 and 3:1.
	if got := smoothRoundRobin([]int{4, 1}, 10); !slices.Equal(got, []int{0, 0, 1, 0, 0, 0, 0, 1, 0, 0}) {
		t.Errorf("4:1 = %v", got)
	}
	if got := smoothRoundRobin([]int{1, 3}, 4); !slices.Equal(got, []int{1, 0, 1, 1}) {
		t.Errorf("1:3 = %v", got)
	}
}

func TestExportErrors(t *testing.T) {
	step := func(path string) scenario.Step {
		return scenario.Step{Name: "s", Method: "GET", Path: path}
	}
	file := func(s scenario.Scenario, steps ...scenario.Step) *scenario.File {
		return &scenario.File{
			Name:      "bad",
			Scenarios: []scenario.Scenario{s},
			Journeys:  map[string]*scenario.Journey{"j": {Name: "j", Steps: steps}},
		}
	}
	ok := scenario.Scenario{Name: "s", Executor: scenario.ConstantVUs, VUs: 1, Duration: 1, Journeys: []scenario.WeightedJourney{{Name: "j", Weight: 1}}}
	withExecutor := ok
	withExecutor.Executor = "shared-iterations"
	missing := ok
	missing.Journeys = []scenario.WeightedJourney{{Name: "nope", Weight: 1}}
	zero := ok
	zero.Journeys = []scenario.WeightedJourney{{Name: "j", Weight: 0}}
	for _, tc := range []struct {
		f    *scenario.File
		want string
	}{
		{nil, "no scenario file"},
		{file(withExecutor, step("/")), "shared-iterations"},
		{file(missing, step("/")), `no journey "nope"`},
		{file(zero, step("/")), "no journey to run"},
		{file(ok, step("/{{token}}")), "{{token}}"},
		{file(ok, step("/{{user.email}}")), "no users"},
		{file(ok, scenario.Step{Name: "s", Method: "POST", Path: "/", Body: map[string]any{"x": func() {}}}), "encode body"},
	} {
		var b bytes.Buffer
		err := Export(&b, tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Export: %v, want an error with %q", err, tc.want)
		}
		if b.Len() != 0 {
			t.Errorf("Export wrote %d bytes before failing", b.Len())
		}
	}
	if err := Export(failingWriter{}, file(ok, step("/"))); err == nil {
		t.Error("a failing writer: no error")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }
