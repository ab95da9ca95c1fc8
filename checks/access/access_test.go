package access_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/access"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/internal/checktest"
)

func TestMain(m *testing.M) { checktest.Main(m) }

var (
	fakeTok  = regexp.MustCompile(`tok-[0-9a-f]{32}`)
	anyHash  = regexp.MustCompile(`\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}`)
	password = regexp.MustCompile(regexp.QuoteMeta(fixture.Password))
)

// run runs every check against target and returns the results by id; no
// evidence may show a token, a hash or the fixture password.
func run(t *testing.T, target *check.Target, checks []check.Check) map[string]check.Result {
	t.Helper()
	return checktest.RunAll(t, target, checks, fakeTok, anyHash, password)
}

// Against the real API every check passes, and the checks leave no task
// behind: the one fixture.Cleanup after them removes only users.
func TestRealAPI(t *testing.T) {
	e := checktest.API(t, 1, checktest.NoRateLimits...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	target := &check.Target{BaseURL: e.Target, Client: &http.Client{Timeout: 30 * time.Second}, Mongo: checktest.Mongo(t, e), Prefix: "readiness-access"}

	for id, r := range run(t, target, access.Checks()) {
		if r.Status != check.Pass {
			t.Errorf("%s = %s (%s); want pass", id, r.Status, r.Message)
		}
	}
	users, tasks, err := fixture.Cleanup(ctx, target)
	if err != nil {
		t.Fatalf("fixture.Cleanup: %v", err)
	}
	t.Logf("fixture.Cleanup removed %d users and %d tasks", users, tasks)
	if users != 4 {
		t.Errorf("fixture.Cleanup removed %d users; the checks register 4 (A and B, shared; one with extra fields; one whose answers are scanned)", users)
	}
	if tasks != 0 {
		t.Errorf("fixture.Cleanup removed %d tasks; the checks should have deleted their own", tasks)
	}
}

// Every check fails against a fake API with the one flaw it looks for,
// with evidence naming the request and what came back.
func TestEachCheckCatchesItsFlaw(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		f        flaws
		id       string
		observed string // a fragment of the failing evidence
	}{
		{"read ignores the owner", flaws{idorRead: true}, access.IDIDORRead, "another user's GET succeeded"},
		{"update ignores the owner", flaws{idorUpdate: true}, access.IDIDORUpdate, "another user's PUT succeeded"},
		{"update answers 404 but applies", flaws{silentUpdate: true}, access.IDIDORUpdate, `title "`},
		{"delete ignores the owner", flaws{idorDelete: true}, access.IDIDORDelete, "another user's DELETE succeeded"},
		{"delete answers 404 but deletes", flaws{silentDelete: true}, access.IDIDORDelete, "the task is gone"},
		{"list ignores the owner", flaws{listAll: true}, access.IDListIsolation, "of A's tasks"},
		{"list cached across users", flaws{sharedCache: true}, access.IDListIsolation, "right after A"},
		{"list filter by user honoured", flaws{ownerFilter: true}, access.IDListIsolation, "filtered by A's id"},
		{"register stores every field", flaws{massRegister: true}, access.IDMassAssignment, "isAdmin = true"},
		{"create takes the owner from the body", flaws{massCreate: true}, access.IDMassAssignment, "not A's"},
		{"update takes the owner from the body", flaws{massUpdate: true}, access.IDMassAssignment, "handed to another user"},
		{"user answers carry the hash", flaws{leakHash: true}, access.IDNoPassword, "field user.password is present"},
		{"task answers populate the owner", flaws{populateOwner: true}, access.IDNoPassword, "a password hash ($2b$10$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(newFake(tt.f))
			defer srv.Close()
			res := run(t, &check.Target{BaseURL: srv.URL, Prefix: "flaw"}, access.Checks())
			got := res[tt.id]
			if got.Status != check.Fail {
				t.Fatalf("%s = %s (%s); want fail", tt.id, got.Status, got.Message)
			}
			if !slices.ContainsFunc(got.Evidence, func(e check.Evidence) bool { return strings.Contains(e.Observed, tt.observed) }) {
				t.Errorf("%s evidence %+v; want an observation containing %q", tt.id, got.Evidence, tt.observed)
			}
		})
	}
}

// The fake without flaws passes every check: so each failure above is
// the flaw's, not the fake's.
func TestFakeWithoutFlawsPasses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newFake(flaws{}))
	defer srv.Close()
	for id, r := range run(t, &check.Target{BaseURL: srv.URL}, access.Checks()) {
		if r.Status != check.Pass {
			t.Errorf("%s = %s (%s); want pass", id, r.Status, r.Message)
		}
	}
}

// A 429 is no verdict: every check says it could not run, none passes.
func TestRateLimitedIsAnError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newFake(flaws{limitEverything: true}))
	defer srv.Close()
	for id, r := range run(t, &check.Target{BaseURL: srv.URL}, access.Checks()) {
		if r.Status != check.Error || !strings.Contains(r.Message, "429") {
			t.Errorf("%s = %s (%s); want error naming the 429", id, r.Status, r.Message)
		}
	}
}

// The ids are stable and each meta is complete.
func TestMeta(t *testing.T) {
	want := []string{"authz.idor-read", "authz.idor-update", "authz.idor-delete", "authz.list-isolation", "authz.mass-assignment", "authz.no-password"}
	var got []string
	for _, c := range access.Checks() {
		m := c.Meta()
		got = append(got, m.ID)
		if m.Title == "" || m.Remediation == "" || len(m.References) == 0 || m.Severity.Rank() == 0 || m.Category != check.Authz {
			t.Errorf("%s: incomplete meta %+v", m.ID, m)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("ids %v; want %v", got, want)
	}
}
