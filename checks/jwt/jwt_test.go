package jwt_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/internal/checktest"
	"github.com/taskready/taskready/checks/internal/fakeapi"
	"github.com/taskready/taskready/checks/jwt"
	"github.com/taskready/taskready/service/config"
)

func TestMain(m *testing.M) { checktest.Main(m) }

// devSecret is the development secret, which no evidence may show in
// full.
var devSecret = regexp.MustCompile(regexp.QuoteMeta(fakeapi.DevelopmentSecret))

// Against the real API with its development secret: every check passes
// but auth.weak-secret, which finds the secret; auth.expired cracks it
// too and so can forge its expired token. JWT_SECRET= overrides one
// inherited from the test's environment: the API then falls back to its
// published development secret.
func TestRealAPIWithDevelopmentSecret(t *testing.T) {
	t.Parallel()
	checktest.RealAPI{Instances: 1, APIEnv: slices.Concat(checktest.NoRateLimits, []string{"JWT_SECRET="}), Prefix: "readiness-jwt",
		Client: &http.Client{Timeout: 30 * time.Second}, Want: map[string]check.Status{jwt.IDWeakSecret: check.Fail},
		Users: 2, Secrets: []*regexp.Regexp{devSecret}}.Passes(t, jwt.Checks())
}

// Against the real API with a strong secret: every check passes; the
// expired-token check needs the secret, given as a staging run would.
func TestRealAPIWithStrongSecret(t *testing.T) {
	t.Parallel()
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	secret := base64.StdEncoding.EncodeToString(b)
	e := checktest.API(t, 1, slices.Concat(checktest.NoRateLimits, []string{"JWT_SECRET=" + secret})...)
	target := checktest.Target(t, e, "readiness-jwt")
	target.Client = &http.Client{Timeout: 30 * time.Second}
	run := func(t *testing.T, cs []check.Check) map[string]check.Result {
		return checktest.RunAll(t, target, cs, devSecret)
	}

	t.Run("black box", func(t *testing.T) {
		res := run(t, jwt.Checks())
		// The secret cannot be cracked, so no expired token can be forged.
		checktest.Passes(t, res, map[string]check.Status{jwt.IDExpired: check.NotApplicable})
		if msg := res[jwt.IDExpired].Message; !strings.Contains(msg, "secret") || !strings.Contains(msg, jwt.IDTokenLifetime) {
			t.Errorf("auth.expired NotApplicable message %q; want the reason (no secret) and the check that covers exp", msg)
		}
	})
	t.Run("secret known", func(t *testing.T) {
		checktest.Passes(t, run(t, jwt.New(jwt.Options{Secret: secret})), nil)
	})
	// Both runs share the target's fixture users (checktest.Target is one
	// run's): one pair, and no task.
	checktest.Leftovers(t, target, 2)
}

// Every check fails against a fake API with the one flaw it looks for,
// with evidence naming the request and what came back; no evidence shows
// the development secret in full.
func TestAgainstTheFake(t *testing.T) {
	checktest.Fake{
		Checks: func(f checktest.Flaw, api *fakeapi.API) []check.Check {
			var o jwt.Options
			if f.WhiteBox {
				o.Secret = api.Secret()
			}
			return jwt.New(o)
		},
		Secrets: []*regexp.Regexp{devSecret},
		Flaws: []checktest.Flaw{
			{Name: "no auth at all", Flaws: fakeapi.Flaws{NoAuth: true}, ID: jwt.IDNoToken, Observed: "accepted"},
			{Name: "alg none accepted", Flaws: fakeapi.Flaws{AlgNone: true}, ID: jwt.IDAlgNone, Observed: "accepted"},
			{Name: "signature not verified", Flaws: fakeapi.Flaws{NoVerify: true}, ID: jwt.IDTampered, Observed: "accepted as the other user"},
			{Name: "HS384/HS512 trusted unverified", Flaws: fakeapi.Flaws{OtherAlgs: true}, ID: jwt.IDAlgOther, Observed: "accepted"},
			{Name: "development secret", Flaws: fakeapi.Flaws{WeakSecret: true}, ID: jwt.IDWeakSecret, Observed: "dictionary entry"},
			{Name: "no exp", Flaws: fakeapi.Flaws{NoExp: true}, ID: jwt.IDTokenLifetime, Observed: "never expires"},
			{Name: "a year-long token", Flaws: fakeapi.Flaws{LongTTL: true}, ID: jwt.IDTokenLifetime, Observed: "365d"},
			{Name: "exp not checked (secret known)", Flaws: fakeapi.Flaws{IgnoreExp: true}, WhiteBox: true, ID: jwt.IDExpired, Observed: "accepted"},
			{Name: "exp not checked (secret cracked)", Flaws: fakeapi.Flaws{IgnoreExp: true, WeakSecret: true}, ID: jwt.IDExpired, Observed: "accepted"},
		},
	}.Test(t)
}

// Cracking is offline: auth.weak-secret sends nothing but the registers
// that yield a real token, whatever the size of the dictionary.
func TestWeakSecretSendsNoCrackingTraffic(t *testing.T) {
	t.Parallel()
	for _, weak := range []bool{false, true} {
		api := fakeapi.Serve(t, fakeapi.Flaws{WeakSecret: weak})
		c := checktest.ByID(t, jwt.Checks(), jwt.IDWeakSecret)
		res := c.Run(context.Background(), &check.Target{BaseURL: api.URL})
		if n, reg := api.Total(), api.Count("POST /api/auth/register"); n != reg || n > 2 {
			t.Errorf("weak=%v: %d requests reached the target, %d of them registers; want only the (at most 2) registers", weak, n, reg)
		}
		if want := map[bool]check.Status{false: check.Pass, true: check.Fail}[weak]; res.Status != want {
			t.Errorf("weak=%v: %s (%s); want %s", weak, res.Status, res.Message, want)
		}
	}
}

// The dictionary holds the secrets the brief and the anchors name, and
// this repository's development secret, whatever it becomes.
func TestWordlist(t *testing.T) {
	words := jwt.Wordlist()
	if n := len(words); n < 200 || n > 1000 {
		t.Errorf("%d words; want 200 to 1000", n)
	}
	for _, w := range []string{"secret", "changeme", "your_jwt_secret", "your-256-bit-secret", config.DevelopmentSecret, ""} {
		if !slices.Contains(words, w) {
			t.Errorf("wordlist lacks %q", w)
		}
	}
	if got := jwt.New(jwt.Options{Wordlist: []string{"secret", "acme-extra"}}); len(got) == 0 {
		t.Fatal("New returned no checks")
	}
}

func TestMeta(t *testing.T) {
	checktest.Meta(t, jwt.Checks(), checktest.Want{Category: check.Auth,
		IDs: []string{"auth.no-token", "auth.alg-none", "auth.tampered", "auth.alg-other", "auth.weak-secret", "auth.token-lifetime", "auth.expired"}})
}
