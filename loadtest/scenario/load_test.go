package scenario_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/scenario"
)

const valid = `name: t
users: {prefix: seed, count: 10, password: pw}
defaults: {timeout: 5s, think: 50ms}
scenarios:
  a:
    executor: ramping-arrival-rate
    startRate: 1
    preAllocatedVUs: 2
    maxVUs: 10
    stages:
      - {duration: 10s, target: 5, phase: warm-up}
      - {duration: 20s, target: 5, phase: spike}
    journeys: [{browse: 3}, write]
  b:
    executor: constant-vus
    vus: 2
    duration: 30s
    phase: steady
    journeys: [write]
journeys:
  browse:
    - name: login
      request: {method: post, path: /api/auth/login, json: {email: "{{user.email}}", password: "{{ user.password }}"}}
      check: {status: 200}
      extract: {token: token}
    - name: list
      endpoint: tasks
      think: 0s
      request: {method: GET, path: "/api/tasks?page=1", headers: {Authorization: "Bearer {{token}}"}}
  write:
    steps:
      - name: health
        request: {method: GET, path: /api/health}
        timeout: 1s
thresholds:
  http_req_duration: ["p(95)<300"]
  "http_req_failed{scenario:a}": [{threshold: "rate<0.01", abortOnFail: true, delayAbortEval: 10s}]
recovery:
  - {after: spike, below: 300, within: 30s}
`

