package readiness_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
)

// res is a raw result as the runner hands it to Evaluate.
func res(id string, cat check.Category, sev check.Severity, st check.Status) readiness.Result {
	return readiness.Result{ID: id, Title: id, Category: cat, Severity: sev, Status: st, Message: string(st)}
}

func evaluate(t *testing.T, rs []readiness.Result, opts ...readiness.Option) *readiness.Report {
	t.Helper()
	rep, err := readiness.Evaluate(readiness.RunInfo{ID: "t", Target: "http://api"}, rs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func policy(t *testing.T, doc string) *readiness.Policy {
	t.Helper()
	p, err := readiness.ParsePolicy([]byte(doc), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWeights(t *testing.T) {
	t.Parallel()
	want := map[check.Severity]int{check.Critical: 10, check.High: 5, check.Medium: 3, check.Low: 1, check.Info: 0, "other": 0}
	for s, w := range want {
		if got := readiness.Weight(s); got != w {
			t.Errorf("Weight(%s) = %d; want %d", s, got, w)
		}
	}
}

func TestGradeBands(t *testing.T) {
	t.Parallel()
	want := map[int]string{100: "A+", 99: "A", 90: "A", 89: "A-", 85: "A-", 84: "B+", 80: "B+", 79: "B", 70: "B", 69: "B-",
		65: "B-", 64: "C+", 60: "C+", 59: "C", 50: "C", 49: "C-", 45: "C-", 44: "D+", 40: "D+", 39: "D", 30: "D", 29: "D-", 25: "D-", 24: "F", 0: "F"}
	for s, g := range want {
		if got := readiness.Grade(s); got != g {
			t.Errorf("Grade(%d) = %s; want %s", s, got, g)
		}
	}
}

func TestScoreArithmetic(t *testing.T) {
	t.Parallel()
	T, A := check.Transport, check.Auth
	rs := []readiness.Result{
		res("a", T, check.Critical, check.Pass),          // 10 of 10
		res("b", T, check.High, check.Fail),              // 0 of 5
		res("c", A, check.Medium, check.Warn),            // 1.5 of 3
		res("d", A, check.Low, check.Pass),               // 1 of 1
		res("e", A, check.Info, check.Fail),              // 0 of 0
		res("f", A, check.Critical, check.NotApplicable), // excluded
		res("g", T, check.Critical, check.Error),         // excluded, but gates
		res("h", T, check.High, check.Fail),              // ignored below
	}
	rep := evaluate(t, rs, readiness.WithPolicy(policy(t, "overrides:\n  - {id: h, action: ignore, reason: known, owner: ops, expires: 2099-01-01}\n")))
	// earned 10 + 1.5 + 1 = 12.5; possible 10 + 5 + 3 + 1 = 19; 65.78 → 65.
	if s := rep.Score; s.Earned != 12.5 || s.Possible != 19 || s.Value != 65 || s.Grade != "B-" {
		t.Errorf("score %+v; want 12.5 of 19 = 65 (B-)", s)
	}
	cats := map[check.Category]readiness.Score{}
	for _, c := range rep.Categories {
		cats[c.Category] = c.Score
	}
	// transport: a 10/10, b 0/5 → 66; auth: 1.5 + 1 of 4 → 62.
	if s := cats[T]; s.Value != 66 || s.Possible != 15 {
		t.Errorf("transport %+v; want 10 of 15 = 66", s)
	}
	if s := cats[A]; s.Value != 62 || s.Earned != 2.5 || s.Possible != 4 {
		t.Errorf("auth %+v; want 2.5 of 4 = 62", s)
	}
	if rep.Categories[0].Category != T {
		t.Errorf("categories not in check order: %+v", rep.Categories)
	}
	c := rep.Counts
	if c.Total != 8 || c.Pass != 2 || c.Fail != 2 || c.Warn != 1 || c.Error != 1 || c.NotApplicable != 1 || c.Ignored != 1 {
		t.Errorf("counts %+v", c)
	}
	if got := rep.Score.String(); got != "65/100 (B-)" {
		t.Errorf("Score.String() = %q", got)
	}
}

func TestScoreUndefined(t *testing.T) {
	t.Parallel()
	for name, rs := range map[string][]readiness.Result{
		"no results":          nil,
		"only n/a and errors": {res("a", check.Health, check.High, check.NotApplicable), res("b", check.Health, check.Low, check.Error)},
		"only info":           {res("a", check.Health, check.Info, check.Pass)},
	} {
		rep := evaluate(t, rs)
		if rep.Score.Defined() || rep.Score.Grade != "n/a" || rep.Score.String() != "n/a" {
			t.Errorf("%s: score %+v; want undefined (n/a), never 0 or 100", name, rep.Score)
		}
	}
}

func TestScorePerfectIsAPlus(t *testing.T) {
	t.Parallel()
	rep := evaluate(t, []readiness.Result{res("a", check.Auth, check.Critical, check.Pass), res("b", check.Auth, check.Low, check.Pass)})
	if rep.Score.Value != 100 || rep.Score.Grade != "A+" || !rep.Passed || rep.ExitCode != 0 {
		t.Errorf("all passed: %+v, exit %d", rep.Score, rep.ExitCode)
	}
	// One low warning among 101 points of passes must not round up to A+.
	rs := []readiness.Result{res("w", check.Auth, check.Low, check.Warn)}
	for _, id := range []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10"} {
		rs = append(rs, res(id, check.Auth, check.Critical, check.Pass))
	}
	if s := evaluate(t, rs).Score; s.Value != 99 || s.Grade != "A" {
		t.Errorf("100.5 of 101: %+v; want 99 (A)", s)
	}
}

func gate(t *testing.T, rep *readiness.Report, name string) readiness.Gate {
	t.Helper()
	for _, g := range rep.Gates {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no gate %s in %+v", name, rep.Gates)
	return readiness.Gate{}
}

func TestGates(t *testing.T) {
	t.Parallel()
	A := check.Auth
	tests := []struct {
		name     string
		results  []readiness.Result
		policy   string
		minScore int
		exit     int
		failed   []string
	}{
		{name: "all pass", results: []readiness.Result{res("a", A, check.Critical, check.Pass)}, exit: 0},
		{name: "critical fail", results: []readiness.Result{res("a", A, check.Critical, check.Fail)}, exit: 1, failed: []string{"critical"}},
		{name: "critical error is not a pass", results: []readiness.Result{res("a", A, check.Critical, check.Error)}, exit: 1, failed: []string{"critical"}},
		{name: "critical warn passes", results: []readiness.Result{res("a", A, check.Critical, check.Warn)}, exit: 0},
		{name: "critical n/a passes", results: []readiness.Result{res("a", A, check.Critical, check.NotApplicable)}, exit: 0},
		{name: "high fail", results: []readiness.Result{res("a", A, check.High, check.Fail)}, exit: 1, failed: []string{"high"}},
		{name: "high error does not gate", results: []readiness.Result{res("a", A, check.High, check.Error)}, exit: 0},
		{name: "medium fail does not gate", results: []readiness.Result{res("a", A, check.Medium, check.Fail)}, exit: 0},
		{name: "critical downgraded to medium", results: []readiness.Result{res("a", A, check.Critical, check.Fail)},
			policy: "overrides:\n  - {id: a, action: downgrade, severity: medium, reason: accepted risk until Q3, owner: ops, expires: 2099-01-01}\n", exit: 0},
		{name: "critical downgraded to high still gates", results: []readiness.Result{res("a", A, check.Critical, check.Fail)},
			policy: "overrides:\n  - {id: a, action: downgrade, severity: high, reason: r, owner: ops, expires: 2099-01-01}\n", exit: 1, failed: []string{"high"}},
		{name: "high downgraded", results: []readiness.Result{res("a", A, check.High, check.Fail)},
			policy: "overrides:\n  - {id: a, action: downgrade, severity: low, reason: r, owner: ops, expires: 2099-01-01}\n", exit: 0},
		{name: "warn override", results: []readiness.Result{res("a", A, check.Critical, check.Fail)},
			policy: "overrides:\n  - {id: a, action: warn, reason: r, owner: ops, expires: 2099-01-01}\n", exit: 0},
		{name: "warn override of an error", results: []readiness.Result{res("a", A, check.Critical, check.Error)},
			policy: "overrides:\n  - {id: a, action: warn, reason: r, owner: ops, expires: 2099-01-01}\n", exit: 0},
		{name: "ignored", results: []readiness.Result{res("a", A, check.Critical, check.Fail)},
			policy: "overrides:\n  - {id: a, action: ignore, reason: r, owner: ops, expires: 2099-01-01}\n", exit: 0},
		{name: "score below minimum", results: []readiness.Result{res("a", A, check.High, check.Pass), res("b", A, check.Medium, check.Fail)},
			minScore: 70, exit: 1, failed: []string{"score"}}, // 5 of 8 = 62
		{name: "score at minimum", results: []readiness.Result{res("a", A, check.High, check.Pass), res("b", A, check.Medium, check.Fail)},
			minScore: 62, exit: 0},
		{name: "policy min_score", results: []readiness.Result{res("a", A, check.High, check.Pass), res("b", A, check.Medium, check.Fail)},
			policy: "min_score: 80\n", exit: 1, failed: []string{"score"}},
		{name: "option wins over policy", results: []readiness.Result{res("a", A, check.High, check.Pass), res("b", A, check.Medium, check.Fail)},
			policy: "min_score: 80\n", minScore: 60, exit: 0},
		{name: "undefined score fails a minimum", results: []readiness.Result{res("a", A, check.High, check.NotApplicable)},
			minScore: 1, exit: 1, failed: []string{"score"}},
		{name: "several", results: []readiness.Result{res("a", A, check.Critical, check.Error), res("b", A, check.High, check.Fail)},
			minScore: 90, exit: 1, failed: []string{"critical", "high", "score"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []readiness.Option
			if tt.policy != "" {
				opts = append(opts, readiness.WithPolicy(policy(t, tt.policy)))
			}
			opts = append(opts, readiness.WithMinScore(tt.minScore))
			rep := evaluate(t, tt.results, opts...)
			if rep.ExitCode != tt.exit || rep.Passed != (tt.exit == 0) {
				t.Errorf("exit %d passed %v; want exit %d", rep.ExitCode, rep.Passed, tt.exit)
			}
			var failed []string
			for _, g := range rep.FailedGates() {
				failed = append(failed, g.Name)
			}
			if strings.Join(failed, ",") != strings.Join(tt.failed, ",") {
				t.Errorf("failed gates %v; want %v (%+v)", failed, tt.failed, rep.Gates)
			}
			wantGates := 2
			if tt.minScore > 0 || strings.Contains(tt.policy, "min_score") {
				wantGates = 3
			}
			if len(rep.Gates) != wantGates {
				t.Errorf("%d gates; want %d", len(rep.Gates), wantGates)
			}
		})
	}
}

func TestGateDetailsAndGatingResults(t *testing.T) {
	t.Parallel()
	A := check.Auth
	rep := evaluate(t, []readiness.Result{
		res("jwt.alg-none", A, check.Critical, check.Fail), res("backup.recent", check.Backup, check.Critical, check.Error),
		res("headers.hsts", check.Transport, check.High, check.Fail), res("cors.any", check.CORS, check.High, check.Fail),
		res("low.fail", A, check.Low, check.Fail),
	}, readiness.WithPolicy(policy(t, "overrides:\n  - {id: cors.any, action: downgrade, severity: medium, reason: r, owner: ops, expires: 2099-01-01}\n")))
	crit := gate(t, rep, "critical")
	if crit.Passed || crit.Detail != "2 critical checks failed or errored: jwt.alg-none (fail), backup.recent (error); 1 critical or high check downgraded by policy" {
		t.Errorf("critical gate %+v", crit)
	}
	if got := strings.Join(crit.Checks, ","); got != "jwt.alg-none,backup.recent" {
		t.Errorf("critical gate checks %s", got)
	}
	if h := gate(t, rep, "high"); h.Passed || !strings.HasPrefix(h.Detail, "1 high-severity check failed: headers.hsts") {
		t.Errorf("high gate %+v", h)
	}
	for _, r := range rep.Results {
		want := r.ID == "jwt.alg-none" || r.ID == "backup.recent" || r.ID == "headers.hsts"
		if r.Gating != want {
			t.Errorf("%s: Gating %v; want %v", r.ID, r.Gating, want)
		}
	}
	if got := rep.Verdict(); got != "FAILED: gates critical, high (exit 1)" {
		t.Errorf("Verdict() = %q", got)
	}
}

func TestOverridesApplied(t *testing.T) {
	t.Parallel()
	A := check.Auth
	rep := evaluate(t, []readiness.Result{
		res("ign", A, check.High, check.Fail), res("wrn", A, check.High, check.Fail), res("dwn", A, check.High, check.Fail),
		res("wrn.pass", A, check.Medium, check.Pass),
	}, readiness.WithPolicy(policy(t, `overrides:
  - {id: ign, action: ignore, reason: reason one, owner: ops, expires: 2099-01-01}
  - {id: wrn, action: warn, reason: reason two, owner: ops, expires: 2099-01-01}
  - {id: dwn, action: downgrade, severity: low, reason: reason three, owner: ops, expires: 2099-01-01}
  - {id: wrn.pass, action: warn, reason: reason four, owner: ops, expires: 2099-01-01}
`)))
	byID := map[string]readiness.Result{}
	for _, r := range rep.Results {
		byID[r.ID] = r
	}
	if r := byID["ign"]; !r.Ignored || r.Status != check.Fail || r.Label() != "ignored" || r.Override.Reason != "reason one" || r.Attention() {
		t.Errorf("ignored: %+v", r)
	}
	if r := byID["wrn"]; r.EffectiveStatus != check.Warn || r.Status != check.Fail || r.Override.Source != "policy.yaml:3" {
		t.Errorf("warn: %+v", r)
	}
	if r := byID["dwn"]; r.EffectiveSeverity != check.Low || r.Severity != check.High || !r.Downgraded() || r.EffectiveStatus != check.Fail {
		t.Errorf("downgrade: %+v", r)
	}
	if r := byID["wrn.pass"]; r.EffectiveStatus != check.Pass {
		t.Errorf("a warn override turned a pass into %s", r.EffectiveStatus)
	}
	// Scored: wrn 2.5 of 5, dwn 0 of 1, wrn.pass 3 of 3 → 5.5 of 9 = 61.
	if rep.Score.Value != 61 {
		t.Errorf("score %+v; want 5.5 of 9 = 61", rep.Score)
	}
	if !rep.Passed {
		t.Errorf("gates %+v; want all passed", rep.Gates)
	}
	if _, err := readiness.Evaluate(readiness.RunInfo{}, []readiness.Result{res("a", A, check.Low, check.Pass)},
		readiness.WithPolicy(policy(t, "overrides:\n  - {id: b, action: ignore, reason: r, owner: ops, expires: 2099-01-01}\n"))); err == nil {
		t.Error("Evaluate accepted an override for an unknown check")
	}
}

func TestResultOrder(t *testing.T) {
	t.Parallel()
	A, T := check.Auth, check.Transport
	rep := evaluate(t, []readiness.Result{
		res("pass.crit", A, check.Critical, check.Pass), res("na", A, check.High, check.NotApplicable),
		res("fail.low", A, check.Low, check.Fail), res("err.crit", A, check.Critical, check.Error),
		res("warn.high", A, check.High, check.Warn), res("fail.crit.auth", A, check.Critical, check.Fail),
		res("fail.crit.transport", T, check.Critical, check.Fail), res("ign", A, check.Critical, check.Fail),
		res("fail.high", A, check.High, check.Fail), res("pass.low", T, check.Low, check.Pass),
	}, readiness.WithPolicy(policy(t, "overrides:\n  - {id: ign, action: ignore, reason: r, owner: ops, expires: 2099-01-01}\n")))
	var got []string
	for _, r := range rep.Results {
		got = append(got, r.ID)
	}
	want := "fail.crit.transport,fail.crit.auth,err.crit,fail.high,fail.low,warn.high,pass.crit,pass.low,na,ign"
	if strings.Join(got, ",") != want {
		t.Errorf("order\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}

func TestEvidenceIsBounded(t *testing.T) {
	t.Parallel()
	r := res("big", check.Input, check.Medium, check.Fail)
	body := strings.Repeat("é", readiness.EvidenceFieldLimit) // 2 bytes a rune
	for range readiness.EvidenceItemLimit + 5 {
		r.Evidence = append(r.Evidence, check.Evidence{Response: body})
	}
	got := evaluate(t, []readiness.Result{r}).Results[0].Evidence
	if len(got) != readiness.EvidenceItemLimit+1 || got[len(got)-1].Note != "5 more evidence items were dropped" {
		t.Errorf("%d evidence items; want %d and a note of the dropped ones", len(got), readiness.EvidenceItemLimit+1)
	}
	kept, _, ok := strings.Cut(got[0].Response, "… [truncated ")
	if !ok || len(kept) != readiness.EvidenceFieldLimit || !strings.HasSuffix(got[0].Response, " bytes]") {
		t.Errorf("response of %d bytes kept %d bytes; want %d and a marker", len(body), len(kept), readiness.EvidenceFieldLimit)
	}
	if got := readiness.Truncate("aé", 2); got != "a… [truncated 2 bytes]" {
		t.Errorf("Truncate cut inside a rune: %q", got)
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	t.Parallel()
	rep := evaluate(t, []readiness.Result{res("a", check.Auth, check.Critical, check.Fail)})
	rep.Run.Start = time.Date(2026, 11, 28, 15, 2, 18, 0, time.UTC)
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	back, err := readiness.ReadReport(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if !bytes.Equal(data, again) {
		t.Errorf("round trip changed the report:\n%s\n%s", data, again)
	}
	for _, doc := range []string{`{"format":"other","version":1}`, `{"format":"taskready.readiness","version":9}`} {
		if _, err := readiness.ReadReport(strings.NewReader(doc)); !errors.Is(err, readiness.ErrFormat) {
			t.Errorf("%s: %v; want ErrFormat", doc, err)
		}
	}
}
