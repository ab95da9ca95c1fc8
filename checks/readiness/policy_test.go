package readiness_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
)

const examplePolicy = `# readiness policy for staging
version: 1
min_score: 70
thresholds:
  hsts_min_age: 180d
  max_token_lifetime: 1d12h
  max_backup_age: 26h
  max_page_size: 50
overrides:
  - id: headers.csp
    action: ignore
    reason: JSON-only API; the CDN sets CSP.
    owner: platform-team
    expires: 2027-03-31
  - id: limits.auth-burst
    action: WARN
    reason: staging shares one egress IP.
    owner: alice@example.com
    expires: 2027-01-15
  - id: backup.retention
    action: downgrade
    severity: low
    reason: >
      retention is enforced by the managed service
      (ticket OPS-112).
    owner: ops
    expires: 2027-06-30
`

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	p, err := readiness.ParsePolicy([]byte(examplePolicy), "staging.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.MinScore != 70 || p.File != "staging.yaml" {
		t.Errorf("min_score %d, file %q", p.MinScore, p.File)
	}
	want := check.Policy{HSTSMinAge: 180 * 24 * time.Hour, MaxTokenLifetime: 36 * time.Hour, MaxBackupAge: 26 * time.Hour, MaxPageSize: 50}
	if p.Thresholds != want {
		t.Errorf("thresholds %+v; want %+v", p.Thresholds, want)
	}
	if len(p.Overrides) != 3 {
		t.Fatalf("%d overrides; want 3", len(p.Overrides))
	}
	o := p.Overrides[1]
	if o.ID != "limits.auth-burst" || o.Action != readiness.ActionWarn || o.Source != "staging.yaml:15" {
		t.Errorf("override 1: %+v", o)
	}
	if o.Owner != "alice@example.com" || o.Expires != "2027-01-15" || !o.ExpiresAt().Equal(time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("override 1 owner %q, expires %q (%v)", o.Owner, o.Expires, o.ExpiresAt())
	}
	o = p.Overrides[2]
	if o.Action != readiness.ActionDowngrade || o.Severity != check.Low || o.Reason != "retention is enforced by the managed service (ticket OPS-112)." {
		t.Errorf("override 2: %+v", o)
	}
}