// TestIterationDurationThresholds: iteration_duration is a trend
// selected by scenario, journey and phase.
func TestIterationDurationThresholds(t *testing.T) {
	src := strings.Replace(valid, `  http_req_duration: ["p(95)<300"]`, `  http_req_duration: ["p(95)<300"]
  iteration_duration: ["p(95)<500"]
  "iteration_duration{journey:browse,phase:spike}": ["p(99)<900"]
  "iteration_duration{scenario:b}": ["avg<400"]`, 1)
	f, err := scenario.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, th := range f.Thresholds {
		got = append(got, th.Selector.String()+" "+th.Source)
	}
	want := "http_req_duration p(95)<300,iteration_duration p(95)<500,iteration_duration{journey:browse,phase:spike} p(99)<900," +
		"iteration_duration{scenario:b} avg<400,http_req_failed{scenario:a} rate<0.01"
	if strings.Join(got, ",") != want {
		t.Errorf("thresholds:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
	bad := strings.Replace(src, `["avg<400"]`, `["rate<0.1"]`, 1)
	if _, err := scenario.Parse("t.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "iteration_duration is a trend metric") {
		t.Errorf("a rate on iteration_duration: %v", err)
	}
}

func TestParseValid(t *testing.T) {
	f, err := scenario.Parse("t.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Scenarios) != 2 || f.Scenarios[0].Name != "a" || f.Scenarios[1].Name != "b" {
		t.Fatalf("scenarios = %+v; want a then b, in file order", f.Scenarios)
	}
	a := f.Scenarios[0]
	if a.Executor != scenario.RampingArrivalRate || !a.Executor.Open() || a.TimeUnit != time.Second || len(a.Stages) != 2 || a.Stages[1].Phase != "spike" {
		t.Errorf("scenario a = %+v", a)
	}
	if got := a.Journeys; len(got) != 2 || got[0] != (scenario.WeightedJourney{Name: "browse", Weight: 3}) || got[1] != (scenario.WeightedJourney{Name: "write", Weight: 1}) {
		t.Errorf("weighted journeys = %+v", got)
	}
	login := f.Journeys["browse"].Steps[0]
	if login.Method != "POST" || login.Endpoint != "login" || login.Timeout != 5*time.Second || login.Think != 50*time.Millisecond || login.Extract["token"] != "token" {
		t.Errorf("login step = %+v; want defaults applied and the method upper-cased", login)
	}
	list := f.Journeys["browse"].Steps[1]
	if list.Endpoint != "tasks" || list.Think != 0 || list.Check.Status != 0 {
		t.Errorf("list step = %+v", list)
	}
	if health := f.Journeys["write"].Steps[0]; health.Timeout != time.Second {
		t.Errorf("step timeout = %s; want its own 1s", health.Timeout)
	}
	th := f.Thresholds
	if len(th) != 2 || th[1].Selector.String() != "http_req_failed{scenario:a}" || th[1].Expr.String() != "rate<0.01" || !th[1].AbortOnFail || th[1].DelayAbortEval != 10*time.Second {
		t.Errorf("thresholds = %+v", th)
	}
	if r := f.Recoveries; len(r) != 1 || r[0].Metric != "http_req_duration" || r[0].Stat != "p(95)" || r[0].Within != 30*time.Second {
		t.Errorf("recovery = %+v; want the defaults for metric and stat", r)
	}
}

func TestParseReportsEveryProblemWithItsLine(t *testing.T) {
	tests := []struct {
		name string
		from string // replaced in valid
		to   string
		want []string
	}{
		{"unknown executor", "executor: constant-vus", "executor: constant-vu",
			[]string{`t.yaml:15: scenarios.b.executor: unknown executor "constant-vu" (did you mean "constant-vus"?)`}},
		{"typo in a field", "    duration: 30s\n    phase: steady", "    duraton: 30s\n    phase: steady",
			[]string{`t.yaml:17: scenarios.b.duraton: unknown field (did you mean "duration"?)`, `scenarios.b.duration: is required by the constant-vus executor`}},
		{"field of another executor", "    vus: 2\n", "    vus: 2\n    rate: 5\n",
			[]string{`t.yaml:17: scenarios.b.rate: does not apply to the constant-vus executor`}},
		{"duration without a unit", "duration: 30s", "duration: 30",
			[]string{`t.yaml:17: scenarios.b.duration: needs a unit: 30s or 30ms?`}},
		{"negative target", "target: 5, phase: warm-up", "target: -5, phase: warm-up",
			[]string{`t.yaml:11: scenarios.a.stages[0].target: must be at least 0 (got -5)`}},
		{"missing journey", "journeys: [write]", "journeys: [wirte]",
			[]string{`scenarios.b.journeys: no journey "wirte" (did you mean "write"?)`}},
		{"undefined variable", `"Bearer {{token}}"`, `"Bearer {{tokn}}"`,
			[]string{`t.yaml:26: journeys.browse[1]: uses {{tokn}}, which no earlier step extracts (did you mean "token"?)`}},
		{"unknown phase", "after: spike", "after: spikes",
			[]string{`recovery: after: no phase "spikes" in any scenario (did you mean "spike"?)`}},
		{"relative path", "path: /api/health", "path: api/health",
			[]string{`journeys.write.steps[0].request.path: must start with /`}},
		{"bad threshold item", `["p(95)<300"]`, `[300]`,
			[]string{`t.yaml:36: thresholds.http_req_duration[0]: must be an expression such as "p(95)<300"`}},
		{"threshold syntax", `"p(95)<300"`, `"p95<300"`,
			[]string{`t.yaml:36: thresholds.http_req_duration[0]:`, `did you mean "p(95)"?`}},
		{"aggregation unfit for the metric", `"rate<0.01"`, `"p(95)<0.01"`,
			[]string{`thresholds.http_req_failed{scenario:a}[0]`}},
		{"bad selector", `"http_req_failed{scenario:a}"`, `"http_req_failed{scenario:}"`,
			[]string{`t.yaml:37: thresholds.http_req_failed{scenario:}:`}},
		{"threshold on a misspelt endpoint", `"http_req_failed{scenario:a}"`, `"http_req_failed{endpoint:taks}"`,
			[]string{`t.yaml:37: thresholds.http_req_failed{endpoint:taks}: no endpoint "taks" in this file (did you mean "tasks"?)`}},
		{"threshold on an unrecorded tag", `"http_req_failed{scenario:a}"`, `"http_req_failed{region:eu}"`,
			[]string{`tag "region" is not one the run records`}},
		{"journey tag on a request metric", `"http_req_failed{scenario:a}"`, `"http_req_failed{journey:browse}"`,
			[]string{`t.yaml:37: thresholds.http_req_failed{journey:browse}: requests are not tagged by journey (only iteration_duration and iterations are)`,
				`iteration_duration{journey:browse} for the whole journey`}},
		{"endpoint tag on iteration_duration", `"http_req_failed{scenario:a}": [{threshold: "rate<0.01", abortOnFail: true, delayAbortEval: 10s}]`,
			`"iteration_duration{endpoint:tasks}": ["p(95)<500"]`,
			[]string{`thresholds.iteration_duration{endpoint:tasks}: tag "endpoint" is not one the run records for iteration_duration (scenario, journey, phase)`}},
		{"metric the harness does not measure", `"http_req_failed{scenario:a}": [{threshold: "rate<0.01"`, `"http_req_waiting": [{threshold: "p(95)<300"`,
			[]string{`t.yaml:37: thresholds.http_req_waiting: the harness does not measure http_req_waiting, so this threshold could never fail`}},
		{"misspelt measured metric", `"http_req_failed{scenario:a}"`, `"iteration"`,
			[]string{`thresholds.iteration: the harness does not measure iteration, so this threshold could never fail (did you mean "iterations"?)`}},
		{"custom metric", `"http_req_failed{scenario:a}"`, `"my_trend"`,
			[]string{`thresholds.my_trend: the harness does not measure my_trend`}},
		{"ledger metric with a tag", `"http_req_failed{scenario:a}"`, `"lost_writes{phase:steady}"`,
			[]string{`thresholds.lost_writes{phase:steady}: lost_writes is counted over the whole run after the load stops and has no tags`}},
		{"ledger metric by rate", `"http_req_failed{scenario:a}"`, `"ambiguous_writes"`,
			[]string{`thresholds.ambiguous_writes: ambiguous_writes is counted once, after the load: use count (for example count==0)`}},
		{"ledger metric aborting", `"http_req_failed{scenario:a}": [{threshold: "rate<0.01"`, `"lost_writes": [{threshold: "count==0"`,
			[]string{`thresholds.lost_writes: lost_writes is counted after the load stops, so abortOnFail cannot act on it`}},
		{"misspelt ledger metric", `"http_req_failed{scenario:a}"`, `"lost_write"`,
			[]string{`thresholds.lost_write: the harness does not measure lost_write, so this threshold could never fail (did you mean "lost_writes"?)`}},
		{"misspelt journey", `"http_req_failed{scenario:a}": [{threshold: "rate<0.01", abortOnFail: true, delayAbortEval: 10s}]`,
			`"iteration_duration{journey:brose}": ["p(95)<500"]`,
			[]string{`thresholds.iteration_duration{journey:brose}: no journey "brose" in this file (did you mean "browse"?)`}},
		{"maxVUs below preAllocated", "maxVUs: 10", "maxVUs: 1",
			[]string{`scenarios.a.maxVUs: must be at least preAllocatedVUs (2)`}},
		{"status out of range", "check: {status: 200}", "check: {status: 700}",
			[]string{`journeys.browse[0].check.status: must be an HTTP status (100-599)`}},
		{"several at once", "vus: 2\n", "vus: zero\n",
			[]string{`scenarios.b.vus: must be a whole number`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(valid, tt.from) {
				t.Fatalf("fixture lacks %q", tt.from)
			}
			_, err := scenario.Parse("t.yaml", []byte(strings.Replace(valid, tt.from, tt.to, 1)))
			if !errors.Is(err, scenario.ErrInvalid) {
				t.Fatalf("err = %v; want ErrInvalid", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

// The journeys of a file may log in as users of their own, so that one
// journey's deletes never race another's reads of the same user.
func TestParseJourneyUsers(t *testing.T) {
	own := strings.Replace(valid, "users: {prefix: seed, count: 10, password: pw}",
		"users: {prefix: seed, count: 10, password: pw, journeys: {browse: {from: 1, to: 8}, write: {from: 9, to: 10}}}", 1)
	f, err := scenario.Parse("t.yaml", []byte(own))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		journey  string
		from, to int
	}{{"browse", 1, 8}, {"write", 9, 10}, {"other", 1, 10}} {
		if got := f.Users.Of(tc.journey); got.From != tc.from || got.To != tc.to {
			t.Errorf("Users.Of(%q) = %+v; want users %d to %d", tc.journey, got, tc.from, tc.to)
		}
	}
	plain, err := scenario.Parse("t.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.Users.Of("browse"); got.From != 1 || got.To != 10 {
		t.Errorf("without journeys, Users.Of = %+v; want all 10", got)
	}

	for _, tc := range []struct {
		name, journeys, want string
	}{
		{"unknown journey", "{brwose: {from: 1, to: 2}}", `t.yaml:2: users.journeys.brwose: no journey "brwose" (did you mean "browse"?)`},
		{"beyond count", "{write: {from: 9, to: 11}}", `t.yaml:2: users.journeys.write: to: 11 is beyond the 10 seeded users (count)`},
		{"reversed", "{write: {from: 9, to: 3}}", `users.journeys.write: to (3) is below from (9)`},
		{"half a range", "{write: {from: 9}}", `users.journeys.write: needs from and to`},
		{"zero", "{write: {from: 0, to: 3}}", `users.journeys.write.from: must be at least 1 (got 0)`},
		{"typo", "{write: {from: 1, too: 3}}", `users.journeys.write.too: unknown field (did you mean "to"?)`},
		{"not a mapping", "[write]", `users.journeys: must be a mapping of names to definitions`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(valid, "password: pw}", "password: pw, journeys: "+tc.journeys+"}", 1)
			_, err := scenario.Parse("t.yaml", []byte(bad))
			if !errors.Is(err, scenario.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
}

func TestParseRefusesNonsense(t *testing.T) {
	for _, in := range []string{"", "[]", "name: x", ":", "name: [", "scenarios: 3\nname: x\njourneys: {}", "\t"} {
		if _, err := scenario.Parse("x.yaml", []byte(in)); !errors.Is(err, scenario.ErrInvalid) {
			t.Errorf("Parse(%q) = %v; want ErrInvalid", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("name: x\nscenarios: {a: {executor: constant-vus, vus: 1, duration: 1s, journeys: [j]}}\njourneys: {j: [{name: s, request: {method: GET, path: /}}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		f, err := scenario.Parse("fuzz.yaml", data)
		if err == nil && (f.Name == "" || len(f.Scenarios) == 0) {
			t.Fatalf("accepted a file without a name or scenarios: %+v", f)
		}
		if err != nil && !errors.Is(err, scenario.ErrInvalid) {
			t.Fatalf("error does not wrap ErrInvalid: %v", err)
		}
	})
}
