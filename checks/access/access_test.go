package access_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/access"
	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/internal/fakeapi"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// Every check fails against a fake API with the one flaw it looks for,
// with evidence naming the request and what came back; no evidence shows
// a token, a hash or the fixture password.
func TestAgainstTheFake(t *testing.T) {
	checktest.Fake{
		Checks:  func(checktest.Flaw, *fakeapi.API) []check.Check { return access.Checks() },
		Secrets: []*regexp.Regexp{regexp.MustCompile(`\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}`), regexp.MustCompile(regexp.QuoteMeta(fixture.Password))},
		Flaws: []checktest.Flaw{
			{Name: "read ignores the owner", Flaws: fakeapi.Flaws{IDORRead: true}, ID: access.IDIDORRead, Observed: "another user's GET succeeded"},
			{Name: "update ignores the owner", Flaws: fakeapi.Flaws{IDORUpdate: true}, ID: access.IDIDORUpdate, Observed: "another user's PUT succeeded"},
			{Name: "update answers 404 but applies", Flaws: fakeapi.Flaws{SilentUpdate: true}, ID: access.IDIDORUpdate, Observed: `title "`},
			{Name: "delete ignores the owner", Flaws: fakeapi.Flaws{IDORDelete: true}, ID: access.IDIDORDelete, Observed: "another user's DELETE succeeded"},
			{Name: "delete answers 404 but deletes", Flaws: fakeapi.Flaws{SilentDelete: true}, ID: access.IDIDORDelete, Observed: "the task is gone"},
			{Name: "list ignores the owner", Flaws: fakeapi.Flaws{ListAll: true}, ID: access.IDListIsolation, Observed: "of A's tasks"},
			{Name: "list cached across users", Flaws: fakeapi.Flaws{SharedCache: true}, ID: access.IDListIsolation, Observed: "right after A"},
			{Name: "list filter by user honoured", Flaws: fakeapi.Flaws{OwnerFilter: true}, ID: access.IDListIsolation, Observed: "filtered by A's id"},
			{Name: "register stores every field", Flaws: fakeapi.Flaws{MassRegister: true}, ID: access.IDMassAssignment, Observed: "isAdmin = true"},
			{Name: "create takes the owner from the body", Flaws: fakeapi.Flaws{MassCreate: true}, ID: access.IDMassAssignment, Observed: "not A's"},
			{Name: "update takes the owner from the body", Flaws: fakeapi.Flaws{MassUpdate: true}, ID: access.IDMassAssignment, Observed: "handed to another user"},
			{Name: "user answers carry the hash", Flaws: fakeapi.Flaws{LeakHash: true}, ID: access.IDNoPassword, Observed: "field user.password is present"},
			{Name: "task answers populate the owner", Flaws: fakeapi.Flaws{PopulateOwner: true}, ID: access.IDNoPassword, Observed: "a password hash ($2b$10$"},
		},
	}.Test(t)
}

func TestMeta(t *testing.T) {
	checktest.Meta(t, access.Checks(), checktest.Want{Category: check.Authz,
		IDs: []string{"authz.idor-read", "authz.idor-update", "authz.idor-delete", "authz.list-isolation", "authz.mass-assignment", "authz.no-password"}})
}

// Against the real API every check passes, and the checks leave no task
// behind, only the 4 users they register (A and B, shared; one with
// extra fields; one whose answers are scanned).
func TestRealAPI(t *testing.T) {
	checktest.RealAPI{Instances: 1, APIEnv: checktest.NoRateLimits, Prefix: "readiness-access",
		Client: &http.Client{Timeout: 30 * time.Second}, Users: 4}.Passes(t, access.Checks())
}