func TestParsePolicyEmpty(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"", "# nothing\n", "~\n"} {
		p, err := readiness.ParsePolicy([]byte(doc), "empty.yaml")
		if err != nil || len(p.Overrides) != 0 || p.MinScore != 0 {
			t.Errorf("%q: %+v, %v; want the empty policy", doc, p, err)
		}
	}
}

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"missing reason", "overrides:\n  - id: headers.hsts\n    action: ignore\n",
			`p.yaml:2: overrides[0] (headers.hsts): reason is required: say why headers.hsts is ignored, for whoever reads the report`},
		{"blank reason", "overrides:\n  - id: headers.hsts\n    action: warn\n    reason: \"  \"\n",
			`p.yaml:2: overrides[0] (headers.hsts): reason is required`},
		{"missing id", "overrides:\n  - action: ignore\n    reason: x\n    owner: ops\n    expires: 2099-01-01\n", `p.yaml:2: overrides[0]: id is required`},
		{"missing action", "overrides:\n  - id: a.b\n    reason: x\n    owner: ops\n    expires: 2099-01-01\n", `p.yaml:2: overrides[0] (a.b): action is required`},
		{"unknown action", "overrides:\n  - id: a.b\n    action: ignroe\n    reason: x\n    owner: ops\n    expires: 2099-01-01\n",
			`p.yaml:3: overrides[0]: unknown action "ignroe"; did you mean "ignore"?`},
		{"downgrade without severity", "overrides:\n  - id: a.b\n    action: downgrade\n    reason: x\n    owner: ops\n    expires: 2099-01-01\n",
			`p.yaml:2: overrides[0] (a.b): a downgrade needs the severity`},
		{"severity on ignore", "overrides:\n  - id: a.b\n    action: ignore\n    severity: low\n    reason: x\n    owner: ops\n    expires: 2099-01-01\n",
			`severity applies only to action downgrade`},
		{"unknown severity", "overrides:\n  - id: a.b\n    action: downgrade\n    severity: lo\n    reason: x\n    owner: ops\n    expires: 2099-01-01\n",
			`p.yaml:4: overrides[0]: unknown severity "lo"; did you mean "low"?`},
		{"duplicate override", "overrides:\n  - {id: a.b, action: ignore, reason: x, owner: ops, expires: 2099-01-01}\n  - {id: a.b, action: warn, reason: y, owner: ops, expires: 2099-01-01}\n",
			`p.yaml:3: overrides[1] (a.b): a.b is overridden twice (first at line 2)`},
		{"missing owner", "overrides:\n  - id: a.b\n    action: ignore\n    reason: x\n    expires: 2099-01-01\n",
			`p.yaml:2: overrides[0] (a.b): owner is required: who answers for this waiver`},
		{"blank owner", "overrides:\n  - {id: a.b, action: ignore, reason: x, owner: \" \", expires: 2099-01-01}\n",
			`p.yaml:2: overrides[0] (a.b): owner is required`},
		{"missing expires", "overrides:\n  - id: a.b\n    action: warn\n    reason: x\n    owner: ops\n",
			`p.yaml:2: overrides[0] (a.b): expires is required: the day (YYYY-MM-DD) from which a.b is no longer only a warning`},
		{"expires not a date", "overrides:\n  - id: a.b\n    action: ignore\n    reason: x\n    owner: ops\n    expires: next spring\n",
			`p.yaml:6: overrides[0]: expires "next spring" is not a date: write it as YYYY-MM-DD`},
		{"expires not a day", "overrides:\n  - {id: a.b, action: ignore, reason: x, owner: ops, expires: 2027-02-30}\n",
			`p.yaml:2: overrides[0]: expires "2027-02-30" is not a date`},
		{"second entry names its index", "overrides:\n  - {id: a.b, action: ignore, reason: x, owner: ops, expires: 2099-01-01}\n  - {id: c.d, action: ignore, reason: y}\n",
			`p.yaml:3: overrides[1] (c.d): owner is required`},
		{"unknown override key", "overrides:\n  - id: a.b\n    action: ignore\n    reasn: x\n",
			`p.yaml:4: overrides[0]: unknown key "reasn"; did you mean "reason"?`},
		{"unknown key", "overides: []\n", `p.yaml:1: unknown key "overides"; did you mean "overrides"?`},
		{"unknown threshold", "thresholds:\n  hsts_max_age: 1d\n", `p.yaml:2: unknown threshold "hsts_max_age"; did you mean "hsts_min_age"?`},
		{"unitless duration", "thresholds:\n  hsts_min_age: 31536000\n", `p.yaml:2: threshold hsts_min_age: 31536000 has no unit; write 31536000s, 31536000h or 31536000d`},
		{"bad duration", "thresholds:\n  max_backup_age: a day\n", `p.yaml:2: threshold max_backup_age: invalid duration "a day"`},
		{"negative int", "thresholds:\n  keep_daily: -1\n", `p.yaml:2: threshold keep_daily must be a whole number of at least 0`},
		{"duplicate threshold", "thresholds:\n  keep_daily: 1\n  keep_daily: 2\n", `p.yaml:3: threshold keep_daily is set twice (first at line 2)`},
		{"version", "version: 2\n", `p.yaml:1: version "2" is not supported`},
		{"min score", "min_score: 120\n", `p.yaml:1: min_score must be a whole number from 0 to 100`},
		{"not a mapping", "- a\n- b\n", `p.yaml:1: a policy is a mapping`},
		{"overrides not a list", "overrides:\n  id: a\n", `p.yaml:2: overrides is a list`},
		{"yaml syntax", "overrides: [\n", `p.yaml: `},
	}
	for _, tt := range tests {
		_, err := readiness.ParsePolicy([]byte(tt.doc), "p.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want one starting with or containing %q", tt.name, err, tt.want)
		}
		var pe *readiness.PolicyError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("%s: error %T is not a *PolicyError", tt.name, err)
		}
	}
}

