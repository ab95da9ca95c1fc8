package readiness_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
)

func TestCompareWithPrevious(t *testing.T) {
	t.Parallel()
	prev := evaluate(t, []readiness.Result{
		res("a.fixed", check.Auth, check.Critical, check.Fail),
		res("b.broke", check.Auth, check.High, check.Pass),
		res("c.same", check.Auth, check.Medium, check.Fail),
		res("d.warned", check.Auth, check.Low, check.Pass),
		res("e.gone", check.Auth, check.Low, check.Pass),
		res("f.errored", check.Auth, check.Medium, check.Error),
		res("g.ignored", check.Auth, check.Medium, check.Fail),
	})
	cur := evaluate(t, []readiness.Result{
		res("a.fixed", check.Auth, check.Critical, check.Pass),
		res("b.broke", check.Auth, check.High, check.Fail),
		res("c.same", check.Auth, check.Medium, check.Fail),
		res("d.warned", check.Auth, check.Low, check.Warn),
		res("f.errored", check.Auth, check.Medium, check.Warn),
		res("g.ignored", check.Auth, check.Medium, check.Fail),
		res("h.new", check.Auth, check.Low, check.Fail),
	}, readiness.WithPrevious("out/last/readiness.json", prev),
		readiness.WithPolicy(policy(t, "overrides:\n  - {id: g.ignored, action: ignore, reason: r, owner: ops, expires: 2099-01-01}\n")))
	c := cur.Previous
	if c == nil {
		t.Fatal("no comparison")
	}
	ids := func(cs []readiness.StatusChange) string {
		var out []string
		for _, ch := range cs {
			out = append(out, ch.ID+" "+ch.From+"→"+ch.To)
		}
		return strings.Join(out, ", ")
	}
	if got, want := ids(c.NewlyFailing), "b.broke pass→fail, h.new not run→fail"; got != want {
		t.Errorf("newly failing: %s; want %s", got, want)
	}
	if got, want := ids(c.NewlyPassing), "f.errored error→warn, a.fixed fail→pass"; got != want {
		t.Errorf("newly passing: %s; want %s", got, want)
	}
	if got, want := ids(c.Changed), "d.warned pass→warn, g.ignored fail→ignored, e.gone pass→not run"; got != want {
		t.Errorf("changed: %s; want %s", got, want)
	}
	if c.ScoreDelta == nil || *c.ScoreDelta != cur.Score.Value-prev.Score.Value || c.Score != prev.Score || c.Source != "out/last/readiness.json" {
		t.Errorf("comparison %+v; scores %v → %v", c, prev.Score, cur.Score)
	}
	// Nothing scored before: no delta to speak of.
	empty := evaluate(t, nil)
	if d := evaluate(t, []readiness.Result{res("a", check.Auth, check.High, check.Pass)}, readiness.WithPrevious("x", empty)).Previous.ScoreDelta; d != nil {
		t.Errorf("delta against an unscored run: %d", *d)
	}
}

func TestReadReportFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rep := evaluate(t, []readiness.Result{res("a", check.Auth, check.High, check.Pass)})
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "run")
	write := func(path, data string) string {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write(filepath.Join(good, readiness.JSONFile), string(data))
	for _, path := range []string{good, filepath.Join(good, readiness.JSONFile)} {
		if got, err := readiness.ReadReportFile(path); err != nil || got.Run.ID != rep.Run.ID {
			t.Errorf("%s: %v", path, err)
		}
	}
	for _, tc := range []struct {
		name, path, want string
		is               error
	}{
		{"missing file", filepath.Join(dir, "nope.json"), "does not exist", readiness.ErrNoReport},
		{"directory without a report", t.TempDir(), "readiness.json: the file does not exist", readiness.ErrNoReport},
		{"not JSON", write(filepath.Join(dir, "bad.json"), "<html>"), "not a taskready readiness report: invalid character", readiness.ErrFormat},
		{"another document", write(filepath.Join(dir, "summary.json"), `{"run":{"format":"taskready.summary"}}`), `format ""`, readiness.ErrFormat},
	} {
		_, err := readiness.ReadReportFile(tc.path)
		if err == nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want one line containing %q", tc.name, err, tc.want)
		}
	}
}