func TestValidateOverrides(t *testing.T) {
	t.Parallel()
	known := []check.Meta{
		{ID: "headers.hsts", Severity: check.High}, {ID: "headers.csp", Severity: check.Low},
		{ID: "jwt.alg-none", Severity: check.Critical},
	}
	tests := []struct {
		name, doc, want string
	}{
		{"typo", "overrides:\n  - {id: headers.hst, action: ignore, reason: x, owner: ops, expires: 2099-01-01}\n",
			`p.yaml:2: override for unknown check "headers.hst"; did you mean "headers.hsts"?`},
		{"far", "overrides:\n  - {id: backup.recent, action: ignore, reason: x, owner: ops, expires: 2099-01-01}\n",
			`p.yaml:2: override for unknown check "backup.recent"; the nearest known id is "headers.csp"`},
		{"not a downgrade", "overrides:\n  - {id: headers.csp, action: downgrade, severity: high, reason: x, owner: ops, expires: 2099-01-01}\n",
			`p.yaml:2: override for headers.csp: high is not below the check's severity low, so this is not a downgrade`},
		{"same severity", "overrides:\n  - {id: headers.hsts, action: downgrade, severity: high, reason: x, owner: ops, expires: 2099-01-01}\n",
			`not a downgrade`},
	}
	for _, tt := range tests {
		p, err := readiness.ParsePolicy([]byte(tt.doc), "p.yaml")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		err = p.Validate(known)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate: %v; want %q", tt.name, err, tt.want)
		}
	}
	p, err := readiness.ParsePolicy([]byte("overrides:\n  - {id: jwt.alg-none, action: downgrade, severity: high, reason: x, owner: ops, expires: 2099-01-01}\n  - {id: nope, action: ignore, reason: y, owner: ops, expires: 2099-01-01}\n  - {id: nada, action: ignore, reason: z, owner: ops, expires: 2099-01-01}\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = p.Validate(known)
	if err == nil || strings.Count(err.Error(), "unknown check") != 2 || strings.Contains(err.Error(), "override for jwt.alg-none") {
		t.Errorf("Validate reports every unknown id, and only those: %v", err)
	}
	if err := (*readiness.Policy)(nil).Validate(known); err != nil {
		t.Errorf("nil policy: %v", err)
	}
}

func TestLoadPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "readiness.yaml")
	if err := os.WriteFile(path, []byte(examplePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := readiness.LoadPolicy(path)
	if err != nil || p.File != path || p.Overrides[0].Source != path+":10" {
		t.Errorf("LoadPolicy: %+v, %v", p, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("overrides:\n  - id: a\n    action: ignore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readiness.LoadPolicy(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":2: ") {
		t.Errorf("LoadPolicy of a bad file: %v; want it to name file:line", err)
	}
	if _, err := readiness.LoadPolicy(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{
		"8760h": 8760 * time.Hour, "30d": 30 * 24 * time.Hour, "1.5d": 36 * time.Hour, "1d12h": 36 * time.Hour,
		"90m": 90 * time.Minute, " 7d ": 7 * 24 * time.Hour, "0": 0, "0d": 0, "1s": time.Second,
	}
	for in, want := range good {
		if got, err := readiness.ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "-5h", "1e3d", "xd", "1dd", "30 days", "1d-2h", "NaNd", "99999999d", "3"} {
		if got, err := readiness.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v; want an error", in, got)
		}
	}
	for d, want := range map[time.Duration]string{365 * 24 * time.Hour: "365d", 26 * time.Hour: "26h0m0s", time.Second: "1s", 0: "0s"} {
		if got := readiness.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q; want %q", d, got, want)
		}
	}
}
